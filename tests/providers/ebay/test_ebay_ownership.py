"""eBay notification subscriptions belong to the application that created them; fulfillment
policies are the seller's. The demo names two applications (lumen-ops and legacy-erp)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import yaml

from providers.ebay.client import EbayProvider
from providers.ebay.emulator import EbayEmulator
from providers.sdk import Account, BlindReason, Kind

SUBSCRIPTION = "/ebay/commerce/notification/v1/subscription"
TWO_APP_DEMO = Path(__file__).resolve().parents[3] / "providers" / "ebay" / "demo.yaml"


def demo() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(TWO_APP_DEMO.read_text(encoding="utf-8"))["ebay"])


def call(emulator: EbayEmulator, method: str, path: str, token: str) -> httpx.Response:
    request = httpx.Request(method, f"http://sandbox{path}", headers={"Authorization": f"Bearer {token}"})
    return emulator.handle(request, path[len("/ebay") :])


def test_each_application_sees_only_its_own_subscriptions() -> None:
    emulator = EbayEmulator(clock=lambda: 0.0)
    emulator.load(demo())
    mine = call(emulator, "GET", SUBSCRIPTION, "v^1.1#demo").json()
    theirs = call(emulator, "GET", SUBSCRIPTION, "v^1.1#legacyerp").json()
    assert [s["topicId"] for s in mine["subscriptions"]] == ["MARKETPLACE_ACCOUNT_DELETION"]
    assert [s["topicId"] for s in theirs["subscriptions"]] == ["ITEM_MARKED_SHIPPED"]
    assert "application" not in mine["subscriptions"][0]  # ownership is not an eBay field


def test_another_applications_subscription_is_not_found_and_not_deleted() -> None:
    emulator = EbayEmulator(clock=lambda: 0.0)
    emulator.load(demo())
    for method in ("GET", "DELETE"):
        answer = call(emulator, method, f"{SUBSCRIPTION}/3f1c9a7e", "v^1.1#demo")
        assert answer.status_code == 404 and answer.json()["errors"][0]["errorId"] == 195013
    assert [s["subscriptionId"] for s in emulator.dump()["demo-seller"]["subscriptions"]] == ["8cd7d4b3", "3f1c9a7e"]
    assert call(emulator, "DELETE", f"{SUBSCRIPTION}/3f1c9a7e", "v^1.1#legacyerp").status_code == 204


def test_the_two_application_demo_round_trips() -> None:
    emulator = EbayEmulator(clock=lambda: 0.0)
    emulator.load(demo())
    dumped = emulator.dump()
    again = EbayEmulator(clock=lambda: 0.0)
    again.load(dumped)
    assert again.dump() == dumped
    assert set(dumped["demo-seller"]["applications"]) == {"lumen-ops", "legacy-erp"}


def test_the_listing_names_its_application_and_its_blind_spot(harness) -> None:
    harness.emulator.load(demo())
    listing = harness.run(
        lambda p: p.list_bindings(frozenset({Kind.CARRIER, Kind.WEBHOOK})),
        options={"marketplaces": ["EBAY_DE"], "application": "lumen-ops"},
    )
    assert listing.complete
    hooks = [b for b in listing.bindings if b.kind is Kind.WEBHOOK]
    assert [(b.name, b.app) for b in hooks] == [("MARKETPLACE_ACCOUNT_DELETION", "lumen-ops")]
    assert len([b for b in listing.bindings if b.kind is Kind.CARRIER]) == 2
    spot = listing.blind_spot(Kind.WEBHOOK)
    assert spot is not None and spot.reason is BlindReason.OWN_APP_ONLY
    assert spot.visible_apps == frozenset({"lumen-ops"}) and "Permissions" in spot.how_to_see
    assert listing.blind_spot(Kind.CARRIER) is None


def test_credential_hosts() -> None:
    assert EbayProvider.credential_hosts(Account("a", "ebay")) == ("api.ebay.com",)
    sandbox = Account("a", "ebay", options={"sandbox": True})
    assert EbayProvider.credential_hosts(sandbox) == ("api.ebay.com", "api.sandbox.ebay.com")
    assert {row.resource for row in EbayProvider.capabilities.authority} == {"fulfillment_policy", "subscription"}


def test_only_v1_is_served() -> None:
    emulator = EbayEmulator(clock=lambda: 0.0)
    emulator.load(demo())
    for path in ("/ebay/sell/account/v2/fulfillment_policy", "/ebay/commerce/notification/v2/subscription"):
        assert call(emulator, "GET", path, "v^1.1#demo").status_code == 404, path
    assert call(emulator, "GET", SUBSCRIPTION, "v^1.1#demo").status_code == 200
