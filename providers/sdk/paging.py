"""The one pagination loop every provider client uses, with its loop guards.

A vendor pages a collection with a cursor (Shopify's ``endCursor``, eBay's
``continuation_token``, Stripe's ``starting_after``, SP-API's ``nextToken``). Each client says
how to fetch one page given the cursor; ``paginate`` walks them and refuses to trust a walk that
goes wrong: a cursor the vendor already gave (a loop), an item id seen on an earlier page
(duplicates: the collection moved under the walk), or more pages than ``max_pages``. Such a walk
raises ``PagingError``; the client turns it into a ``Gap`` of its listing (``GapReason.CURSOR_LOOP``)
so no cancel is decided on what it returned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from providers.sdk.errors import ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page: its items and the cursor of the next page (None: this was the last)."""

    items: Sequence[T]
    next_cursor: str | None


class PagingError(ProviderError):
    """The walk over a collection's pages cannot be trusted (a loop, duplicates, no end)."""


def _check_new(
    items: Sequence[T], identity: Callable[[T], Hashable], seen: set[Hashable], what: str, number: int
) -> None:
    """Refuse a page holding an item seen before (on an earlier page or earlier on this page);
    otherwise its ids join ``seen``. One set operation per page, not one per item: a page with
    no duplicate, by far the usual one, never loops in Python."""
    keys = [identity(item) for item in items]
    if len(set(keys)) == len(keys) and seen.isdisjoint(keys):
        seen.update(keys)
        return
    for key in keys:
        if key in seen:
            raise PagingError(
                f"{what} (page {number}): item {key!r} came back on an earlier page too; "
                "the collection changed during the listing"
            )
        seen.add(key)


async def _pages(
    fetch: Callable[[str | None], Awaitable[Page[T]]],
    what: str,
    identity: Callable[[T], Hashable] | None,
    max_pages: int,
) -> AsyncIterator[Sequence[T]]:
    """Each page's items, checked, with the cursor guards."""
    seen_cursors: set[str] = set()
    seen_ids: set[Hashable] = set()
    cursor: str | None = None
    for number in range(1, max_pages + 1):
        page = await fetch(cursor)
        if identity is not None:
            _check_new(page.items, identity, seen_ids, what, number)
        yield page.items
        if page.next_cursor is None:
            return
        if page.next_cursor in seen_cursors:
            raise PagingError(f"{what} (page {number}): the vendor returned a cursor it had already given")
        seen_cursors.add(page.next_cursor)
        cursor = page.next_cursor
    raise PagingError(f"{what}: more than {max_pages} pages; the listing was stopped")


async def paginate(
    fetch: Callable[[str | None], Awaitable[Page[T]]],
    *,
    what: str,
    identity: Callable[[T], Hashable] | None = None,
    max_pages: int = 10_000,
) -> AsyncIterator[T]:
    """Every item of a collection, page by page. ``fetch(None)`` is the first page;
    ``fetch(cursor)`` the next. ``identity`` (an item's id) turns on the duplicate check: a page
    holding an item already given is refused whole, before any of its items. ``what`` names the
    collection in errors ("webhook subscriptions")."""
    async for items in _pages(fetch, what, identity, max_pages):
        for item in items:
            yield item


async def collect(
    fetch: Callable[[str | None], Awaitable[Page[T]]],
    *,
    what: str,
    identity: Callable[[T], Hashable] | None = None,
    max_pages: int = 10_000,
) -> list[T]:
    """``paginate`` into a list, a page at a time."""
    found: list[T] = []
    async for items in _pages(fetch, what, identity, max_pages):
        found.extend(items)
    return found
