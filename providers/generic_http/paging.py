"""Walking every page of a vendor collection, whatever its pagination style.

A listing that silently stops early is worse than one that fails: the planner would see bindings
as missing. So the walker stops only on a clear signal (an empty or short page, a reached total,
no next cursor or link) and refuses what looks like a loop (a repeated cursor or link, a page
identical to the one before, more than ``max_pages`` pages) with ``PagingError``. The loop itself
is the shared one (``providers.sdk.paging``); this module turns each style into "one page and the
next request", and the next request, serialised, is the cursor the shared loop guards.

"Short" means shorter than an earlier page, not shorter than the size asked for: vendors often
cap the page size below the requested one, and treating their first capped page as the last would
drop everything after it. The price is one extra request when everything fits on one page and
the vendor reports no total.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from providers.generic_http.options import Endpoint
from providers.generic_http.templates import MISSING, dotted
from providers.http import json_body
from providers.sdk.model import canonical_json
from providers.sdk.paging import Page, PagingError, paginate

__all__ = ["PagingError", "page_items", "pager", "walk"]


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


def _state(target: str, query: Any) -> str:
    """The next request as an opaque cursor for ``providers.sdk.paging``: a repeated cursor, link
    or page is then a repeated cursor, which the shared loop refuses."""
    return canonical_json([target, list(httpx.QueryParams(query).multi_items())])


def _request(cursor: str) -> tuple[str, httpx.QueryParams]:
    target, pairs = json.loads(cursor)
    return str(target), httpx.QueryParams([(str(k), str(v)) for k, v in pairs])


def pager(
    fetch: Fetch,
    endpoint: Endpoint,
    *,
    path: str,
    params: Mapping[str, Any],
    base_url: str,
) -> Callable[[str | None], Awaitable[Page[Any]]]:
    """One page of the collection per call, in any pagination style, for ``paginate``."""
    pag = endpoint.pagination
    style = pag.style
    where = f"{path}"
    first: Any = dict(params)
    if pag.size is not None and pag.size_param and style != "none":
        first[pag.size_param] = pag.size
    if style == "page" and pag.param:
        first[pag.param] = pag.start
    elif style == "offset" and pag.param:
        first[pag.param] = 0
    seen = {"longest": 0, "fetched": 0, "pages": 0}
    previous: list[str | None] = [None]

    async def page(cursor: str | None) -> Page[Any]:
        target, query = (path, httpx.QueryParams(first)) if cursor is None else _request(cursor)
        response = await fetch(target, query)
        seen["pages"] += 1
        body = _json(response, where)
        items = page_items(body, endpoint.items, where)
        if items:
            digest = canonical_json(items)
            if digest == previous[0]:
                raise PagingError(
                    f"{where}: page {seen['pages']} repeats the page before; the pagination settings do not move forward"
                )
            previous[0] = digest
        if style == "none":
            return Page(items, None)
        if style in ("page", "offset"):
            if not items:
                return Page(items, None)
            seen["fetched"] += len(items)
            total = dotted(body, pag.total) if pag.total else MISSING
            if isinstance(total, int) and not isinstance(total, bool) and seen["fetched"] >= total:
                return Page(items, None)
            if len(items) < seen["longest"]:
                return Page(items, None)
            seen["longest"] = max(seen["longest"], len(items))
            name = pag.param or style
            current = int(query.get(name, pag.start if style == "page" else 0))
            upcoming = current + 1 if style == "page" else current + len(items)
            return Page(items, _state(target, query.set(name, str(upcoming))))
        if style == "cursor":
            if pag.has_more and dotted(body, pag.has_more) is False:
                return Page(items, None)
            token = dotted(body, pag.next) if pag.next else MISSING
            if token is MISSING or token is None or token == "":
                return Page(items, None)
            return Page(items, _state(target, query.set(pag.param or "cursor", str(token))))
        next_link = response.links.get("next", {}).get("url")  # link
        if not next_link:
            return Page(items, None)
        absolute = urljoin(str(response.url), str(next_link))
        if _origin(absolute) != _origin(base_url):
            raise PagingError(
                f"{where}: the Link rel=next points to {urlsplit(absolute).netloc}, another host; "
                "not following it with this account's credentials"
            )
        # httpx replaces a URL's query with ``params`` when both are given, so the link's own
        # query travels as params (repeated keys kept).
        link = httpx.URL(absolute)
        return Page(items, _state(str(link.copy_with(query=None)), link.params))

    return page


def walk(
    fetch: Fetch,
    endpoint: Endpoint,
    *,
    path: str,
    params: Mapping[str, Any],
    base_url: str,
) -> AsyncIterator[Any]:
    """Every item of the collection, through the shared loop (``providers.sdk.paging``)."""
    return paginate(
        pager(fetch, endpoint, path=path, params=params, base_url=base_url),
        what=path,
        max_pages=endpoint.pagination.max_pages,
    )
