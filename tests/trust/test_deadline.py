"""A silent vendor cannot hang a run: the deadline ends the refresh with the account incomplete;
a response body over the account's limit is refused."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from engine.bounds import max_response_bytes, scoped_http
from engine.config import load_config
from engine.errors import ConfigError
from engine.model import Account, GapReason
from engine.runner import PlanRequest, build_plan
from providers.http import HttpFactory
from states.model import State

CONFIG = """\
version: 1
accounts:
  silent-shop:
    provider: shopify
    endpoint: http://127.0.0.1:9/shopify/silent-shop
    options: {{shop: silent-shop.myshopify.com, api_version: "2026-10"{extra}}}
    credentials:
      access_token: "${{env:SHOPIFY_TOKEN}}"
integrations:
  old-hooks: {{account: silent-shop, kind: webhook, match: {{uri: "https://erp.example/*"}}, ensure: absent}}
"""


def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> object:
    (tmp_path / "tether.yaml").write_text(CONFIG.format(extra=extra), encoding="utf-8")
    monkeypatch.setenv("SHOPIFY_TOKEN", "shpat_test")
    return load_config(cwd=tmp_path)


def test_a_vendor_that_never_answers_ends_at_the_deadline_naming_the_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path, monkeypatch)
    calls: list[str] = []

    async def never(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        await asyncio.sleep(3600)
        return httpx.Response(200)

    started = time.monotonic()
    plan = asyncio.run(
        build_plan(cfg, State.empty(), PlanRequest(timeout_s=0.5), transport=httpx.MockTransport(never))  # type: ignore[arg-type]
    )
    assert time.monotonic() - started < 5
    assert calls  # it did ask, and was cut short
    assert plan.incomplete
    assert not [a for a in plan.actions if a.actionable]  # nothing is decided on an unlisted account
    (gap,) = plan.incomplete
    assert gap.account == "silent-shop" and gap.kind is None
    assert "deadline" in gap.detail and GapReason.TIMED_OUT.value in repr(gap.reason)


def test_the_timed_out_listing_carries_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.bounds import listing_within

    async def forever() -> object:
        await asyncio.sleep(3600)

    listing = asyncio.run(listing_within(forever(), time.monotonic() + 0.05, "silent-shop", "shopify", 20))  # type: ignore[arg-type]
    (gap,) = listing.gaps
    assert gap.kind is None and gap.reason is GapReason.TIMED_OUT and gap.params["timeout"] == "20 s"
    assert "silent-shop" in gap.detail and "--timeout" in gap.detail


def test_an_oversized_body_is_refused_for_that_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(tmp_path, monkeypatch, extra=", max_response_mb: 0.01")  # 10 KiB

    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"padding": "x" * 200_000}})

    plan = asyncio.run(
        build_plan(cfg, State.empty(), PlanRequest(timeout_s=30), transport=httpx.MockTransport(huge))  # type: ignore[arg-type]
    )
    (gap,) = plan.incomplete
    assert gap.account == "silent-shop" and "max_response_mb" in gap.detail


def test_max_response_mb_scopes_the_factory_per_account() -> None:
    shared = HttpFactory()
    limited = scoped_http(shared, Account("a", "shopify", options={"max_response_mb": 2}))
    assert limited.max_response_bytes == 2 * 1024 * 1024 and limited is not shared
    assert scoped_http(shared, Account("b", "shopify")) is shared
    for bad in (0, -1, "32", True):
        with pytest.raises(ConfigError, match="max_response_mb"):
            max_response_bytes(Account("c", "shopify", options={"max_response_mb": bad}))
