"""Shopify's leaky bucket, kept on the client side so a normal run never meets a 429.

Shopify counts REST calls per app and shop in a bucket 40 deep that drains 2 calls a second, and
reports the level on every response (``X-Shopify-Shop-Api-Call-Limit: 32/40``). The client keeps
its own estimate, waits before the bucket would overflow, and resynchronises from that header,
which also accounts for other processes using the same token.
"""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from collections.abc import Callable
from typing import Any

import httpx

from providers.http import Sleep
from providers.shopify import BUCKET_SIZE, CALL_LIMIT_HEADER, LEAK_PER_SECOND

_CALL_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_call_limit(value: str | None) -> tuple[int, int] | None:
    """``"32/40"`` -> ``(32, 40)``; None for a missing or malformed header (never an error)."""
    if not value:
        return None
    found = _CALL_LIMIT.match(value)
    if not found:
        return None
    used, size = int(found.group(1)), int(found.group(2))
    if size <= 0 or used < 0:
        return None
    return used, size


class LeakyBucket:
    """A ``providers.http.RateLimiter`` for one shop.

    ``pending`` counts calls sent but not answered yet: the server's figure does not include
    them, so the estimate after a response is the server's level plus what is still in flight.

    ``headroom`` (seconds) keeps ``leak * headroom`` calls of the bucket free: a call that
    reaches the shop later than planned (a new connection, a busy event loop) must not find
    the bucket full because the next one came on time. It costs that much once, when the
    bucket first fills, not a slower pace.
    """

    def __init__(
        self,
        *,
        size: int = BUCKET_SIZE,
        leak_per_second: float = LEAK_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        headroom: float = 0.0,
    ) -> None:
        self.size = size
        self.leak = leak_per_second
        self.headroom = headroom
        self.level = 0.0
        self.pending = 0
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock: asyncio.Lock | None = None

    def _drain(self) -> None:
        now = self._clock()
        self.level = max(0.0, self.level - (now - self._stamp) * self.leak)
        self._stamp = now

    async def acquire(self, operation: str = "") -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self._drain()
            reserve = min(self.leak * self.headroom, max(0.0, self.size - 1))
            while self.level + 1 > self.size - reserve:
                wait = (self.level + 1 - (self.size - reserve)) / self.leak
                before = self._clock()
                await self._sleep(wait)
                self._drain()
                # A sleep that returned early (or a clock that did not move) still stands for
                # the time we asked for: credit the shortfall instead of spinning.
                shortfall = wait - (self._clock() - before)
                if shortfall > 0:
                    self.level = max(0.0, self.level - shortfall * self.leak)
            self.level += 1
            self.pending = min(self.pending + 1, self.size)

    def observe(self, operation: str, response: httpx.Response) -> None:
        self.pending = max(0, self.pending - 1)
        self._drain()
        reported = parse_call_limit(response.headers.get(CALL_LIMIT_HEADER))
        if response.status_code == 429:
            self.level = float(reported[1] if reported else self.size)
            if reported:
                self.size = reported[1]
            return
        if reported is not None:
            used, size = reported
            self.size = size
            self.level = float(min(size, used + self.pending))


# One bucket per shop for the whole run: several accounts may use the same shop and token, and
# the bucket belongs to the shop, not to the provider instance. Keyed by the HttpFactory so two
# runs (or two tests) never share an estimate.
_BUCKETS: weakref.WeakKeyDictionary[Any, dict[str, LeakyBucket]] = weakref.WeakKeyDictionary()


JITTER_HEADROOM = 0.1
"""Seconds of lateness the client's bucket absorbs (LeakyBucket.headroom): enough for a new
connection or a busy event loop between taking a slot in the bucket and reaching the shop."""


def bucket_for(
    http: Any, shop_key: str, *, clock: Callable[[], float] = time.monotonic
) -> LeakyBucket:
    per_run = _BUCKETS.setdefault(http, {})
    if shop_key not in per_run:
        per_run[shop_key] = LeakyBucket(
            clock=clock, sleep=getattr(http, "sleep", asyncio.sleep), headroom=JITTER_HEADROOM
        )
    return per_run[shop_key]
