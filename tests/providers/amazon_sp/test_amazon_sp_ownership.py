"""Notification destinations and subscriptions belong to the SP-API application that created them:
another application neither lists nor deletes them (the demo: lumen-ops and legacy-erp on one
selling partner). Carrier accounts are the selling partner's, seen by both."""

from __future__ import annotations

from typing import Any

from amazon_sp_support import CREDENTIALS, harness, run, two_app_demo

from engine.model import CancelAt, Kind
from providers.amazon_sp.client import AmazonSPProvider
from providers.sdk import Account, BlindReason, CancelRequest, CancelStatus, LiveBinding

LEGACY = {
    "client_id": "amzn1.application-oa2-client.legacyerp",
    "client_secret": "legacyerp-secret",
    "refresh_token": "Atzr|legacyerp",
}
BOTH = frozenset({Kind.CARRIER, Kind.WEBHOOK})


def ids(bindings: Any) -> set[str]:
    return {b.id for b in bindings}


def test_each_application_lists_only_its_own_notifications() -> None:
    async def go() -> None:
        h = harness(two_app_demo())
        mine = await h.provider(options={"application": "lumen-ops"}).list_bindings(BOTH)
        theirs = await h.provider(credentials=LEGACY, options={"application": "legacy-erp"}).list_bindings(BOTH)
        assert mine.complete and theirs.complete
        assert ids(mine.bindings) == {"DPD-4711", "HERMES-0815", "dest-nordhub", "sub-nordhub-1"}
        assert ids(theirs.bindings) == {"DPD-4711", "HERMES-0815", "dest-legacy", "sub-legacy-1"}
        apps = {b.id: b.app for b in mine.bindings}
        assert apps == {"DPD-4711": None, "HERMES-0815": None, "dest-nordhub": "lumen-ops", "sub-nordhub-1": "lumen-ops"}
        spot = mine.blind_spot(Kind.WEBHOOK)
        assert spot is not None and spot.reason is BlindReason.OWN_APP_ONLY
        assert spot.visible_apps == frozenset({"lumen-ops"})
        assert "Manage Your Apps" in spot.how_to_see
        assert mine.blind_spot(Kind.CARRIER) is None

    run(go())


def test_an_application_cannot_delete_another_applications_subscription() -> None:
    async def go() -> None:
        h = harness(two_app_demo())
        legacy = await h.provider(credentials=LEGACY).list_bindings(frozenset({Kind.WEBHOOK}))
        foreign = next(b for b in legacy.bindings if b.id == "sub-legacy-1")
        mine = h.provider()
        request = CancelRequest(foreign, "platform", CancelAt.NOW, "k")
        outcome = await mine.cancel(request)
        # Not associated with this application: SP-API does not find it for lumen-ops.
        assert outcome.status is CancelStatus.ALREADY_GONE
        dump = h.emulator.dump()["A2EUQ1WTGCTBG2"]
        assert [s["subscriptionId"] for s in dump["subscriptions"]["ORDER_CHANGE"]] == ["sub-legacy-1"]
        assert await mine.fetch(foreign) is None  # invisible to lumen-ops ...
        assert await h.provider(credentials=LEGACY).fetch(foreign) is not None  # ... but there

    run(go())


def test_the_two_application_scenario_round_trips() -> None:
    h = harness(two_app_demo())
    dumped = h.emulator.dump()
    again = harness(dumped)
    assert again.emulator.dump() == dumped
    owners = {d["destinationId"]: d["application"] for d in dumped["A2EUQ1WTGCTBG2"]["destinations"]}
    assert owners == {"dest-legacy": "legacy-erp", "dest-nordhub": "lumen-ops"}


def test_credential_hosts_are_amazons_own() -> None:
    account = Account(name="a", provider="amazon-sp")
    hosts = AmazonSPProvider.credential_hosts(account)
    assert set(hosts) == {
        "sellingpartnerapi-na.amazon.com",
        "sellingpartnerapi-eu.amazon.com",
        "sellingpartnerapi-fe.amazon.com",
        "api.amazon.com",
    }
    assert all(row.source.startswith("https://") for row in AmazonSPProvider.capabilities.authority)


def test_runbook_names_the_owning_application_and_manage_your_apps() -> None:
    h = harness(two_app_demo())
    binding = LiveBinding("amazon-eu", "amazon-sp", Kind.WEBHOOK, "sub-legacy-1", "ORDER_CHANGE",
                          "active", "subscriptions", {}, app="legacy-erp")
    book = h.provider().runbook(binding)
    assert any("Manage Your Apps" in step for step in book.navigation)
    assert any("legacy-erp" in step for step in book.navigation)
    assert CREDENTIALS["client_id"]  # the seller's own application holds the default credentials


def test_only_the_published_path_versions_are_served() -> None:
    import httpx

    h = harness(two_app_demo())
    for method, path in (
        ("GET", "/notifications/v2/destinations"),
        ("GET", "/notifications/v0/destinations"),
        ("PUT", "/shipping/v1/carrierAccounts"),
        ("PUT", "/shipping/v3/carrierAccounts"),
    ):
        answer = h.emulator.handle(httpx.Request(method, f"http://sandbox/amazon-sp{path}"), path)
        assert answer.status_code == 404, path
        assert answer.json()["errors"][0]["code"] == "NotFound"
