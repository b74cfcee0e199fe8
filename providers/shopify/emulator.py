"""A stateful stand-in for the Shopify Admin REST API, one shop per handle.

The sandbox mounts it at ``/shopify``; shop ``H`` lives at ``/shopify/H`` in place of
``https://H.myshopify.com``. It follows the 2024-01 API where tether depends on it: the paths
(any ``YYYY-MM`` version), the access-token header, scopes (403 for a missing one), opaque
``page_info`` cursors in ``Link`` headers, the per-token leaky bucket with its call-limit header
and 429, Shopify's error bodies, and app uninstall (which revokes the tokens at once).

Every token of a shop in a scenario is a credential of the same app installation: they all see
the same webhooks and carrier services (Shopify shows an app only what it owns), and uninstalling
the app revokes all of them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import re
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from providers.sandbox import path_segments
from providers.sdk.errors import ConfigError
from providers.shopify import (
    BUCKET_SIZE,
    CALL_LIMIT_HEADER,
    ENDED_CHARGE_STATUSES,
    LEAK_PER_SECOND,
    TOKEN_HEADER,
)
from providers.shopify.objects import EPOCH, FILL, SINGULAR


def _plain_copy(value: Any) -> Any:
    """``copy.deepcopy`` for JSON-shaped data, several times faster (scenarios hold thousands)."""
    kind = type(value)
    if kind is dict:
        return {key: _plain_copy(item) for key, item in value.items()}
    if kind is list:
        return [_plain_copy(item) for item in value]
    if isinstance(value, (str, int, float, bool, type(None), date, datetime)):
        return value
    return copy.deepcopy(value)


_HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
_FIRST_NEW_ID = 1_070_000_000

_MSG_UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_MSG_THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
)

COLLECTIONS = tuple(FILL)
_SCENARIO_KEYS = frozenset({"tokens", *COLLECTIONS})
_PAGINATED = frozenset({"webhooks", "orders", "products"})
_COUNTABLE = frozenset({"webhooks", "orders", "products"})
_CREATABLE = frozenset({"webhooks", "carrier_services"})

# Scope needed to read / to change each collection (None: an app may always touch its own).
_READ_SCOPE = {
    "carrier_services": "read_shipping",
    "fulfillment_services": "read_fulfillments",
    "orders": "read_orders",
    "products": "read_products",
}
_WRITE_SCOPE = {
    "carrier_services": "write_shipping",
    "fulfillment_services": "write_fulfillments",
    "orders": "write_orders",
    "products": "write_products",
}
# Subscribing to a topic needs read access to what the topic reports.
_TOPIC_SCOPE = {
    "orders": "read_orders",
    "refunds": "read_orders",
    "checkouts": "read_orders",
    "carts": "read_orders",
    "fulfillments": "read_fulfillments",
    "products": "read_products",
    "collections": "read_products",
    "customers": "read_customers",
    "inventory_levels": "read_inventory",
    "themes": "read_themes",
}
WEBHOOK_TOPICS = frozenset(
    {
        "app/uninstalled",
        "carts/create",
        "carts/update",
        "checkouts/create",
        "checkouts/update",
        "collections/create",
        "collections/update",
        "customers/create",
        "customers/update",
        "fulfillments/create",
        "fulfillments/update",
        "inventory_levels/update",
        "orders/cancelled",
        "orders/create",
        "orders/delete",
        "orders/fulfilled",
        "orders/paid",
        "orders/updated",
        "products/create",
        "products/delete",
        "products/update",
        "refunds/create",
        "shop/update",
        "themes/publish",
    }
)

# List filters each paginated collection understands; they travel inside page_info afterwards.
_FILTERS = {
    "webhooks": ("address", "topic"),
    "orders": ("status",),
    "products": ("vendor", "product_type", "status"),
}
_COMMON_FILTERS = ("since_id", "created_at_min", "created_at_max", "updated_at_min", "updated_at_max")
_ORDER_STATUSES = frozenset({"open", "closed", "cancelled", "any"})


class _Collection:
    """Objects of one kind by id, with a sorted id list rebuilt only after a change, and each
    object's JSON kept until it changes: a page of 250 webhooks is then a join of cached
    strings instead of a fresh encoding (the sandbox must outrun the client it serves)."""

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}
        self._ids: list[int] | None = None
        self._json: dict[int, str] = {}

    def put(self, obj: dict[str, Any]) -> None:
        self.items[obj["id"]] = obj
        self._ids = None
        self._json.pop(obj["id"], None)

    def pop(self, ident: int) -> dict[str, Any] | None:
        self._ids = None
        self._json.pop(ident, None)
        return self.items.pop(ident, None)

    def changed(self, ident: int) -> None:
        """An object was modified in place: forget its encoding."""
        self._json.pop(ident, None)

    def warm(self) -> None:
        """Encode every object now (at load), so the first page served costs no encoding."""
        for ident in self.items:
            self.encoded(ident)

    def encoded(self, ident: int) -> str:
        text = self._json.get(ident)
        if text is None:
            text = self._json[ident] = json.dumps(self.items[ident])
        return text

    def ids(self) -> list[int]:
        if self._ids is None:
            self._ids = sorted(self.items)
        return self._ids

    def ordered(self) -> list[dict[str, Any]]:
        return [self.items[i] for i in self.ids()]


class _Shop:
    def __init__(self, handle: str) -> None:
        self.handle = handle
        self.tokens: dict[str, list[str]] = {}
        self.data: dict[str, _Collection] = {name: _Collection() for name in COLLECTIONS}
        self.next_id = _FIRST_NEW_ID

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class _Call:
    """One authenticated request: the shop, the token's scopes, the API version in the path."""

    def __init__(self, shop: _Shop, token: str, request: httpx.Request, method: str) -> None:
        self.shop = shop
        self.token = token
        self.scopes = frozenset(shop.tokens.get(token, ()))
        self.request = request
        self.method = method
        self.version = "2024-01"

    def has(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        # Shopify grants read access with write access to the same resource.
        return scope.startswith("read_") and "write_" + scope[len("read_") :] in self.scopes


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        content=json.dumps(body).encode("utf-8"),
    )


def _json_list(name: str, encoded: Iterable[str], headers: Mapping[str, str] | None = None) -> httpx.Response:
    """``_json(200, {name: [...]})`` from objects already encoded: byte for byte what
    ``json.dumps`` writes for the same list (its default separators are ", " and ": ")."""
    body = "{" + json.dumps(name) + ": [" + ", ".join(encoded) + "]}"
    return httpx.Response(
        200,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        content=body.encode("utf-8"),
    )


def _error(status: int, errors: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return _json(status, {"errors": errors}, headers)


def _not_found() -> httpx.Response:
    return _error(404, "Not Found")


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _encode_cursor(cursor: Mapping[str, Any]) -> str:
    raw = json.dumps(cursor, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(text: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if (
        not isinstance(cursor, dict)
        or cursor.get("d") not in ("next", "prev")
        or not isinstance(cursor.get("id"), int)
        or not isinstance(cursor.get("f"), dict)
    ):
        return None
    return cursor


class ShopifyEmulator:
    name: ClassVar[str] = "shopify"
    prefix: ClassVar[str] = "/shopify"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.enforce_rate_limits = True
        self._shops: dict[str, _Shop] = {}
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._served = 0

    # -- scenario ----------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        if section is None:
            section = {}
        if not isinstance(section, Mapping):
            raise ConfigError("scenario section 'shopify' must map shop handles to their shops")
        shops: dict[str, _Shop] = {}
        for handle, body in section.items():
            shops[str(handle)] = self._load_shop(str(handle), body)
        self._shops = shops
        self._buckets.clear()

    def _load_shop(self, handle: str, body: Any) -> _Shop:
        where = f"shopify.{handle}"
        if not _HANDLE.match(handle):
            raise ConfigError(f"{where}: a shop handle is lowercase letters, digits and '-'")
        body = body or {}
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: must be a mapping of tokens and collections")
        unknown = sorted(set(body) - _SCENARIO_KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                f"known: {', '.join(sorted(_SCENARIO_KEYS))}"
            )
        shop = _Shop(handle)
        tokens = body.get("tokens") or {}
        if not isinstance(tokens, Mapping):
            raise ConfigError(f"{where}.tokens: must map each access token to its list of scopes")
        for token, scopes in tokens.items():
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise ConfigError(f"{where}.tokens.{token}: scopes must be a list of scope handles")
            shop.tokens[str(token)] = list(scopes)

        pending: list[tuple[str, dict[str, Any]]] = []
        highest = _FIRST_NEW_ID
        for name in COLLECTIONS:
            items = body.get(name) or []
            if not isinstance(items, list):
                raise ConfigError(f"{where}.{name}: must be a list of objects")
            seen: set[int] = set()
            for index, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise ConfigError(f"{where}.{name}[{index}]: must be an object")
                obj = _plain_copy(dict(item))
                if "id" in obj:
                    obj["id"] = self._scenario_id(obj["id"], f"{where}.{name}[{index}].id")
                    if obj["id"] in seen:
                        raise ConfigError(f"{where}.{name}[{index}]: id {obj['id']} appears twice")
                    seen.add(obj["id"])
                    highest = max(highest, obj["id"])
                pending.append((name, obj))
        shop.next_id = highest
        for name, obj in pending:
            if "id" not in obj:
                obj["id"] = shop.new_id()
            shop.data[name].put(FILL[name](obj, handle, EPOCH))
        for name in _PAGINATED:
            shop.data[name].warm()  # the pages a refresh reads cost no encoding the first time
        return shop

    @staticmethod
    def _scenario_id(value: Any, where: str) -> int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: Shopify ids are integers")
        if isinstance(value, int) and value > 0:
            return value
        if isinstance(value, str) and value.isdigit() and int(value) > 0:
            return int(value)
        raise ConfigError(f"{where}: Shopify ids are positive integers, got {value!r}")

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for handle, shop in self._shops.items():
            section: dict[str, Any] = {"tokens": {t: list(s) for t, s in shop.tokens.items()}}
            for name in COLLECTIONS:
                section[name] = _plain_copy(shop.data[name].ordered())
            out[handle] = section
        return out

    # -- rate limit ----------------------------------------------------------------------------

    def _take(self, key: tuple[str, str]) -> tuple[bool, int]:
        """Pour one call into the (shop, token) bucket: (allowed, level after the call)."""
        now = self._clock()
        level, stamp = self._buckets.get(key, (0.0, now))
        level = max(0.0, level - (now - stamp) * LEAK_PER_SECOND)
        if level + 1 > BUCKET_SIZE and self.enforce_rate_limits:
            self._buckets[key] = (level, now)
            return False, BUCKET_SIZE
        level = min(float(BUCKET_SIZE), level + 1)
        self._buckets[key] = (level, now)
        return True, min(BUCKET_SIZE, math.ceil(level - 1e-9))

    # -- requests ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        self._served += 1
        request_id = f"emu-{self._served:08d}"
        segments = [part for part in path_segments(request, path) if part]
        shop = self._shops.get(segments[0]) if segments else None
        if shop is None:
            return _not_found()
        token = request.headers.get(TOKEN_HEADER, "")
        if not token or token not in shop.tokens:
            return _error(401, _MSG_UNAUTHORIZED, {"X-Request-Id": request_id})
        allowed, level = self._take((shop.handle, token))
        headers = {CALL_LIMIT_HEADER: f"{level}/{BUCKET_SIZE}", "X-Request-Id": request_id}
        if not allowed:
            return _error(429, _MSG_THROTTLED, {**headers, "Retry-After": "2.0"})
        call = _Call(shop, token, request, request.method.upper())
        response = self._route(call, segments[1:])
        response.headers.update(headers)
        if len(segments) > 3 and segments[2] == "api":
            response.headers["X-Shopify-API-Version"] = call.version
        return response

    def _route(self, call: _Call, rest: list[str]) -> httpx.Response:
        if rest == ["admin", "oauth", "access_scopes.json"]:
            if call.method != "GET":
                return self._not_allowed("GET")
            return _json(200, {"access_scopes": [{"handle": s} for s in call.shop.tokens[call.token]]})
        if rest == ["admin", "api_permissions", "current.json"]:
            if call.method != "DELETE":
                return self._not_allowed("DELETE")
            return self._uninstall(call)
        if len(rest) < 4 or rest[:2] != ["admin", "api"] or not _VERSION.match(rest[2]):
            return _not_found()
        call.version = rest[2]
        tail = rest[3:]
        if len(tail) == 1 and tail[0].endswith(".json") and tail[0][:-5] in FILL:
            name = tail[0][:-5]
            if call.method == "GET":
                return self._list(call, name)
            if call.method == "POST" and name in _CREATABLE:
                return self._create(call, name)
            return self._not_allowed("GET, POST" if name in _CREATABLE else "GET")
        if len(tail) == 2 and tail[0] in FILL:
            name, leaf = tail
            if leaf == "count.json" and name in _COUNTABLE:
                if call.method != "GET":
                    return self._not_allowed("GET")
                return self._count(call, name)
            if not leaf.endswith(".json"):
                return _not_found()
            ident = leaf[:-5]
            if call.method == "GET":
                return self._get(call, name, ident)
            if call.method == "DELETE":
                return self._delete(call, name, ident)
            return self._not_allowed("GET, DELETE")
        return _not_found()

    @staticmethod
    def _not_allowed(allow: str) -> httpx.Response:
        return _error(405, "Method Not Allowed", {"Allow": allow})

    @staticmethod
    def _forbidden(scope: str) -> httpx.Response:
        return _error(403, f"[API] This action requires merchant approval for {scope} scope.")

    def _need(self, call: _Call, scope: str | None) -> httpx.Response | None:
        if scope is None or call.has(scope):
            return None
        return self._forbidden(scope)

    # -- reads ---------------------------------------------------------------------------------

    def _list(self, call: _Call, name: str) -> httpx.Response:
        refused = self._need(call, _READ_SCOPE.get(name))
        if refused is not None:
            return refused
        params = call.request.url.params
        fields = self._fields(params.get("fields"))
        if name in _PAGINATED:
            return self._page(call, name, fields)
        collection = call.shop.data[name]
        ids: list[int] = collection.ids()
        since = params.get("since_id")
        if since is not None:
            if not since.isdigit():
                return _error(400, {"since_id": ["is invalid"]})
            ids = [ident for ident in ids if ident > int(since)]
        if fields is None:
            return _json_list(name, (collection.encoded(ident) for ident in ids))
        return _json(200, {name: [self._project(collection.items[ident], fields) for ident in ids]})

    @staticmethod
    def _fields(text: str | None) -> list[str] | None:
        if not text:
            return None
        return [f.strip() for f in text.split(",") if f.strip()]

    @staticmethod
    def _project(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        if fields is None:
            return obj
        return {key: obj[key] for key in fields if key in obj}

    def _filters_from(self, name: str, params: httpx.QueryParams) -> dict[str, Any] | httpx.Response:
        filters: dict[str, Any] = {}
        for key in _FILTERS[name] + _COMMON_FILTERS:
            value = params.get(key)
            if value is None:
                continue
            if key == "since_id" and not value.isdigit():
                return _error(400, {key: ["is invalid"]})
            if key.endswith(("_min", "_max")) and _parse_time(value) is None:
                return _error(400, {key: ["is invalid"]})
            filters[key] = value
        if name == "orders":
            status = filters.setdefault("status", "open")
            if status not in _ORDER_STATUSES:
                return _error(400, {"status": ["is invalid"]})
        return filters

    @staticmethod
    def _matches(name: str, obj: dict[str, Any], filters: Mapping[str, Any]) -> bool:
        for key, wanted in filters.items():
            if key == "since_id":
                if obj["id"] <= int(wanted):
                    return False
            elif key.endswith(("_min", "_max")):
                field = key[:-4]
                have = _parse_time(str(obj.get(field) or ""))
                bound = _parse_time(wanted)
                if have is None or bound is None:
                    return False
                if key.endswith("_min") and have < bound:
                    return False
                if key.endswith("_max") and have > bound:
                    return False
            elif name == "orders" and key == "status":
                if wanted == "open" and (obj.get("closed_at") or obj.get("cancelled_at")):
                    return False
                if wanted == "closed" and not obj.get("closed_at"):
                    return False
                if wanted == "cancelled" and not obj.get("cancelled_at"):
                    return False
            elif name == "products" and key == "status":
                if obj.get("status") not in {s.strip() for s in str(wanted).split(",")}:
                    return False
            elif obj.get(key) != wanted:
                return False
        return True

    def _page(self, call: _Call, name: str, fields: list[str] | None) -> httpx.Response:
        params = call.request.url.params
        raw_limit = params.get("limit", "50")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 250:
            return _error(400, {"limit": ["must be an integer between 1 and 250"]})
        limit = int(raw_limit)
        page_info = params.get("page_info")
        if page_info is not None:
            extra = sorted(set(params.keys()) - {"page_info", "limit", "fields"})
            if extra:
                return _error(
                    400,
                    {"page_info": [f"cannot be combined with {', '.join(extra)}; only limit and fields may accompany it"]},
                )
            cursor = _decode_cursor(page_info)
            if cursor is None:
                return _error(400, {"page_info": ["is invalid"]})
            filters, direction, anchor = cursor["f"], cursor["d"], cursor["id"]
        else:
            parsed = self._filters_from(name, params)
            if isinstance(parsed, httpx.Response):
                return parsed
            filters, direction, anchor = parsed, "next", None

        collection = call.shop.data[name]
        ids = collection.ids()
        items = collection.items

        def match(ident: int) -> bool:
            return self._matches(name, items[ident], filters)

        # Nothing at or below since_id can match: start every scan above it.
        lower = bisect_right(ids, int(filters["since_id"])) if "since_id" in filters else 0
        picked: list[int] = []
        if direction == "next":
            start = lower if anchor is None else max(lower, bisect_right(ids, anchor))
            index = start
            while index < len(ids) and len(picked) <= limit:
                if match(ids[index]):
                    picked.append(ids[index])
                index += 1
            more_after = len(picked) > limit
            picked = picked[:limit]
            more_before = anchor is not None and any(match(i) for i in reversed(ids[lower:start]))
        else:
            end = bisect_left(ids, anchor)
            index = end - 1
            while index >= lower and len(picked) <= limit:
                if match(ids[index]):
                    picked.append(ids[index])
                index -= 1
            more_before = len(picked) > limit
            picked = list(reversed(picked[:limit]))
            more_after = any(match(i) for i in ids[end:])

        links = []
        if picked and more_before:
            links.append(self._link(call, {"d": "prev", "id": picked[0], "f": filters}, limit, "previous"))
        if picked and more_after:
            links.append(self._link(call, {"d": "next", "id": picked[-1], "f": filters}, limit, "next"))
        headers = {"Link": ", ".join(links)} if links else None
        if fields is None:
            return _json_list(name, (collection.encoded(i) for i in picked), headers)
        return _json(200, {name: [self._project(items[i], fields) for i in picked]}, headers)

    @staticmethod
    def _link(call: _Call, cursor: Mapping[str, Any], limit: int, rel: str) -> str:
        query = urlencode({"limit": limit, "page_info": _encode_cursor(cursor)})
        base = str(call.request.url).split("?", 1)[0]
        return f'<{base}?{query}>; rel="{rel}"'

    def _count(self, call: _Call, name: str) -> httpx.Response:
        refused = self._need(call, _READ_SCOPE.get(name))
        if refused is not None:
            return refused
        parsed = self._filters_from(name, call.request.url.params)
        if isinstance(parsed, httpx.Response):
            return parsed
        count = sum(1 for obj in call.shop.data[name].items.values() if self._matches(name, obj, parsed))
        return _json(200, {"count": count})

    def _find(self, call: _Call, name: str, ident: str) -> dict[str, Any] | None:
        if not ident.isdigit():
            return None
        return call.shop.data[name].items.get(int(ident))

    def _get(self, call: _Call, name: str, ident: str) -> httpx.Response:
        refused = self._need(call, _READ_SCOPE.get(name))
        if refused is not None:
            return refused
        obj = self._find(call, name, ident)
        if obj is None:
            return _not_found()
        fields = self._fields(call.request.url.params.get("fields"))
        return _json(200, {SINGULAR[name]: self._project(obj, fields)})

    # -- changes -------------------------------------------------------------------------------

    def _delete(self, call: _Call, name: str, ident: str) -> httpx.Response:
        refused = self._need(call, _WRITE_SCOPE.get(name))
        if refused is not None:
            return refused
        obj = self._find(call, name, ident)
        if obj is None:
            return _not_found()
        if name == "recurring_application_charges":
            if obj.get("status") in ENDED_CHARGE_STATUSES:
                return _not_found()
            self._cancel_charge(call.shop.data[name], obj)
        else:
            call.shop.data[name].pop(obj["id"])
        return _json(200, {})

    @staticmethod
    def _cancel_charge(charges: _Collection, obj: dict[str, Any]) -> None:
        now = _now()
        obj["status"] = "cancelled"
        obj["cancelled_on"] = date.today().isoformat()
        obj["updated_at"] = now
        charges.changed(obj["id"])

    def _uninstall(self, call: _Call) -> httpx.Response:
        """Uninstalling removes what the app owns and ends its charges; its tokens die at once."""
        shop = call.shop
        for name in ("webhooks", "carrier_services"):
            shop.data[name] = _Collection()
        charges = shop.data["recurring_application_charges"]
        for charge in charges.items.values():
            if charge.get("status") not in ENDED_CHARGE_STATUSES:
                self._cancel_charge(charges, charge)
        for token in shop.tokens:
            self._buckets.pop((shop.handle, token), None)
        shop.tokens.clear()
        return _json(200, {})

    def _body(self, call: _Call, root: str) -> dict[str, Any] | httpx.Response:
        try:
            body = json.loads(call.request.content or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get(root), dict):
            return _error(400, {root: "Required parameter missing or invalid"})
        return body[root]

    def _create(self, call: _Call, name: str) -> httpx.Response:
        if name == "webhooks":
            return self._create_webhook(call)
        return self._create_carrier_service(call)

    def _create_webhook(self, call: _Call) -> httpx.Response:
        given = self._body(call, "webhook")
        if isinstance(given, httpx.Response):
            return given
        topic = str(given.get("topic") or "")
        address = str(given.get("address") or "")
        errors: dict[str, list[str]] = {}
        if not topic:
            errors.setdefault("topic", []).append("can't be blank")
        elif topic not in WEBHOOK_TOPICS:
            errors.setdefault("topic", []).append(f"Invalid topic specified: {topic}")
        if not address:
            errors.setdefault("address", []).append("can't be blank")
        elif address.startswith("http://"):
            errors.setdefault("address", []).append("protocol http:// is not supported")
        elif not address.startswith(("https://", "pubsub://", "arn:aws:events:")):
            errors.setdefault("address", []).append("is invalid")
        if given.get("format", "json") not in ("json", "xml"):
            errors.setdefault("format", []).append("is not included in the list")
        if errors:
            return _error(422, errors)
        refused = self._need(call, _TOPIC_SCOPE.get(topic.split("/", 1)[0]))
        if refused is not None:
            return refused
        hooks = call.shop.data["webhooks"]
        if any(h["topic"] == topic and h["address"] == address for h in hooks.items.values()):
            return _error(422, {"address": ["for this topic has already been taken"]})
        now = _now()
        obj = {
            "id": call.shop.new_id(),
            "address": address,
            "topic": topic,
            "created_at": now,
            "updated_at": now,
            "format": given.get("format", "json"),
            "fields": list(given.get("fields") or []),
            "metafield_namespaces": list(given.get("metafield_namespaces") or []),
            "api_version": call.version,
            "private_metafield_namespaces": list(given.get("private_metafield_namespaces") or []),
        }
        obj = FILL["webhooks"](obj, call.shop.handle, now)
        hooks.put(obj)
        return _json(201, {"webhook": obj})

    def _create_carrier_service(self, call: _Call) -> httpx.Response:
        refused = self._need(call, _WRITE_SCOPE["carrier_services"])
        if refused is not None:
            return refused
        given = self._body(call, "carrier_service")
        if isinstance(given, httpx.Response):
            return given
        name = str(given.get("name") or "")
        callback = str(given.get("callback_url") or "")
        errors: dict[str, list[str]] = {}
        if not name:
            errors["name"] = ["can't be blank"]
        if not callback:
            errors["callback_url"] = ["can't be blank"]
        if errors:
            return _error(422, errors)
        services = call.shop.data["carrier_services"]
        if any(s.get("name") == name for s in services.items.values()):
            return _error(422, {"base": [f"{name} is already configured"]})
        obj = FILL["carrier_services"](
            {
                "id": call.shop.new_id(),
                "name": name,
                "callback_url": callback,
                "active": bool(given.get("active", True)),
                "service_discovery": bool(given.get("service_discovery", True)),
                "format": given.get("format", "json"),
            },
            call.shop.handle,
            _now(),
        )
        services.put(obj)
        return _json(201, {"carrier_service": obj})
