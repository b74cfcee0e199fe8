"""The Shopify client against the GraphQL emulator, in-process (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, parse, validate

from providers.sdk import CancelRequest, CancelStatus
from providers.sdk.errors import AuthError, ConfigError, ResponseLostError
from providers.sdk.model import Account, BlindReason, CancelAt, GapReason, Kind, LiveBinding
from providers.shopify import queries
from providers.shopify.client import ShopifyProvider
from providers.shopify.emulator import ShopifyEmulator
from tests.providers.shopify.shopify_support import (  # noqa: F401 - fixtures by name
    ADMIN,
    GRAPHQL_PATH,
    LEGACY,
    FakeClock,
    Wire,
    clock,
    demo_section,
    emulator,
    fresh_logs,
    graphql_answer,
    make_factory,
    make_provider,
    wire,
)

ALL = frozenset(Kind)
SCHEMA = build_schema((Path(queries.__file__).with_name("schema.graphql")).read_text(encoding="utf-8"))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def listing(wire: Wire, clock: FakeClock, kinds: frozenset[Kind] = ALL, **kw: Any) -> Any:
    provider = make_provider(make_factory(wire, clock), clock, **kw)
    return provider, run(provider.list_bindings(kinds))


def by_id(found: Any) -> dict[str, LiveBinding]:
    return {b.id: b for b in found.bindings}


def request(binding: LiveBinding) -> CancelRequest:
    return CancelRequest(binding=binding, side="platform", cancel_at=CancelAt.NOW, idempotency_key="k-" + binding.id)


@pytest.mark.parametrize("document", queries.ALL_DOCUMENTS, ids=lambda d: d.split("(")[0].split("{")[0][:40])
def test_every_document_validates_against_the_schema_subset(document: str) -> None:
    assert validate(SCHEMA, parse(document)) == []


def test_one_graphql_request_lists_a_small_shop(wire: Wire, clock: FakeClock) -> None:
    _, found = listing(wire, clock)
    assert [(m, p) for m, p, _, _ in wire.seen] == [("POST", GRAPHQL_PATH)]
    assert wire.operations() == ["TetherListing"]
    assert found.complete


def test_a_token_sees_only_its_own_apps_webhooks(wire: Wire, clock: FakeClock) -> None:
    _, found = listing(wire, clock)
    hooks = {b.id: b for b in found.bindings if b.kind is Kind.WEBHOOK}
    assert set(hooks) == {"4759306", "4759307", "4759309"}  # Lumen Ops' own, none of LegacyERP's
    assert all(b.app == "Lumen Ops" and b.cancellable for b in hooks.values())
    assert hooks["4759306"].get("uri") == "https://erp.legacy-erp.example/hooks/orders"
    assert hooks["4759306"].name == "ORDERS_CREATE"
    assert hooks["4759306"].raw["id"] == "gid://shopify/WebhookSubscription/4759306"

    _, other = listing(wire, clock, token=LEGACY)
    theirs = {b.id for b in other.bindings if b.kind is Kind.WEBHOOK}
    assert theirs == {"4759310", "4759311"}
    assert {b.app for b in other.bindings if b.kind is Kind.WEBHOOK} == {"LegacyERP Connector"}


def test_blind_spots_name_the_visible_app_and_how_to_see_the_rest(wire: Wire, clock: FakeClock) -> None:
    _, found = listing(wire, clock)
    spot = found.blind_spot(Kind.WEBHOOK)
    assert spot is not None and spot.reason is BlindReason.OWN_APP_ONLY
    assert spot.visible_apps == frozenset({"Lumen Ops"})
    assert "token as another account" in spot.how_to_see and "uninstall" in spot.how_to_see
    charges = found.blind_spot(Kind.SUBSCRIPTION)
    assert charges is not None and charges.visible_apps == frozenset({"Lumen Ops"})
    assert found.blind_spot(Kind.CARRIER) is None  # the shop's whole list is shown


def test_carrier_services_are_the_shops_and_only_own_ones_are_cancellable(wire: Wire, clock: FakeClock) -> None:
    _, found = listing(wire, clock)
    carriers = {b.name: b for b in found.bindings if b.kind is Kind.CARRIER}
    assert set(carriers) == {"DPD Rates", "LegacyERP Freight", "Nordhub Fulfillment"}
    assert carriers["DPD Rates"].cancellable and carriers["DPD Rates"].app == "Lumen Ops"
    assert not carriers["LegacyERP Freight"].cancellable and carriers["LegacyERP Freight"].app is None
    assert carriers["Nordhub Fulfillment"].resource == "fulfillment_services"
    assert not carriers["Nordhub Fulfillment"].cancellable


def test_the_app_and_its_own_subscriptions(wire: Wire, clock: FakeClock) -> None:
    _, found = listing(wire, clock, token=LEGACY)
    subs = [b for b in found.bindings if b.kind is Kind.SUBSCRIPTION]
    assert [(b.id, b.name, b.status, b.app) for b in subs] == [("455696195", "Pro bundle", "active", "LegacyERP Connector")]
    apps = [b for b in found.bindings if b.kind is Kind.APP]
    assert [(b.name, b.resource) for b in apps] == [("LegacyERP Connector", "app_installation")]
    assert found.granted is not None and {"read_orders", "write_shipping", "read_shipping"} <= found.granted

    _, own = listing(wire, clock)
    assert [b for b in own.bindings if b.kind is Kind.SUBSCRIPTION] == []  # Lumen Ops bills nothing


def test_further_pages_by_cursor(emulator: ShopifyEmulator, clock: FakeClock) -> None:
    section = demo_section()
    hooks = [
        {"id": 9_000_000 + n, "topic": "ORDERS_CREATE", "uri": f"https://x.example/{n}", "app": "lumen-ops"}
        for n in range(320)
    ]
    section["demo-shop"]["webhook_subscriptions"] = hooks
    emulator.load(section)
    wire = Wire(emulator)
    _, found = listing(wire, clock, frozenset({Kind.WEBHOOK}))
    ids = [b.id for b in found.bindings if b.kind is Kind.WEBHOOK]
    assert sorted(ids) == sorted(str(h["id"]) for h in hooks)
    # 50 in the listing, then 250 and 20 by cursor
    assert wire.operations() == ["TetherListing", "TetherWebhookPage", "TetherWebhookPage"]
    assert found.complete


def test_a_refused_collection_is_a_gap_of_its_kind_only(emulator: ShopifyEmulator, clock: FakeClock) -> None:
    section = demo_section()
    section["demo-shop"]["apps"]["lumen-ops"]["tokens"]["shpat_orders_only"] = ["read_orders"]
    emulator.load(section)
    wire = Wire(emulator)
    _, found = listing(wire, clock, token="shpat_orders_only")
    assert [(g.kind, g.reason) for g in found.gaps] == [(Kind.CARRIER, GapReason.REFUSED)]
    assert found.gaps[0].params["right"] in ("read_shipping", "read_fulfillments")
    assert found.complete_for(Kind.WEBHOOK) and not found.complete_for(Kind.CARRIER)
    assert {b.id for b in found.bindings if b.kind is Kind.WEBHOOK} == {"4759306", "4759307", "4759309"}


def test_a_refused_token_is_an_auth_error(wire: Wire, clock: FakeClock) -> None:
    provider = make_provider(make_factory(wire, clock), clock, token="shpat_nobody")
    with pytest.raises(AuthError) as caught:
        run(provider.list_bindings(ALL))
    assert caught.value.status == 401 and "shpat_nobody" not in str(caught.value)


def test_cancel_own_webhook_then_verify_and_cancel_again(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock)
    hook = by_id(found)["4759306"]
    outcome = run(provider.cancel(request(hook)))
    assert outcome.status is CancelStatus.DONE
    assert wire.operations()[-1] == "TetherWebhookDelete"
    assert run(provider.fetch(hook)) is None
    again = run(provider.cancel(request(hook)))
    assert again.status is CancelStatus.ALREADY_GONE
    # LegacyERP's own webhooks were never touched
    _, other = listing(wire, clock, token=LEGACY)
    assert {"4759310", "4759311"} <= set(by_id(other))


def test_a_binding_this_token_cannot_cancel_is_never_sent(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock)
    foreign = next(b for b in found.bindings if b.name == "LegacyERP Freight")
    sent = len(wire.seen)
    outcome = run(provider.cancel(request(foreign)))
    assert outcome.status is CancelStatus.MANUAL
    assert len(wire.seen) == sent  # no mutation reached the shop
    assert outcome.runbook is not None
    assert outcome.runbook.navigation[:3] == ("Shopify admin", "Settings", "Apps and sales channels")
    assert "LegacyERP Freight" in outcome.runbook.support_message["en"]


def test_runbook_names_the_owning_app(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock, token=LEGACY)
    hook = by_id(found)["4759310"]
    book = provider.runbook(hook)
    assert "LegacyERP Connector" in book.navigation
    assert "demo-shop.myshopify.com" in book.support_message["en"]


def test_own_carrier_service_is_deleted(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock)
    dpd = next(b for b in found.bindings if b.name == "DPD Rates")
    assert provider.required(dpd, "platform", ()) == ("write_shipping",)
    assert run(provider.cancel(request(dpd))).status is CancelStatus.DONE
    assert run(provider.fetch(dpd)) is None


def test_cancel_own_subscription(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock, token=LEGACY)
    charge = next(b for b in found.bindings if b.kind is Kind.SUBSCRIPTION)
    assert run(provider.cancel(request(charge))).status is CancelStatus.DONE
    assert run(provider.fetch(charge)) is None  # a cancelled charge is history
    _, after = listing(wire, clock, token=LEGACY)
    assert not [b for b in after.bindings if b.kind is Kind.SUBSCRIPTION]


def test_the_app_uninstalls_itself_and_its_token_dies(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock, token=LEGACY)
    app = next(b for b in found.bindings if b.kind is Kind.APP)
    assert run(provider.cancel(request(app))).status is CancelStatus.DONE
    assert wire.operations()[-1] == "TetherAppUninstall"
    assert run(provider.fetch(app)) is None
    assert run(provider.cancel(request(app))).status is CancelStatus.ALREADY_GONE
    # Lumen Ops is still installed and still sees its own webhooks
    _, own = listing(wire, clock)
    assert "4759306" in by_id(own)


def test_a_lost_answer_to_a_mutation_is_response_lost(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock)
    hook = by_id(found)["4759307"]

    sent: list[bytes] = []

    def drop_mutations(req: httpx.Request) -> httpx.Response | None:
        if b"TetherWebhookDelete" in req.content:
            sent.append(req.content)
            wire.emulator.handle(req, req.url.path[len("/shopify") :])  # it happened...
            raise httpx.ReadError("connection reset", request=req)  # ...but the answer is lost
        return None

    wire.fault = drop_mutations
    with pytest.raises(ResponseLostError):
        run(provider.cancel(request(hook)))
    assert len(sent) == 1  # sent once, never again by the client
    wire.fault = None
    assert run(provider.fetch(hook)) is None  # apply settles it by reading back


def test_throttled_answer_is_retried_after_the_restore_time(wire: Wire, clock: FakeClock) -> None:
    calls: list[int] = []

    def throttle_once(req: httpx.Request) -> httpx.Response | None:
        calls.append(1)
        if len(calls) == 1:
            return graphql_answer(
                None,
                [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                available=20.0,
                requested=180,
            )
        return None

    wire.fault = throttle_once
    _, found = listing(wire, clock)
    assert found.complete and len(calls) == 2
    assert clock.sleeps and clock.sleeps[0] == pytest.approx((180 - 20) / 100.0)


def test_waits_for_the_bucket_before_a_query_that_would_not_fit(wire: Wire, clock: FakeClock) -> None:
    provider, _ = listing(wire, clock)
    seen_cost = provider.budget._expected["TetherListing"]
    # The shop says the bucket is nearly empty: the next listing waits for it first.
    provider.budget.observe("probe", {"extensions": {"cost": {"throttleStatus": {
        "maximumAvailable": 2000.0, "currentlyAvailable": 0.0, "restoreRate": 100.0}}}})
    before = list(clock.sleeps)
    run(provider.list_bindings(ALL))
    waited = clock.sleeps[len(before):]
    assert waited and waited[0] == pytest.approx(seen_cost / 100.0)


def test_export_orders_through_the_connection(wire: Wire, clock: FakeClock) -> None:
    provider, found = listing(wire, clock)
    hook = by_id(found)["4759306"]

    async def drain() -> list[Any]:
        return [r async for r in provider.export(hook, "orders")]

    records = run(drain())
    assert [r["name"] for r in records] == ["#1001", "#1002", "#1003"]
    assert provider.required(hook, "platform", ("orders",)) == ("read_orders",)
    assert wire.operations()[-1] == "TetherOrders"


def test_credential_goes_only_to_the_shop() -> None:
    account = Account(name="a", provider="shopify", options={"shop": "lumen"})
    assert ShopifyProvider.credential_hosts(account) == ("lumen.myshopify.com",)
    assert ShopifyProvider.credential_hosts(Account(name="a", provider="shopify")) == ()


@pytest.mark.parametrize("version", ["2024-13", "latest", "2026-1"])
def test_an_api_version_shopify_never_released_is_refused_offline(wire: Wire, clock: FakeClock, version: str) -> None:
    with pytest.raises(ConfigError, match="api_version"):
        make_provider(make_factory(wire, clock), clock, options={"shop": "demo-shop", "api_version": version})


def test_default_version_is_2026_10(wire: Wire, clock: FakeClock) -> None:
    provider = make_provider(make_factory(wire, clock), clock, options={"shop": "demo-shop"})
    assert provider.api_version == "2026-10"


def test_a_listing_with_a_cursor_loop_is_a_gap(wire: Wire, clock: FakeClock) -> None:
    page: dict[str, Any] = {"nodes": [{"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE", "uri": "https://a"}],
            "pageInfo": {"hasNextPage": True, "endCursor": "same"}}

    def loop(req: httpx.Request) -> httpx.Response | None:
        if b"TetherListing" in req.content:
            data: dict[str, Any] = {
                "webhookSubscriptions": copy.deepcopy(page),
                "currentAppInstallation": {"id": "gid://shopify/AppInstallation/1",
                                           "app": {"id": "gid://shopify/App/1", "title": "Lumen Ops", "handle": "x"},
                                           "accessScopes": []},
            }
            return graphql_answer(data)
        page2 = copy.deepcopy(page)
        page2["nodes"][0]["id"] = "gid://shopify/WebhookSubscription/2"
        return graphql_answer({"webhookSubscriptions": page2})

    wire.fault = loop
    _, found = listing(wire, clock, frozenset({Kind.WEBHOOK}))
    assert [(g.kind, g.reason) for g in found.gaps] == [(Kind.WEBHOOK, GapReason.CURSOR_LOOP)]
    assert not [b for b in found.bindings if b.kind is Kind.WEBHOOK]


def test_a_plain_429_is_waited_out_as_it_asks_then_retried(wire: Wire, clock: FakeClock) -> None:
    answered: list[int] = []

    def once(req: httpx.Request) -> httpx.Response | None:
        answered.append(1)
        return httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "2"}) if len(answered) == 1 else None

    wire.fault = once
    _, found = listing(wire, clock)
    assert found.complete and len(answered) == 2
    assert clock.sleeps == [2.0]


def test_no_query_the_client_sends_asks_for_more_than_a_query_may_cost() -> None:
    from providers.shopify.cost import MAX_QUERY_COST, requested_cost

    listing_cost = requested_cost(SCHEMA, queries.listing_query(ALL), {"first": queries.FIRST_PAGE})
    assert listing_cost <= MAX_QUERY_COST
    for resource, document in queries.NEXT_PAGE.items():
        assert requested_cost(SCHEMA, document, {"first": queries.page_size(resource)}) <= MAX_QUERY_COST, resource
    assert requested_cost(SCHEMA, queries.ORDERS, {"first": queries.NEXT_PAGE_SIZE}) <= MAX_QUERY_COST


def test_subscriptions_beyond_the_first_page(emulator: ShopifyEmulator, clock: FakeClock) -> None:
    section = demo_section()
    section["demo-shop"]["app_subscriptions"] = [
        {"id": 7_000_000 + n, "name": f"Plan {n}", "status": "ACTIVE", "price": "1.00 EUR",
         "interval": "EVERY_30_DAYS", "app": "lumen-ops"}
        for n in range(130)
    ]
    emulator.load(section)
    wire = Wire(emulator)
    _, found = listing(wire, clock, frozenset({Kind.SUBSCRIPTION}))
    assert found.complete, found.gaps
    assert len([b for b in found.bindings if b.kind is Kind.SUBSCRIPTION]) == 130
    assert wire.operations() == ["TetherListing", "TetherSubscriptionPage"]


def test_a_retired_version_is_answered_by_a_newer_one_and_the_client_notes_it(
    wire: Wire, clock: FakeClock, fresh_logs: None
) -> None:
    provider = make_provider(make_factory(wire, clock), clock, options={"shop": "demo-shop", "api_version": "2023-01"})
    found = run(provider.list_bindings(ALL))
    assert found.complete
    assert provider._gql.served_version not in (None, "2023-01")
    current = make_provider(make_factory(wire, clock), clock, options={"shop": "demo-shop"})
    run(current.list_bindings(ALL))
    assert current._gql.served_version is None


@pytest.mark.parametrize("token", [ADMIN, LEGACY])
def test_a_binding_read_back_is_the_object_the_listing_gave(wire: Wire, clock: FakeClock, token: str) -> None:
    provider, found = listing(wire, clock, token=token)
    assert found.bindings
    for binding in found.bindings:
        again = run(provider.fetch(binding))
        assert again is not None, binding
        assert (again.raw, again.fingerprint, again.app, again.cancellable) == (
            binding.raw, binding.fingerprint, binding.app, binding.cancellable
        ), binding
