"""A stateful stand-in for Shopify's GraphQL Admin API, one shop per handle.

The sandbox mounts it at ``/shopify``; shop ``H`` lives at ``/shopify/H`` in place of
``https://H.myshopify.com``, and answers ``POST /admin/api/{version}/graphql.json`` with an
``X-Shopify-Access-Token``. Queries are executed by graphql-core against ``schema.graphql``
(parsed, validated, priced, then run by the resolvers in ``resolvers.py``), never matched as text.

What it answers, each from Shopify's documentation:

- a token that belongs to no installed app: 401 ``{"errors": "[API] Invalid API key or access
  token (unrecognized login or wrong password)"}``, Shopify's own words as its API sends them (we
  found no reference page that prints them);
- versions as ``versions.py`` says (supported, release candidate, ``unstable``; a retired one falls
  forward to the oldest supported; one that never existed is 404), with ``X-Shopify-API-Version``
  naming the version that answered;
- every response with ``extensions.cost`` priced by ``cost.py``; a query over 1,000 points is
  refused ``MAX_COST_EXCEEDED``, one over what the app's bucket holds ``THROTTLED`` (HTTP 200 both,
  the GraphQL way; https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits);
- a missing scope: ``ACCESS_DENIED`` on that field; another app's object: what Shopify shows
  that app (``resolvers.py``).

The REST Admin API (legacy since 2024-10) is not emulated: its paths answer 404.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeGuard

import httpx
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from providers.emulation import json_bytes
from providers.sandbox import path_segments
from providers.shopify import cost as pricing
from providers.shopify import resolvers, scenario, versions
from providers.shopify.execution import FlatListExecutor
from providers.shopify.resolvers import Call
from providers.shopify.scenario import Shop

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
TOKEN_HEADER = "X-Shopify-Access-Token"
MSG_UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_NOT_FOUND = {"errors": "Not Found"}
_JSON = {"Content-Type": "application/json; charset=utf-8"}

_schema: GraphQLSchema | None = None


def schema() -> GraphQLSchema:
    """The schema subset with the emulator's resolvers, built once per process."""
    global _schema
    if _schema is None:
        built = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
        resolvers.attach(built)
        _schema = built
    return _schema


@functools.lru_cache(maxsize=512)
def _prepared(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """A query text parsed and validated once: clients send the same few documents again and
    again, and parsing plus validation is most of the work of a small query."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(schema(), document))


@functools.lru_cache(maxsize=2048)
def _requested(query: str, variables: str, name: str | None) -> int:
    document, _ = _prepared(query)
    assert document is not None
    return pricing.query_cost(schema(), document, json.loads(variables), name)


def _never_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """Every resolver here is synchronous: graphql-core need not inspect each value it gets."""
    return False


def _response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers={**_JSON, **(headers or {})}, content=json_bytes(body))


class ShopifyEmulator:
    name: ClassVar[str] = "shopify"
    prefix: ClassVar[str] = "/shopify"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = lambda: datetime.now(timezone.utc).date(),
    ) -> None:
        self._clock = clock
        self._today = today
        self.enforce_rate_limits = True
        self._shops: dict[str, Shop] = {}
        self._buckets: dict[tuple[str, str], pricing.CostBucket] = {}
        self._served = 0

    # -- scenario ------------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        self._shops = scenario.load(section, schema())
        self._buckets.clear()

    def dump(self) -> dict[str, Any]:
        return scenario.dump(self._shops)

    def bucket(self, shop: str, app: str) -> pricing.CostBucket:
        """The query-cost bucket of one app on one shop (Shopify keeps one per pair)."""
        key = (shop, app)
        found = self._buckets.get(key)
        if found is None:
            limits = pricing.plan_limits(self._shops[shop].plan if shop in self._shops else pricing.DEFAULT_PLAN)
            found = self._buckets[key] = pricing.CostBucket(limits, self._clock)
        return found

    # -- requests ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        self._served += 1
        request_id = {"X-Request-Id": f"emu-{self._served:08d}"}
        segments = [part for part in path_segments(request, path) if part]
        shop = self._shops.get(segments[0]) if segments else None
        rest = segments[1:]
        if shop is None or len(rest) != 4 or rest[:2] != ["admin", "api"] or rest[3] != "graphql.json":
            return _response(404, _NOT_FOUND, request_id)
        app_handle = shop.token_apps.get(request.headers.get(TOKEN_HEADER, ""))
        if app_handle is None:
            return _response(401, {"errors": MSG_UNAUTHORIZED}, request_id)
        today = self._today()
        served = versions.serve(rest[2], today)
        if served is None:
            return _response(404, _NOT_FOUND, request_id)
        headers = {**request_id, versions.VERSION_HEADER: served.handle}
        if request.method.upper() != "POST":
            return _response(405, {"errors": "Method Not Allowed: use POST"}, {**headers, "Allow": "POST"})
        body = self._body(request)
        if body is None:
            return _response(400, {"errors": {"query": "Required parameter missing or invalid"}}, headers)
        token = request.headers[TOKEN_HEADER]
        app = shop.apps[app_handle]
        call = Call(shop, app, frozenset(app.tokens[token]), served.handle, today)
        status, answer = self._graphql(call, body)
        return _response(status, answer, headers)

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any] | None:
        content_type = request.headers.get("Content-Type", "")
        text = request.content.decode("utf-8", "replace")
        if content_type.startswith("application/graphql"):
            return {"query": text}
        try:
            body = json.loads(text)
        except ValueError:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return None
        if body.get("variables") is not None and not isinstance(body["variables"], dict):
            return None
        return body

    def _graphql(self, call: Call, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        the_schema = schema()
        document, problems = _prepared(body["query"])
        if document is None or problems:
            return 200, {"errors": [error.formatted for error in problems]}
        variables: dict[str, Any] = body.get("variables") or {}
        name = body.get("operationName") if isinstance(body.get("operationName"), str) else None
        operation = get_operation_ast(document, name)
        if not isinstance(operation, OperationDefinitionNode):
            message = f"Unknown operation named '{name}'." if name else "An operation name is required."
            return 200, {"errors": [{"message": message}]}
        bucket = self.bucket(call.shop.handle, call.app.handle)
        requested = _requested(body["query"], json.dumps(variables, sort_keys=True, default=str), name)
        if requested > pricing.MAX_QUERY_COST:
            return 200, self._refused(requested, bucket, _max_cost_error(requested))
        if self.enforce_rate_limits and not bucket.take(requested):
            return 200, self._refused(requested, bucket, _throttled_error())
        if not self.enforce_rate_limits:
            bucket.take(min(requested, bucket.available))
        result = execute(
            the_schema,
            document,
            variable_values=variables,
            operation_name=name,
            context_value=call,
            is_awaitable=_never_awaitable,
            executor_class=FlatListExecutor,
        )
        assert not hasattr(result, "__await__")  # every resolver is synchronous
        actual = self._actual(the_schema, document, variables, name, operation, result.data, requested)
        bucket.refund(requested - actual)
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        answer["data"] = result.data
        answer["extensions"] = {"cost": pricing.QueryCost(requested, actual, bucket.status()).to_json()}
        if call.uninstalled:
            self._buckets.pop((call.shop.handle, call.app.handle), None)
        return 200, answer

    @staticmethod
    def _actual(
        the_schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        name: str | None,
        operation: OperationDefinitionNode,
        data: Mapping[str, Any] | None,
        requested: int,
    ) -> int:
        if operation.operation.value == "mutation":
            return requested
        if data is None:
            return 0
        return min(requested, pricing.query_cost(the_schema, document, variables, name, data=data))

    @staticmethod
    def _refused(requested: int, bucket: pricing.CostBucket, error: dict[str, Any]) -> dict[str, Any]:
        cost = pricing.QueryCost(requested, None, bucket.status())
        return {"errors": [error], "extensions": {"cost": cost.to_json()}}


def _throttled_error() -> dict[str, Any]:
    return {
        "message": "Throttled",
        "extensions": {"code": "THROTTLED", "documentation": pricing.RATE_LIMITS_DOC},
    }


def _max_cost_error(requested: int) -> dict[str, Any]:
    return {
        "message": (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({pricing.MAX_QUERY_COST}). See {pricing.RATE_LIMITS_DOC} for how the cost of a query is "
            "calculated; to query larger amounts of data, use bulk operations."
        ),
        "extensions": {
            "code": "MAX_COST_EXCEEDED",
            "cost": requested,
            "maxCost": pricing.MAX_QUERY_COST,
            "documentation": pricing.RATE_LIMITS_DOC,
        },
    }
