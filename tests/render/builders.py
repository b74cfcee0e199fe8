"""Plans built by hand for renderer tests: a renderer is a function of the plan, so its tests
need no provider, no sandbox and no planner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.model import Action, Kind, Money, Runbook
from engine.plan import Plan, PlannedAction, Step


def steps(*, datasets: tuple[str, ...] = ("binding",), rights: tuple[str, ...] = ("write_shipping",), granted: bool | None = True, subscription: bool = False) -> tuple[Step, ...]:
    cancel: dict[str, Any] = {"side": "platform"}
    if subscription:
        cancel["cancel_at"] = "period_end"
    return (
        Step("check-permission", {"rights": list(rights), "granted": granted, "missing": [] if granted is not False else list(rights)}),
        Step("check-terms", {"max_fee": {"amount": "0.00", "currency": "EUR"}, "accept_fees": False, "fee": None}),
        Step("backup", {"datasets": list(datasets)}),
        Step("cancel", cancel),
        Step("verify", {}),
    )


def action(
    action: Action,
    address: str,
    *,
    account: str = "shop-eu",
    kind: Kind = Kind.CARRIER,
    name: str = "DPD Rates",
    reason: str = "declared absent",
    live_id: str | None = "1036894960",
    resource: str = "carrier_services",
    integration: str | None = "",
    **extra: Any,
) -> PlannedAction:
    if action in (Action.CANCEL, Action.BLOCKED) and "steps" not in extra:
        extra["steps"] = steps()
    return PlannedAction(
        address=address,
        account=account,
        provider="shopify",
        kind=kind,
        action=action,
        reason=reason,
        integration=address.split("[")[0] if integration == "" else integration,
        live_id=live_id,
        name=name,
        resource=resource,
        fingerprint="sha256:" + "0" * 64 if live_id else None,
        **extra,
    )


def plan(*actions: PlannedAction, **extra: Any) -> Plan:
    refreshed: dict[str, int] = {}
    for one in actions:
        refreshed[one.account] = refreshed.get(one.account, 0) + (1 if one.live_id else 0)
    fields: dict[str, Any] = dict(
        tether_version="0.1.0",
        created_at="2026-11-26T05:00:00+00:00",
        config_sha256="sha256:" + "a" * 64,
        lineage="lineage-1",
        serial=3,
        actions=tuple(actions),
        records=(),
        refreshed=refreshed,
    )
    fields.update(extra)
    return Plan(**fields)


def fee(amount: str, currency: str = "EUR") -> Money:
    return Money(Decimal(amount), currency)


def runbook() -> Runbook:
    return Runbook(
        navigation=("Settings", "Shipping settings", "Hermes template", "Delete"),
        support_message={"en": "Please remove the Hermes template.", "zh": "请删除 Hermes 模板。"},
        contact="Seller Center > Help",
    )


def demo_like() -> Plan:
    """Every kind of action once, on two accounts: the shape of a real pull-request plan."""
    return plan(
        action(Action.CANCEL, "hermes-rates", name="Hermes Rates", live_id="1036894961",
               steps=steps(datasets=("binding", "orders"))),
        action(Action.CANCEL, "legacy-erp-cloud", account="stripe-eu", kind=Kind.SUBSCRIPTION, name="LegacyERP Cloud",
               resource="subscriptions", live_id="sub_1", fee=fee("49.00"),
               steps=steps(datasets=("binding", "invoices"), subscription=True)),
        action(Action.BLOCKED, "analytics-pro", account="stripe-eu", kind=Kind.SUBSCRIPTION, name="Analytics Pro",
               resource="subscriptions", live_id="sub_2", reason="protected (protect: true)"),
        action(Action.MANUAL, "temu-hermes", account="temu", name="Hermes template", resource="bindings",
               live_id="tpl-7", reason="no API can cancel this binding: follow the runbook", runbook=runbook(),
               steps=(Step("check-terms", {}), Step("backup", {"datasets": ["binding"]}))),
        action(Action.DRIFT, "dpd-rates", name="DPD Rates", reason="live value differs from expect: active",
               diff={"active": {"expected": True, "actual": False}}),
        action(Action.MISSING, "ups-rates", name="", live_id=None, resource="",
               reason="no live carrier on shop-eu matches {name: 'UPS Rates'}"),
        action(Action.UNMANAGED, "shop-eu/webhook/4759309", kind=Kind.WEBHOOK, name="app/uninstalled", resource="webhooks",
               live_id="4759309", integration=None, reason="live, but no integration declares it"),
        action(Action.KEEP, "nordhub", name="Nordhub Fulfillment", resource="fulfillment_services", live_id="611870435",
               reason="present as declared"),
        notes=("ignore rule #1 (installed by the theme; owner ops@example.com) expired on 2026-10-31 and no longer hides shop-eu/webhook/4759309",),
        ignored=2,
    )
