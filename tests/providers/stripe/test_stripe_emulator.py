"""StripeEmulator on its own: the wire behaviour the client and the sandbox rely on."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from stripe_harness import ENDPOINT, FakeTime, Harness, Wire, demo_section, subscriptions

from engine.errors import ConfigError
from providers.stripe.emulator import StripeEmulator, mask_key

DEMO = Path(__file__).resolve().parents[3] / "providers" / "stripe" / "demo.yaml"


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def _emulator(clock: FakeTime, section: dict[str, Any]) -> tuple[StripeEmulator, Wire]:
    emulator = StripeEmulator(clock=clock.monotonic, wall_clock=clock.time)
    emulator.load(section)
    emulator.enforce_rate_limits = False
    return emulator, Wire(emulator)


def _ids(response: httpx.Response) -> list[str]:
    return [obj["id"] for obj in response.json()["data"]]


# -- lists -------------------------------------------------------------------------------------


def test_list_pages_by_cursor_both_ways(clock: FakeTime) -> None:
    _, call = _emulator(clock, {"acct_demo": {"api_keys": ["sk_test_demo"], "subscriptions": subscriptions(25)}})
    first = call("GET", "/v1/subscriptions")
    body = first.json()
    assert body["object"] == "list" and body["url"] == "/v1/subscriptions" and body["has_more"] is True
    assert _ids(first) == [f"sub_{i:04d}" for i in range(10)]  # default limit 10
    second = call("GET", "/v1/subscriptions", {"starting_after": "sub_0009", "limit": 10})
    assert _ids(second)[0] == "sub_0010" and second.json()["has_more"] is True
    last = call("GET", "/v1/subscriptions", {"starting_after": "sub_0019", "limit": 10})
    assert _ids(last) == [f"sub_{i:04d}" for i in range(20, 25)] and last.json()["has_more"] is False
    back = call("GET", "/v1/subscriptions", {"ending_before": "sub_0020", "limit": 3})
    assert _ids(back) == ["sub_0017", "sub_0018", "sub_0019"] and back.json()["has_more"] is True
    start = call("GET", "/v1/subscriptions", {"ending_before": "sub_0002", "limit": 5})
    assert _ids(start) == ["sub_0000", "sub_0001"] and start.json()["has_more"] is False


def test_newest_first(clock: FakeTime) -> None:
    subs = [{"id": "sub_old", "created": 1_600_000_000}, {"id": "sub_new", "created": 1_700_000_000}]
    _, call = _emulator(clock, {"acct_demo": {"api_keys": ["sk_test_demo"], "subscriptions": subs}})
    assert _ids(call("GET", "/v1/subscriptions")) == ["sub_new", "sub_old"]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"limit": 0}, 400, "greater than or equal to 1"),
        ({"limit": 101}, 400, "less than or equal to 100"),
        ({"limit": "ten"}, 400, "Invalid integer: ten"),
        ({"starting_after": "sub_0001", "ending_before": "sub_0003"}, 400, "only specify one of"),
        ({"starting_after": "sub_nope"}, 404, "No such subscription: 'sub_nope'"),
        ({"status": "gone"}, 400, "Invalid status: must be one of active, all"),
        ({"colour": "red"}, 400, "Received unknown parameter: colour"),
        ({"created": {"gte": 1}}, 400, "does not emulate"),
    ],
)
def test_list_refuses_bad_parameters(clock: FakeTime, params: dict[str, Any], status: int, fragment: str) -> None:
    _, call = _emulator(clock, {"acct_demo": {"api_keys": ["sk_test_demo"], "subscriptions": subscriptions(5)}})
    response = call("GET", "/v1/subscriptions", params)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_status_filter(clock: FakeTime) -> None:
    subs = [
        {"id": "sub_a", "status": "active"},
        {"id": "sub_c", "status": "canceled"},
        {"id": "sub_x", "status": "incomplete_expired"},
        {"id": "sub_t", "status": "trialing"},
    ]
    _, call = _emulator(clock, {"acct_demo": {"api_keys": ["sk_test_demo"], "subscriptions": subs}})
    assert _ids(call("GET", "/v1/subscriptions")) == ["sub_a", "sub_x", "sub_t"]
    assert _ids(call("GET", "/v1/subscriptions", {"status": "all"})) == ["sub_a", "sub_c", "sub_x", "sub_t"]
    assert _ids(call("GET", "/v1/subscriptions", {"status": "ended"})) == ["sub_c", "sub_x"]
    assert _ids(call("GET", "/v1/subscriptions", {"status": "trialing"})) == ["sub_t"]
    # a cursor that the filter hides still places the page
    assert _ids(call("GET", "/v1/subscriptions", {"status": "active", "starting_after": "sub_c"})) == []
    assert _ids(call("GET", "/v1/subscriptions", {"status": "trialing", "starting_after": "sub_c"})) == ["sub_t"]


def test_invoices_filter_by_subscription_and_page(clock: FakeTime) -> None:
    invoices = [{"id": f"in_{i:03d}", "subscription": "sub_1LegacyERP", "amount_due": 4900} for i in range(12)]
    invoices += [{"id": "in_z", "subscription": "sub_1Analytics", "amount_due": 2900}]
    _, call = _emulator(clock, demo_section(invoices=invoices))
    page = call("GET", "/v1/invoices", {"subscription": "sub_1LegacyERP", "limit": 5})
    assert page.json()["has_more"] and len(_ids(page)) == 5 and "in_z" not in _ids(page)
    assert _ids(page)[0] == "in_011"  # the newest invoice (the last listed) comes first
    rest = call("GET", "/v1/invoices", {"subscription": "sub_1LegacyERP", "limit": 100, "starting_after": _ids(page)[-1]})
    assert len(_ids(rest)) == 7 and not rest.json()["has_more"]
    assert _ids(call("GET", "/v1/invoices", {"subscription": "sub_1Analytics"})) == ["in_z"]
    assert _ids(call("GET", "/v1/invoices", {"subscription": "sub_none"})) == []
    one = call("GET", "/v1/invoices/in_z").json()
    assert (one["amount_due"], one["amount_paid"], one["status"], one["currency"]) == (2900, 2900, "paid", "usd")
    assert one["parent"]["subscription_details"]["subscription"] == "sub_1Analytics"
    assert call("GET", "/v1/invoices/in_missing").status_code == 404


# -- subscriptions -----------------------------------------------------------------------------


def test_defaults_fill_a_sparse_subscription(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    sub = call("GET", "/v1/subscriptions/sub_1LegacyERP").json()
    item = sub["items"]["data"][0]
    assert sub["object"] == "subscription" and sub["status"] == "active" and sub["metadata"] == {"name": "LegacyERP Cloud"}
    assert sub["cancel_at_period_end"] is False and sub["cancel_at"] is None and sub["canceled_at"] is None
    assert sub["pause_collection"] is None and sub["pending_update"] is None and sub["trial_end"] is None
    assert item["object"] == "subscription_item" and item["subscription"] == "sub_1LegacyERP"
    assert item["current_period_start"] <= clock.wall_now < item["current_period_end"]
    assert item["plan"]["id"] == item["price"]["id"] and item["plan"]["object"] == "plan"
    assert sub["latest_invoice"] == "in_2"
    assert sub["customer"].startswith("cus_")
    assert call("GET", f"/v1/customers/{sub['customer']}").json()["object"] == "customer"


def test_cancel_now_then_again(clock: FakeTime) -> None:
    emulator, call = _emulator(clock, demo_section())
    clock.advance(120)
    done = call("DELETE", "/v1/subscriptions/sub_1LegacyERP", {"invoice_now": False, "prorate": False})
    body = done.json()
    assert done.status_code == 200 and body["status"] == "canceled"
    assert body["canceled_at"] == body["ended_at"] == int(clock.wall_now)
    assert body["cancellation_details"]["reason"] == "cancellation_requested"
    again = call("DELETE", "/v1/subscriptions/sub_1LegacyERP")
    assert again.status_code == 404 and again.json()["error"]["code"] == "resource_missing"
    assert call("GET", "/v1/subscriptions/sub_1LegacyERP").json()["status"] == "canceled"  # still readable
    refused = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"cancel_at_period_end": True})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "A canceled subscription can only update its cancellation_details and metadata."
    assert call("POST", "/v1/subscriptions/sub_1LegacyERP", {"metadata": {"note": "gone"}}).json()["metadata"]["note"] == "gone"
    assert call("DELETE", "/v1/subscriptions/sub_1LegacyERP", {"invoice_now": "maybe"}).status_code == 404
    assert call("DELETE", "/v1/subscriptions/sub_1Analytics", {"invoice_now": "maybe"}).json()["error"]["message"] == "Invalid boolean: maybe"
    assert [s["status"] for s in emulator.dump()["acct_demo"]["subscriptions"]] == ["canceled", "active"]


def test_an_id_holding_an_encoded_slash_stays_one_path_segment(clock: FakeTime) -> None:
    """Clients send the id "../../x" as one segment, ``..%2F..%2Fx``; routing on the decoded path
    would split it at its slashes and answer 404 while the subscription lives on."""
    emulator, _ = _emulator(clock, demo_section(subscriptions=[{"id": "../../x", "status": "active"}], invoices=[]))
    auth = {"Authorization": "Bearer sk_test_demo"}
    with httpx.Client(transport=Harness(clock, emulator).transport(), base_url=ENDPOINT, headers=auth) as client:
        found = client.get("/v1/subscriptions/..%2F..%2Fx")
        cancelled = client.delete("/v1/subscriptions/..%2F..%2Fx")
    assert found.status_code == 200 and found.json()["id"] == "../../x"
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "canceled"
    assert [s["status"] for s in emulator.dump()["acct_demo"]["subscriptions"]] == ["canceled"]


def test_cancel_at_period_end_and_back(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    body = call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": True}).json()
    end = body["items"]["data"][0]["current_period_end"]
    assert body["status"] == "active" and body["cancel_at_period_end"] is True
    assert body["cancel_at"] == end and body["canceled_at"] == int(clock.wall_now)
    undone = call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": False}).json()
    assert undone["cancel_at_period_end"] is False and undone["cancel_at"] is None and undone["canceled_at"] is None
    both = call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": True, "cancel_at": end})
    assert both.status_code == 400 and "only specify one" in both.json()["error"]["message"]

    call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": True})
    clock.advance(end - clock.wall_now + 1)
    ended = call("GET", "/v1/subscriptions/sub_1Analytics").json()
    assert ended["status"] == "canceled" and ended["ended_at"] == end
    assert _ids(call("GET", "/v1/subscriptions")) == ["sub_1LegacyERP"]


def test_periods_roll_over_while_the_sandbox_runs(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    before = call("GET", "/v1/subscriptions/sub_1LegacyERP").json()["items"]["data"][0]
    clock.advance(before["current_period_end"] - clock.wall_now + 10)
    after = call("GET", "/v1/subscriptions/sub_1LegacyERP").json()["items"]["data"][0]
    assert after["current_period_start"] == before["current_period_end"] and after["current_period_end"] > clock.wall_now


def test_update_metadata_and_unknown_parameters(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    body = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"metadata": {"owner": "ops", "name": ""}}).json()
    assert body["metadata"] == {"owner": "ops"}
    assert call("POST", "/v1/subscriptions/sub_1LegacyERP", {"metadata": ""}).json()["metadata"] == {}
    unknown = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"colour": "red"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "parameter_unknown"
    assert call("POST", "/v1/subscriptions/sub_nope", {"cancel_at_period_end": True}).status_code == 404
    assert call("PUT", "/v1/subscriptions/sub_1LegacyERP").json()["error"]["message"].startswith("Unrecognized request URL (PUT")
    json_body = httpx.Request("POST", "http://x/stripe/v1/subscriptions/sub_1LegacyERP", json={"metadata": {}},
                              headers={"Authorization": "Bearer sk_test_demo"})
    assert "x-www-form-urlencoded" in call.emulator.handle(json_body, "/v1/subscriptions/sub_1LegacyERP").json()["error"]["message"]


# -- idempotency -------------------------------------------------------------------------------


def test_idempotent_replay_and_conflicts(clock: FakeTime) -> None:
    emulator, call = _emulator(clock, demo_section())
    first = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"cancel_at_period_end": True}, headers={"Idempotency-Key": "k1"})
    clock.advance(5)
    call("POST", "/v1/subscriptions/sub_1LegacyERP", {"metadata": {"changed": "yes"}})
    replay = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"cancel_at_period_end": True}, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == first.content  # the saved answer, not a new one
    assert replay.headers["Original-Request"] == first.headers["Request-Id"] != replay.headers["Request-Id"]
    assert "Idempotent-Replayed" not in first.headers

    other = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"cancel_at_period_end": False}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
    assert "same parameters" in other.json()["error"]["message"]
    elsewhere = call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": True}, headers={"Idempotency-Key": "k1"})
    assert elsewhere.status_code == 400 and "same endpoint" in elsewhere.json()["error"]["message"]

    clock.advance(25 * 3600)  # keys expire after a day
    fresh = call("POST", "/v1/subscriptions/sub_1LegacyERP", {"cancel_at_period_end": False}, headers={"Idempotency-Key": "k1"})
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh.headers

    # a refused request is not saved: the same key may carry the corrected request
    bad = call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": "yes"}, headers={"Idempotency-Key": "k2"})
    assert bad.status_code == 400
    good = call("POST", "/v1/subscriptions/sub_1Analytics", {"cancel_at_period_end": True}, headers={"Idempotency-Key": "k2"})
    assert good.status_code == 200 and emulator.received[-1]["status"] == 200


# -- auth, accounts, versions ------------------------------------------------------------------


def test_auth(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    missing = httpx.Request("GET", "http://x/stripe/v1/subscriptions")
    answer = call.emulator.handle(missing, "/v1/subscriptions")
    assert answer.status_code == 401 and "did not provide an API key" in answer.json()["error"]["message"]
    wrong = call("GET", "/v1/subscriptions", key="sk_test_demo_but_wrong")
    assert wrong.status_code == 401
    assert wrong.json() == {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_**********rong"}}
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    basic = base64.b64encode(b"sk_test_demo:").decode()
    assert call("GET", "/v1/subscriptions", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert mask_key("sk_test_demo") == "sk_test_****demo"
    assert mask_key("rk_live_51HxyzABCDEFGH1234") == "rk_live_" + "*" * 14 + "1234"


def test_request_id_on_every_response(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    answers = [call("GET", "/v1/subscriptions"), call("GET", "/v1/nothing"), call("GET", "/v1/subscriptions", key="sk_test_no")]
    ids = [a.headers["Request-Id"] for a in answers]
    assert all(i.startswith("req_") for i in ids) and len(set(ids)) == 3
    assert answers[0].headers["Stripe-Version"] == "2025-03-31.basil"


def test_restricted_keys_and_connected_accounts(clock: FakeTime) -> None:
    section = {
        "acct_platform": {"api_keys": {"sk_test_p": None, "rk_test_ro": ["subscriptions:read"]}, "connected_accounts": ["acct_shop"]},
        "acct_shop": {"api_keys": ["sk_test_shop"], "subscriptions": [{"id": "sub_shop"}]},
        "acct_other": {"api_keys": ["sk_test_other"], "subscriptions": [{"id": "sub_other"}]},
    }
    _, call = _emulator(clock, section)
    assert _ids(call("GET", "/v1/subscriptions", key="sk_test_p", headers={"Stripe-Account": "acct_shop"})) == ["sub_shop"]
    denied = call("GET", "/v1/subscriptions", key="sk_test_p", headers={"Stripe-Account": "acct_other"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "account_invalid"
    assert call("GET", "/v1/subscriptions", key="rk_test_ro").status_code == 200
    refused = call("DELETE", "/v1/subscriptions/sub_x", key="rk_test_ro")
    assert refused.status_code == 403 and "'rak_subscription_write' permission" in refused.json()["error"]["message"]
    assert call("GET", "/v1/invoices", key="rk_test_ro").status_code == 403


def test_versions_shape_the_answer(clock: FakeTime) -> None:
    _, call = _emulator(clock, demo_section())
    old = call("GET", "/v1/subscriptions/sub_1LegacyERP", headers={"Stripe-Version": "2023-08-16"})
    assert old.headers["Stripe-Version"] == "2023-08-16"
    body = old.json()
    assert body["current_period_end"] == body["items"]["data"][0]["current_period_end"] and "discount" in body
    new = call("GET", "/v1/subscriptions/sub_1LegacyERP").json()
    assert "current_period_end" not in new and "discount" not in new
    invoice = call("GET", "/v1/invoices/in_1", headers={"Stripe-Version": "2024-06-20"}).json()
    assert invoice["paid"] is True and invoice["total_tax_amounts"] == []
    assert "paid" not in call("GET", "/v1/invoices/in_1").json()
    bad = call("GET", "/v1/subscriptions", headers={"Stripe-Version": "yesterday"})
    assert bad.status_code == 400 and "Invalid Stripe API version" in bad.json()["error"]["message"]
    _, pinned = _emulator(clock, demo_section(api_version="2023-08-16"))
    assert "current_period_start" in pinned("GET", "/v1/subscriptions/sub_1LegacyERP").json()


# -- rate limits -------------------------------------------------------------------------------


def test_rate_limits_per_account_reads_and_writes_apart(clock: FakeTime) -> None:
    emulator, call = _emulator(clock, demo_section())
    emulator.enforce_rate_limits = True
    reads = [call("GET", "/v1/subscriptions/sub_1LegacyERP").status_code for _ in range(26)]
    assert reads.count(200) == 25 and reads[-1] == 429
    limited = call("GET", "/v1/subscriptions")
    assert limited.headers["Stripe-Should-Retry"] == "true"
    assert limited.json()["error"]["code"] == "rate_limit" and limited.json()["error"]["type"] == "invalid_request_error"
    assert call("POST", "/v1/subscriptions/sub_1LegacyERP", {"metadata": {"a": "b"}}).status_code == 200  # writes have their own budget
    clock.advance(0.21)  # 5 more tokens at 25/s
    assert [call("GET", "/v1/subscriptions").status_code for _ in range(6)] == [200] * 5 + [429]
    emulator.enforce_rate_limits = False
    assert call("GET", "/v1/subscriptions").status_code == 200


def test_live_keys_get_the_live_limit(clock: FakeTime) -> None:
    emulator, call = _emulator(clock, {"acct_live": {"api_keys": ["sk_live_abc"]}})
    emulator.enforce_rate_limits = True
    codes = [call("GET", "/v1/subscriptions", key="sk_live_abc").status_code for _ in range(101)]
    assert codes.count(200) == 100 and codes[-1] == 429


def test_injected_faults_match_method_path_and_query(clock: FakeTime) -> None:
    emulator, call = _emulator(clock, demo_section())
    emulator.inject_fault("GET", "/v1/subscriptions", status=429, code="lock_timeout", should_retry=False, query={"starting_after": "sub_1LegacyERP"})
    assert call("GET", "/v1/subscriptions").status_code == 200
    hit = call("GET", "/v1/subscriptions", {"starting_after": "sub_1LegacyERP"})
    assert hit.status_code == 429 and hit.headers["Stripe-Should-Retry"] == "false" and hit.json()["error"]["code"] == "lock_timeout"
    assert call("GET", "/v1/subscriptions", {"starting_after": "sub_1LegacyERP"}).status_code == 200  # used up


# -- scenarios ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"acct": {"api_keys": ["sk_test_a"], "subscriptions": [{"id": "sub_1"}, {"id": "sub_1"}]}}, "twice"),
        ({"acct": {"api_keys": ["sk_test_a"], "invoices": [{"id": "in_1", "subscription": "sub_x"}]}}, "does not have"),
        ({"acct": {"api_keys": ["sk_test_a"], "charges": []}}, "unknown collection"),
        ({"acct": {"api_keys": {"rk_test_a": ["rak_everything"]}}}, "unknown Stripe permission"),
        ({"a1": {"api_keys": ["sk_test_a"]}, "a2": {"api_keys": ["sk_test_a"]}}, "two accounts"),
        ({"acct": {"api_keys": ["sk_test_a"], "connected_accounts": ["acct_x"]}}, "does not define"),
        ({"acct": {"api_keys": ["sk_test_a"], "subscriptions": [{"status": "active"}]}}, "needs an id"),
    ],
)
def test_bad_scenarios_are_refused_clearly(clock: FakeTime, section: dict[str, Any], fragment: str) -> None:
    emulator = StripeEmulator(clock=clock.monotonic, wall_clock=clock.time)
    with pytest.raises(ConfigError, match=fragment) as caught:
        emulator.load(section)
    assert "scenario" in str(caught.value)


def test_the_demo_tells_its_story_and_dump_round_trips(clock: FakeTime) -> None:
    section = yaml.safe_load(DEMO.read_text())
    assert list(section) == ["stripe"]
    emulator = StripeEmulator(clock=clock.monotonic, wall_clock=clock.time)
    emulator.load(section["stripe"])
    state = emulator.dump()
    account = state["acct_demo"]
    assert account["api_keys"] == ["sk_test_demo"]
    subs = {s["id"]: s for s in account["subscriptions"]}
    erp = subs["sub_1LegacyERP"]
    assert erp["metadata"]["name"] == "LegacyERP Cloud" and erp["status"] == "active"
    price = erp["items"]["data"][0]["price"]
    assert (price["unit_amount"], price["currency"], price["recurring"]["interval"]) == (4900, "eur", "month")
    assert subs["sub_1Analytics"]["metadata"]["name"] == "Analytics Pro"
    assert {c["name"] for c in account["customers"]} == {"Lumen & Co"}
    per_sub: dict[str, int] = {}
    for invoice in account["invoices"]:
        per_sub[invoice["subscription"]] = per_sub.get(invoice["subscription"], 0) + 1
    assert per_sub == {"sub_1LegacyERP": 2, "sub_1Analytics": 2}

    again = StripeEmulator(clock=clock.monotonic, wall_clock=clock.time)
    again.load(state)
    assert again.dump() == state


def test_fast_enough_for_the_sandbox() -> None:
    emulator = StripeEmulator()
    emulator.load({"acct": {"api_keys": ["sk_test_a"], "subscriptions": subscriptions(300)}})
    emulator.enforce_rate_limits = False
    request = httpx.Request("GET", "http://x/stripe/v1/subscriptions/sub_0150", headers={"Authorization": "Bearer sk_test_a"})
    started = time.perf_counter()
    for _ in range(1000):
        assert emulator.handle(request, "/v1/subscriptions/sub_0150").status_code == 200
    assert time.perf_counter() - started < 2.0  # well over 500 requests per second even on a busy machine


def test_an_emulator_fault_is_a_stripe_shaped_500(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator, call = _emulator(clock, demo_section())

    def broken(*args: Any) -> Any:
        raise KeyError("items")

    monkeypatch.setattr(emulator, "_retrieve_subscription", broken)
    answer = call("GET", "/v1/subscriptions/sub_1LegacyERP")
    assert answer.status_code == 500 and answer.json()["error"]["type"] == "api_error"
    assert "KeyError" in answer.json()["error"]["message"] and answer.headers["Request-Id"]
