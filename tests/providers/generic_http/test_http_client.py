"""HttpVendorProvider against the in-process emulator: listing, paging, cancel, verify, export."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engine.errors import AuthError, ConfigError, ProviderError
from engine.model import CancelAt, Kind, LiveBinding
from providers.generic_http.client import HttpVendorProvider, describe_error
from providers.sdk import Account, CancelRequest, CancelStatus, GapReason, ResponseLostError

ALL = frozenset(Kind)

PAGING = {
    # style: (emulator pagination, provider pagination, items key)
    "none": ({"style": "none"}, {"style": "none"}, "data"),
    "page": ({"style": "page", "total": "meta.total"}, {"style": "page", "size": 2, "total": "meta.total"}, "data"),
    "page-short": ({"style": "page"}, {"style": "page", "size": 2}, "data"),
    "offset": ({"style": "offset"}, {"style": "offset", "size": 2}, "results"),
    "cursor": ({"style": "cursor", "next": "meta.next"}, {"style": "cursor", "next": "meta.next"}, "data"),
    "cursor-has-more": (
        {"style": "cursor", "next": "next", "has_more": "has_more"},
        {"style": "cursor", "next": "next", "has_more": "has_more"},
        "data",
    ),
    "link": ({"style": "link"}, {"style": "link"}, None),
}


def integrations(count: int) -> list[dict[str, Any]]:
    return [{"id": f"si_{i}", "shop_name": f"Shop {i}", "state": "active"} for i in range(1, count + 1)]


def vendor_section(
    *,
    paging: dict[str, Any] | None = None,
    items: str | None = "data",
    objects: list[dict[str, Any]] | None = None,
    cancel: dict[str, Any] | None = None,
    page_size: int = 2,
    rate_limit: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "path": "/v1/shop_integrations",
        "pagination": paging or {"style": "cursor", "next": "meta.next"},
        "page_size": page_size,
        "objects": integrations(5) if objects is None else objects,
        "cancel": cancel or {"method": "DELETE"},
    }
    if items:
        resource["items"] = items
    section: dict[str, Any] = {
        "auth": auth or {"header": "Authorization", "format": "Bearer {token}", "tokens": ["demo-token"]},
        "resources": {
            "shop_integrations": resource,
            "shipments": {
                "path": "/v1/shipments",
                "items": "shipments",
                "pagination": {"style": "page", "total": "meta.total"},
                "page_size": 2,
                "filters": ["shop_integration_id"],
                "objects": [
                    {"id": f"shp_{i}", "shop_integration_id": "si_1" if i % 2 else "si_2", "ref": f"#{1000 + i}"}
                    for i in range(1, 8)
                ],
            },
        },
    }
    if rate_limit:
        section["rate_limit"] = rate_limit
    return {"shipcloud": section}


def provider_options(
    *,
    paging: dict[str, Any] | None = None,
    items: str | None = "data",
    cancel: dict[str, Any] | None = None,
    gone: dict[str, Any] | None = None,
    get: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    listing: dict[str, Any] = {"path": "/v1/shop_integrations", "pagination": paging or {"style": "cursor", "next": "meta.next"}}
    if items:
        listing["items"] = items
    resource: dict[str, Any] = {
        "kind": "carrier",
        "name": "shop_integrations",
        "list": listing,
        "fields": {"id": "id", "name": "shop_name", "status": "state"},
        "cancel": cancel or {"method": "DELETE", "path": "/v1/shop_integrations/{id}", "ok": [200, 204]},
        "datasets": {
            "orders": {
                "path": "/v1/shipments",
                "items": "shipments",
                "params": {"shop_integration_id": "{id}"},
                "pagination": {"style": "page", "size": 2, "total": "meta.total"},
            }
        },
    }
    if gone:
        resource["gone"] = gone
    if get:
        resource["get"] = {"path": "/v1/shop_integrations/{id}"}
    options: dict[str, Any] = {
        "vendor": "shipcloud",
        "auth": {"header": "Authorization", "format": "Bearer {token}"},
        "resources": [resource],
    }
    options.update(extra or {})
    return options


def cancel_request(binding: LiveBinding, key: str = "plan1-key") -> CancelRequest:
    return CancelRequest(binding=binding, side="provider", cancel_at=CancelAt.NOW, idempotency_key=key)


def list_paths(harness: Any) -> list[str]:
    return [str(r.url) for r in harness.requests if r.url.path.endswith("/v1/shop_integrations")]


# -- pagination --------------------------------------------------------------------------------


@pytest.mark.parametrize("style", sorted(PAGING))
def test_every_pagination_style_lists_every_page(harness: Any, style: str) -> None:
    emu_paging, opt_paging, items = PAGING[style]
    harness.emulator.load(vendor_section(paging=emu_paging, items=items))

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options(paging=opt_paging, items=items)).list_bindings(ALL)

    listing = harness.run(scenario)
    assert listing.complete, listing.problems
    assert [b.id for b in listing.bindings] == ["si_1", "si_2", "si_3", "si_4", "si_5"]
    first = listing.bindings[0]
    assert (first.name, first.status, first.resource, first.kind) == ("Shop 1", "active", "shop_integrations", Kind.CARRIER)
    assert first.raw == {"id": "si_1", "shop_name": "Shop 1", "state": "active"}
    assert first.sides == ("provider",)
    expected_calls = {"none": 1, "page": 3, "page-short": 3, "offset": 3, "cursor": 3, "cursor-has-more": 3, "link": 3}
    assert len(list_paths(harness)) == expected_calls[style]
    assert listing.granted == frozenset({"*"})


def test_page_style_asks_one_extra_page_when_the_vendor_caps_the_size(harness: Any) -> None:
    """The vendor serves 2 per page although 10 were asked: a 2-item page is not the last one."""
    harness.emulator.load(vendor_section(paging={"style": "page"}, page_size=2))

    async def scenario(http: Any) -> Any:
        options = provider_options(paging={"style": "page", "size": 10})
        return await harness.provider(http, options).list_bindings(ALL)

    listing = harness.run(scenario)
    assert [b.id for b in listing.bindings] == ["si_1", "si_2", "si_3", "si_4", "si_5"]
    assert "per_page=10" in list_paths(harness)[0]


def test_page_style_single_page_stops_on_the_empty_page(harness: Any) -> None:
    harness.emulator.load(vendor_section(paging={"style": "page"}, objects=integrations(1), page_size=5))

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options(paging={"style": "page"})).list_bindings(ALL)

    listing = harness.run(scenario)
    assert [b.id for b in listing.bindings] == ["si_1"]
    assert len(list_paths(harness)) == 2


def test_a_repeated_cursor_makes_the_listing_partial(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    def loop(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/v1/shop_integrations"):
            n = request.url.params.get("cursor", "c0")
            item = {"id": f"si_{n}", "shop_name": n, "state": "active"}
            nxt = {"c0": "c1", "c1": "c2", "c2": "c1"}[n]
            return httpx.Response(200, json={"data": [item], "meta": {"next": nxt}})
        return None

    harness.intercept = loop

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options()).list_bindings(ALL)

    listing = harness.run(scenario)
    assert not listing.complete
    assert [b.id for b in listing.bindings] == ["si_c0", "si_c1", "si_c2"]  # kept; decisions withheld
    assert any("cursor it had already given" in p for p in listing.problems)
    assert [(g.kind, g.reason) for g in listing.gaps] == [(Kind.CARRIER, GapReason.CURSOR_LOOP)]


def test_a_vendor_ignoring_the_page_parameter_is_caught(harness: Any) -> None:
    harness.emulator.load(vendor_section())
    harness.intercept = lambda r: (
        httpx.Response(200, json={"data": integrations(2)}) if r.url.path.endswith("/v1/shop_integrations") else None
    )

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options(paging={"style": "page", "size": 2})).list_bindings(ALL)

    listing = harness.run(scenario)
    assert not listing.complete
    assert [b.id for b in listing.bindings] == ["si_1", "si_2"]
    assert any("repeats the page before" in p for p in listing.problems)
    assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]


def test_ids_seen_twice_across_pages_make_the_listing_partial(harness: Any) -> None:
    harness.emulator.load(vendor_section())
    pages = {None: (["si_1", "si_2"], "b"), "b": (["si_2", "si_3"], None)}

    def shifted(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/v1/shop_integrations"):
            return None
        ids, nxt = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"data": [{"id": i, "state": "active"} for i in ids], "meta": {"next": nxt}})

    harness.intercept = shifted

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options()).list_bindings(ALL)

    listing = harness.run(scenario)
    assert [b.id for b in listing.bindings] == ["si_1", "si_2"]  # the walk stops at the duplicate
    assert not listing.complete
    assert any("si_2" in p and "more than once" in p for p in listing.problems)
    assert [g.reason for g in listing.gaps] == [GapReason.CURSOR_LOOP]


def test_a_failed_page_returns_what_was_read_as_partial(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    def fail_second(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/v1/shop_integrations") and "cursor" in request.url.params:
            return httpx.Response(503, json={"error": {"message": "backend maintenance"}})
        return None

    harness.intercept = fail_second

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options()).list_bindings(ALL)

    listing = harness.run(scenario)
    assert not listing.complete
    assert [b.id for b in listing.bindings] == ["si_1", "si_2"]
    assert any("503" in p and "backend maintenance" in p for p in listing.problems)
    assert len(list_paths(harness)) == 1 + 3  # the second page was retried up to the policy


def test_a_link_to_another_host_is_not_followed(harness: Any) -> None:
    harness.emulator.load(vendor_section(paging={"style": "link"}, items=None))
    harness.intercept = lambda r: (
        httpx.Response(200, json=integrations(2), headers={"link": '<https://evil.example/v1/x?page=2>; rel="next"'})
        if r.url.path.endswith("/v1/shop_integrations")
        else None
    )

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options(paging={"style": "link"}, items=None)).list_bindings(ALL)

    listing = harness.run(scenario)
    assert not listing.complete
    assert any("evil.example" in p for p in listing.problems)
    assert all(r.url.host == "127.0.0.1" for r in harness.requests)


def test_items_missing_from_the_response_is_a_problem_not_an_empty_listing(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options(items="results")).list_bindings(ALL)

    listing = harness.run(scenario)
    assert not listing.complete
    assert any("'results'" in p for p in listing.problems)


def test_kinds_not_asked_for_are_not_listed(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options()).list_bindings(frozenset({Kind.WEBHOOK}))

    listing = harness.run(scenario)
    assert listing.bindings == () and listing.complete
    assert harness.requests == []


# -- auth, rights, rate limits ------------------------------------------------------------------


def test_a_refused_credential_raises_auth_error_with_the_vendor_message(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options(), credentials={"token": "wrong-token"}).list_bindings(ALL)

    with pytest.raises(AuthError) as caught:
        harness.run(scenario)
    message = str(caught.value)
    assert caught.value.status == 401
    assert "missing or invalid credentials" in message
    assert "accounts.shipcloud-eu.credentials" in message
    assert "wrong-token" not in message


def test_granted_is_everything_after_a_successful_list_and_nothing_when_refused(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        good = harness.provider(http, provider_options())
        bad = harness.provider(http, provider_options(), credentials={"token": "nope"})
        return await good.granted(), await bad.granted(), good.required(None, "provider", ("orders",))  # type: ignore[arg-type]

    good, bad, required = harness.run(scenario)
    assert good == frozenset({"*"})
    assert bad == frozenset()
    assert required == ()


def test_query_parameter_auth_is_sent_on_every_page_and_kept_out_of_messages(harness: Any) -> None:
    section = vendor_section(paging={"style": "link"}, items=None, auth={"query": "api_key", "tokens": ["k-123456"]})
    harness.emulator.load(section)
    options = provider_options(paging={"style": "link"}, items=None, extra={"auth": {"query": "api_key", "format": "{key}"}})

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, options, credentials={"key": "k-123456"}).list_bindings(ALL)

    listing = harness.run(scenario)
    assert listing.complete and len(listing.bindings) == 5
    assert all(r.url.params.get("api_key") == "k-123456" for r in harness.requests)


def test_basic_auth(harness: Any) -> None:
    harness.emulator.load(vendor_section(auth={"basic": True, "tokens": ["lumen:s3cret-pass"]}))
    options = provider_options(extra={"auth": {"basic": "{user}:{password}"}})

    async def scenario(http: Any) -> Any:
        creds = {"user": "lumen", "password": "s3cret-pass"}
        return await harness.provider(http, options, credentials=creds).list_bindings(ALL)

    assert len(harness.run(scenario).bindings) == 5


def test_a_429_is_retried_after_retry_after_and_then_succeeds(harness: Any) -> None:
    harness.emulator.load(vendor_section(rate_limit={"rate": 1, "burst": 1}))

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options()).list_bindings(ALL)

    listing = harness.run(scenario)
    assert listing.complete and len(listing.bindings) == 5
    assert 429 in harness.statuses
    assert harness.statuses.count(200) == 3
    assert harness.clock.slept and all(s >= 1 for s in harness.clock.slept)  # Retry-After honoured


def test_the_configured_rate_limit_avoids_429s(harness: Any) -> None:
    harness.emulator.load(vendor_section(rate_limit={"rate": 1, "burst": 1}, page_size=1))
    options = provider_options(extra={"rate_limit": {"rate": 1, "burst": 1}})

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, options).list_bindings(ALL)

    listing = harness.run(scenario)
    assert len(listing.bindings) == 5
    assert harness.statuses == [200] * 5  # one request per page, none refused


# -- cancel, verify -------------------------------------------------------------------------------


def _first(harness: Any, http: Any, provider: HttpVendorProvider) -> Any:
    async def go() -> LiveBinding:
        return (await provider.list_bindings(ALL)).bindings[0]

    return go()


def test_cancel_by_delete_then_fetch_and_list_show_it_gone(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options())
        binding = await _first(harness, http, provider)
        outcome = await provider.cancel(cancel_request(binding))
        again = await provider.cancel(cancel_request(binding))
        return outcome, again, await provider.fetch(binding), await provider.list_bindings(ALL)

    outcome, again, fetched, listing = harness.run(scenario)
    assert outcome.status is CancelStatus.DONE and outcome.request_id
    assert again.status is CancelStatus.ALREADY_GONE
    assert fetched is None
    assert "si_1" not in [b.id for b in listing.bindings]
    assert "si_1" not in [str(o["id"]) for o in harness.emulator.dump()["shipcloud"]["resources"]["shop_integrations"]["objects"]]
    deletes = [r for r in harness.requests if r.method == "DELETE"]
    assert deletes[0].url.path.endswith("/v1/shop_integrations/si_1")


def test_cancel_by_post_with_state_and_gone_by_field(harness: Any) -> None:
    harness.emulator.load(
        vendor_section(cancel={"method": "POST", "path_suffix": "/deactivate", "set": {"state": "disconnected"}})
    )
    options = provider_options(
        cancel={
            "method": "POST",
            "path": "/v1/shop_integrations/{id}/deactivate",
            "body": {"reason": "tether: declared absent", "integration": "{id}"},
            "ok": [200],
            "idempotency_header": "Idempotency-Key",
        },
        gone={"field": "state", "values": ["disconnected", "deleted"]},
    )

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, options)
        binding = await _first(harness, http, provider)
        outcome = await provider.cancel(cancel_request(binding, key="k-77"))
        return binding, outcome, await provider.fetch(binding), await provider.list_bindings(ALL)

    binding, outcome, fetched, listing = harness.run(scenario)
    assert outcome.status is CancelStatus.DONE
    assert fetched is None
    assert [b.id for b in listing.bindings] == ["si_2", "si_3", "si_4", "si_5"]
    post = next(r for r in harness.requests if r.method == "POST")
    assert post.headers["idempotency-key"] == "k-77"
    assert post.url.path.endswith("/si_1/deactivate")
    import json

    assert json.loads(post.content) == {"reason": "tether: declared absent", "integration": "si_1"}
    stored = harness.emulator.dump()["shipcloud"]["resources"]["shop_integrations"]["objects"][0]
    assert stored["state"] == "disconnected"
    assert binding.raw["state"] == "active"  # the listed raw object was not touched


def test_gone_by_status_on_fetch(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options(gone={"status": [404]}))
        binding = await _first(harness, http, provider)
        before = await provider.fetch(binding)
        await provider.cancel(cancel_request(binding))
        return before, await provider.fetch(binding)

    before, after = harness.run(scenario)
    assert before is not None and before.id == "si_1" and before.name == "Shop 1"
    assert after is None


def test_fetch_without_a_get_endpoint_reads_the_list(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options(get=False))
        listing = await provider.list_bindings(ALL)
        last = listing.bindings[-1]
        found = await provider.fetch(last)
        await provider.cancel(cancel_request(last))
        return found, await provider.fetch(last)

    found, after = harness.run(scenario)
    assert found is not None and found.id == "si_5"
    assert after is None


def test_ids_are_percent_encoded_in_paths(harness: Any) -> None:
    tricky = [{"id": "../admin", "shop_name": "Tricky", "state": "active"}, {"id": "a b/c?d", "shop_name": "Odd", "state": "active"}]
    harness.emulator.load(vendor_section(objects=tricky))

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options())
        listing = await provider.list_bindings(ALL)
        fetched = [await provider.fetch(b) for b in listing.bindings]
        outcomes = [await provider.cancel(cancel_request(b)) for b in listing.bindings]
        return listing, fetched, outcomes

    _listing, fetched, outcomes = harness.run(scenario)
    assert [f.id for f in fetched if f] == ["../admin", "a b/c?d"]
    assert [o.status for o in outcomes] == [CancelStatus.DONE, CancelStatus.DONE]
    raw_paths = [r.url.raw_path.decode() for r in harness.requests if r.method in ("GET", "DELETE") and "shop_integrations/" in r.url.raw_path.decode()]
    assert "/vendor/shipcloud/v1/shop_integrations/..%2Fadmin" in raw_paths
    assert "/vendor/shipcloud/v1/shop_integrations/a%20b%2Fc%3Fd" in raw_paths
    assert harness.emulator.dump()["shipcloud"]["resources"]["shop_integrations"]["objects"] == []


def test_blocked_and_manual_refusals(harness: Any) -> None:
    objects = integrations(2)
    objects[0]["default"] = True
    cancel = {"method": "DELETE", "refuse": {"field": "default", "values": [True], "status": 409, "message": "the default integration cannot be removed"}}
    harness.emulator.load(vendor_section(objects=objects, cancel=cancel))

    def options(outcome: str) -> dict[str, Any]:
        opts = provider_options(cancel={"method": "DELETE", "path": "/v1/shop_integrations/{id}", outcome: [409]})
        opts["resources"][0]["runbook"] = {"navigation": ["Settings", "Shop integrations", "Remove"], "contact": "support@vendor.example"}
        return opts

    async def scenario(http: Any) -> Any:
        blocked = harness.provider(http, options("blocked"))
        manual = harness.provider(http, options("manual"))
        binding = await _first(harness, http, blocked)
        return await blocked.cancel(cancel_request(binding)), await manual.cancel(cancel_request(binding))

    blocked, manual = harness.run(scenario)
    assert blocked.status is CancelStatus.BLOCKED
    assert blocked.detail == "the default integration cannot be removed"
    assert manual.status is CancelStatus.MANUAL and manual.runbook is not None
    assert manual.runbook.navigation == ("Settings", "Shop integrations", "Remove")
    assert manual.runbook.contact == "support@vendor.example"
    assert "si_1" in manual.runbook.support_message["en"] and manual.runbook.support_message["zh"]


def test_an_unexpected_cancel_status_raises_with_the_vendor_message(harness: Any) -> None:
    harness.emulator.load(vendor_section())
    harness.intercept = lambda r: (
        httpx.Response(422, json={"errors": [{"message": "integration has open shipments"}]}) if r.method == "DELETE" else None
    )

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options())
        return await provider.cancel(cancel_request(await _first(harness, http, provider)))

    with pytest.raises(ProviderError) as caught:
        harness.run(scenario)
    assert "422" in str(caught.value) and "integration has open shipments" in str(caught.value)


def test_a_lost_response_is_settled_by_reading_never_by_resending(harness: Any) -> None:
    harness.emulator.load(
        vendor_section(cancel={"method": "POST", "path_suffix": "/deactivate", "set": {"state": "disconnected"}})
    )
    options = provider_options(
        cancel={"method": "POST", "path": "/v1/shop_integrations/{id}/deactivate"},
        gone={"field": "state", "values": ["disconnected"]},
    )

    def drop_after_applying(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST":
            harness.emulator.handle(request, request.url.path[len("/vendor"):])
            raise httpx.ReadTimeout("no response", request=request)
        return None

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, options)
        binding = await _first(harness, http, provider)
        harness.intercept = drop_after_applying
        with pytest.raises(ResponseLostError):  # apply settles it, by reading back
            await provider.cancel(cancel_request(binding))
        harness.intercept = None
        return await provider.fetch(binding)

    assert harness.run(scenario) is None  # it happened: the read-back apply makes will see it gone
    assert sum(1 for r in harness.requests if r.method == "POST") == 1


def test_a_lost_response_to_a_cancel_that_did_not_happen_raises(harness: Any) -> None:
    harness.emulator.load(vendor_section(cancel={"method": "POST", "path_suffix": "/deactivate", "set": {"state": "disconnected"}}))
    options = provider_options(
        cancel={"method": "POST", "path": "/v1/shop_integrations/{id}/deactivate"},
        gone={"field": "state", "values": ["disconnected"]},
    )

    def drop(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST":
            raise httpx.ReadTimeout("no response", request=request)
        return None

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, options)
        binding = await _first(harness, http, provider)
        harness.intercept = drop
        return await provider.cancel(cancel_request(binding))

    with pytest.raises(ResponseLostError):
        harness.run(scenario)
    assert sum(1 for r in harness.requests if r.method == "POST") == 1  # never resent


def test_a_resource_without_cancel_gives_a_runbook(harness: Any) -> None:
    harness.emulator.load(vendor_section())
    options = provider_options()
    del options["resources"][0]["cancel"]
    options["resources"][0]["runbook"] = {"navigation": ["Integrations", "{item.shop_name}", "Disconnect"]}
    options["contact"] = "help@shipcloud.example"

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, options)
        return await provider.cancel(cancel_request(await _first(harness, http, provider)))

    outcome = harness.run(scenario)
    assert outcome.status is CancelStatus.MANUAL
    assert outcome.runbook.contact == "help@shipcloud.example"
    assert outcome.runbook.navigation == ("Integrations", "Shop 1", "Disconnect")
    assert "Integrations > Shop 1 > Disconnect" in outcome.runbook.support_message["en"]
    assert not [r for r in harness.requests if r.method != "GET"]


def test_cancel_on_another_side_is_refused(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options())
        binding = await _first(harness, http, provider)
        request = CancelRequest(binding=binding, side="platform", cancel_at=CancelAt.NOW, idempotency_key="k")
        return await provider.cancel(request)

    with pytest.raises(ProviderError, match="side 'platform'"):
        harness.run(scenario)


# -- export ---------------------------------------------------------------------------------------


def test_dataset_export_follows_every_page_for_the_binding(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options())
        binding = await _first(harness, http, provider)
        return [record async for record in provider.export(binding, "orders")]

    records = harness.run(scenario)
    assert [r["id"] for r in records] == ["shp_1", "shp_3", "shp_5", "shp_7"]
    exports = [r for r in harness.requests if r.url.path.endswith("/v1/shipments")]
    assert len(exports) == 2
    assert all(r.url.params["shop_integration_id"] == "si_1" for r in exports)


def test_an_unknown_dataset_is_a_clear_error(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options())
        binding = await _first(harness, http, provider)
        return [record async for record in provider.export(binding, "invoices")]

    with pytest.raises(ProviderError, match="no dataset 'invoices'.*orders"):
        harness.run(scenario)


def test_capabilities_follow_the_options(harness: Any) -> None:
    async def scenario(http: Any) -> Any:
        return harness.provider(http, provider_options()).capabilities

    caps = harness.run(scenario)
    assert caps.kinds == frozenset({Kind.CARRIER})
    assert caps.datasets == frozenset({"orders"})
    assert caps.sides == ("provider",)
    assert HttpVendorProvider.capabilities.kinds == frozenset(Kind)


def test_a_missing_credential_value_is_a_config_error(harness: Any) -> None:
    harness.emulator.load(vendor_section())

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, provider_options(), credentials={"token": ""})
        return await provider.list_bindings(ALL)

    with pytest.raises(ConfigError, match=r"credentials\.token"):
        harness.run(scenario)


# -- error bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "Shop integration is locked"}, "Shop integration is locked"),
        ({"error": "invalid_token", "error_description": "The token expired"}, "invalid_token: The token expired"),
        ({"error": {"code": "locked", "message": "Locked by another user"}}, "Locked by another user"),
        ({"errors": [{"code": "E1", "message": "First problem"}, {"message": "Second"}]}, "First problem"),
        ({"errors": ["plain text problem"]}, "plain text problem"),
        ({"errors": {"shop": ["is not connected"]}}, "shop: is not connected"),
    ],
)
def test_describe_error_finds_the_vendor_message(body: Any, expected: str) -> None:
    assert describe_error(httpx.Response(400, json=body)) == expected


def test_describe_error_falls_back_to_text_and_truncates() -> None:
    assert describe_error(httpx.Response(502, text="<html>Bad   gateway</html>")) == "<html>Bad gateway</html>"
    long = describe_error(httpx.Response(500, text="x" * 1000))
    assert len(long) == 300 and long.endswith("…")
    assert describe_error(httpx.Response(500)) == "Internal Server Error"


# -- vendor truth: refusals and where the credential goes ------------------------------------------


def test_a_refused_listing_is_a_gap_naming_the_call_and_withholds_only_that_kind(harness: Any) -> None:
    harness.emulator.load(vendor_section())
    harness.intercept = lambda r: (
        httpx.Response(403, json={"message": "this key may not list integrations"})
        if r.url.path.endswith("/v1/shop_integrations")
        else None
    )

    async def scenario(http: Any) -> Any:
        return await harness.provider(http, provider_options()).list_bindings(ALL)

    listing = harness.run(scenario)
    (gap,) = listing.gaps
    assert gap.reason is GapReason.REFUSED and gap.kind is Kind.CARRIER
    assert gap.params == {"right": "GET /v1/shop_integrations"}
    assert "may not list integrations" in gap.detail
    assert listing.complete_for(Kind.WEBHOOK) and not listing.complete_for(Kind.CARRIER)


def test_the_credential_goes_only_to_the_endpoints_host() -> None:
    account = Account("v", "http", endpoint="https://api.shipcloud.example/v1")
    assert HttpVendorProvider.credential_hosts(account) == ("api.shipcloud.example",)
    assert HttpVendorProvider.credential_hosts(Account("v", "http")) == ()
