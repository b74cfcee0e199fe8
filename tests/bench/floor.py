"""The floor: the shortest wall time any client could refresh a case in, given latency and limits.

The model, per account:

- its requests form chains: the pages of one collection follow each other (a page names the
  next), separate collections are independent, and a request that needs a token waits for it.
  No client can beat ``longest chain x latency``;
- a rate-limit bucket (``rate`` per second, ``burst`` at once) lets its ``n`` requests go no
  faster than ``depth x latency + max(0, n - burst) / rate + latency``: the first can leave once
  what it depends on returned (``depth`` requests before it), the last one after the bucket
  refilled, and it still takes a round trip.

and across accounts:

- ``global``: every request of the run shares ``parallelism`` slots: ``requests x latency / P``;
- ``per host``: the requests to one host share its ``per_host`` slots.

floor = the largest of these terms. It ignores CPU time on both ends on purpose: the ratio to
it shows how much the client (and the sandbox) add on top of what the network and the vendors'
limits impose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Chain:
    """Requests that must go one after another (operation names, in order)."""

    name: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Bucket:
    """A vendor rate limit on one account: ``operation`` None counts every request."""

    name: str
    rate: float
    burst: float
    operation: str | None


@dataclass(frozen=True)
class AccountLoad:
    account: str
    host: str  # the vendor host the account's requests go to (per-host limits)
    chains: tuple[Chain, ...]
    buckets: tuple[Bucket, ...] = ()
    once: tuple[str, ...] = ()  # sent once per account even where several chains start with it

    def requests(self) -> list[tuple[str, int]]:
        """(operation, depth) of every request the account sends; depth counts what precedes it."""
        out: list[tuple[str, int]] = []
        shared: dict[str, int] = {}
        for chain in self.chains:
            for depth, op in enumerate(chain.steps):
                if op in self.once:
                    shared[op] = min(shared.get(op, depth), depth)
                else:
                    out.append((op, depth))
        return out + [(op, depth) for op, depth in shared.items()]

    def chain_seconds(self, latency: float) -> float:
        return max((len(c.steps) for c in self.chains), default=0) * latency

    def rate_seconds(self, latency: float) -> tuple[float, str]:
        worst, name = 0.0, ""
        requests = self.requests()
        for bucket in self.buckets:
            mine = [d for op, d in requests if bucket.operation is None or op == bucket.operation]
            if not mine:
                continue
            seconds = min(mine) * latency + max(0.0, len(mine) - bucket.burst) / bucket.rate + latency
            if seconds > worst:
                worst, name = seconds, bucket.name
        return worst, name


def floor(loads: Iterable[AccountLoad], latency: float, parallelism: int, per_host: int) -> dict[str, Any]:
    """Every term of the model, the floor, and which term set it."""
    loads = list(loads)
    total = 0
    by_host: dict[str, int] = {}
    chain = rate = 0.0
    rate_name = ""
    for load in loads:
        requests = load.requests()
        total += len(requests)
        # Token exchanges go to the identity host (LWA), not to the API host.
        on_host = sum(1 for op, _ in requests if op not in load.once)
        by_host[load.host] = by_host.get(load.host, 0) + on_host
        chain = max(chain, load.chain_seconds(latency))
        seconds, name = load.rate_seconds(latency)
        if seconds > rate:
            rate, rate_name = seconds, name
    terms = {
        "chain_s": round(chain, 3),
        "rate_limit_s": round(rate, 3),
        "global_parallelism_s": round(total * latency / parallelism, 3),
        "per_host_s": round(max(by_host.values(), default=0) * latency / per_host, 3),
    }
    bound = max(terms, key=lambda k: terms[k])
    return {
        "requests": total,
        "terms": terms,
        "floor_s": terms[bound],
        "bound_by": bound if bound != "rate_limit_s" else f"rate_limit_s ({rate_name})",
    }
