"""Helpers and fixtures for the Shopify tests: a fake clock, the emulator behind a MockTransport,
a provider. Test modules import the fixtures by name (no conftest, so nothing leaks into other
providers' test directories)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from engine.model import Account
from providers.http import HttpFactory, RetryPolicy
from providers.sdk import ProviderContext
from providers.shopify.client import ShopifyProvider
from providers.shopify.emulator import ShopifyEmulator

PREFIX = "/shopify"
ENDPOINT = "http://127.0.0.1:8787/shopify/demo-shop"
ADMIN = "shpat_demo_admin"
READONLY = "shpat_demo_readonly"
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
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))["shopify"]


def demo_section() -> dict[str, Any]:
    return copy.deepcopy(_demo())


@dataclass
class Wire:
    """The emulator behind a MockTransport, with a log and an optional fault hook per request."""

    emulator: ShopifyEmulator
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    raw_paths: list[bytes] = field(default_factory=list)
    fault: Callable[[httpx.Request], httpx.Response | None] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.raw_paths.append(request.url.raw_path)
        if self.fault is not None:
            replaced = self.fault(request)
            if replaced is not None:
                self.seen.append((request.method, request.url.path, replaced.status_code))
                return replaced
        response = self.emulator.handle(request, request.url.path[len(PREFIX) :])
        self.seen.append((request.method, request.url.path, response.status_code))
        return response

    def statuses(self) -> list[int]:
        return [status for _, _, status in self.seen]


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
        options=options if options is not None else {"shop": "demo-shop.myshopify.com", "api_version": "2024-01"},
    )
    return ShopifyProvider(
        ProviderContext(account=account, credentials={"access_token": token}, http=factory), clock=clock
    )


def sync_client(wire: Wire, token: str | None = ADMIN) -> httpx.Client:
    headers = {"X-Shopify-Access-Token": token} if token else {}
    return httpx.Client(transport=httpx.MockTransport(wire), base_url=ENDPOINT, headers=headers)


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
