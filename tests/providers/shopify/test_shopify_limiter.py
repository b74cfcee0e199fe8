"""The client-side leaky bucket: header parsing, waiting before overflow, resynchronising."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from shopify_support import FakeClock

from providers.http import HttpFactory
from providers.shopify.limiter import LeakyBucket, bucket_for, parse_call_limit


def answer(status: int = 200, call_limit: str | None = None) -> httpx.Response:
    headers = {"X-Shopify-Shop-Api-Call-Limit": call_limit} if call_limit else {}
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    "value, parsed",
    [("32/40", (32, 40)), (" 1 / 80 ", (1, 80)), ("40/40", (40, 40)), ("", None), (None, None),
     ("x/40", None), ("3/0", None), ("12", None)],
)
def test_call_limit_header_is_parsed(value: str | None, parsed: tuple[int, int] | None) -> None:
    assert parse_call_limit(value) == parsed


def test_forty_calls_pass_then_the_bucket_waits_for_the_leak() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for _ in range(40):
            await bucket.acquire()
        assert clock.sleeps == []
        await bucket.acquire()

    asyncio.run(main())
    assert clock.sleeps == [pytest.approx(0.5)]  # one call leaks out in half a second


def test_the_reported_level_resynchronises_the_estimate() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(clock=clock, sleep=clock.sleep)

    async def main() -> None:
        await bucket.acquire()
        bucket.observe("", answer(call_limit="39/40"))  # someone else has been busy
        assert bucket.level == 39
        await bucket.acquire()  # 40/40 after this one
        await bucket.acquire()

    asyncio.run(main())
    assert clock.sleeps == [pytest.approx(0.5)]


def test_calls_in_flight_are_added_to_the_reported_level() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for _ in range(3):
            await bucket.acquire()
        bucket.observe("", answer(call_limit="10/40"))  # the first answer; two still in flight

    asyncio.run(main())
    assert bucket.level == 12 and bucket.pending == 2


def test_a_429_fills_the_bucket_and_a_larger_bucket_is_learned() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(clock=clock, sleep=clock.sleep)
    bucket.observe("", answer(429, "40/40"))
    assert bucket.level == 40
    bucket.observe("", answer(call_limit="5/80"))  # Shopify Plus shops have 80
    assert bucket.size == 80 and bucket.level == 5


def test_a_sleep_that_does_not_move_the_clock_still_ends() -> None:
    """A fake sleep with a real clock must not spin: the wait counts as drained."""
    slept: list[float] = []

    async def instant(seconds: float) -> None:
        slept.append(seconds)

    bucket = LeakyBucket(clock=lambda: 5.0, sleep=instant)

    async def main() -> None:
        for _ in range(45):
            await bucket.acquire()

    asyncio.run(main())
    assert len(slept) == 5 and bucket.level <= 40


def test_one_bucket_per_shop_and_run() -> None:
    async def main() -> None:
        first, second = HttpFactory(), HttpFactory()
        assert bucket_for(first, "https://a.myshopify.com") is bucket_for(first, "https://a.myshopify.com")
        assert bucket_for(first, "https://a.myshopify.com") is not bucket_for(first, "https://b.myshopify.com")
        assert bucket_for(first, "https://a.myshopify.com") is not bucket_for(second, "https://a.myshopify.com")
        await first.aclose()
        await second.aclose()

    asyncio.run(main())
