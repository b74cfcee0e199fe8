"""A stateful stand-in for REST vendors described in a sandbox scenario (``http:`` section).

Each vendor is served at ``/vendor/{name}`` with the collections, auth, pagination style and
cancel behaviour its scenario entry describes, in the same vocabulary the provider's options
use, so a tether.yaml written against the sandbox works against the real vendor unchanged::

    http:
      shipcloud:
        auth: {header: Authorization, format: "Bearer {token}", tokens: [demo-token]}
        rate_limit: {rate: 5, burst: 10}            # optional
        resources:
          shop_integrations:
            path: /v1/shop_integrations
            items: data                              # absent: the body is a bare list
            item: data                               # optional: how GET /{id} wraps the object
            id_field: id                             # default id
            pagination: {style: cursor, next: meta.next_cursor}
            page_size: 2                             # the most the vendor serves per page
            defaults: {state: active}                # fields an object leaves out
            filters: [shop_integration_id]           # query params that filter by field
            objects: [{id: si_1, shop_name: "Lumen EU", state: active}]
            cancel: {method: POST, path_suffix: /deactivate, set: {state: disconnected}}
            # cancel: {method: DELETE}               # removes the object (204)
            # cancel: {..., refuse: {field: default, values: [true], status: 409, message: "..."}}

Routing uses the raw, still percent-encoded path, so an id holding ``/`` or ``../`` is one
path segment, exactly as a careful vendor would treat it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote

import httpx

from providers.emulation import CursorError, decode_cursor, encode_cursor
from providers.generic_http.options import STYLES
from providers.generic_http.templates import MISSING, dotted, set_dotted
from providers.sdk.errors import ConfigError

_STYLE_DEFAULTS = {"page_param": "page", "offset_param": "offset", "cursor_param": "cursor"}
_SIZE_PARAM = {"page": "per_page", "offset": "limit", "cursor": "limit", "link": "per_page"}


@dataclass
class _Paging:
    style: str = "none"
    page_param: str = "page"
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    size_param: str = "per_page"
    start: int = 1
    total: str | None = None
    next: str = "next_cursor"
    has_more: str | None = None


@dataclass
class _Resource:
    name: str
    route: tuple[str, ...]
    spec: dict[str, Any]  # the scenario entry without its objects, for dump()
    items: str | None
    item: str | None
    id_field: str
    paging: _Paging
    page_size: int
    filters: tuple[str, ...]
    cancel: dict[str, Any] | None
    suffix: tuple[str, ...]
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Vendor:
    name: str
    spec: dict[str, Any]
    auth: dict[str, Any]
    accepted: frozenset[str]
    resources: dict[str, _Resource]
    routes: dict[tuple[str, ...], _Resource]
    rate: float | None = None
    burst: float = 1.0
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)


def _problem(where: str, message: str) -> ConfigError:
    return ConfigError(f"scenario http.{where}: {message}")


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _paging(raw: Any, where: str) -> _Paging:
    if raw is None:
        return _Paging()
    if not isinstance(raw, Mapping) or raw.get("style") not in STYLES:
        raise _problem(f"{where}.style", f"must be one of {', '.join(STYLES)}")
    style = raw["style"]
    known = set(_STYLE_DEFAULTS) | {"style", "size_param", "start", "total", "next", "has_more", "size", "max_pages"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise _problem(f"{where}.{unknown[0]}", "unknown key")
    paging = _Paging(
        style=style,
        page_param=raw.get("page_param", "page"),
        offset_param=raw.get("offset_param", "offset"),
        cursor_param=raw.get("cursor_param", "cursor"),
        size_param=raw.get("size_param", _SIZE_PARAM.get(style, "per_page")),
        start=int(raw.get("start", 1)),
        total=raw.get("total"),
        next=raw.get("next", "next_cursor"),
        has_more=raw.get("has_more"),
    )
    return paging


def _resource(vendor: str, name: str, raw: Any) -> _Resource:
    where = f"{vendor}.resources.{name}"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str) or not raw["path"].startswith("/"):
        raise _problem(f"{where}.path", "is required: the collection's path, starting with /")
    paging = _paging(raw.get("pagination"), f"{where}.pagination")
    items = raw.get("items")
    if items is None and (paging.style == "cursor" or paging.total or paging.has_more):
        raise _problem(f"{where}.items", f"is required with pagination style {paging.style} and paging fields")
    cancel = raw.get("cancel")
    if cancel is not None:
        if not isinstance(cancel, Mapping) or cancel.get("method") not in ("DELETE", "POST", "PUT", "PATCH"):
            raise _problem(f"{where}.cancel.method", "must be DELETE, POST, PUT or PATCH")
        cancel = dict(cancel)
    page_size = raw.get("page_size", 50)
    if not isinstance(page_size, int) or page_size < 1:
        raise _problem(f"{where}.page_size", "must be a whole number above 0")
    resource = _Resource(
        name=name,
        route=_segments(raw["path"]),
        spec={k: copy.deepcopy(v) for k, v in raw.items() if k != "objects"},
        items=items,
        item=raw.get("item"),
        id_field=raw.get("id_field", "id"),
        paging=paging,
        page_size=page_size,
        filters=tuple(raw.get("filters", ())),
        cancel=cancel,
        suffix=_segments(cancel.get("path_suffix", "")) if cancel else (),
    )
    defaults = raw.get("defaults") or {}
    for index, obj in enumerate(raw.get("objects") or []):
        if not isinstance(obj, Mapping) or obj.get(resource.id_field) is None:
            raise _problem(f"{where}.objects[{index}]", f"needs an {resource.id_field!r}")
        merged = copy.deepcopy(dict(obj))
        for key, value in defaults.items():
            merged.setdefault(key, copy.deepcopy(value))
        key = str(merged[resource.id_field])
        if key in resource.objects:
            raise _problem(f"{where}.objects[{index}]", f"id {key!r} appears twice")
        resource.objects[key] = merged
    return resource


def _vendor(name: str, raw: Any) -> _Vendor:
    if not isinstance(raw, Mapping):
        raise _problem(name, "must be a mapping")
    auth = dict(raw.get("auth") or {})
    tokens = [str(t) for t in auth.get("tokens", ())]
    if not tokens or not any(k in auth for k in ("header", "query", "basic")):
        raise _problem(f"{name}.auth", "needs tokens and one of header, query, basic")
    if "header" in auth:
        fmt = auth.get("format", "{token}")
        accepted = frozenset(fmt.replace("{token}", t) for t in tokens)
    else:
        accepted = frozenset(tokens)
    resources = {rname: _resource(name, rname, rraw) for rname, rraw in (raw.get("resources") or {}).items()}
    routes: dict[tuple[str, ...], _Resource] = {}
    for resource in resources.values():
        if resource.route in routes:
            raise _problem(f"{name}.resources.{resource.name}.path", "is used by another resource")
        routes[resource.route] = resource
    limit = raw.get("rate_limit")
    return _Vendor(
        name=name,
        spec={k: copy.deepcopy(v) for k, v in raw.items() if k != "resources"},
        auth=auth,
        accepted=accepted,
        resources=resources,
        routes=routes,
        rate=float(limit["rate"]) if limit else None,
        burst=float(limit.get("burst", max(1.0, float(limit["rate"])))) if limit else 1.0,
    )


class HttpVendorEmulator:
    """Serves every vendor of the scenario's ``http:`` section under ``/vendor/{name}``."""

    name: ClassVar[str] = "http"
    prefix: ClassVar[str] = "/vendor"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.enforce_rate_limits = True
        self._vendors: dict[str, _Vendor] = {}
        self._requests = 0

    # -- scenario ---------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any] | None) -> None:
        vendors = {}
        for name, raw in (section or {}).items():
            vendors[str(name)] = _vendor(str(name), raw)
        self._vendors = vendors

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, vendor in self._vendors.items():
            entry = copy.deepcopy(vendor.spec)
            entry["resources"] = {
                rname: {**copy.deepcopy(res.spec), "objects": [copy.deepcopy(o) for o in res.objects.values()]}
                for rname, res in vendor.resources.items()
            }
            out[name] = entry
        return out

    # -- responses --------------------------------------------------------------------------

    def _respond(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        self._requests += 1
        merged = {"x-request-id": f"req_{self._requests:06d}", **(headers or {})}
        if body is None:
            return httpx.Response(status, headers=merged)
        return httpx.Response(status, json=body, headers=merged)

    def _error(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self._respond(status, {"message": message}, headers)

    # -- request handling -------------------------------------------------------------------

    def _parts(self, request: httpx.Request, path: str) -> tuple[str, ...]:
        raw = request.url.raw_path.decode("ascii", "replace").split("?", 1)[0]
        if raw == self.prefix or raw.startswith(self.prefix + "/"):
            return tuple(unquote(part) for part in raw[len(self.prefix):].split("/") if part)
        return _segments(path)

    def _credential(self, vendor: _Vendor, request: httpx.Request) -> str | None:
        auth = vendor.auth
        if "header" in auth:
            value = request.headers.get(auth["header"])
        elif "query" in auth:
            value = request.url.params.get(auth["query"])
        else:
            header = request.headers.get("authorization", "")
            scheme, _, encoded = header.partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                value = base64.b64decode(encoded, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
        return value if value in vendor.accepted else None

    def _unauthorized(self, vendor: _Vendor) -> httpx.Response:
        auth = vendor.auth
        headers = {}
        if "basic" in auth:
            headers["www-authenticate"] = f'Basic realm="{vendor.name}"'
        elif auth.get("header", "").lower() == "authorization":
            scheme = str(auth.get("format", "Bearer {token}")).split(" ", 1)[0]
            headers["www-authenticate"] = f'{scheme} realm="{vendor.name}"'
        return self._error(401, "Unauthorized: missing or invalid credentials", headers)

    def _throttled(self, vendor: _Vendor, credential: str) -> httpx.Response | None:
        if vendor.rate is None or not self.enforce_rate_limits:
            return None
        now = self.clock()
        tokens, stamp = vendor.buckets.get(credential, (vendor.burst, now))
        tokens = min(vendor.burst, tokens + (now - stamp) * vendor.rate)
        if tokens < 1:
            vendor.buckets[credential] = (tokens, now)
            wait = max(1, math.ceil((1 - tokens) / vendor.rate))
            return self._error(429, "Too many requests; slow down", {"retry-after": str(wait)})
        vendor.buckets[credential] = (tokens - 1, now)
        return None

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        parts = self._parts(request, path)
        if not parts or parts[0] not in self._vendors:
            return self._error(404, f"no vendor {parts[0] if parts else ''!r} in this sandbox")
        vendor = self._vendors[parts[0]]
        credential = self._credential(vendor, request)
        if credential is None:
            return self._unauthorized(vendor)
        throttled = self._throttled(vendor, credential)
        if throttled is not None:
            return throttled
        rest = parts[1:]
        method = request.method.upper()

        resource = vendor.routes.get(rest)
        if resource is not None:
            if method != "GET":
                return self._error(405, f"{method} is not allowed here", {"allow": "GET"})
            return self._list(vendor, resource, request)
        for resource in vendor.resources.values():
            cut = len(resource.suffix)
            if (
                cut
                and len(rest) == len(resource.route) + cut + 1
                and rest[: len(resource.route)] == resource.route
                and rest[-cut:] == resource.suffix
            ):
                return self._item(resource, rest[-cut - 1], method, suffixed=True, request=request)
        resource = vendor.routes.get(rest[:-1]) if rest else None
        if resource is not None:
            return self._item(resource, rest[-1], method, suffixed=False, request=request)
        return self._error(404, f"no route for {request.method} /{'/'.join(rest)}")

    def _wrap(self, resource: _Resource, obj: dict[str, Any]) -> Any:
        """The body of one object. Not a copy: a response is serialised as soon as it is built."""
        if not resource.item:
            return obj
        body: dict[str, Any] = {}
        set_dotted(body, resource.item, obj)
        return body

    def _item(self, resource: _Resource, ident: str, method: str, *, suffixed: bool, request: httpx.Request) -> httpx.Response:
        cancel = resource.cancel
        cancel_here = cancel is not None and method == cancel["method"] and suffixed == bool(resource.suffix)
        if not suffixed and method == "GET":
            obj = resource.objects.get(ident)
            if obj is None:
                return self._error(404, f"{resource.name} {ident!r} not found")
            return self._respond(200, self._wrap(resource, obj))
        if not cancel_here:
            allowed = ["GET"] if not suffixed else []
            if cancel is not None and suffixed == bool(resource.suffix):
                allowed.append(cancel["method"])
            return self._error(405, f"{method} is not allowed here", {"allow": ", ".join(allowed)})
        assert cancel is not None
        obj = resource.objects.get(ident)
        if obj is None:
            return self._error(404, f"{resource.name} {ident!r} not found")
        refuse = cancel.get("refuse")
        if refuse and dotted(obj, refuse.get("field")) in refuse.get("values", ()):
            return self._error(int(refuse.get("status", 409)), str(refuse.get("message", "this object cannot be cancelled")))
        changes = cancel.get("set")
        if changes:
            for key, value in changes.items():
                set_dotted(obj, key, copy.deepcopy(value))
            return self._respond(int(cancel.get("status", 200)), self._wrap(resource, obj))
        del resource.objects[ident]
        status = int(cancel.get("status", 204))
        return self._respond(status, None if status == 204 else {})

    def _list(self, vendor: _Vendor, resource: _Resource, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        objs = list(resource.objects.values())
        for name in resource.filters:
            if name in params:
                wanted = params[name]
                objs = [o for o in objs if _as_param(dotted(o, name)) == wanted]
        paging = resource.paging
        size = resource.page_size
        if paging.style != "none" and paging.size_param in params:
            asked = _positive(params[paging.size_param])
            if asked is None:
                return self._error(400, f"{paging.size_param} must be a whole number above 0")
            size = min(asked, resource.page_size)
        headers: dict[str, str] = {}
        style = paging.style
        start = 0
        if style == "none":
            size = len(objs)
        elif style == "page" or style == "link":
            first = paging.start if style == "page" else 1
            number = _whole(params.get(paging.page_param, str(first)))
            if number is None or number < first:
                return self._error(400, f"{paging.page_param} must be a whole number from {first}")
            start = (number - first) * size
            if style == "link":
                headers.update(self._links(vendor, resource, request, number, start + size < len(objs)))
        elif style == "offset":
            offset = _whole(params.get(paging.offset_param, "0"))
            if offset is None or offset < 0:
                return self._error(400, f"{paging.offset_param} must be a whole number from 0")
            start = offset
        else:
            cursor = params.get(paging.cursor_param)
            if cursor:
                decoded = _decode_cursor(cursor)
                if decoded is None:
                    return self._error(400, f"invalid {paging.cursor_param}")
                start = decoded
        chunk = objs[start : start + size]
        if resource.items is None:
            return self._respond(200, chunk, headers)
        body: dict[str, Any] = {}
        set_dotted(body, resource.items, chunk)
        more = start + size < len(objs)
        if style == "cursor":
            set_dotted(body, paging.next, _encode_cursor(start + size) if more else None)
            if paging.has_more:
                set_dotted(body, paging.has_more, more)
        if paging.total and style in ("page", "offset"):
            set_dotted(body, paging.total, len(objs))
        return self._respond(200, body, headers)

    def _links(self, vendor: _Vendor, resource: _Resource, request: httpx.Request, number: int, more: bool) -> dict[str, str]:
        """RFC 8288 links to the neighbouring pages, without the credential if it rode in the query."""
        url = request.url
        if "query" in vendor.auth:
            url = url.copy_remove_param(vendor.auth["query"])
        param = resource.paging.page_param
        links = []
        if more:
            links.append(f'<{url.copy_set_param(param, number + 1)}>; rel="next"')
        if number > 1:
            links.append(f'<{url.copy_set_param(param, number - 1)}>; rel="previous"')
        return {"link": ", ".join(links)} if links else {}


def _as_param(value: Any) -> str | None:
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _whole(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    return int(text)


def _positive(text: str) -> int | None:
    value = _whole(text)
    return value if value and value > 0 else None


def _encode_cursor(offset: int) -> str:
    return encode_cursor("items", offset)


def _decode_cursor(cursor: str) -> int | None:
    try:
        return decode_cursor(cursor, "items")
    except CursorError:
        return None
