"""Full Stripe objects for the emulator, from the partial ones a scenario gives.

Stripe's own sample objects (``templates.json``, copied unchanged from fixtures3.json) give the
current shape. They are samples, not defaults: they hold a cancelled-yet-active subscription, a
paused collection, a pending update and nonsense periods. ``*_STATE`` below resets those to what a
freshly created object carries, so a scenario only has to say what makes its object special.

Objects are stored in the current shape (API versions from 2025-03-31 "basil" on): the billing
period lives on each subscription item. ``legacy_subscription``/``legacy_invoice`` add the fields
that older versions (such as 2023-08-16, the published spec extract) still return at top level,
which is what Stripe does for a request pinned to an older ``Stripe-Version``.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

TEMPLATES: dict[str, Any] = json.loads(Path(__file__).with_name("templates.json").read_text("utf-8"))

BASIL = "2025-03-31"
CURRENT_VERSION = "2025-03-31.basil"
DAY = 86_400

SUBSCRIPTION_STATE: dict[str, Any] = {
    "application": None,
    "application_fee_percent": None,
    "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
    "billing_cycle_anchor_config": None,
    "billing_mode": {"type": "classic"},
    "billing_schedules": [],
    "billing_thresholds": None,
    "cancel_at": None,
    "cancel_at_period_end": False,
    "canceled_at": None,
    "cancellation_details": {"comment": None, "feedback": None, "reason": None},
    "customer_account": None,
    "days_until_due": None,
    "default_payment_method": None,
    "default_source": None,
    "default_tax_rates": [],
    "description": None,
    "discounts": [],
    "ended_at": None,
    "latest_invoice": None,
    "managed_payments": {"enabled": False},
    "metadata": {},
    "next_pending_invoice_item_invoice": None,
    "on_behalf_of": None,
    "pause_collection": None,
    "payment_settings": {
        "payment_method_options": None,
        "payment_method_types": None,
        "save_default_payment_method": "off",
    },
    "pending_invoice_item_interval": None,
    "pending_setup_intent": None,
    "pending_update": None,
    "schedule": None,
    "status": "active",
    "test_clock": None,
    "transfer_data": None,
    "trial_end": None,
    "trial_start": None,
}

ITEM_STATE: dict[str, Any] = {"billing_thresholds": None, "discounts": [], "metadata": {}, "quantity": 1, "tax_rates": []}

PRICE_STATE: dict[str, Any] = {
    "billing_scheme": "per_unit",
    "custom_unit_amount": None,
    "lookup_key": None,
    "metadata": {},
    "nickname": None,
    "recurring": {
        "interval": "month",
        "interval_count": 1,
        "meter": None,
        "usage_type": "licensed",
        "trial_period_days": None,
    },
    "tax_behavior": "unspecified",
    "tiers_mode": None,
    "transform_quantity": None,
}

INVOICE_STATE: dict[str, Any] = {
    "account_name": None,
    "account_tax_ids": None,
    "amount_overpaid": 0,
    "amount_shipping": 0,
    "application": None,
    "auto_advance": False,
    "automatic_tax": {"enabled": False, "liability": None, "status": None, "disabled_reason": None, "provider": None},
    "automatically_finalizes_at": None,
    "billing_reason": "subscription_cycle",
    "customer_shipping": None,
    "customer_tax_ids": [],
    "discounts": [],
    "due_date": None,
    "from_invoice": None,
    "last_finalization_error": None,
    "latest_revision": None,
    "metadata": {},
    "next_payment_attempt": None,
    "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
    "rendering": None,
    "shipping_cost": None,
    "shipping_details": None,
    "status": "paid",
    "total_discount_amounts": [],
    "total_pretax_credit_amounts": [],
    "total_taxes": [],
}

CUSTOMER_STATE: dict[str, Any] = {"discount": None, "shipping": None, "metadata": {}}

_TERMINAL = frozenset({"canceled", "incomplete_expired"})


def _without(obj: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in keys}


def is_legacy(version: str) -> bool:
    """True for API versions that still return the period on the subscription itself."""
    return version[:10] < BASIL


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (several times faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {key: clone(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [clone(inner) for inner in value]
    if isinstance(value, Mapping):
        return {key: clone(inner) for key, inner in value.items()}
    if isinstance(value, tuple):
        return [clone(inner) for inner in value]
    return value


def merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``, both left untouched; nested mappings merge, the rest is replaced."""
    out: dict[str, Any] = clone(base)
    _overlay(out, overlay)
    return out


def _overlay(target: dict[str, Any], overlay: Mapping[str, Any]) -> None:
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _overlay(target[key], value)
        else:
            target[key] = clone(value)


def shift(anchor: int, interval: str, count: int, times: int) -> int:
    """``anchor`` moved by ``times`` billing intervals, months clamped to their last day."""
    if interval == "day":
        return anchor + times * count * DAY
    if interval == "week":
        return anchor + times * count * 7 * DAY
    months = times * count * (12 if interval == "year" else 1)
    start = datetime.fromtimestamp(anchor, tz=timezone.utc)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return int(start.replace(year=year, month=month + 1, day=day).timestamp())


def period_containing(anchor: int, interval: str, count: int, now: int) -> tuple[int, int]:
    """The billing period (start, end) that ``now`` falls in, counted from the anchor."""
    if now < anchor:
        return anchor, shift(anchor, interval, count, 1)
    approx = {"day": DAY, "week": 7 * DAY, "month": 28 * DAY, "year": 365 * DAY}.get(interval, 28 * DAY)
    k = max(0, (now - anchor) // (approx * max(1, count)) - 1)
    while shift(anchor, interval, count, k + 1) <= now:
        k += 1
    while k > 0 and shift(anchor, interval, count, k) > now:
        k -= 1
    return shift(anchor, interval, count, k), shift(anchor, interval, count, k + 1)


_BASES: dict[str, dict[str, Any]] = {}


def _bases() -> dict[str, dict[str, Any]]:
    """The templates with their sample state reset, prepared once (callers copy, never mutate)."""
    if not _BASES:
        item = TEMPLATES["subscription"]["items"]["data"][0]
        _BASES.update(
            subscription=merged(_without(TEMPLATES["subscription"], "items"), SUBSCRIPTION_STATE),
            item=merged(_without(item, "price", "plan"), ITEM_STATE),
            price=merged(item["price"], PRICE_STATE),
            invoice=merged(_without(TEMPLATES["invoice"], "lines"), INVOICE_STATE),
            line=clone(TEMPLATES["invoice"]["lines"]["data"][0]),
            customer=merged(TEMPLATES["customer"], CUSTOMER_STATE),
        )
    return _BASES


def _suffix(object_id: str) -> str:
    return object_id.split("_", 1)[1] if "_" in object_id else object_id


def build_price(partial: Mapping[str, Any] | str | None, *, fallback_id: str, currency: str, now: int, livemode: bool) -> dict[str, Any]:
    given: Mapping[str, Any] = {"id": partial} if isinstance(partial, str) else (partial or {})
    price = merged(_bases()["price"], {"created": now, "livemode": livemode, "currency": currency,
                                       "id": "price_" + fallback_id, "product": "prod_" + fallback_id})
    _overlay(price, given)
    if "unit_amount" in given and "unit_amount_decimal" not in given and price["unit_amount"] is not None:
        price["unit_amount_decimal"] = str(price["unit_amount"])
    return price


def plan_from_price(price: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` Stripe still mirrors on every item for a recurring price."""
    recurring = price.get("recurring") or {}
    return {
        "active": price.get("active", True),
        "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme", "per_unit"),
        "created": price.get("created"),
        "currency": price.get("currency"),
        "id": price.get("id"),
        "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": price.get("livemode", False),
        "metadata": price.get("metadata", {}),
        "meter": recurring.get("meter"),
        "nickname": price.get("nickname"),
        "object": "plan",
        "product": price.get("product"),
        "tiers_mode": price.get("tiers_mode"),
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _item_partials(partial: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = partial.get("items")
    if isinstance(items, Mapping):
        items = items.get("data")
    return list(items or [{}])


def build_subscription(partial: Mapping[str, Any], *, now: int, customer: str, livemode: bool) -> dict[str, Any]:
    """A complete current-shape Subscription; what the scenario gives always wins."""
    sub_id = str(partial["id"])
    created = int(partial.get("created") or partial.get("start_date") or partial.get("billing_cycle_anchor") or now - 15 * DAY)
    start = int(partial.get("start_date") or created)
    anchor = int(partial.get("billing_cycle_anchor") or start)
    currency = str(partial.get("currency") or _first_price_currency(partial) or "usd").lower()

    sub = merged(_bases()["subscription"], {
        "created": created, "start_date": start, "billing_cycle_anchor": anchor, "currency": currency,
        "customer": customer, "livemode": livemode, "id": sub_id,
    })
    _overlay(sub, _without(partial, "items", "current_period_start", "current_period_end"))

    legacy_period = (partial.get("current_period_start"), partial.get("current_period_end"))
    items = []
    for index, given in enumerate(_item_partials(partial)):
        fallback = _suffix(sub_id) + ("" if index == 0 else str(index))
        price_partial = given.get("price")
        if price_partial is None and isinstance(given.get("plan"), Mapping):
            plan = given["plan"]
            price_partial = {
                "id": plan.get("id"), "unit_amount": plan.get("amount"), "nickname": plan.get("nickname"),
                "product": plan.get("product"), "currency": plan.get("currency", currency),
                "recurring": {"interval": plan.get("interval", "month"), "interval_count": plan.get("interval_count", 1)},
            }
            price_partial = {k: v for k, v in price_partial.items() if v is not None}
        price = build_price(price_partial, fallback_id=fallback, currency=currency, now=created, livemode=livemode)
        recurring = price.get("recurring") or {}
        if None not in legacy_period:
            period = (int(legacy_period[0]), int(legacy_period[1]))  # type: ignore[arg-type]
        else:
            period = period_containing(anchor, recurring.get("interval", "month"), int(recurring.get("interval_count") or 1), now)
        item = merged(_bases()["item"], {"id": "si_" + fallback, "created": created, "subscription": sub_id,
                                         "current_period_start": period[0], "current_period_end": period[1]})
        _overlay(item, _without(given, "price", "plan"))
        item["price"] = price
        item["plan"] = plan_from_price(price)
        items.append(item)
    sub["items"] = {"object": "list", "data": items, "has_more": False, "url": f"/v1/subscription_items?subscription={sub_id}"}
    _fill_cancellation(sub, partial, now)
    return sub


def _first_price_currency(partial: Mapping[str, Any]) -> str | None:
    for item in _item_partials(partial):
        price = item.get("price")
        if isinstance(price, Mapping) and price.get("currency"):
            return str(price["currency"])
        plan = item.get("plan")
        if isinstance(plan, Mapping) and plan.get("currency"):
            return str(plan["currency"])
    return None


def _fill_cancellation(sub: dict[str, Any], partial: Mapping[str, Any], now: int) -> None:
    """Make a scenario's cancel state self-consistent the way Stripe's would be."""
    end = period_end(sub)
    details = sub.get("cancellation_details") or {}
    if sub["status"] in _TERMINAL:
        if "ended_at" not in partial:
            sub["ended_at"] = now
        if "canceled_at" not in partial and sub["status"] == "canceled":
            sub["canceled_at"] = sub["ended_at"]
        if sub["status"] == "canceled" and not details.get("reason"):
            sub["cancellation_details"] = {**details, "reason": "cancellation_requested"}
    elif sub.get("cancel_at_period_end"):
        if "cancel_at" not in partial:
            sub["cancel_at"] = end
        if "canceled_at" not in partial:
            sub["canceled_at"] = now
        if not details.get("reason"):
            sub["cancellation_details"] = {**details, "reason": "cancellation_requested"}
    if sub["status"] == "trialing":
        sub["trial_start"] = sub.get("trial_start") or sub["start_date"]
        sub["trial_end"] = sub.get("trial_end") or end


def period_end(sub: Mapping[str, Any]) -> int:
    """When the current period ends: the earliest end among the items (Stripe's basil rule)."""
    ends = [int(item["current_period_end"]) for item in sub["items"]["data"] if item.get("current_period_end")]
    return min(ends) if ends else int(sub.get("current_period_end") or sub["created"])


def period_start(sub: Mapping[str, Any]) -> int:
    starts = [int(item["current_period_start"]) for item in sub["items"]["data"] if item.get("current_period_start")]
    return min(starts) if starts else int(sub.get("current_period_start") or sub["created"])


def roll_periods(sub: dict[str, Any], now: int) -> None:
    """Advance an uncancelled subscription's items into the period ``now`` falls in."""
    for item in sub["items"]["data"]:
        if int(item["current_period_end"]) > now:
            continue
        recurring = item["price"].get("recurring") or {}
        item["current_period_start"], item["current_period_end"] = period_containing(
            int(sub["billing_cycle_anchor"]), recurring.get("interval", "month"), int(recurring.get("interval_count") or 1), now
        )


def build_invoice(
    partial: Mapping[str, Any],
    *,
    subscription: Mapping[str, Any] | None,
    customer: str,
    created: int,
    livemode: bool,
    number: str,
) -> dict[str, Any]:
    """A complete invoice; a subscription's invoice defaults to its price, paid."""
    inv_id = str(partial["id"])
    base = merged(_bases()["invoice"], {})
    first_item = subscription["items"]["data"][0] if subscription else None
    price = first_item["price"] if first_item else None
    given_amount = partial.get("amount_due")
    amount = int(given_amount if given_amount is not None else (price or {}).get("unit_amount") or 0)
    currency = str(partial.get("currency") or (subscription or {}).get("currency") or "usd").lower()
    status = str(partial.get("status") or base["status"])
    paid = status == "paid"
    interval = ((price or {}).get("recurring") or {})
    end = shift(created, interval.get("interval", "month"), int(interval.get("interval_count") or 1), 1)
    sub_id = subscription["id"] if subscription else partial.get("subscription")
    base.update(
        id=inv_id, created=created, effective_at=created, currency=currency, customer=customer, livemode=livemode,
        amount_due=amount, amount_paid=amount if paid else 0, amount_remaining=0 if paid else amount,
        subtotal=amount, subtotal_excluding_tax=amount, total=amount, total_excluding_tax=amount,
        attempted=paid, attempt_count=1 if paid else 0, period_start=created, period_end=created,
        webhooks_delivered_at=created, status=status, subscription=sub_id,
        number=None if status == "draft" else number,
        status_transitions={
            "finalized_at": created if status != "draft" else None,
            "marked_uncollectible_at": None,
            "paid_at": created if paid else None,
            "voided_at": created if status == "void" else None,
        },
        parent=(
            {"type": "subscription_details", "quote_details": None,
             "subscription_details": {"metadata": dict((subscription or {}).get("metadata") or {}) or None, "subscription": sub_id}}
            if sub_id else None
        ),
    )
    line = merged(_bases()["line"], {
        "id": "il_" + _suffix(inv_id), "amount": amount, "currency": currency, "invoice": inv_id, "livemode": livemode,
        "description": f"1 × {(price or {}).get('nickname') or 'Subscription'}",
        "period": {"start": created, "end": end}, "subscription": sub_id, "subtotal": amount,
        "pretax_credit_amounts": [], "taxes": [], "discount_amounts": [], "discounts": [],
        "pricing": {"type": "price_details", "unit_amount_decimal": str(amount),
                    "price_details": {"price": (price or {}).get("id"), "product": (price or {}).get("product")}},
    })
    line["parent"] = (
        {"type": "subscription_item_details", "invoice_item_details": None,
         "subscription_item_details": {"invoice_item": None, "proration": False, "proration_details": {"credited_items": None},
                                       "subscription": sub_id, "subscription_item": first_item["id"] if first_item else None}}
        if sub_id else {"type": "invoice_item_details", "subscription_item_details": None,
                        "invoice_item_details": {"invoice_item": "ii_" + _suffix(inv_id), "proration": False, "proration_details": {"credited_items": None}, "subscription": None}}
    )
    base["lines"] = {"object": "list", "data": [line], "has_more": False, "url": f"/v1/invoices/{inv_id}/lines"}
    _overlay(base, partial)
    return base


def build_customer(partial: Mapping[str, Any], *, now: int, livemode: bool) -> dict[str, Any]:
    base = merged(_bases()["customer"], {"created": now - 30 * DAY, "livemode": livemode,
                                         "invoice_prefix": _suffix(str(partial["id"]))[:8].upper()})
    _overlay(base, partial)
    return base


def legacy_subscription(sub: Mapping[str, Any]) -> dict[str, Any]:
    """The subscription as versions before 2025-03-31 return it (a shallow view, not a copy)."""
    view = dict(sub)
    view["current_period_start"] = period_start(sub)
    view["current_period_end"] = period_end(sub)
    discounts = sub.get("discounts") or []
    view["discount"] = discounts[0] if discounts and isinstance(discounts[0], Mapping) else None
    return view


def legacy_invoice(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """The invoice as versions before 2025-03-31 return it: payment and tax fields on top."""
    view = dict(invoice)
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    view.update(
        paid=invoice.get("status") == "paid",
        paid_out_of_band=False,
        total_tax_amounts=[],
        charge=None,
        payment_intent=None,
        application_fee_amount=None,
        discount=None,
        quote=None,
        tax=None,
        transfer_data=None,
        rendering_options=None,
        subscription_details={"metadata": details.get("metadata")} if details else None,
    )
    lines = dict(invoice["lines"])
    lines["data"] = [_legacy_line(line) for line in invoice["lines"]["data"]]
    view["lines"] = lines
    return view


def _legacy_line(line: Mapping[str, Any]) -> dict[str, Any]:
    view = dict(line)
    parent = line.get("parent") or {}
    item_details = parent.get("subscription_item_details") or {}
    invoice_item = (parent.get("invoice_item_details") or {}).get("invoice_item")
    # Optional, not nullable, in the old schema: absent when empty.
    view.update({name: value for name, value in (("subscription_item", item_details.get("subscription_item")),
                                                   ("invoice_item", invoice_item)) if value})
    view.update(
        type="subscription" if item_details else "invoiceitem",
        proration=bool(item_details.get("proration")),
        proration_details={"credited_items": None},
        tax_amounts=[],
        tax_rates=[],
        amount_excluding_tax=line.get("amount"),
        unit_amount_excluding_tax=str(line.get("amount")),
        price=None,
    )
    return view
