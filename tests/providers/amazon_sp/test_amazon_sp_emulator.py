"""The SP-API emulator on its own: Login with Amazon, access control, limits, state, scenarios."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from amazon_sp_support import CREDENTIALS, ENDPOINT, SELLER, Client, demo_section, harness

from engine.errors import ConfigError
from providers.amazon_sp.emulator import AmazonSPEmulator

# -- Login with Amazon -------------------------------------------------------------------------


def test_refresh_token_grant_issues_an_hour_long_bearer_token() -> None:
    c = Client()
    response = c.call("POST", "/auth/o2/token", form={"grant_type": "refresh_token", **CREDENTIALS})
    body = response.json()
    assert response.status_code == 200
    assert body["access_token"].startswith("Atza|") and body["token_type"] == "bearer"
    assert body["expires_in"] == 3600 and body["refresh_token"] == CREDENTIALS["refresh_token"]


def test_client_credentials_grant_issues_a_grantless_token_for_the_scope() -> None:
    c = Client()
    form = {
        "grant_type": "client_credentials",
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
        "scope": "sellingpartnerapi::notifications",
    }
    body = c.call("POST", "/auth/o2/token", form=form).json()
    assert body["scope"] == "sellingpartnerapi::notifications" and body["expires_in"] == 3600
    assert "refresh_token" not in body


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {"grant_type": "refresh_token", **CREDENTIALS, "refresh_token": "Atzr|unknown"},
            400,
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", **CREDENTIALS, "client_secret": "wrong"}, 401, "invalid_client"),
        (
            {
                "grant_type": "refresh_token",
                "client_id": CREDENTIALS["client_id"],
                "client_secret": CREDENTIALS["client_secret"],
            },
            400,
            "invalid_request",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": CREDENTIALS["client_id"],
                "client_secret": CREDENTIALS["client_secret"],
                "scope": "sellingpartnerapi::everything",
            },
            400,
            "invalid_scope",
        ),
        ({"grant_type": "password", **CREDENTIALS}, 400, "unsupported_grant_type"),
    ],
)
def test_lwa_errors(form: dict[str, str], status: int, error: str) -> None:
    response = Client().call("POST", "/auth/o2/token", form=form)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]


def test_lwa_also_accepts_a_json_body() -> None:
    c = Client()
    response = c.call("POST", "/auth/o2/token", json_body={"grant_type": "refresh_token", **CREDENTIALS})
    assert response.status_code == 200


# -- access control ----------------------------------------------------------------------------


def test_a_missing_token_is_denied_with_the_documented_body() -> None:
    response = Client().call("PUT", "/shipping/v2/carrierAccounts", json_body={})
    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
        ]
    }
    assert response.headers["x-amzn-RequestId"]


def test_unknown_and_expired_tokens() -> None:
    c = Client()
    assert (
        c.call("PUT", "/shipping/v2/carrierAccounts", token="Atza|made-up", json_body={}).status_code == 401
    )
    token = c.seller_token()
    c.clock.advance(3600)
    expired = c.call("PUT", "/shipping/v2/carrierAccounts", token=token, json_body={})
    assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["details"]


def test_grantless_operations_take_only_grantless_tokens_and_vice_versa() -> None:
    c = Client()
    seller, grantless = c.seller_token(), c.grantless_token()
    refused = c.call("GET", "/notifications/v1/destinations", token=seller)
    assert refused.status_code == 403 and "grantless" in refused.json()["errors"][0]["details"]
    assert c.call("GET", "/notifications/v1/destinations", token=grantless).status_code == 200
    wrong = c.call(
        "GET",
        "/notifications/v1/subscriptions",
        token=grantless,
        params={"notificationTypes": "ORDER_CHANGE"},
    )
    assert wrong.status_code == 403
    assert c.call("PUT", "/shipping/v2/carrierAccounts", token=grantless, json_body={}).status_code == 403


def test_the_tenant_comes_from_the_token() -> None:
    section = demo_section()
    other = copy.deepcopy(section[SELLER])
    other["lwa"]["refresh_token"] = "Atzr|other"
    other["carrier_accounts"] = [{"accountId": "ROYAL-1", "carrierId": "ROYAL_MAIL"}]
    other["destinations"], other["subscriptions"] = [], {}
    section["A1OTHERSELLER"] = other
    c = Client(section)
    mine = c.call("PUT", "/shipping/v2/carrierAccounts", token=c.seller_token(), json_body={}).json()
    theirs = c.call(
        "PUT", "/shipping/v2/carrierAccounts", token=c.seller_token(refresh_token="Atzr|other"), json_body={}
    ).json()
    assert [a["accountId"] for a in mine["activeAccounts"]] == ["DPD-4711", "HERMES-0815"]
    assert [a["accountId"] for a in theirs["activeAccounts"]] == ["ROYAL-1"]


def test_a_seller_without_the_role_is_denied() -> None:
    section = demo_section()
    section[SELLER]["lwa"]["roles"] = ["sellingpartnerapi::notifications"]
    c = Client(section)
    token = c.seller_token()
    assert c.call("PUT", "/shipping/v2/carrierAccounts", token=token, json_body={}).status_code == 403
    ok = c.call(
        "GET", "/notifications/v1/subscriptions", token=token, params={"notificationTypes": "ORDER_CHANGE"}
    )
    assert ok.status_code == 200


# -- rate limits -------------------------------------------------------------------------------


def test_token_buckets_per_operation_on_the_injected_clock() -> None:
    c = Client()
    token = c.grantless_token()
    statuses = [c.call("GET", "/notifications/v1/destinations", token=token).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    throttled = c.call("GET", "/notifications/v1/destinations", token=token)
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    assert "retry-after" not in throttled.headers
    # another operation has its own bucket
    assert c.call("GET", "/notifications/v1/destinations/dest-legacy", token=token).status_code == 200
    c.clock.advance(1.0)
    ok = c.call("GET", "/notifications/v1/destinations", token=token)
    assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"] == "1.0"
    c.emulator.enforce_rate_limits = False
    assert {c.call("GET", "/notifications/v1/destinations", token=token).status_code for _ in range(20)} == {
        200
    }


def test_shipping_buckets_are_deep() -> None:
    c = Client()
    token = c.seller_token()
    statuses = [
        c.call("PUT", "/shipping/v2/carrierAccounts", token=token, json_body={}).status_code
        for _ in range(101)
    ]
    assert statuses.count(200) == 100 and statuses[-1] == 429


# -- state -------------------------------------------------------------------------------------


def test_pages_of_subscriptions_and_their_validation() -> None:
    section = demo_section()
    section[SELLER]["subscriptions"]["ORDER_CHANGE"] = [
        {"subscriptionId": f"s{i}", "destinationId": "dest-legacy"} for i in range(45)
    ]
    c = Client(section)
    c.emulator.enforce_rate_limits = False
    token = c.seller_token()
    first = c.call(
        "GET", "/notifications/v1/subscriptions", token=token, params={"notificationTypes": "ORDER_CHANGE"}
    )
    page = first.json()["payload"]
    assert len(page["subscriptions"]) == 30 and page["nextToken"]
    second = c.call(
        "GET",
        "/notifications/v1/subscriptions",
        token=token,
        params={"notificationTypes": "ORDER_CHANGE", "nextToken": page["nextToken"]},
    ).json()["payload"]
    assert len(second["subscriptions"]) == 15 and "nextToken" not in second
    assert second["subscriptions"][0]["subscriptionId"] == "s30"
    for params in (
        {"notificationTypes": "ORDER_CHANGE", "pageSize": "10"},
        {"notificationTypes": "ORDER_CHANGE,ANY_OFFER_CHANGED"},
        {},
        {"notificationTypes": "ANY_OFFER_CHANGED", "nextToken": page["nextToken"]},
        {"notificationTypes": "ORDER_CHANGE", "nextToken": "garbage!"},
    ):
        bad = c.call("GET", "/notifications/v1/subscriptions", token=token, params=params)
        assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "InvalidInput", params


def test_create_and_delete_round_trip_and_conflicts() -> None:
    c = Client()
    c.emulator.enforce_rate_limits = False
    seller, grantless = c.seller_token(), c.grantless_token()
    created = c.call(
        "POST",
        "/notifications/v1/destinations",
        token=grantless,
        json_body={
            "name": "dpd-queue",
            "resourceSpecification": {"sqs": {"arn": "arn:aws:sqs:eu-west-1:1:dpd"}},
        },
    )
    dest = created.json()["payload"]
    assert created.status_code == 200 and dest["resource"] == {"sqs": {"arn": "arn:aws:sqs:eu-west-1:1:dpd"}}
    dup = c.call(
        "POST",
        "/notifications/v1/destinations",
        token=grantless,
        json_body={"name": "again", "resourceSpecification": {"sqs": {"arn": "arn:aws:sqs:eu-west-1:1:dpd"}}},
    )
    assert dup.status_code == 409
    sub = c.call(
        "POST",
        "/notifications/v1/subscriptions/FEED_PROCESSING_FINISHED",
        token=seller,
        json_body={"payloadVersion": "1.0", "destinationId": dest["destinationId"]},
    )
    assert sub.status_code == 200
    twice = c.call(
        "POST",
        "/notifications/v1/subscriptions/FEED_PROCESSING_FINISHED",
        token=seller,
        json_body={"payloadVersion": "1.0", "destinationId": dest["destinationId"]},
    )
    assert twice.status_code == 409
    in_use = c.call("DELETE", f"/notifications/v1/destinations/{dest['destinationId']}", token=grantless)
    assert (
        in_use.status_code == 409
        and sub.json()["payload"]["subscriptionId"] in in_use.json()["errors"][0]["details"]
    )
    sub_id = sub.json()["payload"]["subscriptionId"]
    assert (
        c.call(
            "DELETE", f"/notifications/v1/subscriptions/FEED_PROCESSING_FINISHED/{sub_id}", token=grantless
        ).status_code
        == 200
    )
    assert (
        c.call(
            "DELETE", f"/notifications/v1/destinations/{dest['destinationId']}", token=grantless
        ).status_code
        == 200
    )
    assert (
        c.call("GET", f"/notifications/v1/destinations/{dest['destinationId']}", token=grantless).status_code
        == 404
    )


def test_an_id_holding_an_encoded_slash_stays_one_path_segment() -> None:
    """Clients send the id "../../x" as one segment, ``..%2F..%2Fx``; routing on the decoded path
    would split it at its slashes and answer 404 while the destination lives on."""
    section = demo_section()
    section[SELLER]["destinations"].append(
        {"destinationId": "../../x", "name": "evil", "resource": {"sqs": {"arn": "arn:aws:sqs:eu-west-1:1:evil"}}}
    )
    h = harness(section)
    with httpx.Client(transport=httpx.MockTransport(h.handler), base_url=ENDPOINT) as client:
        form = {
            "grant_type": "client_credentials",
            "client_id": CREDENTIALS["client_id"],
            "client_secret": CREDENTIALS["client_secret"],
            "scope": "sellingpartnerapi::notifications",
        }
        token = {"x-amz-access-token": client.post("/auth/o2/token", data=form).json()["access_token"]}
        found = client.get("/notifications/v1/destinations/..%2F..%2Fx", headers=token)
        deleted = client.delete("/notifications/v1/destinations/..%2F..%2Fx", headers=token)
        gone = client.get("/notifications/v1/destinations/..%2F..%2Fx", headers=token)
    assert found.status_code == 200 and found.json()["payload"]["destinationId"] == "../../x"
    assert deleted.status_code == 200
    assert gone.status_code == 404


def test_undeletable_types_answer_403_and_keep_the_subscription() -> None:
    section = demo_section()
    section[SELLER]["undeletable_types"] = ["ORDER_CHANGE"]
    c = Client(section)
    token = c.grantless_token()
    refused = c.call("DELETE", "/notifications/v1/subscriptions/ORDER_CHANGE/sub-legacy-1", token=token)
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "Unauthorized"
    assert (
        c.call("GET", "/notifications/v1/subscriptions/ORDER_CHANGE/sub-legacy-1", token=token).status_code
        == 200
    )


def test_link_then_unlink_a_carrier_account() -> None:
    c = Client()
    token = c.seller_token()
    headers = {"x-amzn-shipping-business-id": "AmazonShipping_UK"}
    linked = c.call(
        "PUT",
        "/shipping/v2/carrierAccounts/ROYAL_MAIL",
        token=token,
        headers=headers,
        json_body={
            "carrierAccountType": "SHIPPER_ACCOUNT",
            "carrierAccountAttributes": [{"attributeName": "ACCOUNT_NUMBER", "value": "12345"}],
        },
    )
    assert linked.status_code == 200 and linked.json()["registrationStatus"] == "ACTIVE"
    account_id = linked.json()["accountId"]
    unlink = c.call(
        "PUT",
        "/shipping/v2/carrierAccounts/ROYAL_MAIL/unlink",
        token=token,
        headers=headers,
        json_body={"accountId": account_id, "merchantId": ""},
    )
    assert unlink.status_code == 200 and unlink.json() == {"isUnlinked": True}
    gone = c.call(
        "PUT",
        "/shipping/v2/carrierAccounts/ROYAL_MAIL/unlink",
        token=token,
        json_body={"accountId": account_id},
    )
    assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == "NotFound"
    wrong_carrier = c.call(
        "PUT", "/shipping/v2/carrierAccounts/DHL/unlink", token=token, json_body={"accountId": "DPD-4711"}
    )
    assert wrong_carrier.status_code == 404
    bad_business = c.call(
        "PUT",
        "/shipping/v2/carrierAccounts",
        token=token,
        json_body={},
        headers={"x-amzn-shipping-business-id": "AmazonShipping_DE"},
    )
    assert bad_business.status_code == 400


def test_form_inputs_accept_the_model_examples_field_names() -> None:
    section = demo_section()
    section[SELLER]["linkable_carriers"] = [
        {"carrierId": "FedEx", "linkableAccountTypes": [{"accountTypeId": "", "carrierAccountInputs": []}]}
    ]
    c = Client(section)
    body = c.call("GET", "/shipping/v2/carrierAccountFormInputs", token=c.seller_token()).json()
    assert body == {
        "linkableCarriersList": [
            {
                "carrierId": "FedEx",
                "linkableAccountTypes": [{"accountType": "SHIPPER_ACCOUNT", "carrierAccountInputs": []}],
            }
        ]
    }


def test_unknown_paths_answer_404() -> None:
    c = Client()
    assert c.call("GET", "/orders/v0/orders", token=c.seller_token()).status_code == 404
    assert c.call("PATCH", "/notifications/v1/destinations", token=c.grantless_token()).status_code == 404


# -- scenarios ---------------------------------------------------------------------------------


def test_defaults_are_filled_and_dump_round_trips() -> None:
    section = demo_section()
    section[SELLER]["subscriptions"]["ORDER_CHANGE"] = [{"destinationId": "dest-legacy"}]
    section[SELLER]["destinations"].append(
        {"destinationId": "dest-bare", "resource": {"eventBridge": {"region": "eu-west-1", "accountId": "1"}}}
    )
    c = Client(section)
    state = c.emulator.dump()
    [sub] = state[SELLER]["subscriptions"]["ORDER_CHANGE"]
    assert sub["payloadVersion"] == "1.0" and sub["subscriptionId"]
    bare = state[SELLER]["destinations"][-1]
    assert bare["name"] == "dest-bare" and bare["resource"]["eventBridge"]["name"].startswith("aws.partner/")
    again = AmazonSPEmulator()
    again.load(copy.deepcopy(state))
    assert again.dump() == state
    assert json.loads(json.dumps(state)) == state


def test_dump_does_not_share_objects_with_the_emulator() -> None:
    c = Client()
    state = c.emulator.dump()
    state[SELLER]["carrier_accounts"].clear()
    assert len(c.emulator.dump()[SELLER]["carrier_accounts"]) == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s[SELLER].pop("lwa"), "lwa"),
        (
            lambda s: s[SELLER]["subscriptions"]["ORDER_CHANGE"][0].update(destinationId="nowhere"),
            "unknown destination",
        ),
        (
            lambda s: s[SELLER]["carrier_accounts"].append({"accountId": "DPD-4711", "carrierId": "DPD"}),
            "twice",
        ),
        (lambda s: s[SELLER]["destinations"][0].update(resource={"sqs": {"arn": "not-an-arn"}}), "arn"),
        (lambda s: s[SELLER].update(carriers=[]), "unknown keys"),
        (lambda s: s[SELLER]["lwa"].update(roles=["admin"]), "roles"),
    ],
)
def test_bad_scenarios_are_config_errors(mutate: Any, message: str) -> None:
    section = demo_section()
    mutate(section)
    with pytest.raises(ConfigError, match=message):
        AmazonSPEmulator().load(section)


def test_reload_forgets_issued_tokens() -> None:
    c = Client()
    token = c.seller_token()
    c.emulator.load(demo_section())
    assert c.call("PUT", "/shipping/v2/carrierAccounts", token=token, json_body={}).status_code == 401
