"""ShopifyProvider against the emulator in-process (MockTransport, fake clock and sleep)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from shopify_support import (  # noqa: F401  (fixtures)
    ADMIN,
    ENDPOINT,
    READONLY,
    FakeClock,
    Wire,
    clock,
    demo_section,
    emulator,
    make_factory,
    make_provider,
    sync_client,
    wire,
)

from engine.errors import AuthError, ConfigError, ProviderError
from engine.model import CancelAt, Kind, LiveBinding
from providers.sdk import CancelRequest, CancelStatus
from providers.shopify.client import ShopifyProvider, describe_error, quote_id
from providers.shopify.emulator import ShopifyEmulator

T = TypeVar("T")
ALL = frozenset(Kind)
V = "/admin/api/2024-01"


def run(
    wire: Wire,
    clock: FakeClock,
    body: Callable[[ShopifyProvider], Awaitable[T]],
    *,
    token: str = ADMIN,
    attempts: int = 6,
) -> T:
    async def main() -> T:
        factory = make_factory(wire, clock, attempts=attempts)
        try:
            return await body(make_provider(factory, clock, token=token))
        finally:
            await factory.aclose()

    return asyncio.run(main())


def cancel_request(binding: LiveBinding) -> CancelRequest:
    return CancelRequest(binding=binding, side="platform", cancel_at=CancelAt.NOW, idempotency_key="k-1")


def binding(resource: str, ident: str, kind: Kind = Kind.WEBHOOK) -> LiveBinding:
    return LiveBinding(
        account="shop-eu", provider="shopify", kind=kind, id=ident, name="x", status="active",
        resource=resource, raw={"id": ident},
    )


def load_webhooks(emulator: ShopifyEmulator, count: int) -> None:
    section = demo_section()
    section["demo-shop"]["webhooks"] = [
        {"id": 5000 + i, "topic": "orders/create", "address": f"https://hooks.example/{i}"} for i in range(count)
    ]
    emulator.load(section)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers={"Content-Type": "application/json", **(headers or {})},
                          content=json.dumps(body).encode())


# -- listing -------------------------------------------------------------------------------------


def test_lists_every_kind_of_the_demo_shop(wire: Wire, clock: FakeClock, emulator: ShopifyEmulator) -> None:
    listing = run(wire, clock, lambda p: p.list_bindings(ALL))
    assert listing.complete and listing.problems == ()
    got = {(b.kind, b.resource, b.id, b.name, b.status) for b in listing.bindings}
    assert got == {
        (Kind.CARRIER, "carrier_services", "1036894960", "DPD Rates", "active"),
        (Kind.CARRIER, "carrier_services", "1036894961", "Hermes Rates", "active"),
        (Kind.CARRIER, "fulfillment_services", "611870435", "Nordhub Fulfillment", "active"),
        (Kind.WEBHOOK, "webhooks", "4759306", "orders/create", "active"),
        (Kind.WEBHOOK, "webhooks", "4759307", "products/update", "active"),
        (Kind.WEBHOOK, "webhooks", "4759308", "orders/create", "active"),
        (Kind.WEBHOOK, "webhooks", "4759309", "app/uninstalled", "active"),
        (Kind.SUBSCRIPTION, "recurring_application_charges", "455696195", "LegacyERP Connector", "active"),
        (Kind.SUBSCRIPTION, "recurring_application_charges", "455696196", "Nordhub Standard", "active"),
        (Kind.APP, "api_permissions", "current", "this app", "active"),
    }
    state = emulator.dump()["demo-shop"]
    hook = next(b for b in listing.bindings if b.id == "4759306")
    assert hook.raw == next(h for h in state["webhooks"] if h["id"] == 4759306)
    app = next(b for b in listing.bindings if b.kind is Kind.APP)
    assert app.raw == {"access_scopes": state["tokens"][ADMIN]}
    assert "read_orders" in (listing.granted or set())
    assert ("GET", "/shopify/demo-shop/admin/api/2024-01/fulfillment_services.json", 200) in wire.seen


def test_only_requested_kinds_are_fetched(wire: Wire, clock: FakeClock) -> None:
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert {b.kind for b in listing.bindings} == {Kind.WEBHOOK}
    assert all("/webhooks.json" in path for _, path, _ in wire.seen)
    assert listing.granted is None


def test_app_name_comes_from_options(wire: Wire, clock: FakeClock) -> None:
    async def body(_: ShopifyProvider) -> Any:
        factory = make_factory(wire, clock)
        provider = make_provider(
            factory, clock, options={"shop": "demo-shop.myshopify.com", "app_name": "tether sync"}
        )
        try:
            return await provider.list_bindings(frozenset({Kind.APP}))
        finally:
            await factory.aclose()

    listing = run(wire, clock, body)
    assert [b.name for b in listing.bindings] == ["tether sync"]


def test_inactive_carrier_and_ended_charges(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    section = demo_section()
    shop = section["demo-shop"]
    shop["carrier_services"][1]["active"] = False
    shop["recurring_application_charges"] = [
        {"id": 10 + i, "name": status, "price": "1.00", "status": status}
        for i, status in enumerate(["pending", "accepted", "active", "frozen", "cancelled", "declined", "expired"])
    ]
    emulator.load(section)
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.SUBSCRIPTION, Kind.CARRIER})))
    charges = sorted(b.status for b in listing.bindings if b.kind is Kind.SUBSCRIPTION)
    assert charges == ["accepted", "active", "frozen", "pending"]
    hermes = next(b for b in listing.bindings if b.name == "Hermes Rates")
    assert hermes.status == "inactive"


def test_webhooks_over_three_pages(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    load_webhooks(emulator, 520)
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert listing.complete
    assert [b.id for b in listing.bindings] == [str(5000 + i) for i in range(520)]
    pages = [path for _, path, _ in wire.seen if path.endswith("/webhooks.json")]
    assert len(pages) == 3
    assert 429 not in wire.statuses()


def test_a_page_that_keeps_failing_makes_the_listing_partial(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    load_webhooks(emulator, 300)

    def fault(request: httpx.Request) -> httpx.Response | None:
        if "page_info" in request.url.params:
            return json_response(503, {"errors": "Service Unavailable"})
        return None

    wire.fault = fault
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK, Kind.CARRIER})), attempts=2)
    assert not listing.complete
    assert len(listing.problems) == 1 and "webhooks" in listing.problems[0] and "503" in listing.problems[0]
    assert sum(1 for b in listing.bindings if b.kind is Kind.WEBHOOK) == 250
    assert sum(1 for b in listing.bindings if b.kind is Kind.CARRIER) == 3
    assert ADMIN not in listing.problems[0]


def _scripted(pages: list[tuple[list[int], str | None]]) -> Callable[[httpx.Request], httpx.Response | None]:
    calls = {"n": 0}

    def fault(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/webhooks.json"):
            return None
        ids, link = pages[min(calls["n"], len(pages) - 1)]
        calls["n"] += 1
        headers = {"Link": link} if link else {}
        hooks = [{"id": i, "topic": "orders/create", "address": "https://a.example"} for i in ids]
        return json_response(200, {"webhooks": hooks}, headers)

    return fault


def test_a_repeating_cursor_makes_the_listing_partial(wire: Wire, clock: FakeClock) -> None:
    link = f'<{ENDPOINT}{V}/webhooks.json?limit=250&page_info=SAME>; rel="next"'
    wire.fault = _scripted([([1, 2], link), ([3, 4], link), ([5], None)])
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert not listing.complete
    assert any("repeated" in problem for problem in listing.problems)
    assert [b.id for b in listing.bindings] == ["1", "2", "3", "4"]


def test_an_id_seen_twice_makes_the_listing_partial(wire: Wire, clock: FakeClock) -> None:
    link = f'<{ENDPOINT}{V}/webhooks.json?limit=250&page_info=P2>; rel="next"'
    wire.fault = _scripted([([1, 2], link), ([2, 3], None)])
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert not listing.complete
    assert any("2 came back twice" in problem for problem in listing.problems)
    assert [b.id for b in listing.bindings] == ["1", "2", "3"]


def test_fresh_cursors_over_old_ids_stop_the_listing(wire: Wire, clock: FakeClock) -> None:
    counter = {"n": 0}

    def fault(request: httpx.Request) -> httpx.Response | None:
        counter["n"] += 1
        link = f'<{ENDPOINT}{V}/webhooks.json?limit=250&page_info=C{counter["n"]}>; rel="next"'
        hooks = [{"id": 1, "topic": "orders/create", "address": "https://a.example"}]
        return json_response(200, {"webhooks": hooks}, {"Link": link})

    wire.fault = fault
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert not listing.complete and counter["n"] == 2
    assert any("only ids already seen" in problem for problem in listing.problems)


def test_a_link_to_another_host_is_not_followed(wire: Wire, clock: FakeClock) -> None:
    wire.fault = _scripted([([1], '<https://collector.example/steal?page_info=X>; rel="next"')])
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert not listing.complete and "leaves" in listing.problems[0]
    assert len(wire.seen) == 1


def test_refused_token_raises_auth_error_without_the_token(wire: Wire, clock: FakeClock) -> None:
    with pytest.raises(AuthError) as caught:
        run(wire, clock, lambda p: p.list_bindings(ALL), token="shpat_stolen_or_wrong")
    assert caught.value.status == 401
    assert "the access token for shop-eu was refused" in str(caught.value)
    assert "shpat_stolen_or_wrong" not in str(caught.value)


def test_a_missing_read_scope_stops_the_listing_with_auth_error(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    section = demo_section()
    section["demo-shop"]["tokens"] = {"shpat_hooks_only": ["read_orders"]}
    emulator.load(section)
    with pytest.raises(AuthError) as caught:
        run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.CARRIER})), token="shpat_hooks_only")
    assert caught.value.status == 403
    assert "GET carrier_services" in str(caught.value) and "read_shipping" in str(caught.value)


# -- rate limits ---------------------------------------------------------------------------------


def test_429_from_the_shop_is_retried_after_retry_after(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    with sync_client(wire) as other_process:  # another user of the same token fills the bucket
        for _ in range(40):
            assert other_process.get(f"{V}/carrier_services.json").status_code == 200
    wire.seen.clear()
    listing = run(wire, clock, lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))
    assert listing.complete and len(listing.bindings) == 4
    assert wire.statuses() == [429, 200]
    assert 2.0 in clock.sleeps


def test_the_client_bucket_keeps_a_burst_below_the_limit(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    with sync_client(wire) as other_process:  # resynchronised from the call-limit header
        for _ in range(25):
            other_process.get(f"{V}/carrier_services.json")
    wire.seen.clear()
    target = binding("webhooks", "4759306")

    async def burst(provider: ShopifyProvider) -> list[Any]:
        return [await provider.fetch(target) for _ in range(60)]

    results = run(wire, clock, burst)
    assert all(r is not None and r.id == "4759306" for r in results)
    assert 429 not in wire.statuses() and len(wire.seen) == 60
    assert sum(clock.sleeps) > 0


# -- cancel and verify ---------------------------------------------------------------------------


def test_cancel_fetch_and_cancel_again(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    async def body(provider: ShopifyProvider) -> Any:
        listing = await provider.list_bindings(frozenset({Kind.CARRIER}))
        hermes = next(b for b in listing.bindings if b.name == "Hermes Rates")
        before = await provider.fetch(hermes)
        first = await provider.cancel(cancel_request(hermes))
        after = await provider.fetch(hermes)
        second = await provider.cancel(cancel_request(hermes))
        relisted = await provider.list_bindings(frozenset({Kind.CARRIER}))
        return before, first, after, second, relisted

    before, first, after, second, relisted = run(wire, clock, body)
    assert before is not None and before.raw["callback_url"] == "https://rates.hermes-legacy.example/quote"
    assert first.status is CancelStatus.DONE and first.request_id
    assert after is None
    assert second.status is CancelStatus.ALREADY_GONE
    assert "Hermes Rates" not in {b.name for b in relisted.bindings}
    assert ("DELETE", f"/shopify/demo-shop{V}/carrier_services/1036894961.json", 200) in wire.seen


def test_cancelling_a_charge_ends_it(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    charge = binding("recurring_application_charges", "455696195", Kind.SUBSCRIPTION)

    async def body(provider: ShopifyProvider) -> Any:
        return await provider.cancel(cancel_request(charge)), await provider.fetch(charge)

    outcome, after = run(wire, clock, body)
    assert outcome.status is CancelStatus.DONE
    assert after is None  # a cancelled charge counts as gone
    state = emulator.dump()["demo-shop"]["recurring_application_charges"]
    assert next(c for c in state if c["id"] == 455696195)["status"] == "cancelled"


def test_a_missing_write_scope_raises_auth_error(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    dpd = binding("carrier_services", "1036894960", Kind.CARRIER)
    with pytest.raises(AuthError) as caught:
        run(wire, clock, lambda p: p.cancel(cancel_request(dpd)), token=READONLY)
    assert caught.value.status == 403
    assert "write_shipping" in str(caught.value)
    assert READONLY not in str(caught.value)
    assert 1036894960 in [c["id"] for c in emulator.dump()["demo-shop"]["carrier_services"]]


def test_uninstall_invalidates_the_token(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    app = binding("api_permissions", "current", Kind.APP)

    async def body(provider: ShopifyProvider) -> Any:
        present = await provider.fetch(app)
        outcome = await provider.cancel(cancel_request(app))
        gone = await provider.fetch(app)
        again = await provider.cancel(cancel_request(app))
        try:
            await provider.list_bindings(ALL)
        except AuthError as exc:
            return present, outcome, gone, again, exc
        raise AssertionError("listing with a dead token should fail")

    present, outcome, gone, again, error = run(wire, clock, body)
    assert present is not None and present.kind is Kind.APP
    assert outcome.status is CancelStatus.DONE
    assert gone is None
    assert again.status is CancelStatus.ALREADY_GONE
    assert error.status == 401 and "the access token for shop-eu was refused" in str(error)
    assert ("DELETE", "/shopify/demo-shop/admin/api_permissions/current.json", 200) in wire.seen
    assert emulator.dump()["demo-shop"]["webhooks"] == []


def test_ids_are_percent_encoded(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    hostile = binding("webhooks", "../../../oauth/access_scopes")
    outcome = run(wire, clock, lambda p: p.cancel(cancel_request(hostile)))
    assert outcome.status is CancelStatus.ALREADY_GONE
    assert wire.raw_paths[-1] == (
        b"/shopify/demo-shop/admin/api/2024-01/webhooks/"
        b"%2E%2E%2F%2E%2E%2F%2E%2E%2Foauth%2Faccess_scopes.json"
    )
    assert quote_id("a b/?#..") == "a%20b%2F%3F%23%2E%2E"
    assert len(emulator.dump()["demo-shop"]["webhooks"]) == 4


@pytest.mark.parametrize("vendor_acted", [True, False], ids=["vendor-acted", "vendor-did-nothing"])
def test_a_lost_response_to_a_cancel_is_settled_by_reading_never_resent(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock, vendor_acted: bool
) -> None:
    # Unlike a 5xx, a dropped response says nothing about what the vendor did (it may still be
    # acting on it): read it back; if it is still there, fail for the next apply to decide.
    deletes = []

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.method == "DELETE":
            deletes.append(request.url.path)
            if vendor_acted:
                emulator.handle(request, request.url.path[len("/shopify") :])
            raise httpx.ReadError("connection reset", request=request)
        return None

    wire.fault = fault
    cancel = lambda p: p.cancel(cancel_request(binding("webhooks", "4759307")))  # noqa: E731
    if vendor_acted:
        outcome = run(wire, clock, cancel)
        assert outcome.status is CancelStatus.DONE and "lost" in outcome.detail
    else:
        with pytest.raises(ProviderError, match="lost.*still there"):
            run(wire, clock, cancel)
    assert len(deletes) == 1  # never sent twice
    assert [method for method, _, _ in wire.seen] == ["GET"]  # the read-back; the DELETE got no answer
    live = [w["id"] for w in emulator.dump()["demo-shop"]["webhooks"]]
    assert (4759307 in live) is not vendor_acted


def test_a_503_to_a_cancel_is_sent_again_and_succeeds(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    path = f"/shopify/demo-shop{V}/webhooks/4759307.json"
    failures = [json_response(503, {"errors": "Service Unavailable"})]

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.method == "DELETE" and failures:
            return failures.pop()  # the vendor did nothing
        return None

    wire.fault = fault
    outcome = run(wire, clock, lambda p: p.cancel(cancel_request(binding("webhooks", "4759307"))))
    assert outcome.status is CancelStatus.DONE and "503" in outcome.detail
    assert wire.seen == [("DELETE", path, 503), ("GET", path, 200), ("DELETE", path, 200)]
    assert 4759307 not in [w["id"] for w in emulator.dump()["demo-shop"]["webhooks"]]


def test_a_503_then_a_lost_response_is_settled_by_reading_not_sent_a_third_time(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    deletes = []

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.method != "DELETE":
            return None
        deletes.append(request.url.path)
        if len(deletes) == 1:
            return json_response(503, {"errors": "Service Unavailable"})
        emulator.handle(request, request.url.path[len("/shopify") :])
        raise httpx.ReadError("connection reset", request=request)

    wire.fault = fault
    outcome = run(wire, clock, lambda p: p.cancel(cancel_request(binding("webhooks", "4759307"))))
    assert outcome.status is CancelStatus.DONE and "lost" in outcome.detail
    assert len(deletes) == 2
    assert wire.seen[-1][0] == "GET"


def test_a_5xx_to_a_cancel_is_settled_by_reading(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    deletes = []
    done = {"act": True}

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.method == "DELETE":
            deletes.append(request.url.path)
            if done["act"]:
                emulator.handle(request, request.url.path[len("/shopify") :])
            return json_response(502, {"errors": "Bad Gateway"})
        return None

    wire.fault = fault
    acted = run(wire, clock, lambda p: p.cancel(cancel_request(binding("webhooks", "4759307"))))
    assert acted.status is CancelStatus.DONE and "gone" in acted.detail
    assert len(deletes) == 1  # the read-back shows it done: nothing to send again
    done["act"] = False
    deletes.clear()
    with pytest.raises(ProviderError, match="still there") as caught:
        run(wire, clock, lambda p: p.cancel(cancel_request(binding("webhooks", "4759308"))))
    assert caught.value.status == 502
    assert len(deletes) == 2  # sent once more after the read-back, never more


def test_cancel_on_another_side_is_refused(wire: Wire, clock: FakeClock) -> None:
    request = CancelRequest(binding("webhooks", "4759306"), "provider", CancelAt.NOW, "k")
    with pytest.raises(ProviderError, match="platform"):
        run(wire, clock, lambda p: p.cancel(request))
    assert wire.seen == []


# -- backups -------------------------------------------------------------------------------------


def test_export_reads_every_order_page_including_closed(
    emulator: ShopifyEmulator, wire: Wire, clock: FakeClock
) -> None:
    section = demo_section()
    extra = [{"id": 6000000000 + i, "name": f"#{2000 + i}", "total_price": "1.00"} for i in range(260)]
    section["demo-shop"]["orders"] += extra
    emulator.load(section)
    any_binding = binding("webhooks", "4759306")

    async def body(provider: ShopifyProvider) -> Any:
        orders = [o async for o in provider.export(any_binding, "orders")]
        products = [p async for p in provider.export(any_binding, "products")]
        return orders, products

    orders, products = run(wire, clock, body)
    assert len(orders) == 263
    assert {"#1001", "#1002", "#1003"} <= {o["name"] for o in orders}  # closed and cancelled too
    assert [p["title"] for p in products] == ["Aurora Desk Lamp", "Ember Filament Bulb E27 (3-pack)"]
    first = next(path for _, path, _ in wire.seen if path.endswith("/orders.json"))
    assert first == f"/shopify/demo-shop{V}/orders.json"
    assert sum(1 for _, path, _ in wire.seen if path.endswith("/orders.json")) == 2


def test_export_of_an_unknown_dataset_fails(wire: Wire, clock: FakeClock) -> None:
    async def body(provider: ShopifyProvider) -> Any:
        return [r async for r in provider.export(binding("webhooks", "1"), "invoices")]

    with pytest.raises(ProviderError, match="invoices"):
        run(wire, clock, body)


# -- rights --------------------------------------------------------------------------------------


def test_required_rights_per_resource_and_dataset(wire: Wire, clock: FakeClock) -> None:
    async def body(provider: ShopifyProvider) -> Any:
        return provider

    provider = run(wire, clock, body)
    assert provider.required(binding("carrier_services", "1"), "platform", ()) == ("write_shipping",)
    assert provider.required(binding("fulfillment_services", "1"), "platform", ("orders",)) == (
        "write_fulfillments",
        "read_orders",
    )
    assert provider.required(binding("webhooks", "1"), "platform", ("orders", "products")) == (
        "read_orders",
        "read_products",
    )
    assert provider.required(binding("recurring_application_charges", "1"), "platform", ()) == ()
    assert provider.required(binding("api_permissions", "current"), "platform", ()) == ()


def test_granted_adds_reads_implied_by_writes(emulator: ShopifyEmulator, wire: Wire, clock: FakeClock) -> None:
    section = demo_section()
    section["demo-shop"]["tokens"] = {"t": ["write_orders", "write_shipping"]}
    emulator.load(section)
    granted = run(wire, clock, lambda p: p.granted(), token="t")
    assert granted == {"write_orders", "read_orders", "write_shipping", "read_shipping"}


# -- configuration and messages ------------------------------------------------------------------


def test_configuration_errors_are_clear(wire: Wire, clock: FakeClock) -> None:
    async def body(_: ShopifyProvider) -> Any:
        factory = make_factory(wire, clock)
        errors = []
        for options, endpoint in (
            ({"shop": "not a shop"}, None),
            ({"api_version": "2024-1", "shop": "demo-shop.myshopify.com"}, None),
            ({}, None),
        ):
            try:
                make_provider(factory, clock, options=options, endpoint=endpoint)
            except ConfigError as exc:
                errors.append(str(exc))
        public = make_provider(factory, clock, options={"shop": "lumen"}, endpoint=None)
        await factory.aclose()
        return errors, public

    errors, public = run(wire, clock, body)
    assert len(errors) == 3
    assert "options.shop" in errors[0] and "api_version" in errors[1] and "options.shop" in errors[2]
    assert public._api.base_url == "https://lumen.myshopify.com"


def test_describe_error_gives_one_line() -> None:
    def resp(status: int, body: Any) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    assert describe_error(resp(404, {"errors": "Not Found"})) == "Not Found"
    assert describe_error(resp(422, {"errors": {"address": ["for this topic has already been taken"]}})) == (
        "address for this topic has already been taken"
    )
    assert describe_error(resp(422, {"errors": {"base": ["DPD is already configured"], "name": ["x"]}})) == (
        "DPD is already configured; name x"
    )
    assert describe_error(httpx.Response(502, text="<html>\n bad\n gateway</html>")) == "<html> bad gateway</html>"
