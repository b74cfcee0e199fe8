"""EbayEmulator on its own: auth, scopes, validation, paging, quotas, scenario load and dump."""

from __future__ import annotations

import copy
import time

import httpx
import pytest

from providers.ebay import api
from providers.ebay.emulator import EbayEmulator

POLICIES = "/sell/account/v1/fulfillment_policy"
SUBSCRIPTIONS = "/commerce/notification/v1/subscription"


def error_of(response) -> dict:
    errors = response.json()["errors"]
    assert len(errors) == 1
    return errors[0]


def test_a_missing_or_unknown_token_is_401_invalid_access_token(send) -> None:
    for token in (None, "v^1.1#nobody"):
        response = send("GET", POLICIES, token=token, marketplace_id="EBAY_DE")
        assert response.status_code == 401
        assert error_of(response)["errorId"] == 1001
        assert error_of(response)["message"] == "Invalid access token"


def test_each_operation_checks_its_scopes(send) -> None:
    assert send("GET", POLICIES, token="v^1.1#readonly", marketplace_id="EBAY_DE").status_code == 200
    for method, path in (("DELETE", POLICIES + "/6196932001"), ("DELETE", SUBSCRIPTIONS + "/8cd7d4b3")):
        response = send(method, path, token="v^1.1#readonly")
        assert response.status_code == 403
        assert (error_of(response)["errorId"], error_of(response)["message"]) == (1100, "Access denied")


def test_marketplace_id_is_required_and_checked(send) -> None:
    missing = send("GET", POLICIES)
    assert missing.status_code == 400 and error_of(missing)["errorId"] == 20401
    assert error_of(missing)["parameters"] == [{"name": "fieldName", "value": "marketplace_id"}]
    invalid = send("GET", POLICIES, marketplace_id="GERMANY")
    assert invalid.status_code == 400 and error_of(invalid)["errorId"] == 20403
    empty = send("GET", POLICIES, marketplace_id="EBAY_US")
    assert empty.status_code == 200 and empty.json() == {"total": 0, "fulfillmentPolicies": []}


def test_policies_are_listed_per_marketplace_with_spec_defaults(send) -> None:
    body = send("GET", POLICIES, marketplace_id="EBAY_DE").json()
    assert body["total"] == 2
    hermes = body["fulfillmentPolicies"][1]
    assert hermes["fulfillmentPolicyId"] == "6196932001" and hermes["marketplaceId"] == "EBAY_DE"
    assert hermes["categoryTypes"] == [{"name": "ALL_EXCLUDING_MOTORS_VEHICLES", "default": False}]
    assert hermes["localPickup"] is False and hermes["handlingTime"] == {"value": 2, "unit": "DAY"}
    assert "default" not in body["fulfillmentPolicies"][0]  # the scenario shorthand is not served
    assert body["fulfillmentPolicies"][0]["categoryTypes"][0]["default"] is True


def test_deletes_answer_204_then_404_with_the_errorid(send) -> None:
    assert send("DELETE", POLICIES + "/6196932001").status_code == 204
    again = send("DELETE", POLICIES + "/6196932001")
    assert again.status_code == 404 and error_of(again)["errorId"] == 20404
    assert send("GET", POLICIES + "/6196932001").status_code == 404
    assert send("DELETE", SUBSCRIPTIONS + "/8cd7d4b3").status_code == 204
    gone = send("GET", SUBSCRIPTIONS + "/8cd7d4b3")
    assert gone.status_code == 404 and error_of(gone)["errorId"] == 195013


def test_a_default_policy_cannot_be_deleted(send) -> None:
    response = send("DELETE", POLICIES + "/6196940000")
    assert response.status_code == 409
    assert error_of(response)["errorId"] == 20409 and error_of(response)["category"] == "BUSINESS"
    assert send("GET", POLICIES + "/6196940000").status_code == 200


def test_subscription_paging_checks_limit_and_token(send, emulator, scenario) -> None:
    scenario["demo-seller"]["subscriptions"] = [
        {"subscriptionId": f"s{n:02d}", "topicId": "ITEM_MARKED_SHIPPED"} for n in range(23)
    ]
    emulator.load(scenario)

    first = send("GET", SUBSCRIPTIONS).json()
    assert first["limit"] == 20 and first["total"] == 23 and len(first["subscriptions"]) == 20
    assert first["next"].startswith("http://127.0.0.1:8787/ebay/commerce/notification/v1/subscription?")
    token = first["next"].split("continuation_token=")[1]
    second = send("GET", SUBSCRIPTIONS, limit="20", continuation_token=token).json()
    assert [s["subscriptionId"] for s in second["subscriptions"]] == ["s20", "s21", "s22"]
    assert "next" not in second
    for limit in ("9", "101", "ten"):
        bad = send("GET", SUBSCRIPTIONS, limit=limit)
        assert bad.status_code == 400 and error_of(bad)["errorId"] == 195004
    forged = send("GET", SUBSCRIPTIONS, continuation_token="not-a-token")
    assert forged.status_code == 400 and error_of(forged)["errorId"] == 195005


def test_daily_quota_answers_429_and_resets_the_next_day(send, emulator, clock) -> None:
    emulator.daily_quotas[api.API_COMMERCE_NOTIFICATION] = 2
    assert [send("GET", SUBSCRIPTIONS).status_code for _ in range(3)] == [200, 200, 429]
    refused = send("GET", SUBSCRIPTIONS)
    assert error_of(refused)["errorId"] == 2001 and "retry-after" not in refused.headers
    assert send("GET", POLICIES, marketplace_id="EBAY_DE").status_code == 200  # another API's quota
    clock.advance(12 * 3600)  # past midnight Pacific
    assert send("GET", SUBSCRIPTIONS).status_code == 200
    emulator.enforce_rate_limits = False
    assert [send("GET", SUBSCRIPTIONS).status_code for _ in range(3)] == [200, 200, 200]


def test_a_quota_in_the_scenario_overrides_the_default(send, emulator, scenario) -> None:
    scenario["demo-seller"]["quotas"] = {"sell.account": 1}
    emulator.load(scenario)
    assert [send("GET", POLICIES, marketplace_id="EBAY_DE").status_code for _ in range(2)] == [200, 429]
    assert emulator.dump()["demo-seller"]["quotas"] == {"sell.account": 1}


def test_tenants_are_found_from_the_token_and_kept_apart(send, emulator, scenario) -> None:
    scenario["other-seller"] = {
        "tokens": {"v^1.1#other": ["sell.account"]},
        "fulfillment_policies": {"EBAY_DE": [{"fulfillmentPolicyId": "7000000001", "name": "GLS"}]},
    }
    emulator.load(scenario)
    other = send("GET", POLICIES, token="v^1.1#other", marketplace_id="EBAY_DE").json()
    assert [p["name"] for p in other["fulfillmentPolicies"]] == ["GLS"]
    assert send("DELETE", POLICIES + "/6196932001", token="v^1.1#other").status_code == 404
    assert send("GET", POLICIES + "/6196932001").status_code == 200


def test_unknown_paths_and_methods_are_404(send) -> None:
    assert send("GET", "/sell/account/v1/return_policy", marketplace_id="EBAY_DE").status_code == 404
    assert send("PUT", SUBSCRIPTIONS + "/8cd7d4b3").status_code == 404
    assert send("GET", POLICIES + "/a/b").status_code == 404


def test_an_id_holding_an_encoded_slash_stays_one_path_segment(harness, emulator, scenario) -> None:
    """Clients send the id "../../x" as one segment, ``..%2F..%2Fx``; routing on the decoded path
    would split it at its slashes and answer 404 while the subscription lives on."""
    scenario["demo-seller"]["subscriptions"][0]["subscriptionId"] = "../../x"
    emulator.load(scenario)
    auth = {"Authorization": "Bearer v^1.1#demo"}
    with httpx.Client(transport=httpx.MockTransport(harness.serve), headers=auth) as client:
        url = "http://127.0.0.1:8787/ebay" + SUBSCRIPTIONS + "/..%2F..%2Fx"
        found = client.get(url)
        deleted = client.delete(url)
        gone = client.get(url)
    assert found.status_code == 200 and found.json()["subscriptionId"] == "../../x"
    assert deleted.status_code == 204
    assert gone.status_code == 404 and error_of(gone)["errorId"] == 195013


def test_dump_is_the_scenario_layout_and_loads_back_the_same(emulator, scenario, send) -> None:
    send("DELETE", SUBSCRIPTIONS + "/3f1c9a7e")
    dumped = emulator.dump()
    seller = dumped["demo-seller"]
    assert set(seller) == {"tokens", "fulfillment_policies", "subscriptions", "destinations"}
    assert [s["subscriptionId"] for s in seller["subscriptions"]] == ["8cd7d4b3"]
    assert seller["subscriptions"][0]["payload"] == {
        "format": "JSON",
        "schemaVersion": "1.0",
        "deliveryProtocol": "HTTPS",
    }
    assert seller["destinations"][1]["name"] == "legacyerp"
    again = EbayEmulator(clock=time.monotonic)
    again.load(copy.deepcopy(dumped))
    assert again.dump() == dumped
    dumped["demo-seller"]["subscriptions"].clear()
    assert emulator.dump()["demo-seller"]["subscriptions"]  # dump is a copy


def test_ids_are_kept_and_missing_ones_are_generated(emulator) -> None:
    emulator.load(
        {
            "s": {
                "tokens": {"t": ["sell.account"]},
                "fulfillment_policies": {"EBAY_GB": [{"name": "Evri"}]},
                "subscriptions": [{"topicId": "ORDER_CONFIRMATION"}],
            }
        }
    )
    seller = emulator.dump()["s"]
    assert seller["fulfillment_policies"]["EBAY_GB"][0]["fulfillmentPolicyId"] == "6200000000"
    assert seller["subscriptions"][0]["subscriptionId"] == "sub-0001"
    assert seller["tokens"] == {"t": [api.SCOPE_SELL_ACCOUNT]}


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        (
            {"a": {"tokens": {"t": ["sell.account"]}}, "b": {"tokens": {"t": ["sell.account"]}}},
            "given to both",
        ),
        (
            {
                "a": {
                    "fulfillment_policies": {
                        "EBAY_DE": [{"fulfillmentPolicyId": "1", "marketplaceId": "EBAY_GB"}]
                    }
                }
            },
            "marketplaceId EBAY_GB",
        ),
        ({"a": {"fulfillment_policies": {"Germany": []}}}, "not a marketplace id"),
        ({"a": {"webhooks": []}}, "unknown keys"),
        ({"a": {"subscriptions": [{"subscriptionId": "x"}]}}, "needs a topicId"),
        (
            {
                "a": {
                    "subscriptions": [
                        {"subscriptionId": "x", "topicId": "T"},
                        {"subscriptionId": "x", "topicId": "T"},
                    ]
                }
            },
            "appears twice",
        ),
        ({"a": {"quotas": {"sell.account": -1}}}, "quotas"),
    ],
)
def test_a_bad_scenario_is_refused_with_a_clear_message(emulator, section, fragment) -> None:
    before = emulator.dump()
    with pytest.raises(ValueError, match="ebay") as caught:
        emulator.load(section)
    assert fragment in str(caught.value)
    assert emulator.dump() == before  # nothing half-loaded


def test_the_emulator_is_fast_enough_for_the_sandbox(emulator) -> None:
    emulator.enforce_rate_limits = False
    headers = {"Authorization": "Bearer v^1.1#demo"}
    requests = [
        httpx.Request(
            "GET",
            "http://127.0.0.1:8787/ebay" + POLICIES,
            params={"marketplace_id": "EBAY_DE"},
            headers=headers,
        ),
        httpx.Request(
            "GET", "http://127.0.0.1:8787/ebay" + SUBSCRIPTIONS, params={"limit": "10"}, headers=headers
        ),
    ]
    started = time.perf_counter()
    for _ in range(1000):
        for request in requests:
            assert emulator.handle(request, request.url.path[len("/ebay") :]).status_code == 200
    assert time.perf_counter() - started < 2.0  # 2,000 requests; typically about 0.25 s
