"""Walking every page of a vendor collection, whatever its pagination style.

A listing that silently stops early is worse than one that fails: the planner would see bindings
as missing. So the walker stops only on a clear signal (an empty or short page, a reached total,
no next cursor or link) and refuses what looks like a loop (a repeated cursor or link, a page
identical to the one before, more than ``max_pages`` pages) with ``PagingError``.

"Short" means shorter than an earlier page, not shorter than the size asked for: vendors often
cap the page size below the requested one, and treating their first capped page as the last would
drop everything after it. The price is one extra request when everything fits on one page and
the vendor reports no total.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from providers.generic_http.options import Endpoint
from providers.generic_http.templates import MISSING, dotted
from providers.http import json_body
from providers.sdk.errors import ProviderError
from providers.sdk.model import canonical_json


class PagingError(ProviderError):
    """The vendor's pages cannot be trusted to be complete (a loop, or a body of the wrong shape)."""


# (path or absolute URL, query params: a mapping or httpx.QueryParams) -> the response
Fetch = Callable[[str, Any], Awaitable[httpx.Response]]


def _json(response: httpx.Response, where: str) -> Any:
    try:
        return json_body(response)
    except ValueError:
        raise PagingError(f"{where}: the response is not JSON ({response.headers.get('content-type', 'no content type')})") from None


def page_items(body: Any, items: str | None, where: str) -> list[Any]:
    """The list of objects in one page body, per ``items`` (a bare list when None)."""
    found = dotted(body, items) if items else body
    if found is None:
        return []
    if found is MISSING:
        raise PagingError(f"{where}: the response has no {items!r} (check list.items)")
    if not isinstance(found, list):
        shown = f"{items!r}" if items else "the response"
        raise PagingError(f"{where}: {shown} is a {type(found).__name__}, not a list (check list.items)")
    return found


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


async def walk(
    fetch: Fetch,
    endpoint: Endpoint,
    *,
    path: str,
    params: Mapping[str, Any],
    base_url: str,
) -> AsyncIterator[list[Any]]:
    """Yield the items of each page in order; raise ProviderError / PagingError on failure."""
    pag = endpoint.pagination
    style = pag.style
    where = f"{path}"
    query: Any = dict(params)
    if pag.size is not None and pag.size_param and style != "none":
        query[pag.size_param] = pag.size
    target = path
    number = pag.start
    offset = 0
    if style == "page" and pag.param:
        query[pag.param] = number
    elif style == "offset" and pag.param:
        query[pag.param] = offset

    seen_cursors: set[str] = set()
    seen_links: set[str] = set()
    longest = 0
    fetched = 0
    previous: str | None = None
    pages = 0
    while True:
        pages += 1
        if pages > pag.max_pages:
            raise PagingError(
                f"{where}: stopped after {pag.max_pages} pages (pagination.max_pages); "
                "the vendor may be ignoring the paging parameters"
            )
        response = await fetch(target, query)
        body = _json(response, where)
        items = page_items(body, endpoint.items, where)
        if items:
            digest = canonical_json(items)
            if digest == previous:
                raise PagingError(f"{where}: page {pages} repeats page {pages - 1}; the pagination settings do not move forward")
            previous = digest
        yield items

        if style == "none":
            return
        if style in ("page", "offset"):
            if not items:
                return
            fetched += len(items)
            total = dotted(body, pag.total) if pag.total else MISSING
            if isinstance(total, int) and not isinstance(total, bool) and fetched >= total:
                return
            if len(items) < longest:
                return
            longest = max(longest, len(items))
            if style == "page":
                number += 1
                query[pag.param or "page"] = number
            else:
                offset += len(items)
                query[pag.param or "offset"] = offset
            continue
        if style == "cursor":
            if pag.has_more and dotted(body, pag.has_more) is False:
                return
            cursor = dotted(body, pag.next) if pag.next else MISSING
            if cursor is MISSING or cursor is None or cursor == "":
                return
            key = str(cursor)
            if key in seen_cursors:
                raise PagingError(f"{where}: the cursor {key[:40]!r} came back twice; stopping to avoid a loop")
            seen_cursors.add(key)
            query[pag.param or "cursor"] = cursor
            continue
        # link
        following = response.links.get("next", {}).get("url")
        if not following:
            return
        seen_links.add(str(response.url))
        absolute = urljoin(str(response.url), following)
        if _origin(absolute) != _origin(base_url):
            raise PagingError(
                f"{where}: the Link rel=next points to {urlsplit(absolute).netloc}, another host; "
                "not following it with this account's credentials"
            )
        if absolute in seen_links:
            raise PagingError(f"{where}: the Link rel=next repeats an earlier page; stopping to avoid a loop")
        seen_links.add(absolute)
        # httpx replaces a URL's query with ``params`` when both are given, so the link's own
        # query travels as params (repeated keys kept).
        link = httpx.URL(absolute)
        target = str(link.copy_with(query=None))
        query = link.params
