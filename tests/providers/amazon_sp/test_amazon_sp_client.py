"""AmazonSPProvider against the in-process emulator: listing, paging, cancel, tokens, limits."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
import structlog
from amazon_sp_support import CREDENTIALS, ENDPOINT, Clock, demo_section, error_response, harness, run

from engine.errors import AuthError, ConfigError, ProviderError
from engine.model import CancelAt, Kind, LiveBinding
from providers.amazon_sp.client import AmazonSPProvider
from providers.amazon_sp.operations import NOTIFICATIONS_ROLE, SHIPPING_ROLE
from providers.sdk import CancelRequest, CancelStatus, GapReason, ResponseLostError

BOTH = frozenset({Kind.CARRIER, Kind.WEBHOOK})
WEBHOOKS = frozenset({Kind.WEBHOOK})


def by_id(listing: Any) -> dict[str, LiveBinding]:
    return {b.id: b for b in listing.bindings}


def cancel_request(binding: LiveBinding) -> CancelRequest:
    return CancelRequest(
        binding=binding, side="platform", cancel_at=CancelAt.NOW, idempotency_key="k-" + binding.id
    )


def many_subscriptions(count: int) -> dict[str, Any]:
    section = demo_section()
    section["A2EUQ1WTGCTBG2"]["subscriptions"]["ORDER_CHANGE"] = [
        {"subscriptionId": f"sub-{i:03d}", "destinationId": "dest-legacy"} for i in range(count)
    ]
    return section


# -- listing -----------------------------------------------------------------------------------


def test_lists_the_demo_story_as_bindings() -> None:
    async def go() -> None:
        h = harness()
        listing = await h.provider().list_bindings(BOTH)
        assert listing.complete and listing.problems == ()
        found = by_id(listing)
        assert set(found) == {
            "DPD-4711",
            "HERMES-0815",
            "dest-legacy",
            "dest-nordhub",
            "sub-legacy-1",
            "sub-nordhub-1",
        }
        hermes = found["HERMES-0815"]
        assert (hermes.kind, hermes.resource, hermes.name, hermes.status) == (
            Kind.CARRIER,
            "carrierAccounts",
            "HERMES",
            "active",
        )
        assert dict(hermes.raw) == {"accountId": "HERMES-0815", "carrierId": "HERMES"}
        sub = found["sub-legacy-1"]
        assert (sub.kind, sub.resource, sub.name) == (Kind.WEBHOOK, "subscriptions", "ORDER_CHANGE")
        assert dict(sub.raw) == {
            "subscriptionId": "sub-legacy-1",
            "payloadVersion": "1.0",
            "destinationId": "dest-legacy",
        }
        dest = found["dest-nordhub"]
        assert (dest.resource, dest.name) == ("destinations", "nordhub-events")
        assert dest.get("resource.eventBridge.region") == "eu-west-1"
        assert listing.granted == frozenset({SHIPPING_ROLE, NOTIFICATIONS_ROLE})
        carriers = h.calls("/shipping/v2/carrierAccounts", "PUT")
        assert carriers[0].request.headers["x-amzn-shipping-business-id"] == "AmazonShipping_UK"
        assert carriers[0].body() == {}

    run(go())


def test_only_requested_kinds_are_listed() -> None:
    async def go() -> None:
        h = harness()
        listing = await h.provider().list_bindings(frozenset({Kind.CARRIER}))
        assert {b.kind for b in listing.bindings} == {Kind.CARRIER}
        assert not h.calls("/notifications")

    run(go())


def test_follows_every_page_of_subscriptions() -> None:
    async def go() -> None:
        h = harness(many_subscriptions(250))
        listing = await h.provider(options={"notification_types": ["ORDER_CHANGE"]}).list_bindings(WEBHOOKS)
        assert listing.complete
        subs = [b for b in listing.bindings if b.resource == "subscriptions"]
        assert [b.id for b in subs] == [f"sub-{i:03d}" for i in range(250)]
        pages = h.calls("/notifications/v1/subscriptions", "GET")
        assert len(pages) == 3
        assert all(p.request.url.params["pageSize"] == "100" for p in pages)
        assert "nextToken" not in pages[0].request.url.params
        assert pages[1].request.url.params["nextToken"] and pages[2].request.url.params["nextToken"]

    run(go())


def test_a_failed_page_keeps_what_came_and_marks_the_listing_partial() -> None:
    async def go() -> None:
        h = harness(many_subscriptions(250))
        h.faults.append(
            lambda r: (
                error_response(503, "ServiceUnavailable", "down") if "nextToken" in r.url.params else None
            )
        )
        listing = await h.provider(options={"notification_types": ["ORDER_CHANGE"]}).list_bindings(BOTH)
        assert not listing.complete
        assert len(listing.problems) == 1 and "ORDER_CHANGE" in listing.problems[0]
        (gap,) = listing.gaps
        assert gap.kind is Kind.WEBHOOK and gap.reason is GapReason.FAILED and gap.params["status"] == "503"
        assert listing.complete_for(Kind.CARRIER) and not listing.complete_for(Kind.WEBHOOK)
        ids = set(by_id(listing))
        assert {"DPD-4711", "HERMES-0815", "dest-legacy"} <= ids

    run(go())


def test_a_repeating_cursor_stops_the_listing() -> None:
    async def go() -> None:
        h = harness()
        calls = {"n": 0}

        def loop(request: httpx.Request) -> httpx.Response | None:
            if request.url.path.endswith("/notifications/v1/subscriptions"):
                calls["n"] += 1
                page = {
                    "subscriptions": [
                        {"subscriptionId": f"s{calls['n']}", "payloadVersion": "1.0", "destinationId": "d"}
                    ],
                    "nextToken": "same",
                }
                return httpx.Response(200, json={"payload": page})
            return None

        h.faults.append(loop)
        listing = await h.provider(options={"notification_types": ["ORDER_CHANGE"]}).list_bindings(WEBHOOKS)
        assert not listing.complete
        assert "already given" in listing.problems[0]
        assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]
        assert calls["n"] == 2

    run(go())


def test_an_id_that_comes_back_twice_marks_the_listing_partial() -> None:
    async def go() -> None:
        h = harness()
        sub = {"subscriptionId": "dup", "payloadVersion": "1.0", "destinationId": "dest-legacy"}
        h.faults.append(
            lambda r: (
                httpx.Response(200, json={"payload": {"subscriptions": [sub, sub]}})
                if r.url.path.endswith("/notifications/v1/subscriptions")
                else None
            )
        )
        listing = await h.provider(options={"notification_types": ["ORDER_CHANGE"]}).list_bindings(WEBHOOKS)
        assert not listing.complete and "earlier page" in listing.problems[0]
        assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]
        assert [b.id for b in listing.bindings if b.resource == "subscriptions"] == []

    run(go())


def test_without_the_paged_list_each_type_is_read_with_getSubscription() -> None:
    async def go() -> None:
        section = demo_section()
        section["A2EUQ1WTGCTBG2"]["paged_list"] = False
        h = harness(section)
        listing = await h.provider(
            options={"notification_types": ["ORDER_CHANGE", "FEED_PROCESSING_FINISHED"]}
        ).list_bindings(WEBHOOKS)
        assert listing.complete
        assert {b.id for b in listing.bindings if b.resource == "subscriptions"} == {"sub-legacy-1"}
        singles = [e for e in h.log if e.path.startswith("/notifications/v1/subscriptions/")]
        assert [(e.path, e.status) for e in singles] == [
            ("/notifications/v1/subscriptions/ORDER_CHANGE", 200),
            ("/notifications/v1/subscriptions/FEED_PROCESSING_FINISHED", 404),
        ]

    run(go())


def test_a_missing_role_is_a_problem_and_leaves_granted() -> None:
    async def go() -> None:
        section = demo_section()
        section["A2EUQ1WTGCTBG2"]["lwa"]["roles"] = ["notifications"]
        h = harness(section)
        provider = h.provider()
        assert await provider.granted() == frozenset({SHIPPING_ROLE, NOTIFICATIONS_ROLE})
        listing = await provider.list_bindings(BOTH)
        assert not listing.complete
        assert "carrier accounts" in listing.problems[0] and "Unauthorized" in listing.problems[0]
        assert "lacks sellingpartnerapi::shipping" in listing.problems[0]
        assert {b.kind for b in listing.bindings} == {Kind.WEBHOOK}
        (gap,) = listing.gaps  # only carriers are withheld; webhooks were listed in full
        assert gap.kind is Kind.CARRIER and gap.reason is GapReason.REFUSED
        assert gap.params == {"right": SHIPPING_ROLE}
        assert listing.complete_for(Kind.WEBHOOK)
        assert listing.granted == frozenset({NOTIFICATIONS_ROLE})
        assert await provider.granted() == frozenset({NOTIFICATIONS_ROLE})
        carrier = LiveBinding(
            "amazon-eu", "amazon-sp", Kind.CARRIER, "x", "DPD", "active", "carrierAccounts", {}
        )
        assert provider.required(carrier, "platform", ("binding",)) == (SHIPPING_ROLE,)
        sub = by_id(listing)["sub-legacy-1"]
        assert provider.required(sub, "platform", ("binding",)) == (NOTIFICATIONS_ROLE,)

    run(go())


# -- credentials and tokens --------------------------------------------------------------------


def test_a_refused_refresh_token_is_an_auth_error_without_secrets() -> None:
    async def go() -> None:
        h = harness()
        bad = {**CREDENTIALS, "refresh_token": "Atzr|stolen-and-revoked"}
        provider = h.provider(credentials=bad)
        with structlog.testing.capture_logs() as logs, pytest.raises(AuthError) as err:
            await provider.list_bindings(BOTH)
        text = str(err.value)
        assert "invalid_grant" in text and "refresh_token" in text
        assert "Atzr|stolen-and-revoked" not in text and "demo-secret" not in text
        assert "Atzr|stolen-and-revoked" not in json.dumps(logs, default=str)
        with pytest.raises(AuthError):
            await provider.granted()

    run(go())


def test_a_wrong_client_secret_names_the_client_credentials() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider(credentials={**CREDENTIALS, "client_secret": "not-the-secret"})
        with pytest.raises(AuthError) as err:
            await provider.granted()
        assert "invalid_client" in str(err.value) and "client_secret" in str(err.value)
        assert "not-the-secret" not in str(err.value)

    run(go())


def test_one_token_exchange_per_kind_serves_many_requests() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        listing = await provider.list_bindings(BOTH)
        await provider.list_bindings(BOTH)
        for binding in listing.bindings:
            assert await provider.fetch(binding) is not None
        assert len(h.lwa_calls("refresh_token")) == 1
        assert len(h.lwa_calls("client_credentials")) == 1
        assert len(h.log) > 20
        seller_form = h.lwa_calls("refresh_token")[0].form()
        assert seller_form == {"grant_type": "refresh_token", **CREDENTIALS}
        grantless_form = h.lwa_calls("client_credentials")[0].form()
        assert grantless_form["scope"] == "sellingpartnerapi::notifications"
        assert "refresh_token" not in grantless_form

    run(go())


def test_tokens_are_renewed_before_they_expire() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        await provider.list_bindings(frozenset({Kind.CARRIER}))
        h.clock.advance(3600 - 30)  # inside the renewal margin
        await provider.list_bindings(frozenset({Kind.CARRIER}))
        assert len(h.lwa_calls("refresh_token")) == 2
        assert 401 not in h.statuses() and 403 not in h.statuses()

    run(go())


def test_a_401_renews_the_token_once_and_retries() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        await provider.list_bindings(frozenset({Kind.CARRIER}))
        h.emulator.load(demo_section())  # the service forgets every token it issued
        listing = await provider.list_bindings(frozenset({Kind.CARRIER}))
        assert listing.complete and len(listing.bindings) == 2
        assert len(h.lwa_calls("refresh_token")) == 2
        carriers = [e.status for e in h.calls("/shipping/v2/carrierAccounts")]
        assert carriers == [200, 401, 200]

    run(go())


def test_an_expired_token_403_renews_the_token() -> None:
    async def go() -> None:
        h = harness()
        frozen = Clock(now=0.0)  # the client believes no time passes; the service does not
        provider = h.provider(clock=frozen)
        await provider.list_bindings(frozenset({Kind.CARRIER}))
        h.clock.advance(4000)
        listing = await provider.list_bindings(frozenset({Kind.CARRIER}))
        assert listing.complete
        expired = [e for e in h.log if e.status == 403]
        assert len(expired) == 1 and "expired" in expired[0].response.text
        assert len(h.lwa_calls("refresh_token")) == 2

    run(go())


def test_a_401_that_persists_is_an_auth_error() -> None:
    async def go() -> None:
        h = harness()
        h.faults.append(
            lambda r: (
                error_response(401, "Unauthorized", "The credentials are invalid.")
                if "/shipping/" in r.url.path
                else None
            )
        )
        with pytest.raises(AuthError) as err:
            await h.provider().list_bindings(BOTH)
        assert err.value.status == 401 and err.value.request_id == "fault"
        assert "Unauthorized: The credentials are invalid." in str(err.value)
        assert len(h.lwa_calls("refresh_token")) == 2

    run(go())


# -- rate limits -------------------------------------------------------------------------------


def test_token_buckets_keep_bursts_under_the_service_limit() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        start = h.clock.now
        for _ in range(3):
            listing = await provider.list_bindings(BOTH)
            assert listing.complete
        assert 429 not in h.statuses()
        # 18 getSubscriptions calls against a bucket of 5 refilled at 1/s: about 13 s of pacing.
        assert h.clock.now - start >= 12

    run(go())


def test_a_429_without_retry_after_is_retried_after_backoff() -> None:
    async def go() -> None:
        h = harness()
        other = h.provider()  # another process of the same app drains the shared bucket
        provider = h.provider()
        dest = by_id(await provider.list_bindings(WEBHOOKS))["dest-legacy"]
        for _ in range(5):
            await other.fetch(dest)
        found = await provider.fetch(dest)
        assert found is not None and found.id == "dest-legacy"
        gets = [e for e in h.calls("/notifications/v1/destinations/dest-legacy")]
        statuses = [e.status for e in gets]
        assert statuses[:5] == [200] * 5 and 429 in statuses[5:] and statuses[-1] == 200
        throttled = next(e for e in gets if e.status == 429)
        assert "retry-after" not in throttled.response.headers
        assert h.clock.slept  # waited on the fake clock, not in real time

    run(go())


def test_the_applied_rate_header_retunes_the_bucket() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        await provider.list_bindings(frozenset({Kind.CARRIER}))
        bucket = provider.limiter.bucket("getCarrierAccounts")
        assert bucket is not None and bucket.rate == 80.0
        h.faults.append(
            lambda r: (
                httpx.Response(200, json={"activeAccounts": []}, headers={"x-amzn-RateLimit-Limit": "2.5"})
                if "/shipping/" in r.url.path
                else None
            )
        )
        await provider.list_bindings(frozenset({Kind.CARRIER}))
        assert bucket.rate == 2.5

    run(go())


# -- cancel and fetch --------------------------------------------------------------------------


def test_unlink_a_carrier_account_then_it_is_gone() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        hermes = by_id(await provider.list_bindings(BOTH))["HERMES-0815"]
        outcome = await provider.cancel(cancel_request(hermes))
        assert outcome.status is CancelStatus.DONE and outcome.request_id
        unlink = h.calls("/shipping/v2/carrierAccounts/HERMES/unlink", "PUT")
        assert len(unlink) == 1 and unlink[0].body() == {"accountId": "HERMES-0815"}
        assert await provider.fetch(hermes) is None
        assert set(by_id(await provider.list_bindings(frozenset({Kind.CARRIER})))) == {"DPD-4711"}
        again = await provider.cancel(cancel_request(hermes))
        assert again.status is CancelStatus.ALREADY_GONE
        assert [a["accountId"] for a in h.emulator.dump()["A2EUQ1WTGCTBG2"]["carrier_accounts"]] == [
            "DPD-4711"
        ]

    run(go())


def test_unlink_accepts_the_model_examples_extra_merchant_id() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        hermes = by_id(await provider.list_bindings(frozenset({Kind.CARRIER})))["HERMES-0815"]
        h.faults.append(
            lambda r: (
                httpx.Response(200, json={"merchantId": "", "isUnlinked": True})
                if r.url.path.endswith("/unlink")
                else None
            )
        )
        assert (await provider.cancel(cancel_request(hermes))).status is CancelStatus.DONE

    run(go())


def test_unlink_that_is_not_confirmed_is_an_error() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        hermes = by_id(await provider.list_bindings(frozenset({Kind.CARRIER})))["HERMES-0815"]
        h.faults.append(
            lambda r: (
                httpx.Response(200, json={"isUnlinked": False}) if r.url.path.endswith("/unlink") else None
            )
        )
        with pytest.raises(ProviderError, match="isUnlinked"):
            await provider.cancel(cancel_request(hermes))

    run(go())


def test_deleting_a_subscription_uses_the_grantless_token() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        sub = by_id(await provider.list_bindings(WEBHOOKS))["sub-legacy-1"]
        outcome = await provider.cancel(cancel_request(sub))
        assert outcome.status is CancelStatus.DONE
        delete = h.calls("/notifications/v1/subscriptions/ORDER_CHANGE/sub-legacy-1", "DELETE")
        assert len(delete) == 1 and delete[0].status == 200
        grantless = [e.response.json()["access_token"] for e in h.lwa_calls("client_credentials")]
        seller = [e.response.json()["access_token"] for e in h.lwa_calls("refresh_token")]
        sent = delete[0].request.headers["x-amz-access-token"]
        assert sent in grantless and sent not in seller
        assert await provider.fetch(sub) is None
        assert (await provider.cancel(cancel_request(sub))).status is CancelStatus.ALREADY_GONE
        assert "ORDER_CHANGE" in h.emulator.dump()["A2EUQ1WTGCTBG2"]["subscriptions"]
        assert h.emulator.dump()["A2EUQ1WTGCTBG2"]["subscriptions"]["ORDER_CHANGE"] == []

    run(go())


def test_an_undeletable_notification_type_becomes_a_manual_runbook() -> None:
    async def go() -> None:
        section = demo_section()
        section["A2EUQ1WTGCTBG2"]["subscriptions"]["BRANDED_ITEM_CONTENT_CHANGE"] = [
            {"subscriptionId": "sub-brand-1", "destinationId": "dest-legacy"}
        ]
        h = harness(section)
        provider = h.provider(options={"notification_types": ["BRANDED_ITEM_CONTENT_CHANGE"]})
        sub = by_id(await provider.list_bindings(WEBHOOKS))["sub-brand-1"]
        outcome = await provider.cancel(cancel_request(sub))
        assert outcome.status is CancelStatus.MANUAL
        assert outcome.runbook is not None
        assert set(outcome.runbook.support_message) == {"en", "zh"}
        for text in outcome.runbook.support_message.values():
            assert "sub-brand-1" in text and "BRANDED_ITEM_CONTENT_CHANGE" in text and "dest-legacy" in text
        assert "请删除" in outcome.runbook.support_message["zh"]
        assert any("Seller Central" in step for step in outcome.runbook.navigation)
        assert outcome.runbook.contact.startswith("https://sellercentral.amazon.com/")
        assert "demo-secret" not in json.dumps(outcome.runbook.to_json())
        assert await provider.fetch(sub) is not None  # Amazon kept it
        assert provider.capabilities.datasets == frozenset()

    run(go())


def test_a_destination_still_in_use_is_blocked_until_its_subscription_goes() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        found = by_id(await provider.list_bindings(WEBHOOKS))
        blocked = await provider.cancel(cancel_request(found["dest-legacy"]))
        assert blocked.status is CancelStatus.BLOCKED
        assert "sub-legacy-1" in blocked.detail and "legacyerp-queue" in blocked.detail
        assert await provider.fetch(found["dest-legacy"]) is not None
        assert (await provider.cancel(cancel_request(found["sub-legacy-1"]))).status is CancelStatus.DONE
        assert (await provider.cancel(cancel_request(found["dest-legacy"]))).status is CancelStatus.DONE
        assert await provider.fetch(found["dest-legacy"]) is None
        assert (
            await provider.cancel(cancel_request(found["dest-legacy"]))
        ).status is CancelStatus.ALREADY_GONE
        remaining = by_id(await provider.list_bindings(WEBHOOKS))
        assert set(remaining) == {"dest-nordhub", "sub-nordhub-1"}

    run(go())


def test_a_lost_response_to_a_cancel_converges() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        sub = by_id(await provider.list_bindings(WEBHOOKS))["sub-nordhub-1"]
        dropped = {"n": 0}

        def drop_first_delete(request: httpx.Request) -> httpx.Response | None:
            if request.method == "DELETE" and not dropped["n"]:
                dropped["n"] += 1
                h.emulator.handle(request, request.url.path[len("/amazon-sp") :])  # it happened...
                raise httpx.ReadError("connection reset", request=request)  # ...but no answer came
            return None

        h.faults.append(drop_first_delete)
        with pytest.raises(ResponseLostError):  # apply settles it by reading back, not the provider
            await provider.cancel(cancel_request(sub))
        assert dropped["n"] == 1
        assert await provider.fetch(sub) is None

    run(go())


def test_other_sides_and_unknown_resources_are_refused() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        sub = by_id(await provider.list_bindings(WEBHOOKS))["sub-legacy-1"]
        with pytest.raises(ProviderError, match="platform"):
            await provider.cancel(CancelRequest(sub, "provider", CancelAt.NOW, "k"))
        odd = LiveBinding("amazon-eu", "amazon-sp", Kind.WEBHOOK, "x", "x", "active", "queues", {})
        with pytest.raises(ProviderError, match="unknown resource"):
            await provider.cancel(cancel_request(odd))

    run(go())


def test_export_has_only_the_binding_itself() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        sub = by_id(await provider.list_bindings(WEBHOOKS))["sub-legacy-1"]
        records = [r async for r in provider.export(sub, "binding")]
        assert records == [dict(sub.raw)]
        with pytest.raises(ProviderError, match="orders"):
            [r async for r in provider.export(sub, "orders")]

    run(go())


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "credentials", "message"),
    [
        ({"region": "mars"}, CREDENTIALS, "options.region"),
        ({}, {k: v for k, v in CREDENTIALS.items() if k != "refresh_token"}, "credentials.refresh_token"),
        ({"notification_types": "ORDER_CHANGE"}, CREDENTIALS, "notification_types"),
    ],
)
def test_bad_account_settings_are_config_errors(
    options: dict[str, Any], credentials: dict[str, str], message: str
) -> None:
    async def go() -> None:
        with pytest.raises(ConfigError, match=message):
            harness().provider(options=options, credentials=credentials)

    run(go())


def test_hosts_follow_region_endpoint_and_token_endpoint() -> None:
    async def go() -> None:
        from engine.model import Account
        from providers.http import HttpFactory
        from providers.sdk import ProviderContext

        factory = HttpFactory()

        def make(endpoint: str | None, **options: Any) -> AmazonSPProvider:
            account = Account("a", "amazon-sp", endpoint=endpoint, options=options)
            return AmazonSPProvider(ProviderContext(account, dict(CREDENTIALS), factory))

        na = make(None, region="NA")
        assert na._api.base_url == "https://sellingpartnerapi-na.amazon.com"
        assert na.lwa._api.base_url == "https://api.amazon.com/auth/o2/token"
        eu = make(None)
        assert eu._api.base_url == "https://sellingpartnerapi-eu.amazon.com"
        sandbox = make(ENDPOINT)
        assert sandbox.lwa._api.base_url == ENDPOINT + "/auth/o2/token"
        custom = make(ENDPOINT, token_endpoint="http://127.0.0.1:9999/lwa", business_id="AmazonShipping_FR")
        assert custom.lwa._api.base_url == "http://127.0.0.1:9999/lwa"
        assert custom.business_id == "AmazonShipping_FR"
        assert make(None, notification_types=["ORDER_CHANGE", "ORDER_CHANGE"]).notification_types == (
            "ORDER_CHANGE",
        )
        await factory.aclose()

    run(go())


def test_a_scenario_can_be_reloaded_from_its_dump() -> None:
    async def go() -> None:
        h = harness()
        provider = h.provider()
        sub = by_id(await provider.list_bindings(WEBHOOKS))["sub-legacy-1"]
        await provider.cancel(cancel_request(sub))
        state = copy.deepcopy(h.emulator.dump())
        again = harness(state)
        assert again.emulator.dump() == state
        listing = await again.provider().list_bindings(BOTH)
        assert "sub-legacy-1" not in by_id(listing) and "sub-nordhub-1" in by_id(listing)

    run(go())


def test_an_app_refused_the_grantless_scope_loses_only_the_grantless_listings() -> None:
    async def go() -> None:
        h = harness()
        h.faults.append(
            lambda r: (
                httpx.Response(
                    400,
                    json={"error": "invalid_scope", "error_description": "An unknown scope was specified"},
                )
                if r.url.path.endswith("/auth/o2/token") and b"client_credentials" in r.content
                else None
            )
        )
        provider = h.provider()
        assert await provider.granted() == frozenset({SHIPPING_ROLE})
        listing = await provider.list_bindings(BOTH)
        assert not listing.complete
        assert (
            len(listing.problems) == 1
            and "destinations" in listing.problems[0]
            and "invalid_scope" in listing.problems[0]
        )
        (gap,) = listing.gaps
        assert gap.kind is Kind.WEBHOOK and gap.reason is GapReason.REFUSED
        assert gap.params == {"right": NOTIFICATIONS_ROLE}
        assert {"DPD-4711", "HERMES-0815", "sub-legacy-1", "sub-nordhub-1"} == set(by_id(listing))
        assert listing.granted == frozenset({SHIPPING_ROLE})

    run(go())
