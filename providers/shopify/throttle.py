"""The client's side of Shopify's calculated query cost limit.

Shopify answers every GraphQL request with ``extensions.cost``: what the query was expected to
cost (``requestedQueryCost``), what it did cost, and the bucket after it (``throttleStatus``:
``maximumAvailable``, ``currentlyAvailable``, ``restoreRate`` points per second). A query whose
requested cost exceeds what is available is refused with the error code ``THROTTLED``
(https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). The budget remembers the
last status it saw and, before the next query, waits until the bucket has refilled enough for
that query's expected cost; after a ``THROTTLED`` answer it says how long to wait before the
same query can pass.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_QUERY_COST = 1000.0
"""No single query may cost more (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
while this much is available, no query can be throttled and none needs pricing."""
SCHEMA = Path(__file__).with_name("schema.graphql")


@functools.lru_cache(maxsize=64)
def _estimate(document: str, first: int | None) -> float:
    """The requested cost of a document by Shopify's published rules (``cost.requested_cost``).
    graphql-core is imported only here: most runs never come near the limit and never pay for it."""
    from graphql import build_schema

    from providers.shopify.cost import requested_cost

    schema = _schema(build_schema)
    return float(requested_cost(schema, document, {} if first is None else {"first": first}))


@functools.lru_cache(maxsize=1)
def _schema(build: Callable[[str], Any]) -> Any:
    return build(SCHEMA.read_text(encoding="utf-8"))


def estimate(document: str, variables: Mapping[str, Any]) -> float:
    first = variables.get("first")
    return _estimate(document, first if isinstance(first, int) else None)


@dataclass(frozen=True)
class ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float


def read_cost(body: Mapping[str, Any]) -> tuple[float | None, ThrottleStatus | None]:
    """``(requestedQueryCost, throttleStatus)`` from a response body, where present."""
    extensions = body.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, Mapping) else None
    if not isinstance(cost, Mapping):
        return None, None
    requested = cost.get("requestedQueryCost")
    status = cost.get("throttleStatus")
    parsed: ThrottleStatus | None = None
    if isinstance(status, Mapping):
        try:
            parsed = ThrottleStatus(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            parsed = None
    return (float(requested) if isinstance(requested, (int, float)) else None), parsed


class CostBudget:
    """One app's bucket on one shop, as the client last saw it."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._status: ThrottleStatus | None = None
        self._seen_at = 0.0
        self._expected: dict[str, float] = {}  # operation -> last requested cost
        self.waited = 0.0  # seconds spent waiting for the bucket, for the bench
        self.spent = 0.0  # requested points of the queries sent, for the bench

    def available(self) -> float | None:
        """Points available now, by the last status and the restore rate since."""
        status = self._status
        if status is None:
            return None
        refilled = status.available + status.restore_rate * (self._clock() - self._seen_at)
        return min(status.maximum, refilled)

    def wait_needed(self, cost: float) -> float:
        """Seconds until ``cost`` points are available (0 when they are, or nothing is known)."""
        status = self._status
        available = self.available()
        if status is None or available is None or available >= cost or status.restore_rate <= 0:
            return 0.0
        return (min(cost, status.maximum) - available) / status.restore_rate

    async def before(self, operation: str, document: str, variables: Mapping[str, Any]) -> None:
        """Wait, if need be, until the query ``operation`` can pass: priced by what Shopify
        asked for it last time, or by the published rules when it has not been sent yet."""
        available = self.available()
        if available is None or available >= MAX_QUERY_COST:
            return
        expected = self._expected.get(operation)
        if expected is None:
            expected = estimate(document, variables)
        wait = self.wait_needed(expected)
        if wait > 0:
            self.waited += wait
            await self._sleep(wait)

    def observe(self, operation: str, body: Mapping[str, Any]) -> float | None:
        """Learn from an answer; returns its requested cost where it says."""
        requested, status = read_cost(body)
        if requested is not None:
            self._expected[operation] = requested
            self.spent += requested
        if status is not None:
            self._status = status
            self._seen_at = self._clock()
        return requested

    def throttled_wait(self, requested: float | None) -> float:
        """How long to wait after a ``THROTTLED`` answer before the same query can pass: the
        restore time of the points it lacked (at least a tenth of a second)."""
        status = self._status
        if status is None or status.restore_rate <= 0:
            return 1.0
        need = requested if requested is not None else status.maximum / 2
        return max(0.1, (min(need, status.maximum) - status.available) / status.restore_rate)
