"""StripeProvider against StripeEmulator: listing, cancelling, settling, rights, limits, errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest
from stripe_harness import Harness, demo_section, run, subscriptions

from engine.errors import AuthError, ConfigError, ProviderError, RateLimitError
from engine.model import CancelAt, Kind
from providers.sdk import CancelRequest, CancelStatus, GapReason, ResponseLostError
from providers.stripe.client import StripeProvider, describe_error, subscription_name
from providers.stripe.rights import ALL_RIGHTS, INVOICES_READ, SUBSCRIPTIONS_READ, SUBSCRIPTIONS_WRITE

SUBS = frozenset({Kind.SUBSCRIPTION})


def _list(harness: Harness, **provider_kwargs):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider(**provider_kwargs)
        try:
            return await provider.list_bindings(SUBS)
        finally:
            await factory.aclose()

    return run(go)


def _cancel(harness: Harness, sub_id: str, cancel_at: CancelAt, *, key: str = "plan-1:sub:platform", **provider_kwargs):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider(**provider_kwargs)
        try:
            listing = await provider.list_bindings(SUBS)
            binding = next(b for b in listing.bindings if b.id == sub_id)
            harness.sent.clear()
            outcome = await provider.cancel(CancelRequest(binding, "platform", cancel_at, key))
            after = await provider.fetch(binding)
            return outcome, after
        finally:
            await factory.aclose()

    return run(go)


# -- listing -----------------------------------------------------------------------------------


def test_lists_all_three_pages_and_keeps_only_live_subscriptions(make_harness) -> None:  # type: ignore[no-untyped-def]
    section = {
        "acct_demo": {
            "api_keys": ["sk_test_demo"],
            "subscriptions": subscriptions(240)
            + subscriptions(6, start=240, status="canceled")
            + subscriptions(4, start=246, status="incomplete_expired")
            + subscriptions(3, start=250, status="past_due"),
        }
    }
    harness = make_harness(section)
    listing = _list(harness)

    gets = harness.of("GET")
    assert len(gets) == 3
    queries = [parse_qs(s.query) for s in gets]
    assert all(q["status"] == ["all"] and q["limit"] == ["100"] for q in queries)
    assert "starting_after" not in queries[0]
    assert queries[1]["starting_after"] == ["sub_0099"] and queries[2]["starting_after"] == ["sub_0199"]
    assert listing.complete and listing.problems == ()
    ids = [b.id for b in listing.bindings]
    assert len(ids) == 243 == len(set(ids))
    assert "sub_0240" not in ids and "sub_0246" not in ids  # canceled, incomplete_expired
    assert {b.status for b in listing.bindings} == {"active", "past_due"}
    first = listing.bindings[0]
    assert (first.name, first.resource, first.kind, first.provider, first.account) == ("Plan 0", "subscriptions", Kind.SUBSCRIPTION, "stripe", "pay-eu")
    assert first.raw == harness.emulator.dump()["acct_demo"]["subscriptions"][0]
    assert listing.granted == ALL_RIGHTS


def test_other_kinds_ask_nothing(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        listing = await provider.list_bindings(frozenset({Kind.WEBHOOK}))
        await factory.aclose()
        return listing

    listing = run(go)
    assert listing.bindings == () and listing.complete and harness.sent == []


@pytest.mark.parametrize(
    ("sub", "name"),
    [
        ({"id": "sub_1", "metadata": {"name": "ERP", "plan": "Gold"}}, "ERP"),
        ({"id": "sub_1", "metadata": {"plan": "Gold"}}, "Gold"),
        ({"id": "sub_1", "metadata": {}, "items": {"data": [{"price": {"nickname": "Monthly", "product": "prod_1"}, "plan": {"nickname": "Old"}}]}}, "Monthly"),
        ({"id": "sub_1", "items": {"data": [{"price": {"nickname": None, "product": "prod_1"}, "plan": {"nickname": "Old"}}]}}, "Old"),
        ({"id": "sub_1", "items": {"data": [{"price": {"nickname": None, "product": "prod_1"}}]}}, "prod_1"),
        ({"id": "sub_1", "items": {"data": [{"price": {"product": {"id": "prod_1", "name": "Expanded"}}}]}}, "Expanded"),
        ({"id": "sub_1", "items": {"data": []}}, "sub_1"),
    ],
)
def test_names_follow_metadata_then_the_first_item(sub, name) -> None:  # type: ignore[no-untyped-def]
    assert subscription_name(sub) == name


def test_a_failed_page_makes_the_listing_incomplete(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness({"acct_demo": {"api_keys": ["sk_test_demo"], "subscriptions": subscriptions(150)}})
    harness.emulator.inject_fault("GET", "/v1/subscriptions", status=500, times=10, query={"starting_after": "sub_0099"})
    listing = _list(harness)

    assert not listing.complete
    (gap,) = listing.gaps
    assert gap.kind is Kind.SUBSCRIPTION and gap.reason is GapReason.FAILED and gap.params == {"status": "500"}
    assert len(listing.problems) == 1 and "500" in listing.problems[0]
    assert len(harness.of("GET")) == 1 + 4  # page 1, then page 2 tried as often as the policy allows


def test_a_repeated_page_is_caught_as_a_loop(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    page = {"object": "list", "url": "/v1/subscriptions", "has_more": True,
            "data": [{"id": "sub_A", "object": "subscription", "status": "active", "metadata": {}}]}
    harness.intercept = lambda request: httpx.Response(200, json=page)
    listing = _list(harness)

    assert not listing.complete
    assert listing.bindings == ()  # an untrustworthy walk decides nothing
    assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]
    assert any("earlier page" in p for p in listing.problems)
    assert len(harness.sent) == 2


def test_an_empty_page_that_claims_more_stops_the_listing(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    harness.intercept = lambda request: httpx.Response(200, json={"object": "list", "url": "/v1/subscriptions", "has_more": True, "data": []})
    listing = _list(harness)
    assert not listing.complete and "empty" in listing.problems[0]


def test_a_refused_key_raises_with_the_masked_key_only(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    with pytest.raises(AuthError) as caught:
        _list(harness, api_key="sk_test_51WrongKeyThatIsLong")
    message = str(caught.value)
    assert caught.value.status == 401
    assert "Invalid API Key provided: sk_test_" in message and "Long" in message
    assert "sk_test_51WrongKeyThatIsLong" not in message
    assert caught.value.request_id and caught.value.request_id.startswith("req_")
    assert len(harness.sent) == 1  # a 401 is not retried


# -- cancelling --------------------------------------------------------------------------------


def test_cancel_now_deletes_and_the_next_read_finds_it_gone(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    outcome, after = _cancel(harness, "sub_1LegacyERP", CancelAt.NOW)

    assert outcome.status == CancelStatus.DONE and outcome.request_id
    assert after is None
    deletes = harness.of("DELETE")
    assert len(deletes) == 1 and deletes[0].path == "/stripe/v1/subscriptions/sub_1LegacyERP"
    assert parse_qs(deletes[0].body.decode()) == {"invoice_now": ["false"], "prorate": ["false"]}
    assert harness.of("POST") == []
    stored = {s["id"]: s for s in harness.emulator.dump()["acct_demo"]["subscriptions"]}["sub_1LegacyERP"]
    assert stored["status"] == "canceled" and stored["canceled_at"] == stored["ended_at"] == int(harness.time.wall_now)
    assert [b.id for b in _list(harness).bindings] == ["sub_1Analytics"]


def test_cancel_now_sends_the_account_options(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    outcome, _ = _cancel(harness, "sub_1LegacyERP", CancelAt.NOW, options={"invoice_now": True, "prorate": True})
    assert outcome.status == CancelStatus.DONE
    assert parse_qs(harness.of("DELETE")[0].body.decode()) == {"invoice_now": ["true"], "prorate": ["true"]}


def test_cancel_at_period_end_is_scheduled_and_stays_active(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    outcome, after = _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END, key="plan-7:sub_1LegacyERP:platform")

    assert outcome.status == CancelStatus.SCHEDULED and "period end" in outcome.detail
    posts = harness.of("POST")
    assert len(posts) == 1 and parse_qs(posts[0].body.decode()) == {"cancel_at_period_end": ["true"]}
    assert posts[0].headers["idempotency-key"] == "plan-7:sub_1LegacyERP:platform"
    assert after is not None and after.status == "active" and after.pending_cancel
    assert after.raw["cancel_at"] == after.raw["items"]["data"][0]["current_period_end"]
    listed = {b.id: b for b in _list(harness).bindings}
    assert listed["sub_1LegacyERP"].pending_cancel and not listed["sub_1Analytics"].pending_cancel

    # When the period ends, Stripe ends it: the next read finds it gone.
    harness.time.advance(40 * 86_400)
    assert "sub_1LegacyERP" not in {b.id for b in _list(harness).bindings}


@pytest.mark.parametrize("cancel_at", [CancelAt.NOW, CancelAt.PERIOD_END])
def test_cancel_of_a_deleted_subscription_is_already_gone(make_harness, cancel_at) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        listing = await provider.list_bindings(SUBS)
        binding = listing.bindings[0]
        harness.emulator.load(demo_section(subscriptions=[], invoices=[]))  # gone behind our back
        outcome = await provider.cancel(CancelRequest(binding, "platform", cancel_at, "k-1"))
        await factory.aclose()
        return outcome

    outcome = run(go)
    assert outcome.status == CancelStatus.ALREADY_GONE
    assert harness.sent[-1].status == 404


@pytest.mark.parametrize("cancel_at", [CancelAt.NOW, CancelAt.PERIOD_END])
def test_cancel_of_an_already_canceled_subscription_is_already_gone(make_harness, cancel_at) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        binding = (await provider.list_bindings(SUBS)).bindings[0]
        await provider.cancel(CancelRequest(binding, "platform", CancelAt.NOW, "first"))
        outcome = await provider.cancel(CancelRequest(binding, "platform", cancel_at, "second"))
        await factory.aclose()
        return outcome

    assert run(go).status == CancelStatus.ALREADY_GONE


def test_every_post_carries_the_idempotency_key_and_a_retry_reuses_it(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    harness.emulator.inject_fault("POST", "/v1/subscriptions/sub_1Analytics", status=500, should_retry=True)
    outcome, _ = _cancel(harness, "sub_1Analytics", CancelAt.PERIOD_END, key="plan-9:sub_1Analytics:platform")

    assert outcome.status == CancelStatus.SCHEDULED
    posts = harness.of("POST")
    assert [p.status for p in posts] == [500, 200]
    assert {p.headers.get("idempotency-key") for p in posts} == {"plan-9:sub_1Analytics:platform"}
    assert all(s.headers.get("idempotency-key") for s in harness.sent if s.method == "POST")


def test_a_503_to_the_period_end_post_is_retried_with_the_same_key(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    # A bare 503, without Stripe-Should-Retry: the key alone is what makes the resend safe.
    harness.emulator.inject_fault("POST", "/v1/subscriptions/sub_1LegacyERP", status=503)
    outcome, after = _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END, key="plan-3:sub_1LegacyERP:platform")

    assert outcome.status == CancelStatus.SCHEDULED and "period end" in outcome.detail
    posts = harness.of("POST")
    assert [p.status for p in posts] == [503, 200]
    assert [p.headers.get("idempotency-key") for p in posts] == ["plan-3:sub_1LegacyERP:platform"] * 2
    assert posts[0].body == posts[1].body  # the same parameters, or Stripe would refuse the key
    assert harness.time.slept  # backed off before the resend
    assert after is not None and after.pending_cancel
    stored = {s["id"]: s for s in harness.emulator.dump()["acct_demo"]["subscriptions"]}["sub_1LegacyERP"]
    assert stored["cancel_at_period_end"] is True


def test_a_5xx_after_stripe_acted_is_retried_and_replayed_not_applied_twice(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    answered: list[httpx.Response] = []

    def act_then_fail_once(request: httpx.Request) -> httpx.Response | None:
        if request.method != "POST":
            return None
        answered.append(harness.emulator.handle(request, request.url.path[len("/stripe"):]))
        if len(answered) == 1:  # Stripe did the work, but a proxy in front of it answers 502
            return httpx.Response(502, json={"error": {"type": "api_error", "message": "bad gateway"}})
        return answered[-1]

    harness.intercept = act_then_fail_once
    outcome, after = _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END, key="plan-4:sub_1LegacyERP:platform")

    assert outcome.status == CancelStatus.SCHEDULED
    posts = harness.of("POST")
    assert [p.status for p in posts] == [502, 200]
    assert {p.headers.get("idempotency-key") for p in posts} == {"plan-4:sub_1LegacyERP:platform"}
    first, second = answered
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"  # Stripe answered from its saved result
    assert second.headers["original-request"] == first.headers["request-id"]
    assert after is not None and after.pending_cancel


def test_stripe_should_retry_false_on_a_5xx_stops_the_period_end_retry(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    harness.emulator.inject_fault("POST", "/v1/subscriptions/sub_1LegacyERP", status=500, should_retry=False)
    with pytest.raises(ProviderError) as caught:
        _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END)
    assert caught.value.status == 500 and len(harness.of("POST")) == 1


def test_a_503_to_the_delete_fails_that_cancel_without_resending(make_harness) -> None:  # type: ignore[no-untyped-def]
    # Cancel now carries no idempotency key (Stripe ignores one on DELETE), so a 5xx that may
    # have cancelled is not resent; the next apply lists the subscription and decides again.
    harness = make_harness(demo_section())
    harness.emulator.inject_fault("DELETE", "/v1/subscriptions/sub_1LegacyERP", status=503)
    with pytest.raises(ProviderError) as caught:
        _cancel(harness, "sub_1LegacyERP", CancelAt.NOW)
    assert caught.value.status == 503
    assert [d.status for d in harness.of("DELETE")] == [503]
    assert "sub_1LegacyERP" in {b.id for b in _list(harness).bindings}


def test_a_lost_answer_to_the_post_is_left_to_apply_not_resent(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    harness.lose_response_to.add("POST")
    with pytest.raises(ResponseLostError):
        _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END)
    assert len(harness.of("POST")) == 1
    assert [s.method for s in harness.sent] == ["POST"]  # no second POST, no reading back here
    after = {b.id: b for b in _list(harness).bindings}["sub_1LegacyERP"]
    assert after.pending_cancel  # it happened: apply's read-back will say so


def test_a_lost_answer_to_the_delete_is_settled_by_reading(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    harness.lose_response_to.add("DELETE")
    with pytest.raises(ResponseLostError):
        _cancel(harness, "sub_1LegacyERP", CancelAt.NOW)
    assert len(harness.of("DELETE")) == 1
    assert "sub_1LegacyERP" not in {b.id for b in _list(harness).bindings}


def test_a_lost_request_that_did_nothing_is_reported_not_resent(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    def drop_posts(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST":
            raise httpx.ReadError("reset", request=request)
        return None

    harness.intercept = drop_posts
    with pytest.raises(ResponseLostError):
        _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END)
    assert len(harness.of("POST")) == 1


def test_reusing_a_key_for_another_request_is_an_idempotency_error(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        bindings = {b.id: b for b in (await provider.list_bindings(SUBS)).bindings}
        await provider.cancel(CancelRequest(bindings["sub_1LegacyERP"], "platform", CancelAt.PERIOD_END, "same-key"))
        try:
            await provider.cancel(CancelRequest(bindings["sub_1Analytics"], "platform", CancelAt.PERIOD_END, "same-key"))
        finally:
            await factory.aclose()

    with pytest.raises(ProviderError) as caught:
        run(go)
    assert "idempotency_error" in str(caught.value) and "same-key" in str(caught.value)
    assert caught.value.status == 400 and caught.value.request_id
    analytics = {s["id"]: s for s in harness.emulator.dump()["acct_demo"]["subscriptions"]}["sub_1Analytics"]
    assert analytics["cancel_at_period_end"] is False


def test_a_retried_cancel_with_the_same_key_is_replayed(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        binding = (await provider.list_bindings(SUBS)).bindings[0]
        first = await provider.cancel(CancelRequest(binding, "platform", CancelAt.PERIOD_END, "apply-1"))
        scheduled_at = int(harness.time.wall_now)
        harness.time.advance(600)  # an apply run again later with the same plan
        second = await provider.cancel(CancelRequest(binding, "platform", CancelAt.PERIOD_END, "apply-1"))
        await factory.aclose()
        return first, second, scheduled_at

    first, second, scheduled_at = run(go)
    assert first.status == second.status == CancelStatus.SCHEDULED
    assert len(harness.of("POST")) == 2
    stored = {s["id"]: s for s in harness.emulator.dump()["acct_demo"]["subscriptions"]}["sub_1LegacyERP"]
    assert stored["canceled_at"] == scheduled_at  # the second POST was replayed, not executed again


def test_cancel_refuses_what_it_does_not_own(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        binding = (await provider.list_bindings(SUBS)).bindings[0]
        try:
            with pytest.raises(ProviderError, match="platform side only"):
                await provider.cancel(CancelRequest(binding, "provider", CancelAt.NOW, "k"))
        finally:
            await factory.aclose()

    run(go)
    assert harness.of("DELETE") == []


# -- rate limits and retries -------------------------------------------------------------------


def test_a_429_is_waited_out_and_retried(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    drain = httpx.Request("GET", "http://127.0.0.1:8787/stripe/v1/subscriptions", headers={"Authorization": "Bearer sk_test_demo"})
    statuses = [harness.emulator.handle(drain, "/v1/subscriptions").status_code for _ in range(26)]
    assert statuses[:25] == [200] * 25 and statuses[25] == 429  # another client used the budget up

    listing = _list(harness)
    assert listing.complete and len(listing.bindings) == 2
    assert [s.status for s in harness.sent] == [429, 200]
    assert harness.time.slept  # it waited (on the fake clock) before trying again


def test_stripe_should_retry_false_stops_retries(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())
    harness.emulator.inject_fault("GET", "/v1/subscriptions", status=429, code="lock_timeout", should_retry=False)
    listing = _list(harness)
    assert not listing.complete and "lock_timeout" in listing.problems[0]
    assert len(harness.sent) == 1

    harness.emulator.inject_fault("POST", "/v1/subscriptions/sub_1LegacyERP", status=429, code="lock_timeout", should_retry=False)
    with pytest.raises(RateLimitError) as caught:
        _cancel(harness, "sub_1LegacyERP", CancelAt.PERIOD_END)
    assert "lock_timeout" in str(caught.value) and len(harness.of("POST")) == 1


def test_the_client_paces_itself_below_the_test_mode_limit(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        binding = (await provider.list_bindings(SUBS)).bindings[0]
        for _ in range(80):
            await provider.fetch(binding)
        await factory.aclose()

    run(go)
    assert len(harness.sent) == 81 and all(s.status == 200 for s in harness.sent)
    assert sum(harness.time.slept) >= (81 - 25) / 25  # it waited instead of provoking 429s


# -- exports -----------------------------------------------------------------------------------


def test_exports_every_invoice_of_the_subscription_across_pages(make_harness) -> None:  # type: ignore[no-untyped-def]
    invoices = [{"id": f"in_{i:04d}", "subscription": "sub_1LegacyERP", "amount_due": 4900, "currency": "eur"} for i in range(130)]
    invoices += [{"id": "in_other", "subscription": "sub_1Analytics", "amount_due": 2900, "currency": "eur"}]
    harness = make_harness(demo_section(invoices=invoices))

    async def go():  # type: ignore[no-untyped-def]
        provider, factory = harness.provider()
        binding = next(b for b in (await provider.list_bindings(SUBS)).bindings if b.id == "sub_1LegacyERP")
        records = [record async for record in provider.export(binding, "invoices")]
        with pytest.raises(ProviderError, match="invoices"):
            _ = [r async for r in provider.export(binding, "orders")]
        await factory.aclose()
        return records

    records = run(go)
    assert len(records) == 130 and {r["id"] for r in records} == {f"in_{i:04d}" for i in range(130)}
    assert all(r["object"] == "invoice" and r["subscription"] == "sub_1LegacyERP" for r in records)
    gets = [parse_qs(s.query) for s in harness.of("GET", "/stripe/v1/invoices")]
    assert len(gets) == 2 and gets[0]["subscription"] == ["sub_1LegacyERP"] and gets[0]["limit"] == ["100"]
    assert gets[1]["starting_after"] == [records[99]["id"]]


# -- rights, headers, configuration ------------------------------------------------------------


def test_rights_of_secret_and_restricted_keys(make_harness) -> None:  # type: ignore[no-untyped-def]
    section = demo_section(api_keys={"sk_test_demo": None, "rk_test_readonly": ["rak_subscription_read"]})
    harness = make_harness(section)

    async def go():  # type: ignore[no-untyped-def]
        secret, f1 = harness.provider()
        declared, f2 = harness.provider(api_key="rk_test_other", options={"key_permissions": ["rak_subscription_write", "invoices:read"]})
        probed, f3 = harness.provider(api_key="rk_test_readonly")
        out = (await secret.granted(), await declared.granted(), await probed.granted())
        for f in (f1, f2, f3):
            await f.aclose()
        return out, secret

    (secret_rights, declared_rights, probed_rights), provider = run(go)
    assert secret_rights == ALL_RIGHTS
    assert declared_rights == {SUBSCRIPTIONS_WRITE, SUBSCRIPTIONS_READ, INVOICES_READ}
    assert probed_rights == {SUBSCRIPTIONS_READ}
    assert [s.status for s in harness.sent] == [200, 403]
    binding = None
    assert provider.required(binding, "platform", ("binding", "invoices")) == (SUBSCRIPTIONS_WRITE, INVOICES_READ)  # type: ignore[arg-type]
    assert provider.required(binding, "platform", ()) == (SUBSCRIPTIONS_WRITE,)  # type: ignore[arg-type]


def test_a_restricted_key_without_write_is_refused_on_cancel(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section(api_keys={"rk_test_readonly": ["subscriptions:read"]}))
    with pytest.raises(AuthError, match="rak_subscription_write"):
        _cancel(harness, "sub_1LegacyERP", CancelAt.NOW, api_key="rk_test_readonly")


def test_version_and_connect_headers(make_harness) -> None:  # type: ignore[no-untyped-def]
    section = {
        "acct_platform": {"api_keys": ["sk_test_platform"], "connected_accounts": ["acct_shop"]},
        "acct_shop": {"api_keys": [], "subscriptions": [{"id": "sub_shop", "metadata": {"name": "Shop plan"}}]},
    }
    harness = make_harness(section)
    listing = _list(harness, api_key="sk_test_platform", options={"api_version": "2023-08-16", "stripe_account": "acct_shop"})
    sent = harness.sent[0].headers
    assert sent["stripe-version"] == "2023-08-16" and sent["stripe-account"] == "acct_shop"
    assert sent["authorization"] == "Bearer sk_test_platform"
    assert [b.id for b in listing.bindings] == ["sub_shop"]
    assert "current_period_end" in listing.bindings[0].raw  # the pinned version's shape

    current = _list(harness, api_key="sk_test_platform", options={"stripe_account": "acct_shop"})
    assert "stripe-version" not in harness.sent[-1].headers
    assert "current_period_end" not in current.bindings[0].raw

    with pytest.raises(AuthError, match="does not have access to account 'acct_other'"):
        _list(harness, api_key="sk_test_platform", options={"stripe_account": "acct_other"})


@pytest.mark.parametrize(
    ("api_key", "options", "message"),
    [
        ("", {}, "credentials.api_key"),
        ("pk_test_abc", {}, "publishable key"),
        ("sk_test_demo", {"api_version": "latest"}, "api_version"),
        ("sk_test_demo", {"api_version": "2025-03-31"}, "belongs to the basil release"),
        ("sk_test_demo", {"api_version": "2024-02-30"}, "not a calendar date"),
        ("sk_test_demo", {"stripe_account": "shop"}, "stripe_account"),
        ("sk_test_demo", {"prorate": "yes"}, "prorate must be true or false"),
        ("sk_test_demo", {"key_permissions": ["everything"]}, "unknown Stripe permission"),
        ("sk_test_demo", {"colour": "red"}, "unknown option"),
    ],
)
def test_bad_account_settings_are_config_errors(make_harness, api_key, options, message) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness(demo_section())

    async def go():  # type: ignore[no-untyped-def]
        harness.provider(api_key=api_key, options=options)

    with pytest.raises(ConfigError, match=message):
        run(go)


def test_the_public_api_is_the_default_endpoint() -> None:
    from engine.model import Account
    from providers.http import HttpFactory
    from providers.sdk import ProviderContext

    async def go():  # type: ignore[no-untyped-def]
        factory = HttpFactory()
        ctx = ProviderContext(Account(name="live", provider="stripe"), {"api_key": "sk_live_x"}, factory)
        provider = StripeProvider(ctx)
        await factory.aclose()
        return provider

    provider = run(go)
    assert provider._api.base_url == "https://api.stripe.com"


def test_errors_read_as_one_line_with_the_request_id() -> None:
    body = {"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "id",
                      "message": "No such subscription:\n 'sub_x'", "doc_url": "https://stripe.com/docs/error-codes/resource-missing"}}
    response = httpx.Response(404, json=body, headers={"Request-Id": "req_123"})
    assert describe_error(response) == (
        "No such subscription: 'sub_x' (type invalid_request_error, code resource_missing, param id); request req_123"
    )
    assert describe_error(httpx.Response(502, text="<html>\nBad gateway\n</html>")) == "<html> Bad gateway </html>"
    assert "\n" not in describe_error(httpx.Response(500, content=json.dumps({"error": {"type": "api_error"}}).encode()))
