"""The manual provider: a declared inventory, runbooks in English and Chinese, done = gone."""

from __future__ import annotations

import asyncio
import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import ConfigError, ProviderError
from engine.model import Account, CancelAt, Kind, LiveBinding, SecretRef
from providers import registry
from providers.manual import runbook_for
from providers.manual.client import ManualProvider
from providers.sdk import CancelRequest, CancelStatus, ProviderContext

ROOT = Path(__file__).resolve().parents[3]
NAV = ["Settings", "Shipping settings", "Shipping templates", "Hermes template", "Delete"]
OPTIONS: dict[str, Any] = {
    "vendor": "Temu Seller Center",
    "contact": "seller support chat, Seller Center > Help",
    "shop": "Lumen Home EU",
    "bindings": [
        {"id": "ship-tpl-7", "kind": "carrier", "name": "Hermes template", "status": "active",
         "navigation": NAV, "verify": {"confirm": True}, "warehouse": "DE-1"},
        {"id": 42, "kind": "app", "name": "Old repricer"},
        {"id": "sub-9", "kind": "subscription", "name": "Ads booster plan"},
    ],
    "done": [],
}


def provider(options: Any = None, **account: Any) -> ManualProvider:
    acct = Account(name="temu-backoffice", provider="manual", options=copy.deepcopy(options or OPTIONS), **account)
    return ManualProvider(ProviderContext(account=acct, credentials={}, http=None))


def listed(p: ManualProvider, kinds: frozenset[Kind] = frozenset(Kind)) -> list[LiveBinding]:
    return list(asyncio.run(p.list_bindings(kinds)).bindings)


def cancel(p: ManualProvider, binding: LiveBinding) -> Any:
    return asyncio.run(p.cancel(CancelRequest(binding=binding, side="platform", cancel_at=CancelAt.NOW, idempotency_key="k")))


def test_listing_is_the_declaration_minus_done() -> None:
    bindings = listed(provider())
    assert [(b.id, b.kind, b.name, b.status) for b in bindings] == [
        ("ship-tpl-7", Kind.CARRIER, "Hermes template", "active"),
        ("42", Kind.APP, "Old repricer", "active"),
        ("sub-9", Kind.SUBSCRIPTION, "Ads booster plan", "active"),
    ]
    assert bindings[0].raw == OPTIONS["bindings"][0]
    assert bindings[0].get("warehouse") == "DE-1"
    done = dict(OPTIONS, done=["ship-tpl-7", 42])
    assert [b.id for b in listed(provider(done))] == ["sub-9"]
    assert [b.id for b in listed(provider(), frozenset({Kind.APP}))] == ["42"]


def test_capabilities_and_rights() -> None:
    p = provider()
    assert p.capabilities.manual_only is True
    assert p.capabilities.kinds == frozenset(Kind)
    assert asyncio.run(p.granted()) == frozenset()
    assert p.required(listed(p)[0], "platform", ("orders",)) == ()


def test_cancel_is_a_runbook_in_english_and_chinese() -> None:
    p = provider()
    outcome = cancel(p, listed(p)[0])
    assert outcome.status is CancelStatus.MANUAL
    runbook = outcome.runbook
    assert runbook is not None
    assert runbook.navigation == tuple(NAV)
    assert runbook.contact == "seller support chat, Seller Center > Help"
    path = "Settings > Shipping settings > Shipping templates > Hermes template > Delete"
    en, zh = runbook.support_message["en"], runbook.support_message["zh"]
    for text in (en, zh):
        assert path in text
        assert "Hermes template" in text and "ship-tpl-7" in text
        assert "Temu Seller Center" in text and "Lumen Home EU" in text
    assert "confirm in writing" in en and en.startswith("Subject: ")
    assert len(re.findall(r"[\u4e00-\u9fff]", zh)) > 80  # real Chinese text, not a stub
    assert "书面" in zh and "确认" in zh and "解除" in zh
    assert "ship-tpl-7" in outcome.detail and "done" in outcome.detail


def test_the_wording_fits_the_kind() -> None:
    p = provider()
    bindings = {b.id: b for b in listed(p)}
    subscription = p.runbook(bindings["sub-9"]).support_message
    assert "cancel" in subscription["en"] and "取消" in subscription["zh"]
    app = p.runbook(bindings["42"]).support_message
    assert "disconnect" in app["en"] and "解除该授权" in app["zh"]
    assert "For reference" not in app["en"]  # no navigation declared: no empty path line


def test_runbook_for_is_pure_and_takes_a_declared_mapping() -> None:
    declared = OPTIONS["bindings"][0]
    first = runbook_for(declared, "Temu Seller Center", "chat")
    assert first == runbook_for(copy.deepcopy(declared), "Temu Seller Center", "chat")
    assert first.navigation == tuple(NAV) and first.contact == "chat"
    assert declared["navigation"] == NAV
    shopless = runbook_for({"id": "x1", "kind": "webhook", "name": "ERP push"}, "Acme", shop=None)
    assert "x1" in shopless.support_message["en"] and "ERP push" in shopless.support_message["zh"]
    assert "Kind regards" in shopless.support_message["en"]


def test_done_makes_fetch_return_none_and_cancel_already_gone() -> None:
    before = provider()
    binding = listed(before)[0]
    assert asyncio.run(before.fetch(binding)) == binding
    after = provider(dict(OPTIONS, done=["ship-tpl-7"]))
    assert asyncio.run(after.fetch(binding)) is None
    assert cancel(after, binding).status is CancelStatus.ALREADY_GONE


def test_there_is_nothing_to_export() -> None:
    p = provider()
    binding = listed(p)[0]

    async def drain() -> list[Any]:
        return [r async for r in p.export(binding, "orders")]

    with pytest.raises(ProviderError, match="no API to export"):
        asyncio.run(drain())


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda o: o.pop("vendor"), "options.vendor: is required"),
        (lambda o: o["bindings"][1].update(kind="plugin"), "options.bindings[1].kind: 'plugin' is not one of"),
        (lambda o: o["bindings"][0].pop("name"), "options.bindings[0].name: is required"),
        (lambda o: o["bindings"].append({"id": "ship-tpl-7", "kind": "carrier", "name": "x"}), "options.bindings[3].id: 'ship-tpl-7' is declared twice"),
        (lambda o: o["bindings"][0].update(navigation="Settings > Delete"), "options.bindings[0].navigation: must be a list"),
        (lambda o: o.update(vendr="typo"), "options.vendr: unknown key"),
    ],
)
def test_bad_options_name_the_key(edit: Any, where: str) -> None:
    options = copy.deepcopy(OPTIONS)
    edit(options)
    with pytest.raises(ConfigError) as caught:
        provider(options)
    assert f"accounts.temu-backoffice.{where}" in str(caught.value)


def test_endpoint_and_credentials_are_refused() -> None:
    with pytest.raises(ConfigError, match="endpoint: is not used by provider manual"):
        provider(endpoint="https://seller.example")
    with pytest.raises(ConfigError, match="credentials: are not used"):
        provider(credentials={"token": SecretRef("env", "T")})


def test_the_documented_account_is_valid() -> None:
    text = (ROOT / "docs" / "http-provider.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]
    accounts = [a for b in blocks if isinstance(b, dict) for a in (b.get("accounts") or {}).values() if a.get("provider") == "manual"]
    assert accounts
    for account in accounts:
        ManualProvider.validate_account(Account(name="documented", provider="manual", options=account["options"]))


def test_the_registry_finds_both_providers_and_the_emulator() -> None:
    from providers.generic_http.client import HttpVendorProvider
    from providers.generic_http.emulator import HttpVendorEmulator

    assert registry.provider_class("manual") is ManualProvider
    assert registry.provider_class("http") is HttpVendorProvider
    assert HttpVendorEmulator in registry.emulator_classes()


def test_a_manual_account_sends_its_credentials_nowhere() -> None:
    from providers.manual.client import ManualProvider
    from providers.sdk import Account

    assert ManualProvider.credential_hosts(Account("m", "manual")) == ()
    assert all(row.who_cancels.startswith("nobody by API") for row in ManualProvider.capabilities.authority)
