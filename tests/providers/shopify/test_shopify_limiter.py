"""Shopify's calculated query cost (``providers/shopify/cost.py``), the versions Shopify serves
(``versions.py``), and the emulator enforcing both: THROTTLED while the bucket is short, restored
at the documented rate, one bucket per app and shop."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from graphql_shapes import assert_conforms, plain_schema

from providers.shopify import cost, versions
from providers.shopify.emulator import ShopifyEmulator

SCHEMA = plain_schema()
TODAY = date(2026, 12, 6)
TOKEN_A, TOKEN_B = "shpat_a", "shpat_b"
ORDERS_250 = "query Big { orders(first: 250) { nodes { id } } }"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def shop(orders: int) -> dict[str, Any]:
    return {
        "s": {
            "apps": {
                "a": {"title": "A", "tokens": {TOKEN_A: ["read_orders"]}},
                "b": {"title": "B", "tokens": {TOKEN_B: ["read_orders"]}},
            },
            "orders": [{"id": 1000 + n, "name": f"#{n}"} for n in range(orders)],
        }
    }


def post(emu: ShopifyEmulator, token: str, query: str, version: str = "2026-10") -> httpx.Response:
    path = f"/s/admin/api/{version}/graphql.json"
    request = httpx.Request(
        "POST", f"http://h/shopify{path}", headers={"X-Shopify-Access-Token": token},
        content=json.dumps({"query": query}).encode(),
    )
    return emu.handle(request, path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=clock, today=lambda: TODAY)
    emulator.load(shop(300))
    return emulator


# -- the cost model ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ shop { name } }", 1),  # an object 1, a scalar 0
        ("{ orders(first: 50) { edges { node { id } } } }", 52),  # Shopify's own example figure
        ("{ orders(first: 10) { nodes { id totalPriceSet { shopMoney { amount } } } pageInfo { hasNextPage } } }", 32),
        ("{ orders(last: 5) { nodes { lineItems(first: 3) { nodes { id } } } } }", 2 + 5 * (1 + 5)),
        ("{ currentAppInstallation { allSubscriptions(first: 2) { nodes { lineItems { plan { pricingDetails "
         "{ ... on AppRecurringPricing { price { amount } } ... on AppUsagePricing { terms } } } } } } } }",
         1 + 2 + 2 * (1 + 1 + 1 + 2)),  # a union costs its largest selection
        ("mutation { a: webhookSubscriptionDelete(id: \"x\") { userErrors { message } } "
         "b: webhookSubscriptionDelete(id: \"y\") { userErrors { message } } }", 20),  # 10 per mutation
    ],
)
def test_requested_cost_follows_the_documented_rules(query: str, expected: int) -> None:
    assert cost.requested_cost(SCHEMA, query) == expected


def test_requested_cost_reads_first_from_variables() -> None:
    query = "query Q($n: Int!) { webhookSubscriptions(first: $n) { nodes { id } } }"
    assert cost.requested_cost(SCHEMA, query, {"n": 100}) == 102
    assert cost.requested_cost(SCHEMA, query, {"n": 1}) == 3


def test_actual_cost_counts_what_came_back() -> None:
    from graphql import parse

    document = parse("{ orders(first: 50) { edges { node { id } } } }")
    data = {"orders": {"edges": [{"node": {"id": "gid://shopify/Order/1"}}] * 3}}
    assert cost.query_cost(SCHEMA, document, data=data) == 5
    assert cost.query_cost(SCHEMA, document, data={"orders": {"edges": []}}) == 2


def test_actual_cost_of_nested_connections_counts_each_item() -> None:
    from graphql import parse

    document = parse("{ orders(first: 10) { nodes { id lineItems(first: 5) { nodes { id } } } } }")
    assert cost.query_cost(SCHEMA, document) == 2 + 10 * (1 + 2 + 5)
    data = {"orders": {"nodes": [{"id": "a", "lineItems": {"nodes": [{"id": "x"}] * n}} for n in (0, 1, 3)]}}
    assert cost.query_cost(SCHEMA, document, data=data) == 2 + (1 + 2) + (1 + 3) + (1 + 5)


def test_the_bucket_restores_at_its_rate_and_never_overfills() -> None:
    clock = Clock()
    bucket = cost.CostBucket(cost.PLANS["standard"], clock)
    assert bucket.status() == cost.ThrottleStatus(2000.0, 2000.0, 100.0)
    assert bucket.take(1500) and not bucket.take(600)
    assert bucket.available == 500
    assert bucket.wait_for(600) == pytest.approx(1.0)
    clock.now += 1.0
    assert bucket.take(600)
    clock.now += 3600
    assert bucket.available == 2000.0
    assert bucket.wait_for(2001) == float("inf")


def test_cost_extensions_round_trip() -> None:
    parsed = cost.QueryCost.from_extensions(
        {"cost": {"requestedQueryCost": 52, "actualQueryCost": 5,
                  "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1995.0, "restoreRate": 100.0}}}
    )
    assert parsed == cost.QueryCost(52, 5, cost.ThrottleStatus(2000.0, 1995.0, 100.0))
    assert parsed.to_json()["throttleStatus"]["restoreRate"] == 100.0
    assert cost.QueryCost.from_extensions({"cost": {"requestedQueryCost": "x"}}) is None
    assert cost.QueryCost.from_extensions(None) is None


# -- throttling in the emulator --------------------------------------------------------------------


def test_every_answer_carries_its_cost(emu: ShopifyEmulator) -> None:
    body = post(emu, TOKEN_A, "query Few { orders(first: 2) { nodes { id } } }").json()
    assert_conforms(SCHEMA, "query Few { orders(first: 2) { nodes { id } } }", body)
    spent = body["extensions"]["cost"]
    assert spent["requestedQueryCost"] == 4 and spent["actualQueryCost"] == 4
    assert spent["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1996.0, "restoreRate": 100.0}


def test_throttled_while_the_bucket_is_short_then_restored(emu: ShopifyEmulator, clock: Clock) -> None:
    for _ in range(7):  # 7 x 252 = 1764 of 2000
        body = post(emu, TOKEN_A, ORDERS_250).json()
        assert "errors" not in body and body["extensions"]["cost"]["actualQueryCost"] == 252
    response = post(emu, TOKEN_A, ORDERS_250)
    assert response.status_code == 200
    body = response.json()
    assert_conforms(SCHEMA, ORDERS_250, body)
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in body
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 236.0
    # another app on the same shop has its own bucket
    assert "errors" not in post(emu, TOKEN_B, ORDERS_250).json()
    clock.now += 0.1  # 10 points restored: still short
    assert post(emu, TOKEN_A, ORDERS_250).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    clock.now += 0.1  # 256 available
    assert "errors" not in post(emu, TOKEN_A, ORDERS_250).json()


def test_the_unused_part_of_the_requested_cost_is_refunded(emu: ShopifyEmulator) -> None:
    emu.load(shop(3))
    for _ in range(20):  # requested 252 each, actual 5: never throttled
        body = post(emu, TOKEN_A, ORDERS_250).json()
        assert "errors" not in body
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000 - 20 * 5


def test_a_query_over_the_single_query_limit_is_refused(emu: ShopifyEmulator) -> None:
    query = "query Huge { orders(first: 250) { nodes { lineItems(first: 10) { nodes { id } } } } }"
    body = post(emu, TOKEN_A, query).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 250 * 13
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000.0


def test_rate_limits_can_be_switched_off_by_the_sandbox(emu: ShopifyEmulator) -> None:
    emu.enforce_rate_limits = False
    for _ in range(12):
        assert "errors" not in post(emu, TOKEN_A, ORDERS_250).json()


# -- versions --------------------------------------------------------------------------------------


def test_the_supported_window_on_a_given_day() -> None:
    assert versions.supported_versions(TODAY) == ("2026-01", "2026-04", "2026-07", "2026-10")
    assert versions.release_candidate(TODAY) == "2027-01"
    assert versions.supported_versions(date(2027, 1, 1)) == ("2026-04", "2026-07", "2026-10", "2027-01")


@pytest.mark.parametrize(
    ("asked", "status", "answered"),
    [
        ("2026-10", 200, "2026-10"),
        ("2026-01", 200, "2026-01"),
        ("2027-01", 200, "2027-01"),  # the release candidate
        ("unstable", 200, "unstable"),
        ("2025-10", 200, "2026-01"),  # retired in October 2026: falls forward to the oldest supported
        ("2024-01", 200, "2026-01"),
        ("2099-01", 404, None),  # never existed
        ("2026-05", 404, None),  # not a release month
        ("latest", 404, None),
    ],
)
def test_versions_are_served_fallen_forward_or_refused(emu: ShopifyEmulator, asked: str, status: int, answered: str | None) -> None:
    response = post(emu, TOKEN_A, "query V { shop { name } }", version=asked)
    assert response.status_code == status
    assert response.headers.get(versions.VERSION_HEADER) == answered
    if status == 404:
        assert response.json() == {"errors": "Not Found"}
    else:
        assert_conforms(SCHEMA, "query V { shop { name } }", response.json())
