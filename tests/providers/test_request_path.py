"""The request path's per-request work stays small without changing what it does: the redactor
masks every form of every secret (however many accounts a run holds), and the name of a request
in a too-large-answer error is made only when that error happens."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from providers.http.body import ResponseTooLargeError, read_limited
from providers.http.redact import Redactor


def test_the_redactor_masks_every_secret_and_its_quoted_form_added_in_any_order() -> None:
    secrets = [f"shpat_{n:04d}/x+y" for n in range(300)]
    redact = Redactor(secrets[:100])
    for secret in secrets[100:]:
        redact.add(secret)
    redact.add(secrets[5])  # again: no change
    text = f"token {secrets[7]} and {secrets[250].replace('/', '%2F').replace('+', '%2B')} and shpat_9999"
    assert redact(text) == "token *** and *** and shpat_9999"
    # A secret that contains another is masked whole, whichever was added first.
    nested = Redactor(["abcd"])
    nested.add("abcdefgh")
    assert nested("x abcdefgh y abcd") == "x *** y ***"


def _response(body: bytes, declared: bool) -> httpx.Response:
    headers = {"content-length": str(len(body))} if declared else {}

    async def chunks():  # type: ignore[no-untyped-def]
        yield body

    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body) if declared else _Stream(chunks))


class _Stream(httpx.AsyncByteStream):
    def __init__(self, make) -> None:  # type: ignore[no-untyped-def]
        self._make = make

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        async for chunk in self._make():
            yield chunk


@pytest.mark.parametrize("declared", [True, False])
def test_the_request_is_named_only_when_its_answer_is_refused(declared: bool) -> None:
    named: list[str] = []

    def what() -> str:
        named.append("asked")
        return "shopify shop-1: POST /admin/api/2026-10/graphql.json"

    small = _response(b'{"ok": true}', declared)
    asyncio.run(read_limited(small, 1000, what))
    assert small.content == b'{"ok": true}' and named == []
    big = _response(b"x" * 2000, declared)
    with pytest.raises(ResponseTooLargeError, match=r"^shopify shop-1: POST /admin/api/2026-10/graphql.json: the answer"):
        asyncio.run(read_limited(big, 1000, what))
    assert named == ["asked"]
    with pytest.raises(ResponseTooLargeError, match="^plain name: "):
        asyncio.run(read_limited(_response(b"x" * 2000, declared), 1000, "plain name"))
