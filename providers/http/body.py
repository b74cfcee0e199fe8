"""Reading a response body: whole, but never past a size limit; and decoding its JSON fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from providers.sdk.errors import ProviderError

MIB = 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 32 * MIB
"""What one response body may hold unless the account says otherwise (``options.max_response_mb``):
far above any vendor's largest page, far below what would exhaust a runner's memory."""


class ResponseTooLargeError(ProviderError):
    """A vendor's answer was larger than the account's limit; it was not read any further."""


def _mib(size: int) -> str:
    return f"{size / MIB:g} MiB"


async def read_limited(response: httpx.Response, limit: int, what: str | Callable[[], str]) -> None:
    """Read a streamed ``response`` whole (decoded, as ``response.content`` gives it), or refuse it
    as soon as it is known to be larger than ``limit`` bytes: by its Content-Length before reading
    anything, else by counting as it arrives. The stream is closed either way, so a refused
    answer's connection is dropped rather than drained. ``what`` names the request in that error
    (a function making the name is called only then)."""
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(what, limit, f"it announced {int(declared)} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(what, limit, "it went on past the limit")
            chunks.append(chunk)
        # What ``Response.aread`` stores once it has read the stream, set here because the
        # stream was read in pieces to count them.
        response._content = b"".join(chunks)
    finally:
        await response.aclose()


def _too_large(what: str | Callable[[], str], limit: int, how: str) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{what if isinstance(what, str) else what()}: the answer is larger than {_mib(limit)} ({how}), so it was refused without "
        "being read further; if this vendor really sends answers this large, raise "
        "options.max_response_mb for this account"
    )


_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9999999999")
_TWENTY_DIGITS = b"9" * 20


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, as ``response.json()`` gives it, read by orjson (a page of 250
    webhooks decodes about twice as fast). orjson turns an integer wider than 64 bits into a
    float, so a body holding a run of 20 digits is left to the json module, which keeps every
    digit; so is one orjson refuses (NaN, another encoding), so errors stay ``ValueError``s."""
    content = response.content
    if content.translate(_DIGITS_AS_NINES).find(_TWENTY_DIGITS) < 0:  # ten times a regex's speed
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return response.json()
