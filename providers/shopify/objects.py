"""The objects the Shopify emulator holds, in the GraphQL Admin API's field names (2026-10).

A scenario names only what matters to its story; ``fill`` gives every other field the value
Shopify would return for a freshly created object, and keeps what the scenario gives exactly as
given (so ``dump`` returns the scenario's own layout). ``view`` turns a stored object into what the
API answers: the numeric id as ``gid://shopify/<Type>/<id>``, money as ``MoneyV2``/``MoneyBag``,
``__typename`` for interfaces and unions. ``app`` (the creating app's handle) is kept in the store
and never shown: Shopify does not expose an object's owner, it only filters by it.

Two short forms are accepted where the full GraphQL shape is long: money as ``"29.00 EUR"``
(``price`` and ``interval`` on an app subscription stand for its one recurring line item;
``totalPrice``, ``subtotalPrice``, ``totalTax`` on an order and ``originalUnitPrice`` on a line
item, the API's own older field names, stand for the ``...Set`` money bags).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from graphql import GraphQLEnumType, GraphQLSchema

from providers.sdk.errors import ConfigError

# Loaded objects without timestamps get this one, so a scenario's dump is stable.
EPOCH = "2026-01-05T09:00:00Z"
DEFAULT_WEBHOOK_VERSION = "2026-10"

# scenario collection -> the GraphQL type its ids are global ids of
GID_TYPES: Mapping[str, str] = {
    "carrier_services": "DeliveryCarrierService",
    "fulfillment_services": "FulfillmentService",
    "webhook_subscriptions": "WebhookSubscription",
    "app_subscriptions": "AppSubscription",
    "orders": "Order",
}
COLLECTIONS = tuple(GID_TYPES)

# Fields whose values must be members of a schema enum, per collection.
_ENUM_FIELDS: Mapping[str, Mapping[str, str]] = {
    "webhook_subscriptions": {"topic": "WebhookSubscriptionTopic", "format": "WebhookSubscriptionFormat"},
    "fulfillment_services": {"type": "FulfillmentServiceType"},
    "app_subscriptions": {"status": "AppSubscriptionStatus", "interval": "AppPricingInterval"},
    "orders": {
        "displayFinancialStatus": "OrderDisplayFinancialStatus",
        "displayFulfillmentStatus": "OrderDisplayFulfillmentStatus",
        "cancelReason": "OrderCancelReason",
    },
}
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "carrier_services": ("name",),
    "fulfillment_services": ("serviceName",),
    "webhook_subscriptions": ("topic", "uri"),
    "app_subscriptions": ("name",),
    "orders": ("name",),
}
_DATE_TIMES = ("createdAt", "updatedAt", "currentPeriodEnd", "cancelledAt", "closedAt", "processedAt")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_MONEY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z]{3})\s*$")


def gid(kind: str, ident: int | str) -> str:
    return f"gid://shopify/{kind}/{ident}"


def parse_gid(value: Any, kind: str) -> int | None:
    """The numeric id of ``gid://shopify/<kind>/<n>``; None for anything else."""
    if not isinstance(value, str):
        return None
    prefix = f"gid://shopify/{kind}/"
    tail = value[len(prefix) :] if value.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def money(value: Any, where: str) -> dict[str, str]:
    """``"29.00 EUR"`` or ``{amount, currencyCode}`` as a ``MoneyV2`` value."""
    if isinstance(value, Mapping) and "amount" in value and "currencyCode" in value:
        return {"amount": f"{float(value['amount']):.2f}", "currencyCode": str(value["currencyCode"])}
    found = _MONEY.match(str(value)) if isinstance(value, (str, int, float)) else None
    if not found:
        raise ConfigError(f"{where}: money is written \"29.00 EUR\" (amount, then currency code), got {value!r}")
    return {"amount": f"{float(found.group(1)):.2f}", "currencyCode": found.group(2)}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "service"


def normalise_times(obj: dict[str, Any]) -> None:
    """YAML reads an unquoted timestamp as a datetime; the API speaks ISO-8601 text (UTC ``Z``)."""
    for name in _DATE_TIMES:
        value = obj.get(name)
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            obj[name] = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(value, date):
            obj[name] = f"{value.isoformat()}T00:00:00Z"


def check(schema: GraphQLSchema, collection: str, obj: Mapping[str, Any], where: str) -> None:
    """Refuse, with the scenario path, what the API could never have returned."""
    for name in _DATE_TIMES:
        value = obj.get(name)
        if value is not None and not (isinstance(value, str) and _DATE_TIME.match(value)):
            raise ConfigError(f"{where}.{name}: a date and time is ISO-8601, such as 2026-10-01T12:00:00Z; got {value!r}")
    for name in _REQUIRED[collection]:
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise ConfigError(f"{where}: '{name}' is required (a non-empty string)")
    for name, enum_name in _ENUM_FIELDS.get(collection, {}).items():
        value = obj.get(name)
        enum = schema.get_type(enum_name)
        if value is not None and isinstance(enum, GraphQLEnumType) and value not in enum.values:
            known = ", ".join(sorted(enum.values))
            raise ConfigError(f"{where}.{name}: {value!r} is not a {enum_name}; one of: {known}")
    for name in ("price", "totalPrice", "subtotalPrice", "totalTax"):
        if name in obj:
            money(obj[name], f"{where}.{name}")


def fill(collection: str, given: Mapping[str, Any], shop: str) -> dict[str, Any]:
    """``given`` with the API's defaults for every field it leaves out."""
    defaults = _DEFAULTS[collection](given, shop)
    out = dict(defaults)
    out.update(given)
    return out


def _carrier_defaults(given: Mapping[str, Any], shop: str) -> dict[str, Any]:
    return {
        "formattedName": given.get("name"),
        "active": True,
        "callbackUrl": None,
        "supportsServiceDiscovery": True,
    }


def _fulfillment_defaults(given: Mapping[str, Any], shop: str) -> dict[str, Any]:
    name = str(given.get("serviceName", ""))
    return {
        "handle": _slug(name),
        "callbackUrl": None,
        "inventoryManagement": False,
        "trackingSupport": False,
        "permitsSkuSharing": False,
        "type": "THIRD_PARTY",
        # Shopify creates a location for every fulfillment service, named after it.
        "location": {"id": int(given.get("id", 0)) + 10_000_000, "name": name},
    }


def _webhook_defaults(given: Mapping[str, Any], shop: str) -> dict[str, Any]:
    created = given.get("createdAt", EPOCH)
    return {
        "format": "JSON",
        "includeFields": [],
        "metafieldNamespaces": [],
        "filter": None,
        "createdAt": created,
        "updatedAt": created,
        "apiVersion": DEFAULT_WEBHOOK_VERSION,
    }


def _subscription_defaults(given: Mapping[str, Any], shop: str) -> dict[str, Any]:
    return {
        "status": "ACTIVE",
        "createdAt": EPOCH,
        "currentPeriodEnd": None,
        "trialDays": 0,
        "test": False,
        "returnUrl": f"https://{shop}.myshopify.com/admin/apps",
    }


def _order_defaults(given: Mapping[str, Any], shop: str) -> dict[str, Any]:
    created = given.get("createdAt", EPOCH)
    return {
        "email": None,
        "createdAt": created,
        "updatedAt": created,
        "cancelledAt": None,
        "cancelReason": None,
        "closedAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalPrice": "0.00 EUR",
        "note": None,
        "tags": [],
        "lineItems": [],
        "shippingAddress": None,
    }


_DEFAULTS: Mapping[str, Callable[[Mapping[str, Any], str], dict[str, Any]]] = {
    "carrier_services": _carrier_defaults,
    "fulfillment_services": _fulfillment_defaults,
    "webhook_subscriptions": _webhook_defaults,
    "app_subscriptions": _subscription_defaults,
    "orders": _order_defaults,
}


# -- what the API answers ----------------------------------------------------------------------

_HIDDEN = frozenset({"app"})


def _plain(obj: Mapping[str, Any], kind: str) -> dict[str, Any]:
    out = dict(obj)
    for hidden in _HIDDEN:
        out.pop(hidden, None)
    out["id"] = gid(kind, obj["id"])
    out["__typename"] = kind
    return out


def _bag(value: Any, where: str) -> dict[str, Any]:
    amount = money(value, where)
    return {"shopMoney": amount, "presentmentMoney": dict(amount)}


def view(collection: str, obj: Mapping[str, Any], *, supported: Callable[[str], bool]) -> dict[str, Any]:
    """The API's answer for one stored object. ``supported(version)`` tells whether an API
    version handle is supported today (for ``WebhookSubscription.apiVersion``)."""
    kind = GID_TYPES[collection]
    out = _plain(obj, kind)
    where = f"{collection}[{obj['id']}]"
    if collection == "webhook_subscriptions":
        handle = str(obj.get("apiVersion") or DEFAULT_WEBHOOK_VERSION)
        out["apiVersion"] = {"handle": handle, "displayName": handle, "supported": supported(handle)}
    elif collection == "fulfillment_services":
        location = obj.get("location")
        if isinstance(location, Mapping):
            out["location"] = {
                "__typename": "Location",
                "id": gid("Location", location.get("id", 0)),
                "name": location.get("name", obj.get("serviceName", "")),
                "isActive": bool(location.get("isActive", True)),
            }
    elif collection == "app_subscriptions":
        out["lineItems"] = _line_items(obj, where)
    elif collection == "orders":
        total = money(obj.get("totalPrice", "0.00 EUR"), f"{where}.totalPrice")
        out["currencyCode"] = obj.get("currencyCode", total["currencyCode"])
        out["totalPriceSet"] = _bag(obj.get("totalPrice", "0.00 EUR"), where)
        for short, full in (("subtotalPrice", "subtotalPriceSet"), ("totalTax", "totalTaxSet")):
            out[full] = _bag(obj[short], where) if obj.get(short) is not None else None
        out["lineItems"] = [
            {
                "id": gid("LineItem", item.get("id", 0)),
                "title": item.get("title", ""),
                "quantity": int(item.get("quantity", 1)),
                "sku": item.get("sku"),
                "originalUnitPriceSet": _bag(item.get("originalUnitPrice", f"0.00 {total['currencyCode']}"), where),
            }
            for item in obj.get("lineItems") or ()
            if isinstance(item, Mapping)
        ]
    return out


def _line_items(obj: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    given = obj.get("lineItems")
    if isinstance(given, list):
        return [dict(item) for item in given if isinstance(item, Mapping)]
    if obj.get("price") is None:
        return []
    return [
        {
            "id": gid("AppSubscriptionLineItem", obj["id"]),
            "plan": {
                "pricingDetails": {
                    "__typename": "AppRecurringPricing",
                    "price": money(obj["price"], f"{where}.price"),
                    "interval": obj.get("interval", "EVERY_30_DAYS"),
                    "planHandle": None,
                }
            },
        }
    ]
