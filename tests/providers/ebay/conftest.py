"""The eBay client against its emulator, in-process: one shared fake clock, a fast fake sleep,
and a log of every request the emulator received (to count calls and check their shape)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from engine.model import Account
from providers.ebay.client import EbayProvider
from providers.ebay.emulator import EbayEmulator
from providers.http import HttpFactory
from providers.sdk import ProviderContext

PREFIX = "/ebay"
ENDPOINT = "http://127.0.0.1:8787/ebay"
DEMO_TOKEN = "v^1.1#demo"
READONLY_TOKEN = "v^1.1#readonly"
DEMO_FILE = Path(__file__).resolve().parent / "single_app.yaml"  # one application
# Noon on a winter day in California, so PST (UTC-8) holds for both the client and the emulator.
NOON_PACIFIC = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()

T = TypeVar("T")
Handler = Callable[[httpx.Request], httpx.Response]


def demo_section() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["ebay"])


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Exchange:
    request: httpx.Request
    response: httpx.Response


@dataclass
class Harness:
    emulator: EbayEmulator
    clock: Clock
    exchanges: list[Exchange] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    # Replaces the emulator for one test: gets the request and the emulator's own handler.
    intercept: Callable[[httpx.Request, Handler], httpx.Response] | None = None

    def serve(self, request: httpx.Request) -> httpx.Response:
        def emulate(req: httpx.Request) -> httpx.Response:
            return self.emulator.handle(req, req.url.path[len(PREFIX) :])

        response = self.intercept(request, emulate) if self.intercept else emulate(request)
        self.exchanges.append(Exchange(request, response))
        return response

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)

    def factory(self) -> HttpFactory:
        return HttpFactory(transport=httpx.MockTransport(self.serve), sleep=self._sleep)

    def provider(
        self,
        factory: HttpFactory,
        *,
        token: str = DEMO_TOKEN,
        options: Mapping[str, Any] | None = None,
    ) -> EbayProvider:
        opts = {"marketplaces": ["EBAY_DE", "EBAY_GB"]} if options is None else dict(options)
        account = Account(name="lumen-ebay", provider="ebay", endpoint=ENDPOINT, options=opts)
        ctx = ProviderContext(account=account, credentials={"access_token": token}, http=factory)
        return EbayProvider(ctx, clock=self.clock)

    def run(
        self,
        body: Callable[[EbayProvider], Awaitable[T]],
        *,
        token: str = DEMO_TOKEN,
        options: Mapping[str, Any] | None = None,
    ) -> T:
        async def main() -> T:
            factory = self.factory()
            try:
                return await body(self.provider(factory, token=token, options=options))
            finally:
                await factory.aclose()

        return asyncio.run(main())

    def statuses(self, path_part: str = "") -> list[int]:
        return [e.response.status_code for e in self.exchanges if path_part in e.request.url.path]


def call(
    emulator: EbayEmulator, method: str, path: str, *, token: str | None = DEMO_TOKEN, **params: str
) -> httpx.Response:
    """One request straight to the emulator, without the client."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    request = httpx.Request(method, ENDPOINT + path, params=params, headers=headers)
    return emulator.handle(request, request.url.path[len(PREFIX) :])


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON_PACIFIC)


@pytest.fixture
def emulator(clock: Clock) -> EbayEmulator:
    emulator = EbayEmulator(clock=clock)
    emulator.load(demo_section())
    return emulator


@pytest.fixture
def harness(emulator: EbayEmulator, clock: Clock) -> Harness:
    return Harness(emulator, clock)


Call = Callable[..., httpx.Response]


@pytest.fixture
def scenario() -> dict[str, Any]:
    """A fresh copy of the demo's eBay section, to change before loading."""
    return demo_section()


@pytest.fixture
def send(emulator: EbayEmulator) -> Call:
    """``send(method, path, token=..., **query)``: one request straight to the emulator."""

    def _send(method: str, path: str, *, token: str | None = DEMO_TOKEN, **params: str) -> httpx.Response:
        return call(emulator, method, path, token=token, **params)

    return _send
