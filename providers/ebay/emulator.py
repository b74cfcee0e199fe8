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

``default: true`` on a policy is a scenario shorthand for ``categoryTypes[].default`` (a field
eBay still returns though it marks it deprecated); deleting a default policy answers 409 with
errorId 20409. Destinations are kept for the scenario and ``dump()``; they are not served,
because the destination operations take only an application token.

Daily quotas are counted per tenant and API in 24-hour windows of the injected clock, shifted to
end at midnight Pacific (UTC-8) when the clock is wall time; a call over the quota answers 429
with errorId 2001 (no Retry-After, as eBay sends none).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from providers.ebay import api
from providers.sandbox import path_segments

PACIFIC_OFFSET_SECONDS = -8 * 3600
DAY_SECONDS = 86_400
SCENARIO_CREATION_DATE = "2024-01-01T00:00:00.000Z"
DEFAULT_CATEGORY_TYPE = "ALL_EXCLUDING_MOTORS_VEHICLES"

_JSON_HEADERS = {"content-type": "application/json"}


@dataclass
class _Tenant:
    name: str
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> policy as served
    by_marketplace: dict[str, dict[str, None]] = field(default_factory=dict)  # ordered id sets
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    destinations: list[dict[str, Any]] = field(default_factory=list)
    quotas: dict[str, int] = field(default_factory=dict)
    usage: dict[str, tuple[int, int]] = field(default_factory=dict)  # api -> (window, calls)


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
        self._tenants: dict[str, _Tenant] = {}
        self._tokens: dict[str, tuple[_Tenant, frozenset[str]]] = {}
        self._request_seq = 0

    # -- scenario --------------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        tenants: dict[str, _Tenant] = {}
        tokens: dict[str, tuple[_Tenant, frozenset[str]]] = {}
        for tenant_name, data in (section or {}).items():
            tenant = _load_tenant(str(tenant_name), data or {})
            for token, scopes in tenant.tokens.items():
                if token in tokens:
                    raise ValueError(
                        f"ebay: token {token!r} is given to both {tokens[token][0].name} and {tenant.name}"
                    )
                tokens[token] = (tenant, frozenset(scopes))
            tenants[tenant.name] = tenant
        self._tenants, self._tokens = tenants, tokens

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for tenant in self._tenants.values():
            data: dict[str, Any] = {
                "tokens": {token: list(scopes) for token, scopes in tenant.tokens.items()},
                "fulfillment_policies": {
                    marketplace: [copy.deepcopy(tenant.policies[i]) for i in ids]
                    for marketplace, ids in tenant.by_marketplace.items()
                },
                "subscriptions": [copy.deepcopy(s) for s in tenant.subscriptions.values()],
                "destinations": copy.deepcopy(tenant.destinations),
            }
            if tenant.quotas:
                data["quotas"] = dict(tenant.quotas)
            out[tenant.name] = data
        return out

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
        tenant, scopes = found
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
        response: httpx.Response = handler(request, tenant, route.item)
        return response

    def _authenticate(self, request: httpx.Request) -> tuple[_Tenant, frozenset[str]] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self._tokens.get(token.strip())

    def _count(self, tenant: _Tenant, api_name: str) -> bool:
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
        self, request: httpx.Request, tenant: _Tenant, _: str | None
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
        self, request: httpx.Request, tenant: _Tenant, item: str | None
    ) -> httpx.Response:
        policy = tenant.policies.get(item or "")
        if policy is None:
            return self._policy_not_found()
        return self._json(200, policy)

    def _op_deleteFulfillmentPolicy(
        self, request: httpx.Request, tenant: _Tenant, item: str | None
    ) -> httpx.Response:
        policy = tenant.policies.get(item or "")
        if policy is None:
            return self._policy_not_found()
        if _is_default(policy):
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

    def _op_getSubscriptions(self, request: httpx.Request, tenant: _Tenant, _: str | None) -> httpx.Response:
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
            decoded = _decode_token(token)
            if decoded is None:
                return self._notification_error(
                    400, api.ERROR_INVALID_CONTINUATION_TOKEN, "Invalid continuation token."
                )
            offset = decoded
        subscriptions = list(tenant.subscriptions.values())
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
                    params={"limit": str(limit), "continuation_token": _encode_token(offset + limit)}
                )
            )
        return self._json(200, body)

    def _op_getSubscription(
        self, request: httpx.Request, tenant: _Tenant, item: str | None
    ) -> httpx.Response:
        subscription = tenant.subscriptions.get(item or "")
        if subscription is None:
            return self._notification_error(
                404, api.ERROR_INVALID_SUBSCRIPTION_ID, "Invalid subscription Id."
            )
        return self._json(200, subscription)

    def _op_deleteSubscription(
        self, request: httpx.Request, tenant: _Tenant, item: str | None
    ) -> httpx.Response:
        if tenant.subscriptions.pop(item or "", None) is None:
            return self._notification_error(
                404, api.ERROR_INVALID_SUBSCRIPTION_ID, "Invalid subscription Id."
            )
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


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"subscriptions:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, number = text.partition(":")
    if kind != "subscriptions" or not number.isdigit():
        return None
    return int(number)


# -- scenario loading ----------------------------------------------------------------------------


def _is_default(policy: Mapping[str, Any]) -> bool:
    return any(isinstance(c, Mapping) and c.get("default") is True for c in policy.get("categoryTypes") or [])


def _load_tenant(name: str, data: Any) -> _Tenant:
    if not isinstance(data, Mapping):
        raise ValueError(f"ebay: tenant {name!r} must be a mapping, not {type(data).__name__}")
    unknown = set(data) - {"tokens", "fulfillment_policies", "subscriptions", "destinations", "quotas"}
    if unknown:
        raise ValueError(f"ebay: tenant {name!r} has unknown keys {sorted(unknown)}")
    tenant = _Tenant(name)
    tokens = data.get("tokens") or {}
    if not isinstance(tokens, Mapping):
        raise ValueError(f"ebay: {name}.tokens must map each token to its list of scopes")
    for token, scopes in tokens.items():
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError(f"ebay: {name}.tokens[{token!r}] must be a list of scope URLs")
        tenant.tokens[str(token)] = tuple(api.expand_scope(s) for s in scopes)
    _load_policies(tenant, data.get("fulfillment_policies") or {})
    _load_subscriptions(tenant, data.get("subscriptions") or [])
    destinations = data.get("destinations") or []
    if not isinstance(destinations, list) or not all(isinstance(d, Mapping) for d in destinations):
        raise ValueError(f"ebay: {name}.destinations must be a list of destination objects")
    tenant.destinations = [_destination(dict(d)) for d in destinations]
    quotas = data.get("quotas") or {}
    if not isinstance(quotas, Mapping) or not all(
        k in api.DEFAULT_DAILY_QUOTAS and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in quotas.items()
    ):
        raise ValueError(f"ebay: {name}.quotas must map {sorted(api.DEFAULT_DAILY_QUOTAS)} to call counts")
    tenant.quotas = dict(quotas)
    return tenant


def _load_policies(tenant: _Tenant, section: Any) -> None:
    if not isinstance(section, Mapping):
        raise ValueError(
            f"ebay: {tenant.name}.fulfillment_policies must map a marketplace id to a list of policies"
        )
    generated = 6_200_000_000
    for marketplace, policies in section.items():
        marketplace = str(marketplace)
        if not api.MARKETPLACE_ID.match(marketplace):
            raise ValueError(
                f"ebay: {tenant.name}.fulfillment_policies: {marketplace!r} is not a marketplace id like EBAY_DE"
            )
        if not isinstance(policies, list) or not all(isinstance(p, Mapping) for p in policies):
            raise ValueError(
                f"ebay: {tenant.name}.fulfillment_policies.{marketplace} must be a list of policies"
            )
        ids = tenant.by_marketplace.setdefault(marketplace, {})
        for given in policies:
            policy = dict(copy.deepcopy(given))
            if policy.get("fulfillmentPolicyId") in (None, ""):
                while str(generated) in tenant.policies:
                    generated += 1
                policy["fulfillmentPolicyId"] = str(generated)
            policy_id = str(policy["fulfillmentPolicyId"])
            if policy_id in tenant.policies:
                raise ValueError(f"ebay: {tenant.name}: fulfillment policy id {policy_id} appears twice")
            if policy.setdefault("marketplaceId", marketplace) != marketplace:
                raise ValueError(
                    f"ebay: {tenant.name}: policy {policy_id} is listed under {marketplace} "
                    f"but has marketplaceId {policy['marketplaceId']}"
                )
            tenant.policies[policy_id] = _policy(policy, policy_id)
            ids[policy_id] = None


def _policy(policy: dict[str, Any], policy_id: str) -> dict[str, Any]:
    """Fill what eBay always returns for a policy; ``default: true`` marks its category type."""
    default = policy.pop("default", None)
    policy["fulfillmentPolicyId"] = policy_id
    policy.setdefault("name", f"Fulfillment policy {policy_id}")
    policy.setdefault("categoryTypes", [{"name": DEFAULT_CATEGORY_TYPE, "default": False}])
    if default is True:
        policy["categoryTypes"] = [{**c, "default": True} for c in policy["categoryTypes"]]
    policy.setdefault("handlingTime", {"value": 1, "unit": "DAY"})
    policy.setdefault(
        "shippingOptions", [{"optionType": "DOMESTIC", "costType": "FLAT_RATE", "shippingServices": []}]
    )
    for flag in ("globalShipping", "localPickup", "pickupDropOff", "freightShipping"):
        policy.setdefault(flag, False)
    return policy


def _load_subscriptions(tenant: _Tenant, items: Any) -> None:
    if not isinstance(items, list) or not all(isinstance(s, Mapping) for s in items):
        raise ValueError(f"ebay: {tenant.name}.subscriptions must be a list of subscription objects")
    for number, given in enumerate(items, start=1):
        subscription = dict(copy.deepcopy(given))
        subscription_id = str(subscription.get("subscriptionId") or f"sub-{number:04d}")
        if subscription_id in tenant.subscriptions:
            raise ValueError(f"ebay: {tenant.name}: subscription id {subscription_id} appears twice")
        if not subscription.get("topicId"):
            raise ValueError(f"ebay: {tenant.name}: subscription {subscription_id} needs a topicId")
        subscription["subscriptionId"] = subscription_id
        subscription.setdefault("status", "ENABLED")
        subscription.setdefault("creationDate", SCENARIO_CREATION_DATE)
        subscription.setdefault(
            "payload", {"format": "JSON", "schemaVersion": "1.0", "deliveryProtocol": "HTTPS"}
        )
        tenant.subscriptions[subscription_id] = subscription


def _destination(destination: dict[str, Any]) -> dict[str, Any]:
    destination.setdefault("status", "ENABLED")
    return destination
