"""Machinery the emulators share: opaque cursors, JSON error answers and token-bucket throttles.

An emulator stands in for a vendor's API; these three pieces are the same everywhere, only the
vendor's words differ. Cursors are opaque to clients (as every vendor documents its page tokens)
and bound to the collection they page, so a token of one collection is refused by another;
``json_response`` answers in the vendor's own JSON error shape (the caller builds the body);
``Throttle`` is the server side of a vendor's rate limit, one token bucket per key, on the
emulator's injectable clock.

Nothing here imports a provider: providers' emulators import this module, never the reverse.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson


class CursorError(ValueError):
    """A page token that this emulator did not issue for this collection."""


def encode_cursor(scope: str, offset: int) -> str:
    """An opaque page token for ``offset`` within the collection ``scope``."""
    return base64.urlsafe_b64encode(f"{scope}\x1f{offset}".encode()).decode("ascii").rstrip("=")


def decode_cursor(token: str, scope: str) -> int:
    """The offset a token of ``encode_cursor(scope, ...)`` holds; ``CursorError`` otherwise."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise CursorError(f"not a page token: {token[:40]!r}") from None
    token_scope, sep, offset = text.rpartition("\x1f")
    if not sep or token_scope != scope or not offset.isdigit():
        raise CursorError(f"the page token {token[:40]!r} does not belong to this collection")
    return int(offset)


def json_response(
    status: int,
    body: Any,
    *,
    request_id_header: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A JSON answer (an error or not) with a fresh request id where the vendor sends one."""
    out = {"content-type": "application/json"}
    if request_id_header:
        out[request_id_header] = str(uuid.uuid4())
    out.update(headers or {})
    return httpx.Response(status, content=json_bytes(body), headers=out)


def json_bytes(body: Any) -> bytes:
    """An answer's body as compact JSON, as the vendors send it; orjson writes a page of 250
    objects several times faster than the json module, which matters when the sandbox shares the
    machine with the tether it answers."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


class Reply(Exception):
    """Raised inside a handler to answer at once: vendor errors are answers, not failures."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Rate:
    """A vendor's published limit: ``rate`` requests per second sustained, ``burst`` at once."""

    rate: float
    burst: int


class _Bucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, limit: Rate, now: float) -> None:
        self.rate = limit.rate
        self.burst = float(limit.burst)
        self.tokens = float(limit.burst)
        self.stamp = now

    def take(self, now: float) -> float:
        """0 when a request may go now; otherwise the seconds until one may."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else float("inf")


class Throttle:
    """Token buckets keyed by whatever the vendor counts by (a token, an app, an operation)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}
        self.enabled = True

    def admit(self, key: Hashable, limit: Rate) -> float:
        """0 when admitted; else the seconds to wait (the request is not counted)."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit, now)
        return bucket.take(now)

    def reset(self) -> None:
        self._buckets.clear()
