"""An http-vendor emulator mounted in-process, a fake clock, and a provider factory."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
import pytest

from engine.model import Account, SecretRef
from providers.generic_http.client import HttpVendorProvider
from providers.generic_http.emulator import HttpVendorEmulator
from providers.http import HttpFactory, RetryPolicy
from providers.sdk import ProviderContext

PREFIX = HttpVendorEmulator.prefix
BASE = "http://127.0.0.1:8787/vendor"
T = TypeVar("T")


class FakeClock:
    """Shared by the emulator (rate limits) and the HTTP layer (its sleeps advance time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


class Harness:
    """Builds providers against the emulator; ``intercept`` can replace single responses."""

    def __init__(self, emulator: HttpVendorEmulator, clock: FakeClock) -> None:
        self.emulator = emulator
        self.clock = clock
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []
        self.intercept: Callable[[httpx.Request], httpx.Response | None] | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response: httpx.Response | None = None
        if self.intercept is not None:
            response = self.intercept(request)
        if response is None:
            response = self.emulator.handle(request, request.url.path[len(PREFIX):])
        self.statuses.append(response.status_code)
        return response

    def factory(self) -> HttpFactory:
        return HttpFactory(
            transport=httpx.MockTransport(self.handle),
            sleep=self.clock.sleep,
            retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=5.0),
        )

    def provider(
        self,
        http: HttpFactory,
        options: Mapping[str, Any],
        *,
        vendor: str = "shipcloud",
        credentials: Mapping[str, str] | None = None,
        endpoint: str | None = None,
        account: str = "shipcloud-eu",
    ) -> HttpVendorProvider:
        creds = {"token": "demo-token"} if credentials is None else dict(credentials)
        acct = Account(
            name=account,
            provider="http",
            endpoint=endpoint or f"{BASE}/{vendor}",
            options=copy.deepcopy(dict(options)),
            credentials={k: SecretRef("env", k.upper()) for k in creds},
        )
        return HttpVendorProvider(ProviderContext(account=acct, credentials=creds, http=http), clock=self.clock)

    def run(self, scenario: Callable[[HttpFactory], Awaitable[T]]) -> T:
        async def main() -> T:
            http = self.factory()
            try:
                return await scenario(http)
            finally:
                await http.aclose()

        return asyncio.run(main())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> HttpVendorEmulator:
    return HttpVendorEmulator(clock=clock)


@pytest.fixture
def harness(emulator: HttpVendorEmulator, clock: FakeClock) -> Harness:
    return Harness(emulator, clock)
