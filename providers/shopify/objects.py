"""The 2024-01 shapes of the objects the emulator serves, with the API's defaults filled in.

A scenario names only what matters to its story; everything else gets the value Shopify would
return for a freshly created object, so the client always meets complete, current-shape objects.
Fields a scenario does give are kept exactly as given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Loaded objects without timestamps get this one, so a scenario's dump is stable.
EPOCH = "2024-01-10T09:00:00+00:00"
API_CLIENT_ID = 755357713  # the emulated app's id, as in Shopify's own fixtures

Defaults = Callable[[dict[str, Any], str, str], dict[str, Any]]


def _gid(kind: str, ident: Any) -> str:
    return f"gid://shopify/{kind}/{ident}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "service"


def _money(value: Any, default: str = "0.00") -> Any:
    """Prices travel as strings; a number in a scenario becomes the string the API would send."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return f"{value:.2f}"
    return value


def _merge(defaults: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    out.update(given)
    return out


def carrier_service(given: dict[str, Any], shop: str, now: str) -> dict[str, Any]:
    ident = given["id"]
    return _merge(
        {
            "id": ident,
            "name": given.get("name", ""),
            "active": True,
            "service_discovery": True,
            "carrier_service_type": "api",
            "admin_graphql_api_id": _gid("DeliveryCarrierService", ident),
            "format": "json",
            "callback_url": None,
        },
        given,
    )


def fulfillment_service(given: dict[str, Any], shop: str, now: str) -> dict[str, Any]:
    ident = given["id"]
    name = str(given.get("name", ""))
    return _merge(
        {
            "id": ident,
            "name": name,
            "email": None,
            "service_name": name,
            "handle": _slug(name),
            "fulfillment_orders_opt_in": True,
            "include_pending_stock": False,
            "provider_id": None,
            "location_id": int(ident) + 1_000_000 if isinstance(ident, int) else None,
            "callback_url": None,
            "tracking_support": False,
            "inventory_management": False,
            "admin_graphql_api_id": _gid("ApiFulfillmentService", ident),
            "permits_sku_sharing": True,
            "requires_shipping_method": True,
            "format": "json",
        },
        given,
    )


def webhook(given: dict[str, Any], shop: str, now: str) -> dict[str, Any]:
    created = given.get("created_at", now)
    return _merge(
        {
            "id": given["id"],
            "address": "",
            "topic": "",
            "created_at": created,
            "updated_at": given.get("updated_at", created),
            "format": "json",
            "fields": [],
            "metafield_namespaces": [],
            "api_version": "2024-01",
            "private_metafield_namespaces": [],
        },
        given,
    )


def recurring_application_charge(given: dict[str, Any], shop: str, now: str) -> dict[str, Any]:
    ident = given["id"]
    created = given.get("created_at", now)
    status = given.get("status", "pending")
    return_url = given.get("return_url", f"https://{shop}.myshopify.com/admin/apps")
    live = status in ("active", "frozen")
    out = _merge(
        {
            "id": ident,
            "name": "",
            "price": "0.00",
            "billing_on": None,
            "status": status,
            "created_at": created,
            "updated_at": given.get("updated_at", created),
            "activated_on": created[:10] if live and isinstance(created, str) else None,
            "return_url": return_url,
            "test": None,
            "cancelled_on": None,
            "trial_days": 0,
            "trial_ends_on": None,
            "api_client_id": API_CLIENT_ID,
            "decorated_return_url": f"{return_url}?charge_id={ident}",
            "capped_amount": None,
            "balance_used": 0.0,
            "balance_remaining": 0.0,
            "risk_level": 0,
            "terms": None,
            "currency": "USD",
            "confirmation_url": (
                f"https://{shop}.myshopify.com/admin/charges/{API_CLIENT_ID}/{ident}"
                "/RecurringApplicationCharge/confirm_recurring_application_charge"
                f"?signature=emulated-{ident}"
            ),
        },
        given,
    )
    out["price"] = _money(out.get("price"))
    if out.get("capped_amount") is not None:
        out["capped_amount"] = _money(out["capped_amount"])
    return out


def order(given: dict[str, Any], shop: str, now: str) -> dict[str, Any]:
    ident = given["id"]
    created = given.get("created_at", now)
    name = str(given.get("name", "#1001"))
    number = int(name.lstrip("#")) if name.lstrip("#").isdigit() else 1001
    currency = given.get("currency", "EUR")
    total = _money(given.get("total_price"))
    out = _merge(
        {
            "id": ident,
            "admin_graphql_api_id": _gid("Order", ident),
            "name": name,
            "order_number": number,
            "number": number - 1000,
            "email": None,
            "created_at": created,
            "updated_at": given.get("updated_at", created),
            "processed_at": created,
            "closed_at": None,
            "cancelled_at": None,
            "cancel_reason": None,
            "confirmed": True,
            "test": False,
            "currency": currency,
            "presentment_currency": currency,
            "total_price": total,
            "subtotal_price": total,
            "total_tax": "0.00",
            "total_discounts": "0.00",
            "taxes_included": True,
            "financial_status": "paid",
            "fulfillment_status": None,
            "tags": "",
            "note": None,
            "customer": None,
            "line_items": [],
            "shipping_lines": [],
            "shipping_address": None,
            "billing_address": None,
        },
        given,
    )
    for key in ("total_price", "subtotal_price", "total_tax", "total_discounts"):
        out[key] = _money(out[key])
    return out


def product(given: dict[str, Any], shop: str, now: str) -> dict[str, Any]:
    ident = given["id"]
    created = given.get("created_at", now)
    title = str(given.get("title", ""))
    return _merge(
        {
            "id": ident,
            "admin_graphql_api_id": _gid("Product", ident),
            "title": title,
            "body_html": "",
            "vendor": shop,
            "product_type": "",
            "handle": _slug(title),
            "created_at": created,
            "updated_at": given.get("updated_at", created),
            "published_at": created,
            "published_scope": "web",
            "status": "active",
            "tags": "",
            "template_suffix": None,
            "variants": [],
            "options": [],
            "images": [],
            "image": None,
        },
        given,
    )


FILL: dict[str, Defaults] = {
    "carrier_services": carrier_service,
    "fulfillment_services": fulfillment_service,
    "webhooks": webhook,
    "recurring_application_charges": recurring_application_charge,
    "orders": order,
    "products": product,
}

# Collection -> the key of one object in a GET-by-id or POST answer.
SINGULAR: dict[str, str] = {
    "carrier_services": "carrier_service",
    "fulfillment_services": "fulfillment_service",
    "webhooks": "webhook",
    "recurring_application_charges": "recurring_application_charge",
    "orders": "order",
    "products": "product",
}
