"""EbayProvider against EbayEmulator in-process: listing, paging, cancel, verify, rights, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engine.errors import AuthError, ConfigError, ProviderError, RateLimitError
from engine.model import CancelAt, Kind, LiveBinding
from providers.ebay import api
from providers.ebay.client import EbayProvider
from providers.ebay.errors import describe_error
from providers.sdk import CancelRequest, CancelStatus, GapReason, ResponseLostError

ALL = frozenset({Kind.CARRIER, Kind.WEBHOOK})


def request_for(binding: LiveBinding) -> CancelRequest:
    return CancelRequest(
        binding=binding, side="platform", cancel_at=CancelAt.NOW, idempotency_key="plan-1:" + binding.id
    )


def by_id(bindings: Any) -> dict[str, LiveBinding]:
    return {b.id: b for b in bindings}


def many_subscriptions(count: int) -> list[dict[str, Any]]:
    return [
        {
            "subscriptionId": f"sub-{n:03d}",
            "topicId": "ITEM_MARKED_SHIPPED",
            "status": "ENABLED",
            "destinationId": "d-2",
        }
        for n in range(count)
    ]


# -- listing ----------------------------------------------------------------------------------


def test_lists_policies_of_every_marketplace_and_the_subscriptions(harness) -> None:
    listing = harness.run(lambda p: p.list_bindings(ALL))

    assert listing.complete and listing.problems == ()
    found = by_id(listing.bindings)
    assert set(found) == {"6196932000", "6196932001", "6196940000", "8cd7d4b3", "3f1c9a7e"}
    hermes = found["6196932001"]
    assert (hermes.kind, hermes.name, hermes.status, hermes.resource) == (
        Kind.CARRIER,
        "Hermes Päckchen",
        "active",
        "fulfillment_policy",
    )
    assert found["6196940000"].raw["marketplaceId"] == "EBAY_GB"
    assert found["6196932000"].raw["categoryTypes"][0]["default"] is True
    erp = found["3f1c9a7e"]
    assert (erp.kind, erp.name, erp.status, erp.resource) == (
        Kind.WEBHOOK,
        "ITEM_MARKED_SHIPPED",
        "ENABLED",
        "subscription",
    )
    assert erp.raw == harness.emulator.dump()["demo-seller"]["subscriptions"][1]
    marketplaces = [
        e.request.url.params.get("marketplace_id")
        for e in harness.exchanges
        if "fulfillment_policy" in e.request.url.path
    ]
    assert marketplaces == ["EBAY_DE", "EBAY_GB"]
    assert all(e.request.headers["authorization"] == "Bearer v^1.1#demo" for e in harness.exchanges)


def test_only_the_requested_kinds_are_listed(harness) -> None:
    listing = harness.run(lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})))

    assert {b.kind for b in listing.bindings} == {Kind.WEBHOOK}
    assert all("subscription" in e.request.url.path for e in harness.exchanges)


def test_subscriptions_are_followed_over_three_pages(harness, scenario) -> None:
    scenario["demo-seller"]["subscriptions"] = many_subscriptions(25)
    harness.emulator.load(scenario)

    listing = harness.run(lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})), options={"page_size": 10})

    assert listing.complete
    assert [b.id for b in listing.bindings] == [f"sub-{n:03d}" for n in range(25)]
    pages = [e.request.url.params for e in harness.exchanges]
    assert len(pages) == 3
    assert [p.get("limit") for p in pages] == ["10", "10", "10"]
    assert "continuation_token" not in pages[0]
    assert pages[1]["continuation_token"] != pages[2]["continuation_token"]


def test_carriers_without_marketplaces_are_reported_not_guessed(harness) -> None:
    listing = harness.run(lambda p: p.list_bindings(ALL), options={})

    assert not listing.complete
    assert "options.marketplaces" in listing.problems[0]
    assert [gap.kind for gap in listing.gaps] == [Kind.CARRIER]  # webhooks are listed in full
    assert listing.complete_for(Kind.WEBHOOK)
    assert {b.kind for b in listing.bindings} == {Kind.WEBHOOK}


def test_a_repeated_continuation_token_stops_paging(harness, scenario) -> None:
    scenario["demo-seller"]["subscriptions"] = many_subscriptions(25)
    harness.emulator.load(scenario)

    def same_next(request: httpx.Request, emulate: Any) -> httpx.Response:
        response = emulate(
            httpx.Request("GET", request.url.copy_with(params={"limit": "10"}), headers=request.headers)
        )
        body = response.json()
        return httpx.Response(200, json=body)

    harness.intercept = same_next
    listing = harness.run(lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})), options={"page_size": 10})

    assert not listing.complete
    assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]
    assert len(harness.exchanges) == 2


def test_an_id_seen_twice_makes_the_listing_partial(harness, scenario) -> None:
    scenario["demo-seller"]["subscriptions"] = many_subscriptions(15)
    harness.emulator.load(scenario)

    def first_page_again(request: httpx.Request, emulate: Any) -> httpx.Response:
        response = emulate(request)
        if "continuation_token" in request.url.params:
            body = emulate(
                httpx.Request("GET", request.url.copy_with(params={"limit": "10"}), headers=request.headers)
            ).json()
            body.pop("next")
            return httpx.Response(200, json=body)
        return response

    harness.intercept = first_page_again
    listing = harness.run(lambda p: p.list_bindings(frozenset({Kind.WEBHOOK})), options={"page_size": 10})

    assert not listing.complete
    assert any("earlier page" in p for p in listing.problems)
    assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]
    assert listing.bindings == ()  # an untrustworthy walk is not shown


def test_a_page_that_keeps_failing_makes_the_listing_partial(harness, scenario) -> None:
    scenario["demo-seller"]["subscriptions"] = many_subscriptions(25)
    harness.emulator.load(scenario)

    def broken_second_page(request: httpx.Request, emulate: Any) -> httpx.Response:
        if "continuation_token" in request.url.params:
            return httpx.Response(
                500,
                json={
                    "errors": [
                        {
                            "errorId": 195000,
                            "message": "There was a problem with an eBay internal system or process.",
                        }
                    ]
                },
            )
        return emulate(request)

    harness.intercept = broken_second_page
    listing = harness.run(
        lambda p: p.list_bindings(ALL), options={"page_size": 10, "marketplaces": ["EBAY_DE"]}
    )

    assert not listing.complete
    assert len(listing.problems) == 1 and "195000" in listing.problems[0]
    (gap,) = listing.gaps
    assert gap.kind is Kind.WEBHOOK and gap.reason is GapReason.FAILED and gap.params == {"status": "500"}
    assert listing.complete_for(Kind.CARRIER)
    assert len([b for b in listing.bindings if b.kind is Kind.CARRIER]) == 2
    assert len(harness.sleeps) == 5  # the HTTP layer's six attempts, with fake pauses between


# -- cancel and verify ------------------------------------------------------------------------


def test_cancel_deletes_the_policy_and_fetch_then_finds_nothing(harness) -> None:
    async def body(provider: EbayProvider) -> tuple[Any, ...]:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        outcome = await provider.cancel(request_for(hermes))
        return outcome, await provider.fetch(hermes), await provider.list_bindings(ALL)

    outcome, fetched, after = harness.run(body)

    assert outcome.status is CancelStatus.DONE and outcome.request_id
    assert fetched is None
    assert "6196932001" not in by_id(after.bindings)
    assert [p["name"] for p in harness.emulator.dump()["demo-seller"]["fulfillment_policies"]["EBAY_DE"]] == [
        "DHL Paket"
    ]
    delete = [e for e in harness.exchanges if e.request.method == "DELETE"]
    assert [e.request.url.path for e in delete] == ["/ebay/sell/account/v1/fulfillment_policy/6196932001"]


def test_cancel_subscription_then_fetch_and_cancel_again(harness) -> None:
    async def body(provider: EbayProvider) -> tuple[Any, ...]:
        erp = by_id((await provider.list_bindings(ALL)).bindings)["3f1c9a7e"]
        before = await provider.fetch(erp)
        first = await provider.cancel(request_for(erp))
        return before, first, await provider.fetch(erp), await provider.cancel(request_for(erp))

    before, first, after, second = harness.run(body)

    assert before is not None and before.raw == before.raw and before.status == "ENABLED"
    assert first.status is CancelStatus.DONE
    assert after is None
    assert second.status is CancelStatus.ALREADY_GONE
    assert [s["subscriptionId"] for s in harness.emulator.dump()["demo-seller"]["subscriptions"]] == [
        "8cd7d4b3"
    ]


def test_cancelling_a_policy_that_is_gone_is_already_gone(harness) -> None:
    async def body(provider: EbayProvider) -> Any:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        await provider.cancel(request_for(hermes))
        return await provider.cancel(request_for(hermes))

    outcome = harness.run(body)

    assert outcome.status is CancelStatus.ALREADY_GONE
    assert harness.statuses("/fulfillment_policy/6196932001") == [204, 404]


def test_the_default_policy_is_blocked_with_ebays_reason(harness) -> None:
    async def body(provider: EbayProvider) -> Any:
        dhl = by_id((await provider.list_bindings(ALL)).bindings)["6196932000"]
        return await provider.cancel(request_for(dhl))

    outcome = harness.run(body)

    assert outcome.status is CancelStatus.BLOCKED
    assert "errorId 20409" in outcome.detail and "default" in outcome.detail and "DHL Paket" in outcome.detail
    assert "6196932000" in [
        p["fulfillmentPolicyId"]
        for p in harness.emulator.dump()["demo-seller"]["fulfillment_policies"]["EBAY_DE"]
    ]
    assert harness.statuses("/fulfillment_policy/6196932000") == [409]  # refused once, not retried


def test_a_lost_answer_is_left_to_apply_to_settle(harness) -> None:
    async def body(provider: EbayProvider) -> Any:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        real_request = provider._http.request

        async def lose_delete(method: str, path: str, **kwargs: Any) -> httpx.Response:
            if method == "DELETE":
                await real_request(method, path, **kwargs)
                raise ResponseLostError("no answer")
            return await real_request(method, path, **kwargs)

        provider._http.request = lose_delete  # type: ignore[method-assign]
        with pytest.raises(ResponseLostError):
            await provider.cancel(request_for(hermes))
        return await provider.fetch(hermes)

    assert harness.run(body) is None  # it did happen; reading back (apply's job) tells
    assert [e.request.method for e in harness.exchanges][-2:] == ["DELETE", "GET"]


def test_a_dropped_connection_on_delete_converges_without_harm(harness) -> None:
    dropped: list[bool] = []

    def drop_first_delete(request: httpx.Request, emulate: Any) -> httpx.Response:
        response = emulate(request)
        if request.method == "DELETE" and not dropped:
            dropped.append(True)
            raise httpx.ReadError("connection reset", request=request)
        return response

    async def body(provider: EbayProvider) -> Any:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        harness.intercept = drop_first_delete
        with pytest.raises(ResponseLostError):  # apply settles it by reading back
            await provider.cancel(request_for(hermes))
        return await provider.fetch(hermes)

    assert harness.run(body) is None
    assert [e.request.method for e in harness.exchanges].count("DELETE") == 0  # the lost one is not logged; no second one went out
    assert "6196932001" not in str(harness.emulator.dump())


def test_only_the_platform_side_can_be_cancelled(harness) -> None:
    async def body(provider: EbayProvider) -> Any:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        return await provider.cancel(CancelRequest(hermes, "provider", CancelAt.NOW, "k"))

    with pytest.raises(ProviderError, match="platform side"):
        harness.run(body)


# -- auth and rights --------------------------------------------------------------------------


def test_a_refused_token_raises_an_auth_error_that_says_what_to_do(harness) -> None:
    with pytest.raises(AuthError) as caught:
        harness.run(lambda p: p.list_bindings(ALL), token="v^1.1#expired-token")

    message = str(caught.value)
    assert caught.value.status == 401
    assert "errorId 1001" in message and "Invalid access token" in message and "refresh token" in message
    assert "expired-token" not in message
    assert harness.statuses() == [401]  # not retried


def test_a_read_only_token_lists_everything_but_cannot_cancel(harness) -> None:
    async def body(provider: EbayProvider) -> tuple[Any, ...]:
        listing = await provider.list_bindings(ALL)
        hermes = by_id(listing.bindings)["6196932001"]
        granted = await provider.proven_scopes()
        try:
            await provider.cancel(request_for(hermes))
        except AuthError as exc:
            return listing, granted, provider.required(hermes, "platform", ()), exc
        raise AssertionError("the delete should have been refused")

    listing, granted, required, error = harness.run(body, token="v^1.1#readonly")

    assert listing.complete and len(listing.bindings) == 5
    assert granted == frozenset({api.SCOPE_SELL_ACCOUNT_READONLY, api.SCOPE_NOTIFICATION_READONLY})
    assert required == (api.SCOPE_SELL_ACCOUNT,) and required[0] not in granted
    assert error.status == 403 and "errorId 1100" in str(error) and api.SCOPE_SELL_ACCOUNT in str(error)
    assert "6196932001" in str(harness.emulator.dump())


def test_a_successful_delete_proves_the_write_scope(harness) -> None:
    async def body(provider: EbayProvider) -> tuple[frozenset[str], frozenset[str]]:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        before = await provider.proven_scopes()
        await provider.cancel(request_for(hermes))
        return before, await provider.proven_scopes()

    before, after = harness.run(body)

    assert api.SCOPE_SELL_ACCOUNT not in before
    assert after - before == {api.SCOPE_SELL_ACCOUNT}


def test_declared_scopes_are_what_granted_returns(harness) -> None:
    options = {"marketplaces": ["EBAY_DE"], "scopes": ["sell.account", api.SCOPE_NOTIFICATION]}

    granted = harness.run(lambda p: p.granted(), options=options)

    assert granted == frozenset({api.SCOPE_SELL_ACCOUNT, api.SCOPE_NOTIFICATION})
    assert harness.exchanges == []  # nothing to learn from the API


def test_undeclared_scopes_are_unknown_not_guessed(harness) -> None:
    assert harness.run(lambda p: p.granted()) is None
    assert harness.exchanges == []


def test_proven_scopes_before_listing_probe_with_reads(harness) -> None:
    granted = harness.run(lambda p: p.proven_scopes())

    assert granted == frozenset({api.SCOPE_SELL_ACCOUNT_READONLY, api.SCOPE_NOTIFICATION_READONLY})
    assert all(e.request.method == "GET" for e in harness.exchanges) and len(harness.exchanges) == 2


def test_a_missing_scope_on_one_api_makes_the_listing_partial(harness, scenario) -> None:
    scenario["demo-seller"]["tokens"]["v^1.1#policies-only"] = [api.SCOPE_SELL_ACCOUNT]
    harness.emulator.load(scenario)

    listing = harness.run(lambda p: p.list_bindings(ALL), token="v^1.1#policies-only")

    assert not listing.complete
    assert len(listing.problems) == 1
    assert "errorId 1100" in listing.problems[0] and api.SCOPE_NOTIFICATION_READONLY in listing.problems[0]
    assert {b.kind for b in listing.bindings} == {Kind.CARRIER}
    (gap,) = listing.gaps  # only webhooks are withheld, naming the scope eBay wants
    assert gap.kind is Kind.WEBHOOK and gap.reason is GapReason.REFUSED
    assert gap.params == {"right": api.SCOPE_NOTIFICATION_READONLY}
    assert listing.complete_for(Kind.CARRIER)
    assert listing.granted == frozenset({api.SCOPE_SELL_ACCOUNT_READONLY})


# -- quotas -----------------------------------------------------------------------------------


def test_a_429_is_retried_and_then_succeeds(harness, clock) -> None:
    harness.emulator.daily_quotas[api.API_SELL_ACCOUNT] = 1
    clock.now += 12 * 3600 - 0.1  # a tenth of a second before midnight Pacific
    assert (
        harness.emulator.handle(  # another tool used today's only call
            httpx.Request(
                "GET",
                "http://127.0.0.1:8787/ebay/sell/account/v1/fulfillment_policy?marketplace_id=EBAY_DE",
                headers={"Authorization": "Bearer v^1.1#demo"},
            ),
            "/sell/account/v1/fulfillment_policy",
        ).status_code
        == 200
    )

    listing = harness.run(
        lambda p: p.list_bindings(frozenset({Kind.CARRIER})), options={"marketplaces": ["EBAY_DE"]}
    )

    assert listing.complete and len(listing.bindings) == 2
    assert harness.statuses() == [429, 200]
    assert len(harness.sleeps) == 1


def test_a_used_up_quota_fails_fast_without_a_request_storm(harness) -> None:
    harness.emulator.daily_quotas[api.API_SELL_ACCOUNT] = 0
    options = {"marketplaces": ["EBAY_DE", "EBAY_GB", "EBAY_FR"]}

    async def body(provider: EbayProvider) -> tuple[Any, ...]:
        listing = await provider.list_bindings(ALL)
        stale = LiveBinding(
            "lumen-ebay",
            "ebay",
            Kind.CARRIER,
            "6196932001",
            "Hermes Päckchen",
            "active",
            "fulfillment_policy",
            {},
        )
        try:
            await provider.cancel(request_for(stale))
        except RateLimitError as exc:
            return listing, exc
        raise AssertionError("the cancel should have failed fast")

    listing, error = harness.run(body, options=options)

    assert harness.statuses("/sell/account/") == [429, 429]  # one retry, then nothing more
    assert not listing.complete and len(listing.problems) == 1  # the kind stops at its first failure
    assert all(
        "daily call quota for sell.account is used up" in p and "midnight Pacific" in p
        for p in listing.problems
    )
    assert {b.kind for b in listing.bindings} == {Kind.WEBHOOK}  # the other API's quota is separate
    assert "midnight Pacific" in str(error) and error.status == 429


def test_the_configured_quota_stops_calls_before_they_are_sent(harness) -> None:
    options = {"marketplaces": ["EBAY_DE", "EBAY_GB", "EBAY_FR"], "quotas": {"sell.account": 2}}

    listing = harness.run(lambda p: p.list_bindings(frozenset({Kind.CARRIER})), options=options)

    assert harness.emulator.received == 2
    assert listing.problems == (
        "ebay lumen-ebay: daily quota of 2 calls for sell.account used up; "
        "it resets at midnight Pacific time (in 12h00m). If eBay granted this application more calls, "
        "set options.quotas.sell.account on the account.",
    )


# -- configuration, errors, export ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "credentials", "fragment"),
    [
        ({"marketplaces": "EBAY_DE"}, {"access_token": "t0ken"}, "options.marketplaces must be a list"),
        ({"marketplaces": ["DE"]}, {"access_token": "t0ken"}, "'DE'"),
        ({"page_size": 5}, {"access_token": "t0ken"}, "page_size"),
        ({"quotas": {"sell.inventory": 5}}, {"access_token": "t0ken"}, "options.quotas.sell.inventory"),
        ({"quotas": {"sell.account": 0}}, {"access_token": "t0ken"}, "positive whole number"),
        ({"scopes": "sell.account"}, {"access_token": "t0ken"}, "options.scopes"),
        ({}, {}, "credentials.access_token"),
    ],
)
def test_bad_account_settings_are_config_errors(harness, options, credentials, fragment) -> None:
    from engine.model import Account
    from providers.sdk import ProviderContext

    ctx = ProviderContext(Account("lumen-ebay", "ebay", options=options), credentials, http=harness.factory())
    with pytest.raises(ConfigError, match="lumen-ebay") as caught:
        EbayProvider(ctx)
    assert fragment in str(caught.value)


def test_ebay_error_bodies_become_one_line() -> None:
    body = {
        "errors": [
            {
                "errorId": 20403,
                "domain": "API_ACCOUNT",
                "category": "REQUEST",
                "message": "Invalid marketplace_id.",
                "longMessage": "Invalid marketplace_id.\nUse an id such as EBAY_DE.",
                "parameters": [{"name": "fieldName", "value": "marketplace_id"}],
            },
            {"errorId": 20401, "message": "Missing field name.", "longMessage": "Name is required"},
        ]
    }
    text = describe_error(httpx.Response(400, json=body))
    assert text == (
        "errorId 20403: Invalid marketplace_id. Use an id such as EBAY_DE. [fieldName=marketplace_id]; "
        "errorId 20401: Missing field name. (Name is required)"
    )
    assert (
        describe_error(httpx.Response(502, text="<html>\nBad gateway</html>")) == "<html> Bad gateway</html>"
    )
    assert describe_error(httpx.Response(500)) == "HTTP 500 with an empty body"


def test_export_yields_the_binding_and_nothing_else(harness) -> None:
    async def body(provider: EbayProvider) -> tuple[list[Any], Exception]:
        hermes = by_id((await provider.list_bindings(ALL)).bindings)["6196932001"]
        records = [r async for r in provider.export(hermes, "binding")]
        try:
            [r async for r in provider.export(hermes, "orders")]
        except ProviderError as exc:
            return records, exc
        raise AssertionError("orders is not an eBay dataset")

    records, error = harness.run(body)

    assert records[0]["name"] == "Hermes Päckchen"
    assert "orders" in str(error)
    assert EbayProvider.capabilities.datasets == frozenset()
