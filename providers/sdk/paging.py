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


async def paginate(
    fetch: Callable[[str | None], Awaitable[Page[T]]],
    *,
    what: str,
    identity: Callable[[T], Hashable] | None = None,
    max_pages: int = 10_000,
) -> AsyncIterator[T]:
    """Every item of a collection, page by page. ``fetch(None)`` is the first page;
    ``fetch(cursor)`` the next. ``identity`` (an item's id) turns on the duplicate check. ``what``
    names the collection in errors ("webhook subscriptions")."""
    seen_cursors: set[str] = set()
    seen_ids: set[Hashable] = set()
    cursor: str | None = None
    for number in range(1, max_pages + 1):
        page = await fetch(cursor)
        for item in page.items:
            if identity is not None:
                key = identity(item)
                if key in seen_ids:
                    raise PagingError(
                        f"{what} (page {number}): item {key!r} came back on an earlier page too; "
                        "the collection changed during the listing"
                    )
                seen_ids.add(key)
            yield item
        if page.next_cursor is None:
            return
        if page.next_cursor in seen_cursors:
            raise PagingError(f"{what} (page {number}): the vendor returned a cursor it had already given")
        seen_cursors.add(page.next_cursor)
        cursor = page.next_cursor
    raise PagingError(f"{what}: more than {max_pages} pages; the listing was stopped")


async def collect(
    fetch: Callable[[str | None], Awaitable[Page[T]]],
    *,
    what: str,
    identity: Callable[[T], Hashable] | None = None,
    max_pages: int = 10_000,
) -> list[T]:
    """``paginate`` into a list."""
    return [item async for item in paginate(fetch, what=what, identity=identity, max_pages=max_pages)]
