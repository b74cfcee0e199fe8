"""A stateful stand-in for ``https://api.ebay.com`` (Sell Account and Commerce Notification).

Emulated operations (paths, status codes and bodies as in the OpenAPI documents in
``tests/vendor_specs/ebay``): getFulfillmentPolicies, getFulfillmentPolicy, deleteFulfillmentPolicy,
getSubscriptions, getSubscription, deleteSubscription. Anything else answers 404.

Scenario section (SPEC section 8)::

    demo-seller:                                   # the seller; found from the bearer token
      tokens: {"v^1.1#demo": [https://api.ebay.com/oauth/api_scope/sell.account, ...]}
      fulfillment_policies: {EBAY_DE: [{fulfillmentPolicyId: "6196932000", name: DHL Paket, default: true}]}
      subscriptions: [{subscriptionId: "8cd7d4b3", topicId: MARKETPLACE_ACCOUNT_DELETION, destinationId: d-1}]
      destinations: [{destinationId: d-1, name: nordhub}]
      quotas: {sell.account: 25000}                # optional; eBay's published defaults otherwise

Tokens belong to an eBay application (``providers.ebay.scenario``): getSubscriptions,
getSubscription and deleteSubscription see only the calling application's subscriptions; another
application's subscription id answers 404 errorId 195013, as an unknown one does. Policies are the
seller's, seen by every application's token that has the scope.

``default: true`` on a policy is a scenario shorthand for ``categoryTypes[].default`` (a field
eBay still returns though it marks it deprecated); deleting a default policy answers 409 with
errorId 20409. Destinations are kept for the scenario and ``dump()``; they are not served,
because the destination operations take only an application token.

Daily quotas are counted per tenant and API in 24-hour windows of the injected clock, shifted to
end at midnight Pacific (UTC-8) when the clock is wall time; a call over the quota answers 429
with errorId 2001 (no Retry-After, as eBay sends none).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from providers.ebay import api
from providers.ebay.scenario import Tenant, dump_tenant, is_default, load_tenant
from providers.emulation import CursorError, decode_cursor, encode_cursor
from providers.sandbox import path_segments

PACIFIC_OFFSET_SECONDS = -8 * 3600
DAY_SECONDS = 86_400

_JSON_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class _Route:
    operation: str
    api_name: str
    item: str | None = None


class EbayEmulator:
    name: ClassVar[str] = "ebay"
    prefix: ClassVar[str] = "/ebay"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.enforce_rate_limits: bool = True
        self.daily_quotas: dict[str, int] = dict(api.DEFAULT_DAILY_QUOTAS)
        self.received = 0
        self._tenants: dict[str, Tenant] = {}
        self._tokens: dict[str, tuple[Tenant, frozenset[str]]] = {}
        self._request_seq = 0

    # -- scenario --------------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        tenants: dict[str, Tenant] = {}
        tokens: dict[str, tuple[Tenant, frozenset[str]]] = {}
        for tenant_name, data in (section or {}).items():
            tenant = load_tenant(str(tenant_name), data or {})
            for token, scopes in tenant.tokens.items():
                if token in tokens:
                    raise ValueError(
                        f"ebay: token {token!r} is given to both {tokens[token][0].name} and {tenant.name}"
                    )
                tokens[token] = (tenant, frozenset(scopes))
            tenants[tenant.name] = tenant
        self._tenants, self._tokens = tenants, tokens

    def dump(self) -> dict[str, Any]:
        return {tenant.name: dump_tenant(tenant) for tenant in self._tenants.values()}

    # -- requests --------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        self.received += 1
        route = _route(request.method.upper(), path_segments(request, path))
        if route is None:
            return self._error(
                404,
                0,
                "ACCESS",
                "REQUEST",
                "Resource not found",
                f"The eBay sandbox does not emulate {request.method.upper()} {path}.",
                with_id=False,
            )
        found = self._authenticate(request)
        if found is None:
            return self._error(
                401,
                api.ERROR_INVALID_TOKEN,
                "OAuth",
                "REQUEST",
                "Invalid access token",
                "Invalid access token. Check the value of the Authorization HTTP request header.",
            )
        tenant, scopes, app = found
        if self.enforce_rate_limits and not self._count(tenant, route.api_name):
            return self._error(
                429,
                api.ERROR_TOO_MANY_REQUESTS,
                "ACCESS",
                "REQUEST",
                "Too many requests.",
                "The request limit has been reached for the resource.",
            )
        if not scopes & api.OPERATION_SCOPES[route.operation]:
            return self._error(
                403,
                api.ERROR_ACCESS_DENIED,
                "ACCESS",
                "REQUEST",
                "Access denied",
                "Insufficient permissions to fulfill the request.",
            )
        handler = getattr(self, f"_op_{route.operation}")
        response: httpx.Response = handler(request, tenant, route.item, app)
        return response

    def _authenticate(self, request: httpx.Request) -> tuple[Tenant, frozenset[str], str] | None:
        """The seller, the token's scopes, and the application the token was minted for."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            return None
        return found[0], found[1], found[0].token_apps[token.strip()]

    def _count(self, tenant: Tenant, api_name: str) -> bool:
        window = int((self.clock() + PACIFIC_OFFSET_SECONDS) // DAY_SECONDS)
        quota = tenant.quotas.get(api_name, self.daily_quotas.get(api_name))
        seen_window, calls = tenant.usage.get(api_name, (window, 0))
        if seen_window != window:
            calls = 0
        if quota is not None and calls >= quota:
            tenant.usage[api_name] = (window, calls)
            return False
        tenant.usage[api_name] = (window, calls + 1)
        return True

    # -- fulfillment policies -------------------------------------------------------------------

    def _op_getFulfillmentPolicies(
        self, request: httpx.Request, tenant: Tenant, _: str | None, app: str
    ) -> httpx.Response:
        marketplace = request.url.params.get("marketplace_id", "").strip()
        if not marketplace:
            return self._account_error(
                400, api.ERROR_MISSING_FIELD, "Missing field marketplace_id.", "marketplace_id"
            )
        if not api.MARKETPLACE_ID.match(marketplace):
            return self._account_error(
                400, api.ERROR_INVALID_FIELD, "Invalid marketplace_id.", "marketplace_id"
            )
        ids = tenant.by_marketplace.get(marketplace, {})
        policies = [tenant.policies[i] for i in ids]
        return self._json(200, {"total": len(policies), "fulfillmentPolicies": policies})

    def _op_getFulfillmentPolicy(
        self, request: httpx.Request, tenant: Tenant, item: str | None, app: str
    ) -> httpx.Response:
        policy = tenant.policies.get(item or "")
        if policy is None:
            return self._policy_not_found()
        return self._json(200, policy)

    def _op_deleteFulfillmentPolicy(
        self, request: httpx.Request, tenant: Tenant, item: str | None, app: str
    ) -> httpx.Response:
        policy = tenant.policies.get(item or "")
        if policy is None:
            return self._policy_not_found()
        if is_default(policy):
            return self._error(
                409,
                api.ERROR_DEFAULT_POLICY,
                "API_ACCOUNT",
                "BUSINESS",
                "Invalid default policy type.",
                "Invalid default policy type. A default fulfillment policy cannot be deleted; make "
                "another policy the default for its category type first.",
            )
        del tenant.policies[item or ""]
        tenant.by_marketplace.get(str(policy.get("marketplaceId")), {}).pop(item or "", None)
        return self._empty(204)

    def _policy_not_found(self) -> httpx.Response:
        return self._account_error(
            404, api.ERROR_NOT_FOUND, "fulfillmentPolicyId not found.", "fulfillmentPolicyId"
        )

    def _account_error(self, status: int, error_id: int, message: str, field_name: str) -> httpx.Response:
        return self._error(
            status,
            error_id,
            "API_ACCOUNT",
            "REQUEST",
            message,
            message,
            parameters=[{"name": "fieldName", "value": field_name}],
        )

    # -- notification subscriptions -------------------------------------------------------------

    def _op_getSubscriptions(self, request: httpx.Request, tenant: Tenant, _: str | None, app: str
    ) -> httpx.Response:
        raw_limit = request.url.params.get("limit")
        try:
            limit = int(raw_limit) if raw_limit is not None else api.SUBSCRIPTION_PAGE_DEFAULT
        except ValueError:
            limit = -1
        if not api.SUBSCRIPTION_PAGE_MIN <= limit <= api.SUBSCRIPTION_PAGE_MAX:
            return self._notification_error(
                400, api.ERROR_INVALID_LIMIT, "Invalid limit. Supported ranges 10 - 100."
            )
        token = request.url.params.get("continuation_token")
        offset = 0
        if token is not None:
            decoded = _decode_token(token, app)
            if decoded is None:
                return self._notification_error(
                    400, api.ERROR_INVALID_CONTINUATION_TOKEN, "Invalid continuation token."
                )
            offset = decoded
        subscriptions = [s for i, s in tenant.subscriptions.items() if tenant.owners[i] == app]
        page = subscriptions[offset : offset + limit]
        href = request.url.copy_with(
            params={"limit": str(limit), **({"continuation_token": token} if token is not None else {})}
        )
        body: dict[str, Any] = {
            "total": len(subscriptions),
            "href": str(href),
            "limit": limit,
            "subscriptions": page,
        }
        if offset + limit < len(subscriptions):
            body["next"] = str(
                request.url.copy_with(
                    params={"limit": str(limit), "continuation_token": encode_cursor(f"subscriptions/{app}", offset + limit)}
                )
            )
        return self._json(200, body)

    def _op_getSubscription(
        self, request: httpx.Request, tenant: Tenant, item: str | None, app: str
    ) -> httpx.Response:
        subscription = tenant.subscriptions.get(item or "")
        if subscription is None or tenant.owners[item or ""] != app:  # another application's
            return self._notification_error(
                404, api.ERROR_INVALID_SUBSCRIPTION_ID, "Invalid subscription Id."
            )
        return self._json(200, subscription)

    def _op_deleteSubscription(
        self, request: httpx.Request, tenant: Tenant, item: str | None, app: str
    ) -> httpx.Response:
        if item not in tenant.subscriptions or tenant.owners[item] != app:  # not this application's
            return self._notification_error(
                404, api.ERROR_INVALID_SUBSCRIPTION_ID, "Invalid subscription Id."
            )
        del tenant.subscriptions[item]
        del tenant.owners[item]
        return self._empty(204)

    def _notification_error(self, status: int, error_id: int, message: str) -> httpx.Response:
        return self._error(status, error_id, "API_NOTIFICATION", "REQUEST", message, message)

    # -- responses -------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        self._request_seq += 1
        return {"x-ebay-request-id": f"sandbox-{self._request_seq:08x}"}

    def _json(self, status: int, body: Any) -> httpx.Response:
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return httpx.Response(status, content=content, headers={**_JSON_HEADERS, **self._headers()})

    def _empty(self, status: int) -> httpx.Response:
        return httpx.Response(status, headers=self._headers())

    def _error(
        self,
        status: int,
        error_id: int,
        domain: str,
        category: str,
        message: str,
        long_message: str,
        *,
        parameters: list[dict[str, str]] | None = None,
        with_id: bool = True,
    ) -> httpx.Response:
        error: dict[str, Any] = {
            "domain": domain,
            "category": category,
            "message": message,
            "longMessage": long_message,
        }
        if with_id:
            error = {"errorId": error_id, **error}
        if parameters:
            error["parameters"] = parameters
        return self._json(status, {"errors": [error]})


# -- routing -------------------------------------------------------------------------------------


_POLICY_SEGMENTS = api.FULFILLMENT_POLICY_PATH.split("/")
_SUBSCRIPTION_SEGMENTS = api.SUBSCRIPTION_PATH.split("/")


def _route(method: str, segments: list[str]) -> _Route | None:
    """The operation for a path split before decoding, so an id holding an encoded '/' stays one segment."""
    path = list(segments)
    while path and not path[-1]:  # trailing slashes are ignored
        path.pop()
    if path == _POLICY_SEGMENTS:
        return _Route("getFulfillmentPolicies", api.API_SELL_ACCOUNT) if method == "GET" else None
    if path == _SUBSCRIPTION_SEGMENTS:
        return _Route("getSubscriptions", api.API_COMMERCE_NOTIFICATION) if method == "GET" else None
    for base, api_name, noun in (
        (_POLICY_SEGMENTS, api.API_SELL_ACCOUNT, "FulfillmentPolicy"),
        (_SUBSCRIPTION_SEGMENTS, api.API_COMMERCE_NOTIFICATION, "Subscription"),
    ):
        if len(path) > len(base) and path[: len(base)] == base:
            if len(path) != len(base) + 1:
                return None
            item = path[-1]
            if method == "GET":
                return _Route(f"get{noun}", api_name, item)
            if method == "DELETE":
                return _Route(f"delete{noun}", api_name, item)
            return None
    return None


def _decode_token(token: str, app: str) -> int | None:
    try:
        return decode_cursor(token, f"subscriptions/{app}")
    except CursorError:
        return None
