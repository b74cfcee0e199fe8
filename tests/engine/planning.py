"""Builders for planner tests: configs, live bindings and listings as plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.model import (
    Account,
    BlindSpot,
    CancelAt,
    Config,
    Defaults,
    Ensure,
    Gap,
    GapReason,
    IgnoreRule,
    Integration,
    Kind,
    Listing,
    LiveBinding,
    Money,
    Runbook,
    Terms,
    Undeclared,
)
from engine.plan import AccountInfo, Plan, PlanOptions, make_plan
from providers.sdk import Capabilities
from states.model import State

TODAY = date(2026, 11, 26)

CAPS = Capabilities(
    kinds=frozenset(Kind),
    datasets=frozenset({"orders", "products"}),
    sides=("platform",),
    cancel_at=frozenset({CancelAt.NOW, CancelAt.PERIOD_END}),
)


def required(binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
    rights = ["write_shipping"] if binding.kind is Kind.CARRIER else []
    return tuple(rights + [f"read_{d}" for d in datasets])


def binding(
    id_: Any,
    kind: Kind = Kind.WEBHOOK,
    name: str = "",
    account: str = "shop",
    *,
    app: str | None = None,
    cancellable: bool = True,
    pending_cancel: bool = False,
    cancel_scheduled_at: str | None = None,
    **raw: Any,
) -> LiveBinding:
    raw = {"id": id_, **({"name": name} if name else {}), **raw}
    return LiveBinding(
        app=app,
        cancellable=cancellable,
        pending_cancel=pending_cancel,
        cancel_scheduled_at=cancel_scheduled_at,
        account=account,
        provider="shopify",
        kind=kind,
        id=str(id_),
        name=name or str(raw.get("topic", id_)),
        status=str(raw.get("status", "active")),
        resource=f"{kind.value}s",
        raw=raw,
    )


def integration(name: str, kind: Kind = Kind.WEBHOOK, ensure: Ensure = Ensure.PRESENT, account: str = "shop", **kw: Any) -> Integration:
    kw.setdefault("match", {"name": name})
    return Integration(name=name, account=account, kind=kind, ensure=ensure, **kw)


def config(*integrations: Integration, accounts: tuple[str, ...] = ("shop",), ignore: tuple[IgnoreRule, ...] = (), **defaults: Any) -> Config:
    return Config(
        accounts={a: Account(name=a, provider="shopify") for a in accounts},
        integrations={i.name: i for i in integrations},
        defaults=Defaults(**defaults),
        ignore=ignore,
        sha256="cfg",
    )


def listing(
    *bindings: LiveBinding,
    account: str = "shop",
    complete: bool = True,
    granted: frozenset[str] | None = None,
    problems: tuple[str, ...] = (),
    gaps: tuple[Gap, ...] = (),
    blind_spots: tuple[BlindSpot, ...] = (),
) -> Listing:
    gaps = gaps + tuple(Gap(kind=None, reason=GapReason.FAILED, detail=p) for p in problems)
    if not complete and not gaps:
        gaps = (Gap(kind=None, reason=GapReason.FAILED),)
    return Listing(
        account=account, provider="shopify", bindings=bindings, gaps=gaps, granted=granted, blind_spots=blind_spots
    )


def runbook(binding: LiveBinding) -> Runbook:
    """A runbook that names the owning app, as a provider's would."""
    return Runbook(
        navigation=("Settings", "Apps and sales channels", binding.app or "the app", "Uninstall"),
        support_message={"en": f"Please remove {binding.name} ({binding.app})."},
    )


def plan(cfg: Config, *listings: Listing, state: State | None = None, **options: Any) -> Plan:
    catalog = {
        a: AccountInfo(capabilities=CAPS, required=required, runbook=runbook, host=f"{a}.myshopify.com")
        for a in cfg.accounts
    }
    return make_plan(
        cfg,
        {l.account: l for l in listings},
        catalog,
        state or State.empty(),
        PlanOptions(today=options.pop("today", TODAY), now="2026-11-26T05:00:00+00:00", **options),
    )


def fee(text: str) -> Money:
    return Money.parse(text)


__all__ = [
    "TODAY",
    "Decimal",
    "Ensure",
    "IgnoreRule",
    "Kind",
    "Terms",
    "Undeclared",
    "binding",
    "config",
    "fee",
    "integration",
    "listing",
    "plan",
]
