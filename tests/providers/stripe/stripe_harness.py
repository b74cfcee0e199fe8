"""Harness: the Stripe client against the emulator, in-process, one fake clock for both sides.

The fake ``sleep`` advances the clocks instead of waiting, so rate limits and retries are real
behaviour that takes no wall time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from engine.model import Account
from providers.http import HttpFactory, RetryPolicy
from providers.sdk import ProviderContext
from providers.stripe.client import StripeProvider
from providers.stripe.emulator import StripeEmulator
from providers.stripe.forms import encode_form

PREFIX = "/stripe"
ENDPOINT = "http://127.0.0.1:8787/stripe"
T = TypeVar("T")


class FakeTime:
    def __init__(self) -> None:
        self.monotonic_now = 5_000.0
        self.wall_now = 1_760_000_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.monotonic_now

    def time(self) -> float:
        return self.wall_now

    def advance(self, seconds: float) -> None:
        self.monotonic_now += seconds
        self.wall_now += seconds

    async def sleep(self, seconds: float) -> None:
        # A real clock always moves on; a float clock at 5000 s ignores steps below ~1e-12 s,
        # which would leave a token bucket waiting for ever. Step at least a microsecond.
        self.slept.append(seconds)
        self.advance(max(seconds, 1e-6))


@dataclass
class Sent:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None


@dataclass
class Harness:
    """One emulator, the transport in front of it, and what went over the wire."""

    time: FakeTime
    emulator: StripeEmulator
    sent: list[Sent] = field(default_factory=list)
    # Called with each request before the emulator; may return a response or raise.
    intercept: Callable[[httpx.Request], httpx.Response | None] | None = None
    lose_response_to: set[str] = field(default_factory=set)  # methods whose answer is dropped after processing

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            record = Sent(request.method, request.url.path, request.url.query.decode(), dict(request.headers), request.content)
            self.sent.append(record)
            if self.intercept is not None:
                answer = self.intercept(request)
                if answer is not None:
                    record.status = answer.status_code
                    return answer
            response = self.emulator.handle(request, request.url.path[len(PREFIX):])
            record.status = response.status_code
            if request.method in self.lose_response_to:
                self.lose_response_to.discard(request.method)
                raise httpx.ReadError("connection reset after the request was sent", request=request)
            return response

        return httpx.MockTransport(handler)

    def provider(
        self,
        *,
        api_key: str = "sk_test_demo",
        options: Mapping[str, Any] | None = None,
        account: str = "pay-eu",
    ) -> tuple[StripeProvider, HttpFactory]:
        factory = HttpFactory(transport=self.transport(), sleep=self.time.sleep, retry=RetryPolicy(attempts=4, base_delay=0.2))
        ctx = ProviderContext(
            account=Account(name=account, provider="stripe", endpoint=ENDPOINT, options=dict(options or {})),
            credentials={"api_key": api_key},
            http=factory,
        )
        return StripeProvider(ctx, clock=self.time.monotonic), factory

    def of(self, method: str, path_prefix: str = "/stripe/v1/") -> list[Sent]:
        return [s for s in self.sent if s.method == method and s.path.startswith(path_prefix)]


class Wire:
    """Raw requests to an emulator, form-encoded the way Stripe expects."""

    def __init__(self, emulator: StripeEmulator, key: str = "sk_test_demo") -> None:
        self.emulator = emulator
        self.key = key

    def __call__(self, method: str, path: str, params: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None,
                 key: str | None = None) -> httpx.Response:
        sent = {"Authorization": f"Bearer {key or self.key}"} if (key or self.key) else {}
        sent.update(headers or {})
        url = "http://127.0.0.1:8787/stripe" + path
        if method in ("GET",):
            request = httpx.Request(method, url, params=encode_form(params or {}), headers=sent)
        else:
            request = httpx.Request(method, url, data=encode_form(params or {}), headers=sent)
        return self.emulator.handle(request, path)


def run(make: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(make())  # type: ignore[arg-type]


def subscriptions(count: int, *, start: int = 0, **fields: Any) -> list[dict[str, Any]]:
    return [{"id": f"sub_{index:04d}", "metadata": {"name": f"Plan {index}"}, **fields} for index in range(start, start + count)]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_harness(fake_time: FakeTime) -> Callable[[Mapping[str, Any]], Harness]:
    def make(section: Mapping[str, Any]) -> Harness:
        emulator = StripeEmulator(clock=fake_time.monotonic, wall_clock=fake_time.time)
        emulator.load(section)
        return Harness(fake_time, emulator)

    return make


def demo_section(**extra: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "api_keys": ["sk_test_demo"],
        "subscriptions": [
            {"id": "sub_1LegacyERP", "status": "active", "metadata": {"name": "LegacyERP Cloud"}},
            {"id": "sub_1Analytics", "status": "active", "metadata": {"name": "Analytics Pro"}},
        ],
        "invoices": [
            {"id": "in_1", "subscription": "sub_1LegacyERP", "amount_due": 4900, "currency": "eur"},
            {"id": "in_2", "subscription": "sub_1LegacyERP", "amount_due": 4900, "currency": "eur"},
            {"id": "in_3", "subscription": "sub_1Analytics", "amount_due": 2900, "currency": "eur"},
        ],
    }
    section.update(extra)
    return {"acct_demo": section}
