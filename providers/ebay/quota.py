"""eBay's rate-limit model: a daily call quota per API, reset at midnight Pacific time.

eBay does not meter requests per second for these APIs; it counts calls per API per day (Account
API 25,000, Notification API 10,000 by default, more after an Application Growth Check) and
answers 429 with errorId 2001 once the day's quota is used up. Waiting cannot help before the
next Pacific midnight, so this limiter never sleeps: it counts this run's calls and, once the
quota is reached, refuses the next call at once with a message that says when it resets.

A 429 may also be a passing throttle, so one 429 is retried (the HTTP layer backs off); a second
429 in a row for the same API means the quota is gone, and every later call to that API fails
fast instead of spending the HTTP layer's attempts on a wall.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

import httpx

from providers.ebay import api
from providers.sdk.errors import RateLimitError

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    PACIFIC: tzinfo = ZoneInfo("America/Los_Angeles")
except (ImportError, ZoneInfoNotFoundError):  # pragma: no cover - a system without tz data
    PACIFIC = timezone(timedelta(hours=-8), "PST")

STRIKES_BEFORE_EXHAUSTED = 2


def pacific_day(now: float) -> tuple[date, float]:
    """The Pacific calendar day of ``now`` (epoch seconds) and the seconds left until it ends."""
    local = datetime.fromtimestamp(now, PACIFIC)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return local.date(), max(0.0, next_midnight.timestamp() - now)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


@dataclass
class _Usage:
    day: date
    calls: int = 0
    strikes: int = 0  # consecutive 429s
    exhausted: bool = False  # eBay itself said the quota is gone


class DailyQuota:
    """A ``providers.http.RateLimiter`` for eBay; ``operation`` is ``"<api>/<operationId>"``."""

    def __init__(
        self,
        quotas: Mapping[str, int],
        *,
        provider: str = "ebay",
        account: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.quotas = dict(quotas)
        self._label = f"{provider} {account}".strip()
        self._clock = clock
        self._usage: dict[str, _Usage] = {}

    @staticmethod
    def api_of(operation: str) -> str:
        return operation.split("/", 1)[0]

    def _current(self, api_name: str) -> tuple[_Usage, float]:
        today, left = pacific_day(self._clock())
        usage = self._usage.get(api_name)
        if usage is None or usage.day != today:
            usage = self._usage[api_name] = _Usage(today)
        return usage, left

    def used(self, api_name: str) -> int:
        return self._current(api_name)[0].calls

    async def acquire(self, operation: str) -> None:
        api_name = self.api_of(operation)
        quota = self.quotas.get(api_name)
        usage, left = self._current(api_name)
        if usage.exhausted:
            raise RateLimitError(
                f"{self._label}: eBay answered 429 (errorId {api.ERROR_TOO_MANY_REQUESTS}, Too many "
                f"requests) {STRIKES_BEFORE_EXHAUSTED} times in a row for {api_name}: the "
                f"application's daily call quota for {api_name} is used up; it resets at midnight "
                f"Pacific time (in {_duration(left)}). Nothing more is sent to {api_name} until then.",
                status=429,
            )
        if quota is not None and usage.calls >= quota:
            raise RateLimitError(
                f"{self._label}: daily quota of {quota:,} calls for {api_name} used up; it resets "
                f"at midnight Pacific time (in {_duration(left)}). If eBay granted this application "
                f"more calls, set options.quotas.{api_name} on the account.",
                status=429,
            )
        usage.calls += 1

    def observe(self, operation: str, response: httpx.Response) -> None:
        usage, _ = self._current(self.api_of(operation))
        if response.status_code == 429:
            usage.strikes += 1
            if usage.strikes >= STRIKES_BEFORE_EXHAUSTED:
                usage.exhausted = True
        else:
            usage.strikes = 0
