"""What a vendor's answers may cost a run: a deadline for the whole run, a size for one body.

A vendor that never answers must not hang a CI job: the run has a deadline (``--timeout``,
default 15 minutes). An account not listed by then becomes an incomplete listing
(``GapReason.TIMED_OUT``, the whole account): the plan names it and exits 1, and no cancel is
decided on it. Apply starts no new cancel after the deadline (``engine.apply``).

A response body over ``options.max_response_mb`` (default 32 MiB, ``providers.http.body``) is
refused before it is read whole; each account gets its own view of the HTTP factory with its limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from typing import Any

from engine.errors import ConfigError
from engine.model import Account, Gap, GapReason, Listing
from providers.http import HttpFactory

__all__ = ["deadline_after", "listing_within", "max_response_bytes", "scoped_http", "timed_out_listing"]

MIB = 1024 * 1024


def deadline_after(timeout_s: float | None) -> float | None:
    """The ``time.monotonic()`` value at which a run of ``timeout_s`` seconds ends (None: none)."""
    return None if timeout_s is None else time.monotonic() + timeout_s


def _describe(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def timed_out_listing(account: str, provider: str, timeout_s: float | None = None) -> Listing:
    """The listing of an account the deadline cut short: nothing decided on it."""
    limit = f" ({_describe(timeout_s)})" if timeout_s is not None else ""
    return Listing(
        account=account,
        provider=provider,
        bindings=(),
        gaps=(
            Gap(
                kind=None,
                reason=GapReason.TIMED_OUT,
                params={"account": account} | ({"timeout": _describe(timeout_s)} if timeout_s is not None else {}),
                detail=f"{account} was not listed before the run's deadline{limit}; raise --timeout or try later",
            ),
        ),
    )


async def listing_within(
    work: Awaitable[Listing], deadline: float | None, account: str, provider: str, timeout_s: float | None = None
) -> Listing:
    """``work``'s listing, or a timed-out one when the deadline comes first (the work is cancelled,
    and with it every request it had in flight)."""
    if deadline is None:
        return await work
    remaining = max(0.0, deadline - time.monotonic())
    try:
        return await asyncio.wait_for(work, remaining)
    except asyncio.TimeoutError:
        return timed_out_listing(account, provider, timeout_s)


def max_response_bytes(account: Account) -> int | None:
    """``options.max_response_mb`` in bytes; None when the account leaves the default."""
    options: Mapping[str, Any] = account.options or {}
    value = options.get("max_response_mb")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(
            f"accounts.{account.name}.options.max_response_mb must be a positive number of MiB, "
            f"not {value!r} (the default is 32)"
        )
    return max(1, int(value * MIB))


def scoped_http(http: HttpFactory, account: Account) -> HttpFactory:
    """The HTTP factory an account's provider uses: the shared one, with the account's own
    response size limit where it sets one."""
    limit = max_response_bytes(account)
    return http if limit is None else http.scoped(max_response_bytes=limit)
