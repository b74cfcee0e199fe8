"""GraphQL over HTTP for one shop: the request, Shopify's refusals as errors, the calculated query
cost honoured (``throttle.CostBudget``), and the answer's data and errors as values.

Every request is ``POST {shop}/admin/api/{version}/graphql.json``
(https://shopify.dev/docs/api/admin-graphql). A query is a read, safe to repeat; a mutation is sent
once, and a lost answer to it raises ``ResponseLostError`` (apply settles it by reading back). A
``THROTTLED`` answer, or a 429, is retried after the restore time of the points it lacked
(https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from providers.http import ApiClient, json_body, retry_after_seconds
from providers.sdk import Page
from providers.sdk.errors import AuthError, ProviderError, RateLimitError
from providers.shopify import queries
from providers.shopify.throttle import CostBudget

SCOPE_IN_MESSAGE = re.compile(r"`([a-z_]+)`")
GONE_WORDS = ("not found", "does not exist", "doesn't exist", "could not find", "couldn't find", "invalid id")
MAX_THROTTLED = 6
VERSION_HEADER = "X-Shopify-API-Version"  # the version that answered: https://shopify.dev/docs/api/usage/versioning

log = structlog.get_logger("tether.shopify")


def describe_error(response: httpx.Response) -> str:
    """Shopify's ``{"errors": "..."}`` or ``{"errors": [{"message": ...}]}`` as one line."""
    try:
        body = json_body(response)
    except ValueError:
        return " ".join(response.text.split())[:200] or f"HTTP {response.status_code}"
    errors: Any = body.get("errors") if isinstance(body, dict) else body
    if isinstance(errors, list):
        text = "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)
    elif errors is None:
        text = response.text
    else:
        text = str(errors)
    return " ".join(text.split())[:300] or f"HTTP {response.status_code}"


@dataclass(frozen=True)
class GraphQLError:
    message: str
    code: str
    path: tuple[str, ...]
    required: str  # the access scope named by an ACCESS_DENIED error, where it says


@dataclass(frozen=True)
class Answer:
    data: Mapping[str, Any]
    errors: tuple[GraphQLError, ...]
    request_id: str | None


def errors_of(body: Mapping[str, Any]) -> tuple[GraphQLError, ...]:
    found: list[GraphQLError] = []
    raw = body.get("errors")
    if isinstance(raw, str):
        return (GraphQLError(raw, "", (), ""),)
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        message = str(item.get("message") or "")
        extensions = item.get("extensions")
        ext: Mapping[str, Any] = extensions if isinstance(extensions, Mapping) else {}
        path = tuple(str(p) for p in item.get("path") or [] if isinstance(p, str))
        required = str(ext.get("requiredAccess") or "")
        scope = SCOPE_IN_MESSAGE.search(required or message)
        found.append(GraphQLError(message, str(ext.get("code") or ""), path, scope.group(1) if scope else ""))
    return tuple(found)


def dig(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def is_gone(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in GONE_WORDS)


def page_of(node: Any, label: str) -> Page[Mapping[str, Any]]:
    if not isinstance(node, Mapping) or not isinstance(node.get("nodes"), list):
        raise ProviderError(f"{label}: the answer is not a connection with nodes")
    info = node.get("pageInfo")
    info = info if isinstance(info, Mapping) else {}
    cursor = info.get("endCursor") if info.get("hasNextPage") else None
    nodes = [n for n in node["nodes"] if isinstance(n, Mapping)]
    return Page(nodes, str(cursor) if cursor else None)



class AdminGraphQL:
    """The GraphQL Admin API of one shop, for one account's token."""

    def __init__(self, api: ApiClient, *, account: str, shop: str, api_version: str, budget: CostBudget) -> None:
        self.api = api
        self.account = account
        self.shop = shop
        self.api_version = api_version
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.budget = budget
        self.requests = 0  # GraphQL requests sent, for the bench
        self.served_version: str | None = None  # what answered, when Shopify fell forward

    async def send(
        self,
        document: str,
        variables: Mapping[str, Any],
        *,
        change: bool = False,
        audit: Mapping[str, Any] | None = None,
    ) -> Answer:
        """One GraphQL request: waits for the cost bucket, retries a THROTTLED answer after the
        restore time, raises AuthError for a refused token; returns data and errors."""
        operation = queries.name_of(document)
        throttled = 0
        while True:
            await self.budget.before(operation, document, variables)
            self.requests += 1
            # A lost answer to a mutation raises ResponseLostError: apply settles it.
            response = await self.api.request(
                "POST",
                self.path,
                operation=operation,
                json={"query": document, "variables": dict(variables), "operationName": operation},
                headers={"Content-Type": "application/json"},
                # A query is a read (safe to repeat); a mutation is sent once.
                idempotent=not change,
                mutating=change,
                accept=(401, 402, 403, 404, 423, 429),
                audit=audit,
            )
            request_id = response.headers.get("x-request-id")
            status = response.status_code
            self._note_version(response)
            self._refuse(status, response, request_id)
            try:
                body = json_body(response)
            except ValueError:
                if status == 429:  # a throttle in front of the API answers without GraphQL's body
                    body = {}
                else:
                    raise ProviderError(
                        f"shopify {self.account}: {operation} answered {status} with a body that is not JSON",
                        status=status,
                        request_id=request_id,
                    ) from None
            if not isinstance(body, dict):
                raise ProviderError(f"shopify {self.account}: {operation} answered {status} without a JSON object")
            requested = self.budget.observe(operation, body)
            errors = errors_of(body)
            if status == 429 or any(e.code == "THROTTLED" for e in errors):
                throttled += 1
                if throttled > MAX_THROTTLED:
                    raise RateLimitError(
                        f"shopify {self.account}: {operation} was throttled {throttled} times in a row "
                        "(calculated query cost); run it again later",
                        status=status,
                        request_id=request_id,
                    )
                asked = retry_after_seconds(response) if status == 429 else None
                await self.api.factory.sleep(asked if asked is not None else self.budget.throttled_wait(requested))
                continue
            data = body.get("data")
            return Answer(data if isinstance(data, dict) else {}, errors, request_id)

    def _note_version(self, response: httpx.Response) -> None:
        """Shopify answers a retired version with the oldest supported one ("falls forward") and
        names it in a header: say so once, since the answers follow that version's schema."""
        served = response.headers.get(VERSION_HEADER)
        if served and served != self.api_version and self.served_version is None:
            self.served_version = served
            log.warning(
                "shopify.version_fell_forward",
                account=self.account,
                asked=self.api_version,
                served=served,
                hint="options.api_version is no longer supported; set a supported version",
            )

    def _refuse(self, status: int, response: httpx.Response, request_id: str | None) -> None:
        if status == 401:
            raise AuthError(
                f"the access token for {self.account} was refused by {self.shop} (401): check "
                "credentials.access_token; an uninstalled app's token stops working",
                status=401,
                request_id=request_id,
            )
        if status in (402, 403, 423):
            raise AuthError(
                f"{self.shop} refused the GraphQL Admin API to {self.account} ({status}): "
                f"{describe_error(response)}",
                status=status,
                request_id=request_id,
            )
        if status == 404:
            raise ProviderError(
                f"{self.shop} does not serve the GraphQL Admin API at {self.path} (404): check "
                f"options.shop and options.api_version ({self.api_version!r}; Shopify supports each "
                "version for at least twelve months)",
                status=404,
                request_id=request_id,
            )
