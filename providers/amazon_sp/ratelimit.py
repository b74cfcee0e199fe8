"""SP-API's usage plans as a client-side RateLimiter: one token bucket per operation.

SP-API answers 429 without ``Retry-After``, so the only way to keep 429s rare is to pace calls
the way the service counts them. The buckets start from the model's published defaults
(``operations.OPERATIONS``) and adopt the rate from ``x-amzn-RateLimit-Limit`` when a response
carries one, because a selling partner may have been granted more (or less) than the default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from providers.http import TokenBucket

from .operations import OPERATIONS

Sleep = Callable[[float], Awaitable[None]]


class SpApiRateLimiter:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, operation: str) -> TokenBucket | None:
        spec = OPERATIONS.get(operation)
        if spec is None:
            return None
        found = self._buckets.get(operation)
        if found is None:
            found = TokenBucket(spec.rate, spec.burst, clock=self._clock, sleep=self._sleep, headroom=0.1)  # arrivals jitter on the wire
            self._buckets[operation] = found
        return found

    async def acquire(self, operation: str) -> None:
        bucket = self.bucket(operation)
        if bucket is not None:
            await bucket.acquire(operation)

    def observe(self, operation: str, response: httpx.Response) -> None:
        bucket = self.bucket(operation)
        if bucket is None:
            return
        bucket.observe(operation, response)
        applied = response.headers.get("x-amzn-RateLimit-Limit")
        if applied:
            try:
                rate = float(applied)
            except ValueError:
                return
            if rate > 0:
                bucket.rate = rate
