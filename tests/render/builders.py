"""Plans built by hand for renderer tests: a renderer is a function of the plan, so its tests
need no provider, no sandbox and no planner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.model import Action, Kind, Money, Runbook
from engine.plan import Plan, PlannedAction, Step
from engine.reasons import PlanGap, Reason, ReasonCode

ABSENT = Reason(ReasonCode.DECLARED_ABSENT)
UNDECLARED = Reason(ReasonCode.UNDECLARED)
PRESENT = Reason(ReasonCode.PRESENT)


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
    why: Reason = ABSENT,
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
        why=why,
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
               resource="subscriptions", live_id="sub_2", why=Reason(ReasonCode.PROTECTED)),
        action(Action.MANUAL, "temu-hermes", account="temu", name="Hermes template", resource="bindings",
               live_id="tpl-7", why=Reason(ReasonCode.NO_API), runbook=runbook(),
               steps=(Step("check-terms", {}), Step("backup", {"datasets": ["binding"]}))),
        action(Action.DRIFT, "dpd-rates", name="DPD Rates", why=Reason(ReasonCode.DRIFT, {"fields": "active", "count": 1}),
               diff={"active": {"expected": True, "actual": False}}),
        action(Action.MISSING, "ups-rates", name="", live_id=None, resource="",
               why=Reason(ReasonCode.MISSING, {"kind": "carrier", "account": "shop-eu", "selector": "{name: 'UPS Rates'}"})),
        action(Action.UNMANAGED, "shop-eu/webhook/4759309", kind=Kind.WEBHOOK, name="app/uninstalled", resource="webhooks",
               live_id="4759309", integration=None, why=UNDECLARED),
        action(Action.KEEP, "nordhub", name="Nordhub Fulfillment", resource="fulfillment_services", live_id="611870435",
               why=PRESENT),
        notes=(expired_rule(),),
        ignored=2,
    )


def expired_rule() -> Reason:
    return Reason(
        ReasonCode.IGNORE_EXPIRED,
        {
            "number": 1,
            "rule_reason": "installed by the theme",
            "owner": "ops@example.com",
            "expires": "2026-10-31",
            "binding": "shop-eu/webhook/4759309",
        },
    )


def refused(account: str = "shop-eu", kind: str | None = "webhook", right: str = "read_webhooks", detail: str = "") -> PlanGap:
    """A listing of one kind the vendor refused (``kind`` None: the whole account)."""
    params: dict[str, str | int] = {"account": account, "kind": kind or "", "right": right}
    return PlanGap(account, kind, Reason(ReasonCode.LISTING_REFUSED, params), detail)


def failed(account: str = "shop-eu", kind: str | None = None, detail: str = "page 2: HTTP 503") -> PlanGap:
    return PlanGap(account, kind, Reason(ReasonCode.LISTING_FAILED, {"account": account, "kind": kind or ""}), detail)


def not_visible(account: str = "shop-eu", how: str = "add the LegacyERP app's credential as another account") -> Reason:
    return Reason(
        ReasonCode.NOT_VISIBLE,
        {
            "kind": "webhook",
            "account": account,
            "blind": "own-app-only",
            "visible_apps": "Lumen Ops",
            "resource": "webhookSubscriptions",
            "how_to_see": how,
        },
    )


def owners_plan() -> Plan:
    """The seller's view of issue 12: its own stale webhook cancelled, another app's carrier
    service manual, the other app's webhooks unverifiable, a cancel the vendor already
    scheduled, one refused listing, and the host the credential goes to."""
    return plan(
        action(Action.CANCEL, "stale-hooks[11]", kind=Kind.WEBHOOK, name="orders/create", resource="webhookSubscriptions",
               live_id="11", app="Lumen Ops"),
        action(Action.MANUAL, "legacy-carrier", name="LegacyERP Rates", live_id="22", app="LegacyERP Connector",
               why=Reason(ReasonCode.FOREIGN_OWNER, {"app": "LegacyERP Connector", "provider": "shopify"}),
               runbook=Runbook(navigation=("Settings", "Apps and sales channels", "LegacyERP Connector", "Uninstall"),
                               support_message={}, contact="")),
        action(Action.UNVERIFIABLE, "legacy-erp-hooks", kind=Kind.WEBHOOK, name="", live_id=None,
               resource="webhookSubscriptions", why=not_visible()),
        action(Action.KEEP, "old-plan", account="stripe-eu", kind=Kind.SUBSCRIPTION, name="Old plan", live_id="sub_9",
               resource="subscriptions", why=Reason(ReasonCode.CANCEL_SCHEDULED, {"date": "2026-12-31"})),
        incomplete=(refused(account="stripe-eu", kind="webhook", right="read_webhook_endpoints",
                            detail="This API key lacks rk_webhook_read"),),
        hosts={"shop-eu": "lumen.myshopify.com", "stripe-eu": "api.stripe.com"},
    )


def unmanaged_plan(count: int, accounts: int = 3) -> Plan:
    """``count`` unmanaged webhooks over ``accounts`` shops, and one cancel."""
    actions = [action(Action.CANCEL, "hermes-rates", name="Hermes Rates", live_id="1")]
    for i in range(count):
        account = f"shop-{i % accounts}"
        actions.append(action(Action.UNMANAGED, f"{account}/webhook/{1000 + i}", account=account, kind=Kind.WEBHOOK,
                              name=f"orders/create #{i}", resource="webhookSubscriptions", live_id=str(1000 + i),
                              integration=None, why=UNDECLARED))
    return plan(*actions)
