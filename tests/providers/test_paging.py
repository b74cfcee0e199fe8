"""The one pagination loop (``providers.sdk.paging``): every item in order, and a walk that goes
wrong (a repeated cursor, an item given twice, no end) refused with ``PagingError``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from providers.sdk.paging import Page, PagingError, collect, paginate

Item = Mapping[str, str]


def pages_of(*pages: Sequence[str], cursors: Sequence[str | None] | None = None):  # type: ignore[no-untyped-def]
    """A fetch over fixed pages; page n's next cursor is ``cursors[n]`` (default: "c<n+1>", None last)."""
    nexts = list(cursors) if cursors is not None else [f"c{n + 1}" for n in range(len(pages) - 1)] + [None]
    index: dict[str | None, int] = {None: 0}
    for n, cursor in enumerate(nexts):
        index.setdefault(cursor, n + 1)
    asked: list[str | None] = []

    async def fetch(cursor: str | None) -> Page[Item]:
        asked.append(cursor)
        number = index[cursor]
        return Page([{"id": ident} for ident in pages[number]], nexts[number])

    return fetch, asked


def ident(item: Item) -> str:
    return item["id"]


def run_collect(fetch, **kwargs):  # type: ignore[no-untyped-def]
    return asyncio.run(collect(fetch, what="things", **kwargs))


def run_paginate(fetch, sink: list[str], **kwargs) -> None:  # type: ignore[no-untyped-def]
    async def walk() -> None:
        async for item in paginate(fetch, what="things", **kwargs):
            sink.append(item["id"])

    asyncio.run(walk())


def test_every_item_in_order_across_pages() -> None:
    fetch, asked = pages_of(["1", "2"], ["3"], [], ["4", "5"])
    assert [i["id"] for i in run_collect(fetch, identity=ident)] == ["1", "2", "3", "4", "5"]
    assert asked == [None, "c1", "c2", "c3"]
    streamed: list[str] = []
    run_paginate(pages_of(["1", "2"], ["3"], [], ["4", "5"])[0], streamed, identity=ident)
    assert streamed == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("pages", [(["1", "2"], ["3", "1"]), (["1", "2"], ["3", "3"]), (["1", "1"],)])
def test_an_item_given_twice_stops_the_walk_naming_it(pages: tuple[list[str], ...]) -> None:
    duplicate = "1" if pages[-1].count("1") or pages[0].count("1") > 1 else "3"
    with pytest.raises(PagingError, match=rf"things \(page {len(pages)}\): item '{duplicate}' came back"):
        run_collect(pages_of(*pages)[0], identity=ident)
    streamed: list[str] = []
    with pytest.raises(PagingError):
        run_paginate(pages_of(*pages)[0], streamed, identity=ident)
    # The page holding the duplicate is refused whole: only the earlier pages came through.
    assert streamed == [i for page in pages[:-1] for i in page]


def test_without_identity_repeats_are_not_checked() -> None:
    fetch, _ = pages_of(["1"], ["1"])
    assert [i["id"] for i in run_collect(fetch)] == ["1", "1"]


def test_a_cursor_given_again_is_a_loop() -> None:
    fetch, asked = pages_of(["1"], ["2"], ["3"], cursors=["c1", "c2", "c1"])
    with pytest.raises(PagingError, match=r"things \(page 3\): the vendor returned a cursor it had already given"):
        run_collect(fetch, identity=ident)
    assert asked == [None, "c1", "c2"]


def test_more_pages_than_allowed_are_stopped() -> None:
    fetch, asked = pages_of(["1"], ["2"], ["3"])
    with pytest.raises(PagingError, match="more than 2 pages"):
        run_collect(fetch, identity=ident, max_pages=2)
    assert len(asked) == 2
    assert [i["id"] for i in run_collect(pages_of(["1"], ["2"])[0], max_pages=2)] == ["1", "2"]


def test_a_failed_listing_step_becomes_the_gap_of_what_failed() -> None:
    from providers.sdk import listing_gap
    from providers.sdk.errors import AuthError, ProviderError
    from providers.sdk.model import GapReason, Kind

    loop = listing_gap(Kind.WEBHOOK, PagingError("cursor came back"), "hooks: cursor came back", right="r")
    assert (loop.reason, dict(loop.params), loop.detail) == (GapReason.CURSOR_LOOP, {}, "hooks: cursor came back")
    refused = listing_gap(Kind.CARRIER, AuthError("no", status=403), "no", right="read_shipping")
    assert (refused.kind, refused.reason, dict(refused.params)) == (Kind.CARRIER, GapReason.REFUSED, {"right": "read_shipping"})
    failed = listing_gap(None, ProviderError("down", status=503), "down", right="unused")
    assert (failed.kind, failed.reason, dict(failed.params)) == (None, GapReason.FAILED, {"status": "503"})
    assert dict(listing_gap(Kind.APP, ProviderError("reset"), "reset").params) == {}  # no status, none said
