"""The Shopify emulator grants what Shopify grants: tokens belong to apps, and what each app sees,
deletes and is refused follows from whose objects they are. Every answer is checked against the
schema subset (``graphql_shapes``)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from graphql_shapes import assert_conforms, plain_schema

from providers.sdk.errors import ConfigError
from providers.shopify.emulator import MSG_UNAUTHORIZED, ShopifyEmulator

DEMO = Path(__file__).resolve().parents[3] / "providers" / "shopify" / "demo.yaml"
LUMEN = "shpat_demo_admin"  # Lumen Ops: read/write shipping and fulfillments, read orders
LUMEN_RO = "shpat_demo_readonly"
LEGACY = "shpat_legacy_demo"  # LegacyERP Connector: read_orders, read/write shipping
NORDHUB = "shpat_nordhub_demo"  # Nordhub: orders and fulfillments, no shipping
TODAY = date(2026, 12, 6)
SCHEMA = plain_schema()

WEBHOOKS = "query Hooks { webhookSubscriptions(first: 50) { nodes { id topic uri format apiVersion { handle supported } } pageInfo { hasNextPage endCursor } } }"
CARRIERS = "query Carriers { carrierServices(first: 50) { edges { cursor node { id name active callbackUrl } } } }"
FULFILLMENTS = "query Fulfillments { shop { fulfillmentServices { id serviceName handle location { id name } } } }"
INSTALLATION = (
    "query Installation { currentAppInstallation { app { id title handle } accessScopes { handle } "
    "activeSubscriptions { id name status } allSubscriptions(first: 10) { nodes { id name status currentPeriodEnd "
    "lineItems { plan { pricingDetails { __typename ... on AppRecurringPricing { interval price { amount currencyCode } } } } } } } } }"
)
DELETE_HOOK = "mutation Del($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }"
DELETE_CARRIER = "mutation DelC($id: ID!) { carrierServiceDelete(id: $id) { deletedId userErrors { code field message } } }"
DELETE_FULFILLMENT = "mutation DelF($id: ID!) { fulfillmentServiceDelete(id: $id) { deletedId userErrors { field message } } }"
CANCEL = "mutation Cancel($id: ID!) { appSubscriptionCancel(id: $id) { appSubscription { id status currentPeriodEnd } userErrors { field message } } }"
UNINSTALL = "mutation Bye { appUninstall { app { id title } userErrors { field message } } }"


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def demo() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))["shopify"]
    return loaded


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> ShopifyEmulator:
    emulator = ShopifyEmulator(clock=clock, today=lambda: TODAY)
    emulator.load(demo())
    return emulator


def send(
    emu: ShopifyEmulator, token: str, query: str, variables: dict[str, Any] | None = None, version: str = "2026-10"
) -> httpx.Response:
    path = f"/demo-shop/admin/api/{version}/graphql.json"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = httpx.Request(
        "POST", f"http://127.0.0.1/shopify{path}", headers={"X-Shopify-Access-Token": token}, content=body
    )
    return emu.handle(request, path)


def gql(emu: ShopifyEmulator, token: str, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A 200 answer, checked against the schema for ``query``."""
    response = send(emu, token, query, variables, **kw)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_conforms(SCHEMA, query, body)
    return body


def ids(nodes: list[dict[str, Any]]) -> set[int]:
    return {int(node["id"].rsplit("/", 1)[1]) for node in nodes}


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in body.get("errors", [])]


# -- ownership: webhook subscriptions ---------------------------------------------------------


def test_each_app_lists_only_its_own_webhook_subscriptions(emu: ShopifyEmulator) -> None:
    lumen = gql(emu, LUMEN, WEBHOOKS)["data"]["webhookSubscriptions"]["nodes"]
    legacy = gql(emu, LEGACY, WEBHOOKS)["data"]["webhookSubscriptions"]["nodes"]
    nordhub = gql(emu, NORDHUB, WEBHOOKS)["data"]["webhookSubscriptions"]["nodes"]
    assert ids(lumen) == {4759306, 4759307, 4759309}
    assert ids(legacy) == {4759310, 4759311}
    assert ids(nodhub := nordhub) == {4759308}, nodhub
    # the one made in the admin is invisible to every app
    assert 4759312 not in ids(lumen) | ids(legacy) | ids(nordhub)
    assert {n["apiVersion"]["handle"] for n in lumen} == {"2026-10"}
    assert all(n["apiVersion"]["supported"] for n in lumen)


def test_deleting_another_apps_webhook_is_answered_as_if_it_did_not_exist(emu: ShopifyEmulator) -> None:
    foreign = gql(emu, LUMEN, DELETE_HOOK, {"id": "gid://shopify/WebhookSubscription/4759310"})
    unknown = gql(emu, LUMEN, DELETE_HOOK, {"id": "gid://shopify/WebhookSubscription/999"})
    admin_made = gql(emu, LUMEN, DELETE_HOOK, {"id": "gid://shopify/WebhookSubscription/4759312"})
    for body in (foreign, unknown, admin_made):
        payload = body["data"]["webhookSubscriptionDelete"]
        assert payload["deletedWebhookSubscriptionId"] is None
        assert payload["userErrors"] == [{"field": ["id"], "message": "Webhook subscription does not exist"}]
    kept = {o["id"] for o in emu.dump()["demo-shop"]["webhook_subscriptions"]}
    assert {4759310, 4759312} <= kept


def test_an_app_deletes_its_own_webhook_and_it_is_gone(emu: ShopifyEmulator) -> None:
    body = gql(emu, LUMEN, DELETE_HOOK, {"id": "gid://shopify/WebhookSubscription/4759306"})
    payload = body["data"]["webhookSubscriptionDelete"]
    assert payload == {"deletedWebhookSubscriptionId": "gid://shopify/WebhookSubscription/4759306", "userErrors": []}
    assert 4759306 not in {o["id"] for o in emu.dump()["demo-shop"]["webhook_subscriptions"]}
    node = gql(emu, LUMEN, "query N($id: ID!) { node(id: $id) { id } }", {"id": "gid://shopify/WebhookSubscription/4759306"})
    assert node["data"]["node"] is None


def test_node_does_not_reveal_another_apps_webhook_or_charge(emu: ShopifyEmulator) -> None:
    query = "query N($id: ID!) { node(id: $id) { __typename id } }"
    assert gql(emu, LUMEN, query, {"id": "gid://shopify/WebhookSubscription/4759310"})["data"]["node"] is None
    assert gql(emu, LUMEN, query, {"id": "gid://shopify/AppSubscription/455696195"})["data"]["node"] is None
    seen = gql(emu, LEGACY, query, {"id": "gid://shopify/AppSubscription/455696195"})["data"]["node"]
    assert seen == {"__typename": "AppSubscription", "id": "gid://shopify/AppSubscription/455696195"}


# -- carrier and fulfillment services: the shop's list, changed only by their app --------------


def test_carrier_services_are_the_shops_whole_list_for_any_app_with_read_shipping(emu: ShopifyEmulator) -> None:
    for token in (LUMEN, LUMEN_RO, LEGACY):
        edges = gql(emu, token, CARRIERS)["data"]["carrierServices"]["edges"]
        assert ids([e["node"] for e in edges]) == {1036894960, 1036894961}


def test_an_app_cannot_delete_another_apps_carrier_service(emu: ShopifyEmulator) -> None:
    body = gql(emu, LUMEN, DELETE_CARRIER, {"id": "gid://shopify/DeliveryCarrierService/1036894961"})
    payload = body["data"]["carrierServiceDelete"]
    assert payload["deletedId"] is None
    assert payload["userErrors"][0]["code"] == "CARRIER_SERVICE_DELETE_FAILED"
    assert 1036894961 in {o["id"] for o in emu.dump()["demo-shop"]["carrier_services"]}
    own = gql(emu, LUMEN, DELETE_CARRIER, {"id": "gid://shopify/DeliveryCarrierService/1036894960"})
    assert own["data"]["carrierServiceDelete"] == {
        "deletedId": "gid://shopify/DeliveryCarrierService/1036894960",
        "userErrors": [],
    }
    assert {o["id"] for o in emu.dump()["demo-shop"]["carrier_services"]} == {1036894961}


def test_fulfillment_services_are_listed_for_the_shop_and_deleted_only_by_their_app(emu: ShopifyEmulator) -> None:
    listed = gql(emu, LUMEN, FULFILLMENTS)["data"]["shop"]["fulfillmentServices"]
    assert ids(listed) == {611870435}
    assert listed[0]["location"]["name"] == "Nordhub Fulfillment"
    refused = gql(emu, LUMEN, DELETE_FULFILLMENT, {"id": "gid://shopify/FulfillmentService/611870435"})
    assert refused["data"]["fulfillmentServiceDelete"]["deletedId"] is None
    assert refused["data"]["fulfillmentServiceDelete"]["userErrors"]
    done = gql(emu, NORDHUB, DELETE_FULFILLMENT, {"id": "gid://shopify/FulfillmentService/611870435"})
    assert done["data"]["fulfillmentServiceDelete"]["userErrors"] == []
    assert emu.dump()["demo-shop"]["fulfillment_services"] == []


# -- app subscriptions: only the installation's own ----------------------------------------------


def test_each_app_sees_only_its_own_subscriptions(emu: ShopifyEmulator) -> None:
    lumen = gql(emu, LUMEN, INSTALLATION)["data"]["currentAppInstallation"]
    legacy = gql(emu, LEGACY, INSTALLATION)["data"]["currentAppInstallation"]
    assert lumen["app"]["title"] == "Lumen Ops" and lumen["allSubscriptions"]["nodes"] == []
    assert legacy["app"] == {"id": legacy["app"]["id"], "title": "LegacyERP Connector", "handle": "legacy-erp"}
    (pro,) = legacy["allSubscriptions"]["nodes"]
    assert pro["name"] == "Pro bundle" and pro["status"] == "ACTIVE"
    pricing = pro["lineItems"][0]["plan"]["pricingDetails"]
    assert pricing == {
        "__typename": "AppRecurringPricing",
        "interval": "EVERY_30_DAYS",
        "price": {"amount": "29.00", "currencyCode": "EUR"},
    }
    assert {s["handle"] for s in legacy["accessScopes"]} == {"read_orders", "read_shipping", "write_shipping"}


def test_only_the_billing_app_cancels_its_subscription(emu: ShopifyEmulator) -> None:
    gid = "gid://shopify/AppSubscription/455696195"
    refused = gql(emu, LUMEN, CANCEL, {"id": gid})["data"]["appSubscriptionCancel"]
    assert refused["appSubscription"] is None and refused["userErrors"]
    done = gql(emu, LEGACY, CANCEL, {"id": gid})["data"]["appSubscriptionCancel"]
    assert done == {"appSubscription": {"id": gid, "status": "CANCELLED", "currentPeriodEnd": None}, "userErrors": []}
    active = gql(emu, LEGACY, INSTALLATION)["data"]["currentAppInstallation"]["activeSubscriptions"]
    assert active == []
    again = gql(emu, LEGACY, CANCEL, {"id": gid})["data"]["appSubscriptionCancel"]
    assert again["userErrors"], "a second cancel is refused, not repeated"


# -- access scopes -----------------------------------------------------------------------------


def test_a_missing_scope_is_access_denied_naming_the_scope(emu: ShopifyEmulator) -> None:
    body = gql(emu, NORDHUB, CARRIERS)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["extensions"]["requiredAccess"] == "`read_shipping` access scope."
    assert error["path"] == ["carrierServices"]
    assert "read_shipping" in error["message"]


def test_a_read_only_token_cannot_delete_and_nothing_changes(emu: ShopifyEmulator) -> None:
    before = emu.dump()
    body = gql(emu, LUMEN_RO, DELETE_CARRIER, {"id": "gid://shopify/DeliveryCarrierService/1036894960"})
    assert error_codes(body) == ["ACCESS_DENIED"]
    assert "write_shipping" in body["errors"][0]["message"]
    assert emu.dump() == before


def test_orders_need_read_orders(emu: ShopifyEmulator) -> None:
    query = "query O { orders(first: 2) { nodes { id name totalPriceSet { shopMoney { amount currencyCode } } } pageInfo { hasNextPage endCursor } } }"
    body = gql(emu, LUMEN, query)
    assert [n["name"] for n in body["data"]["orders"]["nodes"]] == ["#1001", "#1002"]
    assert body["data"]["orders"]["pageInfo"]["hasNextPage"] is True
    emu.load({"demo-shop": {"apps": {"x": {"title": "X", "tokens": {"shpat_x": ["read_shipping"]}}}}})
    assert error_codes(gql(emu, "shpat_x", query)) == ["ACCESS_DENIED"]


def test_cursors_walk_every_page_once(emu: ShopifyEmulator) -> None:
    query = "query P($after: String) { orders(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    seen: list[int] = []
    after = None
    for _ in range(10):
        page = gql(emu, LUMEN, query, {"after": after})["data"]["orders"]
        seen.extend(ids(page["nodes"]))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [5012345601, 5012345602, 5012345603]
    bad = gql(emu, LUMEN, query, {"after": "not-a-cursor"})
    assert bad["data"] is None and bad["errors"]


def test_a_walk_survives_the_deletion_of_the_item_its_cursor_points_at(emu: ShopifyEmulator) -> None:
    query = "query W($after: String) { webhookSubscriptions(first: 1, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } }"
    first = gql(emu, LUMEN, query)["data"]["webhookSubscriptions"]
    assert ids(first["nodes"]) == {4759306}  # oldest first: the default sort is CREATED_AT
    gql(emu, LUMEN, DELETE_HOOK, {"id": "gid://shopify/WebhookSubscription/4759306"})
    second = gql(emu, LUMEN, query, {"after": first["pageInfo"]["endCursor"]})["data"]["webhookSubscriptions"]
    assert ids(second["nodes"]) == {4759307}
    third = gql(emu, LUMEN, query, {"after": second["pageInfo"]["endCursor"]})["data"]["webhookSubscriptions"]
    assert ids(third["nodes"]) == {4759309} and third["pageInfo"]["hasNextPage"] is False


def test_last_before_and_reverse_page_backwards(emu: ShopifyEmulator) -> None:
    query = "query B($before: String) { orders(last: 2, before: $before) { nodes { id } pageInfo { startCursor hasPreviousPage hasNextPage } } }"
    tail = gql(emu, LUMEN, query)["data"]["orders"]
    assert [int(n["id"].rsplit("/", 1)[1]) for n in tail["nodes"]] == [5012345602, 5012345603]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    head = gql(emu, LUMEN, query, {"before": tail["pageInfo"]["startCursor"]})["data"]["orders"]
    assert ids(head["nodes"]) == {5012345601} and head["pageInfo"]["hasPreviousPage"] is False
    backwards = gql(emu, LUMEN, "query R { orders(first: 3, reverse: true) { nodes { id } } }")["data"]["orders"]
    assert [int(n["id"].rsplit("/", 1)[1]) for n in backwards["nodes"]] == [5012345603, 5012345602, 5012345601]


def test_a_connection_without_first_or_last_is_refused(emu: ShopifyEmulator) -> None:
    body = gql(emu, LUMEN, "{ webhookSubscriptions { nodes { id } } }")
    assert body["data"] is None
    assert "first or last" in body["errors"][0]["message"]


# -- the app's own uninstall -----------------------------------------------------------------------


def test_uninstall_deletes_the_apps_webhooks_ends_its_charges_and_revokes_its_token(emu: ShopifyEmulator) -> None:
    body = gql(emu, LEGACY, UNINSTALL)
    assert body["data"]["appUninstall"]["app"]["title"] == "LegacyERP Connector"
    assert send(emu, LEGACY, WEBHOOKS).status_code == 401
    state = emu.dump()["demo-shop"]
    assert state["apps"]["legacy-erp"]["tokens"] == {}
    assert not [o for o in state["webhook_subscriptions"] if o.get("app") == "legacy-erp"]
    # carrier services are not among what Shopify documents it removes on uninstall
    assert [o["id"] for o in state["carrier_services"] if o.get("app") == "legacy-erp"] == [1036894961]
    assert [o["status"] for o in state["app_subscriptions"] if o.get("app") == "legacy-erp"] == ["CANCELLED"]
    # Lumen Ops is untouched
    assert ids(gql(emu, LUMEN, WEBHOOKS)["data"]["webhookSubscriptions"]["nodes"]) == {4759306, 4759307, 4759309}


# -- authentication, paths, request logs ---------------------------------------------------------


def test_an_unknown_token_is_401_in_shopifys_words(emu: ShopifyEmulator) -> None:
    response = send(emu, "shpat_nope", WEBHOOKS)
    assert response.status_code == 401
    assert response.json() == {"errors": MSG_UNAUTHORIZED}
    assert send(emu, "", WEBHOOKS).status_code == 401


def test_rest_paths_and_unknown_shops_are_not_found(emu: ShopifyEmulator) -> None:
    request = httpx.Request("GET", "http://h/shopify/demo-shop/admin/api/2026-10/webhooks.json", headers={"X-Shopify-Access-Token": LUMEN})
    assert emu.handle(request, "/demo-shop/admin/api/2026-10/webhooks.json").status_code == 404
    other = httpx.Request("POST", "http://h/shopify/nope/admin/api/2026-10/graphql.json", headers={"X-Shopify-Access-Token": LUMEN})
    assert emu.handle(other, "/nope/admin/api/2026-10/graphql.json").status_code == 404


def test_invalid_graphql_is_answered_with_errors_and_no_data(emu: ShopifyEmulator) -> None:
    response = send(emu, LUMEN, "{ webhookSubscriptions(first: 1) { nodes { callbackUrl } } }")
    assert response.status_code == 200
    assert "callbackUrl" in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


def test_the_sandbox_log_names_the_graphql_operation() -> None:
    from providers.sandbox import Sandbox

    sandbox = Sandbox([ShopifyEmulator(today=lambda: TODAY)])
    sandbox.load_scenario({"shopify": demo()})
    request = httpx.Request(
        "POST",
        "http://127.0.0.1/shopify/demo-shop/admin/api/2026-10/graphql.json",
        headers={"X-Shopify-Access-Token": LUMEN},
        content=json.dumps({"query": WEBHOOKS}).encode(),
    )
    assert sandbox.handle(request).status_code == 200
    (entry,) = sandbox.requests()
    assert entry.get("operation") == "Hooks", entry
    assert LUMEN not in json.dumps(entry)


# -- scenario ------------------------------------------------------------------------------------


def test_unquoted_yaml_timestamps_become_the_apis_text() -> None:
    section = yaml.safe_load("s: {orders: [{id: 1, name: '#1', createdAt: 2026-03-01T10:00:00+01:00}]}")
    emulator = ShopifyEmulator(today=lambda: TODAY)
    emulator.load(section)
    assert emulator.dump()["s"]["orders"][0]["createdAt"] == "2026-03-01T09:00:00Z"


def test_dump_gives_back_the_scenario_layout(emu: ShopifyEmulator) -> None:
    state = emu.dump()["demo-shop"]
    assert state["apps"]["lumen-ops"]["title"] == "Lumen Ops"
    dpd = next(o for o in state["carrier_services"] if o["id"] == 1036894960)
    assert dpd["name"] == "DPD Rates" and dpd["app"] == "lumen-ops" and dpd["callbackUrl"].startswith("https://")
    hook = next(o for o in state["webhook_subscriptions"] if o["id"] == 4759306)
    assert hook["topic"] == "ORDERS_CREATE" and hook["format"] == "JSON" and hook["includeFields"] == []
    again = ShopifyEmulator(today=lambda: TODAY)
    again.load(copy.deepcopy(emu.dump()))
    assert again.dump() == emu.dump()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"tokens": {"t": []}}, "tokens now belong to apps"),
        ({"webhook_subscriptions": [{"topic": "ORDERS_CREATE", "uri": "https://x", "app": "ghost"}]}, "'ghost' is not an app"),
        ({"webhook_subscriptions": [{"topic": "orders/create", "uri": "https://x"}]}, "is not a WebhookSubscriptionTopic"),
        ({"carrier_services": [{"id": 5, "name": "A"}, {"id": 5, "name": "B"}]}, "appears twice"),
        ({"app_subscriptions": [{"name": "P", "price": "29 euros"}]}, "money is written"),
        ({"plan": "gold"}, "not one of"),
        ({"orders": [{"name": "#1", "createdAt": "yesterday"}]}, "ISO-8601"),
    ],
)
def test_a_bad_scenario_is_refused_with_its_path(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        ShopifyEmulator().load({"s": change})
