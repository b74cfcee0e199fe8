"""The eBay client against the built-in demo over real HTTP on loopback (the sandbox server)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from engine.model import Account, CancelAt, Kind
from providers.ebay.client import EbayProvider
from providers.http import HttpFactory
from providers.sdk import CancelRequest, CancelStatus, ProviderContext

sandbox_server = pytest.importorskip("providers.sandbox_server")

pytestmark = pytest.mark.e2e


def test_demo_story_over_real_http() -> None:
    with sandbox_server.SandboxServer(scenario="demo") as server:

        async def story() -> tuple[Any, ...]:
            factory = HttpFactory()
            try:
                account = Account(
                    "lumen-ebay",
                    "ebay",
                    endpoint=server.url + "/ebay",
                    options={"marketplaces": ["EBAY_DE", "EBAY_GB"]},
                )
                provider = EbayProvider(ProviderContext(account, {"access_token": "v^1.1#demo"}, factory))
                listing = await provider.list_bindings(frozenset({Kind.CARRIER, Kind.WEBHOOK}))
                found = {b.name: b for b in listing.bindings}
                # LegacyERP's subscription is its application's: only its own token sees it.
                erp_account = Account("legacy-erp-ebay", "ebay", endpoint=server.url + "/ebay")
                erp_provider = EbayProvider(
                    ProviderContext(erp_account, {"access_token": "v^1.1#legacyerp"}, factory)
                )
                erp_listing = await erp_provider.list_bindings(frozenset({Kind.WEBHOOK}))
                found.update({b.name: b for b in erp_listing.bindings})
                hermes = await provider.cancel(
                    CancelRequest(found["Hermes Päckchen"], "platform", CancelAt.NOW, "k1")
                )
                dhl = await provider.cancel(CancelRequest(found["DHL Paket"], "platform", CancelAt.NOW, "k2"))
                erp = await erp_provider.cancel(
                    CancelRequest(found["ITEM_MARKED_SHIPPED"], "platform", CancelAt.NOW, "k3")
                )
                after = await provider.list_bindings(frozenset({Kind.CARRIER, Kind.WEBHOOK}))
                async with httpx.AsyncClient() as admin:
                    state = (await admin.get(server.url + "/_sandbox/state")).json()["ebay"]["demo-seller"]
                return listing, hermes, dhl, erp, after, state
            finally:
                await factory.aclose()

        listing, hermes, dhl, erp, after, state = asyncio.run(story())

    assert listing.complete and len(listing.bindings) == 4
    assert "ITEM_MARKED_SHIPPED" not in {b.name for b in listing.bindings}
    assert (hermes.status, dhl.status, erp.status) == (
        CancelStatus.DONE,
        CancelStatus.BLOCKED,
        CancelStatus.DONE,
    )
    assert sorted(b.name for b in after.bindings) == [
        "DHL Paket",
        "MARKETPLACE_ACCOUNT_DELETION",
        "Royal Mail Tracked 48",
    ]
    assert [p["name"] for p in state["fulfillment_policies"]["EBAY_DE"]] == ["DHL Paket"]
    assert [s["topicId"] for s in state["subscriptions"]] == ["MARKETPLACE_ACCOUNT_DELETION"]
