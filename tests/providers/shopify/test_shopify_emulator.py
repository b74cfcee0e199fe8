"""The Shopify emulator on its own: paths, auth, scopes, pagination, limits, state, scenarios."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from shopify_support import ADMIN, READONLY, FakeClock, Wire, clock, demo_section, emulator, sync_client, wire  # noqa: F401  (fixtures)

from engine.errors import ConfigError
from providers.shopify.emulator import ShopifyEmulator

V = "/admin/api/2024-01"
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."


def _with_webhooks(emulator: ShopifyEmulator, count: int, **extra: Any) -> None:
    section = demo_section()
    section["demo-shop"]["webhooks"] = [
        {"id": 1000 + i, "topic": "orders/create" if i % 2 else "products/update",
         "address": f"https://hooks.example/{i}", **extra}
        for i in range(count)
    ]
    emulator.load(section)


def _next(response: httpx.Response) -> str | None:
    for part in response.headers.get("link", "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def _links(response: httpx.Response) -> dict[str, str]:
    out = {}
    for part in response.headers.get("link", "").split(","):
        if ";" in part:
            url, rel = part.split(";", 1)
            out[rel.strip().split("=")[1].strip('"')] = url.strip().strip("<>")
    return out


# -- auth and scopes -----------------------------------------------------------------------------


def test_unknown_or_missing_token_is_401_with_shopify_body(wire: Wire) -> None:
    for token in (None, "shpat_wrong"):
        with sync_client(wire, token) as http:
            response = http.get(f"{V}/webhooks.json")
        assert response.status_code == 401
        assert response.json() == {"errors": UNAUTHORIZED}


def test_unknown_shop_is_404(wire: Wire) -> None:
    with httpx.Client(transport=httpx.MockTransport(wire)) as http:
        response = http.get(
            f"http://127.0.0.1:8787/shopify/no-such-shop{V}/webhooks.json",
            headers={"X-Shopify-Access-Token": ADMIN},
        )
    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


def test_access_scopes_list_the_tokens_handles(wire: Wire) -> None:
    with sync_client(wire, READONLY) as http:
        response = http.get("/admin/oauth/access_scopes.json")
    assert response.status_code == 200
    assert response.json() == {
        "access_scopes": [
            {"handle": "read_shipping"},
            {"handle": "read_fulfillments"},
            {"handle": "read_orders"},
            {"handle": "read_products"},
        ]
    }


def test_missing_scope_is_403_and_changes_nothing(wire: Wire, emulator: ShopifyEmulator) -> None:
    with sync_client(wire, READONLY) as http:
        response = http.delete(f"{V}/carrier_services/1036894960.json")
    assert response.status_code == 403
    assert response.json() == {
        "errors": "[API] This action requires merchant approval for write_shipping scope."
    }
    ids = [c["id"] for c in emulator.dump()["demo-shop"]["carrier_services"]]
    assert 1036894960 in ids


def test_read_scope_is_enforced_and_write_implies_read(emulator: ShopifyEmulator) -> None:
    section = demo_section()
    section["demo-shop"]["tokens"] = {"t_none": [], "t_write": ["write_shipping"]}
    emulator.load(section)
    wire = Wire(emulator)
    with sync_client(wire, "t_none") as http:
        refused = http.get(f"{V}/carrier_services.json")
        orders = http.get(f"{V}/orders.json")
        hooks = http.get(f"{V}/webhooks.json")
    assert refused.status_code == 403 and "read_shipping" in refused.json()["errors"]
    assert orders.status_code == 403 and "read_orders" in orders.json()["errors"]
    assert hooks.status_code == 200  # an app may always read its own webhooks
    with sync_client(wire, "t_write") as http:
        assert http.get(f"{V}/carrier_services.json").status_code == 200


# -- reads and pagination ------------------------------------------------------------------------


def test_carrier_services_list_and_get_by_id(wire: Wire) -> None:
    with sync_client(wire) as http:
        listed = http.get(f"{V}/carrier_services.json")
        one = http.get(f"{V}/carrier_services/1036894961.json")
        missing = http.get(f"{V}/carrier_services/42.json")
    assert [c["name"] for c in listed.json()["carrier_services"]] == ["DPD Rates", "Hermes Rates"]
    assert "link" not in listed.headers
    assert one.json()["carrier_service"]["callback_url"] == "https://rates.hermes-legacy.example/quote"
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}


def test_webhook_pages_follow_link_headers_in_id_order(emulator: ShopifyEmulator, wire: Wire) -> None:
    _with_webhooks(emulator, 7)
    collected: list[int] = []
    with sync_client(wire) as http:
        response = http.get(f"{V}/webhooks.json", params={"limit": 3})
        first_links = _links(response)
        pages = 1
        collected += [h["id"] for h in response.json()["webhooks"]]
        url = _next(response)
        while url:
            query = parse_qs(urlsplit(url).query)
            assert set(query) == {"limit", "page_info"}
            response = http.get(url)
            collected += [h["id"] for h in response.json()["webhooks"]]
            pages += 1
            url = _next(response)
            last = response
        back = http.get(_links(last)["previous"])
    assert "previous" not in first_links
    assert pages == 3
    assert collected == list(range(1000, 1007))
    assert [h["id"] for h in back.json()["webhooks"]] == [1003, 1004, 1005]


def test_default_limit_is_50_and_more_than_250_is_refused(emulator: ShopifyEmulator, wire: Wire) -> None:
    _with_webhooks(emulator, 60)
    with sync_client(wire) as http:
        default = http.get(f"{V}/webhooks.json")
        too_many = http.get(f"{V}/webhooks.json", params={"limit": 251})
        zero = http.get(f"{V}/webhooks.json", params={"limit": 0})
    assert len(default.json()["webhooks"]) == 50 and _next(default)
    assert too_many.status_code == 400 and "limit" in too_many.json()["errors"]
    assert zero.status_code == 400


def test_page_info_keeps_filters_and_refuses_company(emulator: ShopifyEmulator, wire: Wire) -> None:
    _with_webhooks(emulator, 10)
    with sync_client(wire) as http:
        first = http.get(f"{V}/webhooks.json", params={"topic": "orders/create", "limit": 2})
        url = _next(first)
        assert url is not None
        second = http.get(url)
        mixed = http.get(url + "&topic=orders/create")
        garbage = http.get(f"{V}/webhooks.json", params={"page_info": "not-a-cursor"})
    topics = {h["topic"] for h in first.json()["webhooks"] + second.json()["webhooks"]}
    assert topics == {"orders/create"}
    assert [h["id"] for h in second.json()["webhooks"]] == [1005, 1007]
    assert mixed.status_code == 400 and "page_info" in mixed.json()["errors"]
    assert garbage.status_code == 400


def test_since_id_fields_and_count(wire: Wire) -> None:
    with sync_client(wire) as http:
        since = http.get(f"{V}/webhooks.json", params={"since_id": 4759307, "fields": "id,topic"})
        count = http.get(f"{V}/webhooks/count.json")
        count_topic = http.get(f"{V}/webhooks/count.json", params={"topic": "orders/create"})
        charges = http.get(f"{V}/recurring_application_charges.json", params={"since_id": 455696195})
    assert since.json() == {
        "webhooks": [{"id": 4759308, "topic": "orders/create"}, {"id": 4759309, "topic": "app/uninstalled"}]
    }
    assert count.json() == {"count": 4}
    assert count_topic.json() == {"count": 2}
    assert [c["id"] for c in charges.json()["recurring_application_charges"]] == [455696196]


def test_orders_default_to_open_and_status_any_lists_all(wire: Wire) -> None:
    with sync_client(wire) as http:
        open_orders = http.get(f"{V}/orders.json")
        every = http.get(f"{V}/orders.json", params={"status": "any"})
        closed = http.get(f"{V}/orders.json", params={"status": "closed"})
        bad = http.get(f"{V}/orders.json", params={"status": "weird"})
    assert [o["name"] for o in open_orders.json()["orders"]] == ["#1002"]
    assert [o["name"] for o in every.json()["orders"]] == ["#1001", "#1002", "#1003"]
    assert [o["name"] for o in closed.json()["orders"]] == ["#1001"]
    assert bad.status_code == 400


def test_any_dated_version_is_served_and_echoed(wire: Wire) -> None:
    with sync_client(wire) as http:
        newer = http.get("/admin/api/2025-07/webhooks.json")
        broken = http.get("/admin/api/2024-1/webhooks.json")
    assert newer.status_code == 200 and newer.headers["x-shopify-api-version"] == "2025-07"
    assert broken.status_code == 404


def test_encoded_slashes_stay_inside_their_segment(wire: Wire) -> None:
    with sync_client(wire) as http:
        response = http.get(f"{V}/webhooks/..%2F..%2F..%2Foauth%2Faccess_scopes.json")
        dots = http.delete(f"{V}/webhooks/%2E%2E.json")
    assert response.status_code == 404 and response.json() == {"errors": "Not Found"}
    assert dots.status_code == 404


# -- changes -------------------------------------------------------------------------------------


def test_delete_removes_and_second_delete_is_404(wire: Wire, emulator: ShopifyEmulator) -> None:
    with sync_client(wire) as http:
        first = http.delete(f"{V}/webhooks/4759306.json")
        second = http.delete(f"{V}/webhooks/4759306.json")
        listed = http.get(f"{V}/webhooks.json")
    assert (first.status_code, first.json()) == (200, {})
    assert (second.status_code, second.json()) == (404, {"errors": "Not Found"})
    assert 4759306 not in [h["id"] for h in listed.json()["webhooks"]]
    assert 4759306 not in [h["id"] for h in emulator.dump()["demo-shop"]["webhooks"]]


def test_deleting_a_charge_cancels_it(wire: Wire) -> None:
    with sync_client(wire) as http:
        response = http.delete(f"{V}/recurring_application_charges/455696195.json")
        after = http.get(f"{V}/recurring_application_charges/455696195.json")
        again = http.delete(f"{V}/recurring_application_charges/455696195.json")
    assert response.status_code == 200
    charge = after.json()["recurring_application_charge"]
    assert charge["status"] == "cancelled" and charge["cancelled_on"]
    assert again.status_code == 404


def test_create_webhook_and_carrier_service(wire: Wire, emulator: ShopifyEmulator) -> None:
    with sync_client(wire) as http:
        hook = http.post(
            f"{V}/webhooks.json",
            json={"webhook": {"topic": "orders/paid", "address": "https://hooks.example/paid"}},
        )
        dup = http.post(
            f"{V}/webhooks.json",
            json={"webhook": {"topic": "orders/paid", "address": "https://hooks.example/paid"}},
        )
        plain = http.post(
            f"{V}/webhooks.json", json={"webhook": {"topic": "orders/paid", "address": "http://x.example"}}
        )
        bad_topic = http.post(
            f"{V}/webhooks.json", json={"webhook": {"topic": "nope/nope", "address": "https://x.example"}}
        )
        missing_root = http.post(f"{V}/webhooks.json", json={"topic": "orders/paid"})
        carrier = http.post(
            f"{V}/carrier_services.json",
            json={"carrier_service": {"name": "GLS Rates", "callback_url": "https://gls.example/rates"}},
        )
        same_name = http.post(
            f"{V}/carrier_services.json",
            json={"carrier_service": {"name": "GLS Rates", "callback_url": "https://gls.example/rates"}},
        )
    assert hook.status_code == 201
    created = hook.json()["webhook"]
    assert created["format"] == "json" and created["api_version"] == "2024-01" and created["fields"] == []
    assert dup.status_code == 422 and dup.json() == {"errors": {"address": ["for this topic has already been taken"]}}
    assert plain.status_code == 422 and plain.json()["errors"]["address"] == ["protocol http:// is not supported"]
    assert bad_topic.status_code == 422 and "topic" in bad_topic.json()["errors"]
    assert missing_root.status_code == 400
    assert carrier.status_code == 201
    service = carrier.json()["carrier_service"]
    assert service["carrier_service_type"] == "api" and service["active"] is True
    assert service["admin_graphql_api_id"] == f"gid://shopify/DeliveryCarrierService/{service['id']}"
    assert same_name.status_code == 422
    state = emulator.dump()["demo-shop"]
    assert created["id"] in [h["id"] for h in state["webhooks"]]
    assert service["id"] in [c["id"] for c in state["carrier_services"]]


def test_create_needs_scopes(wire: Wire) -> None:
    with sync_client(wire, READONLY) as http:
        carrier = http.post(
            f"{V}/carrier_services.json",
            json={"carrier_service": {"name": "GLS", "callback_url": "https://gls.example"}},
        )
        hook = http.post(
            f"{V}/webhooks.json", json={"webhook": {"topic": "customers/create", "address": "https://x.example"}}
        )
    assert carrier.status_code == 403 and "write_shipping" in carrier.json()["errors"]
    assert hook.status_code == 403 and "read_customers" in hook.json()["errors"]


def test_uninstall_removes_what_the_app_owns_and_revokes_every_token(
    wire: Wire, emulator: ShopifyEmulator
) -> None:
    with sync_client(wire) as http:
        response = http.delete("/admin/api_permissions/current.json")
        after = http.get(f"{V}/webhooks.json")
    with sync_client(wire, READONLY) as http:
        readonly_after = http.get("/admin/oauth/access_scopes.json")
    assert (response.status_code, response.json()) == (200, {})
    assert after.status_code == 401 and readonly_after.status_code == 401
    state = emulator.dump()["demo-shop"]
    assert state["tokens"] == {}
    assert state["webhooks"] == [] and state["carrier_services"] == []
    assert {c["status"] for c in state["recurring_application_charges"]} == {"cancelled"}
    assert len(state["orders"]) == 3  # the shop's own data stays


# -- rate limit ----------------------------------------------------------------------------------


def test_leaky_bucket_throttles_the_41st_call_and_drains(
    wire: Wire, emulator: ShopifyEmulator, clock: FakeClock
) -> None:
    with sync_client(wire) as http:
        levels = [http.get(f"{V}/carrier_services.json").headers["x-shopify-shop-api-call-limit"] for _ in range(40)]
        throttled = http.get(f"{V}/carrier_services.json")
        with sync_client(wire, READONLY) as other:
            other_token = other.get(f"{V}/carrier_services.json")
        clock.advance(0.5)
        recovered = http.get(f"{V}/carrier_services.json")
    assert levels[0] == "1/40" and levels[-1] == "40/40"
    assert throttled.status_code == 429
    assert throttled.json() == {"errors": THROTTLED}
    assert throttled.headers["retry-after"] == "2.0"
    assert throttled.headers["x-shopify-shop-api-call-limit"] == "40/40"
    assert other_token.status_code == 200  # one bucket per (shop, token)
    assert recovered.status_code == 200
    assert recovered.headers["x-shopify-shop-api-call-limit"] == "40/40"


def test_rate_limits_can_be_switched_off(wire: Wire, emulator: ShopifyEmulator) -> None:
    emulator.enforce_rate_limits = False
    with sync_client(wire) as http:
        statuses = {http.get(f"{V}/webhooks.json").status_code for _ in range(60)}
    assert statuses == {200}


# -- scenario ------------------------------------------------------------------------------------


def test_load_fills_defaults_keeps_ids_and_dump_round_trips(emulator: ShopifyEmulator) -> None:
    state = emulator.dump()["demo-shop"]
    hermes = next(c for c in state["carrier_services"] if c["id"] == 1036894961)
    assert hermes["carrier_service_type"] == "api" and hermes["format"] == "json"
    assert hermes["service_discovery"] is False  # given in the scenario, kept
    hook = next(h for h in state["webhooks"] if h["id"] == 4759308)
    assert hook["fields"] == [] and hook["metafield_namespaces"] == [] and hook["api_version"] == "2024-01"
    again = ShopifyEmulator()
    again.load(emulator.dump())
    assert again.dump() == emulator.dump()


def test_objects_without_ids_get_fresh_ones(emulator: ShopifyEmulator) -> None:
    emulator.load({"s1": {"tokens": {"t": []}, "webhooks": [{"topic": "shop/update", "address": "https://a.example"}]}})
    (hook,) = emulator.dump()["s1"]["webhooks"]
    assert isinstance(hook["id"], int) and hook["id"] > 0


@pytest.mark.parametrize(
    "section, message",
    [
        ({"Bad Handle": {}}, "handle"),
        ({"s": {"webhookz": []}}, "unknown key"),
        ({"s": {"webhooks": [{"id": 1}, {"id": 1}]}}, "twice"),
        ({"s": {"webhooks": [{"id": "abc"}]}}, "positive integers"),
        ({"s": {"tokens": {"t": "read_orders"}}}, "list of scope"),
        ({"s": {"orders": {"id": 1}}}, "list of objects"),
    ],
)
def test_bad_scenarios_are_refused_with_a_clear_message(section: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ShopifyEmulator().load(section)


def test_empty_section_means_no_shops() -> None:
    emulator = ShopifyEmulator()
    emulator.load({})
    assert emulator.dump() == {}


def _cost(emulator: ShopifyEmulator, url: str, repeats: int = 100) -> float:
    """Best-of-three time for ``repeats`` identical requests: robust against a busy machine."""
    request = httpx.Request("GET", f"http://127.0.0.1:8787/shopify/demo-shop{V}{url}",
                            headers={"X-Shopify-Access-Token": ADMIN})
    path = request.url.path[len("/shopify") :]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            assert emulator.handle(request, path).status_code == 200
        best = min(best, time.perf_counter() - started)
    return best


def test_request_cost_does_not_grow_with_the_collection(emulator: ShopifyEmulator) -> None:
    """Objects are indexed by id and pages start from a bisect, so 5000 webhooks cost what 20 do."""
    emulator.enforce_rate_limits = False
    _with_webhooks(emulator, 20)
    small_get = _cost(emulator, "/webhooks/1010.json")
    small_page = _cost(emulator, "/webhooks.json?limit=5&since_id=1010")
    _with_webhooks(emulator, 5000)
    large_get = _cost(emulator, "/webhooks/4010.json")
    large_page = _cost(emulator, "/webhooks.json?limit=5&since_id=4010")
    assert large_get < small_get * 3
    assert large_page < small_page * 3
