"""What the client does between attempts: how often it retries, how long it waits, and how it
paces itself to a vendor's published rate limits (``RateLimiter``; ``TokenBucket`` is the model
SP-API and Stripe publish)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long ``ApiClient.request`` retries.

    ``max_delay`` caps one wait: the backoff never exceeds it, and a vendor whose
    ``Retry-After`` asks for longer is not retried at all (``RateLimitError`` at once), since a
    retry before the vendor's wait is over would only be refused again.
    """

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff, capped (attempt counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


class RateLimiter(Protocol):
    async def acquire(self, operation: str) -> None:
        """Wait until one more request of ``operation`` may be sent."""

    def observe(self, operation: str, response: httpx.Response) -> None:
        """Learn from a response (call-limit headers, 429s)."""


class TokenBucket:
    """``rate`` requests per second sustained, ``burst`` at once: SP-API's published model.

    ``headroom`` (seconds, default 0) is how much later than its token a request may reach the
    vendor: the bucket then keeps ``rate * headroom`` tokens in reserve. Pacing at exactly the
    published rate leaves the vendor's bucket at exactly one token on each arrival, so any
    request delayed after taking its token (a new connection, a busy event loop) makes the next
    one arrive "early" and draw a 429; the reserve costs ``headroom`` once, not a slower rate.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        headroom: float = 0.0,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.headroom = headroom
        self._tokens = burst
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, operation: str = "") -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self._refill()
            # Never more reserve than the burst allows, or the bucket could not send at all.
            need = 1 + min(self.rate * self.headroom, max(0.0, self.burst - 1))
            while self._tokens < need:
                # at least 1 ms, so a clock that barely moves cannot spin this loop
                await self._sleep(max((need - self._tokens) / self.rate, 0.001))
                self._refill()
            self._tokens -= 1

    def observe(self, operation: str, response: httpx.Response) -> None:
        if response.status_code == 429:
            self._tokens = 0.0


class NoLimit:
    async def acquire(self, operation: str) -> None:
        return None

    def observe(self, operation: str, response: httpx.Response) -> None:
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait a ``Retry-After`` header asks for (seconds or an HTTP date); None without one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
