"""Helpers and fixtures for the Shopify tests: a fake clock, the emulator behind a MockTransport,
a provider. Test modules import the fixtures by name (no conftest, so nothing leaks into other
providers' test directories)."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import yaml

from providers.http import HttpFactory, RetryPolicy
from providers.sdk import ProviderContext
from providers.sdk.model import Account
from providers.shopify.client import ShopifyProvider
from providers.shopify.emulator import ShopifyEmulator

PREFIX = "/shopify"
ENDPOINT = "http://127.0.0.1:8787/shopify/demo-shop"
GRAPHQL_PATH = "/shopify/demo-shop/admin/api/2026-10/graphql.json"
ADMIN = "shpat_demo_admin"  # Lumen Ops, the seller's own custom app
READONLY = "shpat_demo_readonly"  # Lumen Ops, read scopes only
LEGACY = "shpat_legacy_demo"  # LegacyERP Connector, another app on the same shop
DEMO = Path(__file__).resolve().parents[3] / "providers" / "shopify" / "demo.yaml"


class FakeClock:
    """Monotonic time that only moves when someone sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@functools.lru_cache(maxsize=1)
def _demo() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))["shopify"]
    return loaded


def demo_section() -> dict[str, Any]:
    return copy.deepcopy(_demo())


@dataclass
class Wire:
    """The emulator behind a MockTransport, with a log of GraphQL operations and an optional
    fault hook per request."""

    emulator: ShopifyEmulator
    seen: list[tuple[str, str, str, int]] = field(default_factory=list)  # method, path, operation, status
    fault: Callable[[httpx.Request], httpx.Response | None] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        operation = ""
        if request.content:
            try:
                operation = str(json.loads(request.content).get("operationName") or "")
            except ValueError:
                operation = "?"
        if self.fault is not None:
            replaced = self.fault(request)
            if replaced is not None:
                self.seen.append((request.method, request.url.path, operation, replaced.status_code))
                return replaced
        response = self.emulator.handle(request, request.url.path[len(PREFIX) :])
        self.seen.append((request.method, request.url.path, operation, response.status_code))
        return response

    def operations(self) -> list[str]:
        return [operation for _, _, operation, _ in self.seen]


def make_factory(wire: Wire, clock: FakeClock, *, attempts: int = 6) -> HttpFactory:
    return HttpFactory(
        transport=httpx.MockTransport(wire),
        sleep=clock.sleep,
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=5.0),
    )


def make_provider(
    factory: HttpFactory,
    clock: FakeClock,
    *,
    token: str = ADMIN,
    endpoint: str | None = ENDPOINT,
    options: dict[str, Any] | None = None,
    name: str = "shop-eu",
) -> ShopifyProvider:
    account = Account(
        name=name,
        provider="shopify",
        endpoint=endpoint,
        options=options if options is not None else {"shop": "demo-shop.myshopify.com", "own_services": ["DPD Rates"]},
    )
    return ShopifyProvider(
        ProviderContext(account=account, credentials={"access_token": token}, http=factory), clock=clock
    )


def graphql_answer(data: Any, errors: list[dict[str, Any]] | None = None, *, available: float = 2000.0,
                   requested: int = 10, status: int = 200) -> httpx.Response:
    """A hand-made GraphQL answer in Shopify's shape, for faults the emulator is not asked to make."""
    body: dict[str, Any] = {
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None if errors else requested,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0},
            }
        }
    }
    if data is not None:
        body["data"] = data
    if errors:
        body["errors"] = errors
    return httpx.Response(status, json=body)


@pytest.fixture
def fresh_logs() -> Iterator[None]:
    """structlog at its defaults for a test that logs: an earlier in-process CLI run may have left
    it writing to a stream that is closed now."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> ShopifyEmulator:
    emu = ShopifyEmulator(clock=clock)
    emu.load(demo_section())
    return emu


@pytest.fixture
def wire(emulator: ShopifyEmulator) -> Wire:
    return Wire(emulator)
