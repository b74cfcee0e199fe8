"""Listings and provider facts for golden cases, read from YAML as plain values.

A golden case plans from what providers *returned* (``Listing`` values), not from an emulator, so
a change in an emulator or an HTTP client never churns a planner golden. The file maps each
account to what its provider listed and to the facts the planner may know without I/O:

```yaml
shop:                                   # the account, as in the case's tether.yaml
  provider: shopify
  host: golden-shop.myshopify.com       # where its credential goes (recorded in the plan)
  granted: [read_shipping]              # the rights the credential holds; left out: unknown
  capabilities: {datasets: [orders], sides: [platform], cancel_at: [now], manual_only: false,
                 cancel_order: [webhook_subscriptions]}
  rights:                               # what a cancel needs, by resource; what a dataset needs
    cancel: {carrier_services: [write_shipping]}
    datasets: {orders: [read_orders]}
  runbook: {navigation: [Settings, "{app}", Uninstall], support_message: {en: "..."}}
  bindings:
    - {kind: carrier, id: "1036894960", name: DPD Rates, status: active, resource: carrier_services,
       app: Lumen Ops, cancellable: false, pending_cancel: false, cancel_scheduled_at: null,
       raw: {...}}                       # the provider's own object, as it returned it
  gaps: [{kind: webhook, reason: listing-refused, params: {right: read_webhooks}, detail: "..."}]
  blind_spots: [{kind: webhook, reason: own-app-only, visible_apps: [Lumen Ops],
                 resource: webhook_subscriptions, how_to_see: "..."}]
```

Bindings of kind ``app`` are listed only when an integration of the configuration names that kind,
as a refresh does (the installation a token belongs to is always there and is no news).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from engine.model import (
    BlindReason,
    BlindSpot,
    CancelAt,
    Config,
    Gap,
    GapReason,
    Kind,
    Listing,
    LiveBinding,
    Runbook,
)
from engine.plan import AccountInfo
from providers.sdk import Capabilities


def _binding(account: str, provider: str, data: Mapping[str, Any]) -> LiveBinding:
    kind = Kind(data["kind"])
    raw = data.get("raw") or {}
    return LiveBinding(
        account=account,
        provider=provider,
        kind=kind,
        id=str(data["id"]),
        name=str(data.get("name", "")),
        status=str(data.get("status", "active")),
        resource=str(data["resource"]),
        raw=raw,
        pending_cancel=bool(data.get("pending_cancel", False)),
        sides=tuple(data.get("sides", ("platform",))),
        app=data.get("app"),
        cancellable=bool(data.get("cancellable", True)),
        cancel_scheduled_at=data.get("cancel_scheduled_at"),
    )


def _gap(data: Mapping[str, Any]) -> Gap:
    kind = data.get("kind")
    return Gap(
        kind=Kind(kind) if kind else None,
        reason=GapReason(data["reason"]),
        params={str(k): str(v) for k, v in (data.get("params") or {}).items()},
        detail=str(data.get("detail", "")),
    )


def _blind_spot(data: Mapping[str, Any]) -> BlindSpot:
    return BlindSpot(
        kind=Kind(data["kind"]),
        reason=BlindReason(data["reason"]),
        visible_apps=frozenset(data.get("visible_apps", ())),
        resource=str(data.get("resource", "")),
        how_to_see=str(data.get("how_to_see", "")),
    )


def _capabilities(data: Mapping[str, Any]) -> Capabilities:
    return Capabilities(
        kinds=frozenset(Kind(k) for k in data.get("kinds", [k.value for k in Kind])),
        datasets=frozenset(data.get("datasets", ())),
        sides=tuple(data.get("sides", ("platform",))),
        cancel_at=frozenset(CancelAt(c) for c in data.get("cancel_at", ("now",))),
        manual_only=bool(data.get("manual_only", False)),
        cancel_order=tuple(data.get("cancel_order", ())),
    )


def _info(data: Mapping[str, Any]) -> AccountInfo:
    rights = data.get("rights") or {}
    by_resource: Mapping[str, list[str]] = rights.get("cancel") or {}
    by_dataset: Mapping[str, list[str]] = rights.get("datasets") or {}

    def required(binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        needed = list(by_resource.get(binding.resource, ()))
        for dataset in datasets:
            needed.extend(by_dataset.get(dataset, ()))
        return tuple(dict.fromkeys(needed))

    book = data.get("runbook")

    def runbook(binding: LiveBinding) -> Runbook:
        assert book is not None
        owner = binding.app or "the app that created it"
        return Runbook(
            navigation=tuple(step.replace("{app}", owner) for step in book["navigation"]),
            support_message={
                lang: text.replace("{app}", owner).replace("{name}", binding.name)
                for lang, text in book["support_message"].items()
            },
            contact=str(book.get("contact", "")),
        )

    return AccountInfo(
        capabilities=_capabilities(data.get("capabilities") or {}),
        required=required,
        runbook=runbook if book else None,
        host=str(data.get("host", "")),
    )


def load_values(path: Path, config: Config) -> tuple[dict[str, Listing], dict[str, AccountInfo]]:
    """The listings and the planner's catalog of every account in ``path``."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    wants_apps = {i.account for i in config.integrations.values() if i.kind is Kind.APP}
    listings: dict[str, Listing] = {}
    catalog: dict[str, AccountInfo] = {}
    for account, data in document.items():
        provider = str(data["provider"])
        bindings = tuple(
            _binding(account, provider, b)
            for b in data.get("bindings") or ()
            if b["kind"] != Kind.APP.value or account in wants_apps
        )
        granted = data.get("granted")
        listings[account] = Listing(
            account=account,
            provider=provider,
            bindings=bindings,
            gaps=tuple(_gap(g) for g in data.get("gaps") or ()),
            blind_spots=tuple(_blind_spot(s) for s in data.get("blind_spots") or ()),
            granted=frozenset(granted) if granted is not None else None,
        )
        catalog[account] = _info(data)
    return listings, catalog
