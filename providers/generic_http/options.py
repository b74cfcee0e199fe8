"""The ``options`` of an ``http`` account: a JSON Schema for editors, and strict parsing.

Everything about a long-tail vendor (where its collections are, how it pages, how a binding is
cancelled and how a cancelled one looks) lives in tether.yaml, so a typo here would otherwise
surface as a confusing HTTP failure in the middle of an apply. ``parse_options`` refuses bad
options up front, with one ConfigError naming each offending key by its full path
(``accounts.shipcloud-eu.options.resources[0].list.pagination.style``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.generic_http.schema import (  # noqa: F401  (re-exported for other modules)
    METHODS,
    OPTIONS_SCHEMA,
    STYLE_KEYS,
    STYLES,
    schema_problems,
)
from providers.generic_http.templates import MISSING, dotted, placeholder_problem, placeholders
from providers.http import is_loopback
from providers.sdk.errors import ConfigError, Diagnostic
from providers.sdk.model import Account, Kind

DEFAULT_GONE_STATUS = (404, 410)
DEFAULT_MAX_PAGES = 1000
_DEFAULT_PARAM = {"page": "page", "offset": "offset", "cursor": "cursor"}
_DEFAULT_SIZE_PARAM = {"page": "per_page", "offset": "limit", "cursor": "limit", "link": "per_page"}


@dataclass(frozen=True)
class Pagination:
    style: str = "none"
    param: str | None = None  # page / offset / cursor parameter, by style
    size_param: str | None = None
    size: int | None = None
    start: int = 1
    total: str | None = None
    next: str | None = None
    has_more: str | None = None
    max_pages: int = DEFAULT_MAX_PAGES


@dataclass(frozen=True)
class Endpoint:
    """A listable collection: the binding list itself, or a backup dataset."""

    path: str
    items: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    pagination: Pagination = Pagination()
    where: str = ""  # the option path, for messages


@dataclass(frozen=True)
class Fields:
    id: str = "id"
    name: str | None = None
    status: str | None = None
    pending_cancel: str | None = None


@dataclass(frozen=True)
class GetSpec:
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    item: str | None = None


@dataclass(frozen=True)
class CancelSpec:
    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    ok: tuple[int, ...] = ()  # empty: any 2xx
    idempotency_header: str | None = None
    blocked: tuple[int, ...] = ()
    manual: tuple[int, ...] = ()


@dataclass(frozen=True)
class Gone:
    status: tuple[int, ...] = DEFAULT_GONE_STATUS
    field: str | None = None
    values: tuple[Any, ...] = ()

    def matches(self, item: Any) -> bool:
        """True when a fetched object shows the cancelled state (``field`` in ``values``)."""
        if self.field is None or not isinstance(item, Mapping):
            return False
        value = dotted(item, self.field)
        return value is not MISSING and value in self.values


@dataclass(frozen=True)
class Resource:
    kind: Kind
    name: str
    list: Endpoint
    fields: Fields = Fields()
    get: GetSpec | None = None
    cancel: CancelSpec | None = None
    gone: Gone = Gone()
    navigation: tuple[str, ...] = ()
    contact: str = ""
    datasets: Mapping[str, Endpoint] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthSpec:
    header: str | None = None
    query: str | None = None
    format: str = "{token}"
    basic: str | None = None  # "user:password" template


@dataclass(frozen=True)
class VendorOptions:
    vendor: str
    contact: str
    auth: tuple[AuthSpec, ...]
    resources: tuple[Resource, ...]
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id_header: str = "x-request-id"
    rate: float | None = None
    burst: float | None = None

    def resource(self, name: str) -> Resource | None:
        for resource in self.resources:
            if resource.name == name:
                return resource
        return None


class _Problems:
    def __init__(self, account: str) -> None:
        self.prefix = f"accounts.{account}"
        self.items: list[Diagnostic] = []

    def add(self, where: str, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic("tether.yaml", None, f"{self.prefix}.{where}: {message}", hint))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def _pagination(raw: Mapping[str, Any] | None, where: str, items: str | None, problems: _Problems) -> Pagination:
    if not raw:
        return Pagination()
    style = raw["style"]
    for key in raw:
        if key != "style" and key not in STYLE_KEYS[style]:
            problems.add(f"{where}.{key}", f"is not used with style {style}",
                         f"keys for {style}: {', '.join(sorted(STYLE_KEYS[style])) or 'none'}")
    if "size_param" in raw and "size" not in raw:
        problems.add(f"{where}.size", "is required when size_param is set", "the page size to ask for")
    if style == "cursor" and "next" not in raw:
        problems.add(f"{where}.next", "is required with style cursor",
                     "the dotted path of the response field that holds the next cursor")
    for key in ("next", "has_more", "total"):
        if key in raw and items is None:
            problems.add(f"{where}.{key}", "needs the items key next to pagination",
                         "a response that is a bare list has no room for paging fields")
    return Pagination(
        style=style,
        param=raw.get(f"{style}_param", _DEFAULT_PARAM.get(style)) if style in _DEFAULT_PARAM else None,
        size_param=raw.get("size_param", _DEFAULT_SIZE_PARAM.get(style)),
        size=raw.get("size"),
        start=raw.get("start", 1),
        total=raw.get("total"),
        next=raw.get("next"),
        has_more=raw.get("has_more"),
        max_pages=raw.get("max_pages", DEFAULT_MAX_PAGES),
    )


def _templates(where: str, texts: Iterable[tuple[str, str]], problems: _Problems) -> set[str]:
    """Check binding placeholders; return the names used."""
    used: set[str] = set()
    for key, text in texts:
        for name in placeholders(text):
            problem = placeholder_problem(name)
            if problem:
                problems.add(f"{where}.{key}", problem)
            used.add(name)
    return used


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{key}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{key}[{i}]")


def _collection(raw: Mapping[str, Any], where: str, problems: _Problems, *, binding: bool) -> Endpoint:
    texts = [("path", raw["path"]), *_strings(raw.get("params", {}), "params")]
    if binding:
        _templates(where, texts, problems)
    else:
        for key, text in texts:
            if any(True for _ in placeholders(text)):
                problems.add(f"{where}.{key}", "takes no placeholders here",
                             "the list call is made before any binding is known")
    items = raw.get("items")
    return Endpoint(
        path=raw["path"],
        items=items,
        params=dict(raw.get("params", {})),
        pagination=_pagination(raw.get("pagination"), f"{where}.pagination", items, problems),
        where=where,
    )


def _auth(raw: Any, credential_names: Collection[str], problems: _Problems) -> tuple[AuthSpec, ...]:
    entries = raw if isinstance(raw, list) else [raw]
    found: list[AuthSpec] = []
    for index, entry in enumerate(entries):
        where = "options.auth" + (f"[{index}]" if isinstance(raw, list) else "")
        if "basic" in entry:
            if "format" in entry:
                problems.add(f"{where}.format", "is not used with basic")
            basic = entry["basic"]
            texts = [("basic", basic)]
            spec = AuthSpec(basic=basic)
            need_secret = [("basic", basic.split(":", 1)[1])]
        else:
            fmt = entry.get("format", "{token}")
            texts = [("format", fmt)]
            spec = AuthSpec(header=entry.get("header"), query=entry.get("query"), format=fmt)
            need_secret = texts
        for key, text in texts:
            for name in placeholders(text):
                if name not in credential_names:
                    known = ", ".join(sorted(credential_names)) or "none"
                    problems.add(f"{where}.{key}", f"{{{name}}} names no credential of this account",
                                 f"credentials defined: {known}")
        for key, text in need_secret:
            if not any(True for _ in placeholders(text)):
                problems.add(f"{where}.{key}", "holds no {credential} placeholder",
                             "secrets come only from the account's credentials, e.g. \"Bearer {token}\"")
        found.append(spec)
    return tuple(found)


def _resource(raw: Mapping[str, Any], where: str, problems: _Problems) -> Resource:
    listed = _collection(raw["list"], f"{where}.list", problems, binding=False)
    get = None
    if "get" in raw:
        g = raw["get"]
        used = _templates(f"{where}.get", [("path", g["path"]), *_strings(g.get("params", {}), "params")], problems)
        if not used:
            problems.add(f"{where}.get.path", "does not name the binding",
                         "use {id} (percent-encoded for you), e.g. /v1/things/{id}")
        get = GetSpec(path=g["path"], params=dict(g.get("params", {})), item=g.get("item"))
    cancel = None
    if "cancel" in raw:
        c = raw["cancel"]
        texts = [("path", c["path"]), *_strings(c.get("params", {}), "params"), *_strings(c.get("body", {}), "body")]
        used = _templates(f"{where}.cancel", texts, problems)
        if not used:
            problems.add(f"{where}.cancel.path", "does not name the binding",
                         "use {id} in the path, params or body")
        if "body" in c and c["method"] == "DELETE":
            problems.add(f"{where}.cancel.body", "is not sent with DELETE", "use POST, PUT or PATCH")
        cancel = CancelSpec(
            method=c["method"],
            path=c["path"],
            params=dict(c.get("params", {})),
            body=c.get("body"),
            ok=tuple(c.get("ok", ())),
            idempotency_header=c.get("idempotency_header"),
            blocked=tuple(c.get("blocked", ())),
            manual=tuple(c.get("manual", ())),
        )
    gone_raw = raw.get("gone", {})
    if ("field" in gone_raw) != ("values" in gone_raw):
        missing = "values" if "field" in gone_raw else "field"
        problems.add(f"{where}.gone.{missing}", "is required when the other of field/values is set")
    gone = Gone(
        status=tuple(gone_raw.get("status", DEFAULT_GONE_STATUS)),
        field=gone_raw.get("field"),
        values=tuple(gone_raw.get("values", ())),
    )
    if cancel is not None:
        overlap = set(cancel.ok) & set(gone.status)
        if overlap:
            problems.add(f"{where}.cancel.ok", f"shares {sorted(overlap)} with gone.status",
                         "a status cannot mean both 'cancelled now' and 'already gone'")
    fields_raw = raw.get("fields", {})
    datasets = {
        name: _collection(spec, f"{where}.datasets.{name}", problems, binding=True)
        for name, spec in (raw.get("datasets") or {}).items()
    }
    runbook = raw.get("runbook", {})
    _templates(
        f"{where}.runbook",
        [(f"navigation[{i}]", step) for i, step in enumerate(runbook.get("navigation", ()))],
        problems,
    )
    return Resource(
        kind=Kind(raw["kind"]),
        name=raw["name"],
        list=listed,
        fields=Fields(
            id=fields_raw.get("id", "id"),
            name=fields_raw.get("name"),
            status=fields_raw.get("status"),
            pending_cancel=fields_raw.get("pending_cancel"),
        ),
        get=get,
        cancel=cancel,
        gone=gone,
        navigation=tuple(runbook.get("navigation", ())),
        contact=runbook.get("contact", ""),
        datasets=datasets,
    )


def validate_endpoint(account: Account, problems: _Problems) -> None:
    endpoint = account.endpoint
    if not endpoint:
        problems.add("endpoint", "is required for provider http",
                     "the vendor's API base URL, e.g. https://api.vendor.example")
    elif not (endpoint.startswith("https://") or (endpoint.startswith("http://") and is_loopback(endpoint))):
        problems.add("endpoint", f"{endpoint} is not https",
                     "credentials travel only over https (plain http only to loopback, such as the sandbox)")


def parse_options(account: Account, credential_names: Collection[str]) -> VendorOptions:
    """Validate an http account's options and endpoint; raise one ConfigError listing every problem."""
    problems = _Problems(account.name)
    validate_endpoint(account, problems)
    options = account.options if isinstance(account.options, Mapping) else {}
    if not isinstance(account.options, Mapping):
        problems.add("options", "must be a mapping")
    for where, message in schema_problems(OPTIONS_SCHEMA, options):
        problems.add("options" + where, message)
    problems.raise_if_any()

    auth = _auth(options["auth"], set(credential_names), problems)
    headers = dict(options.get("headers", {}))
    for name, value in headers.items():
        if any(True for _ in placeholders(value)):
            problems.add(f"options.headers.{name}", "takes no placeholders",
                         "secrets belong in options.auth, filled from credentials")
    resources: list[Resource] = []
    seen: set[str] = set()
    for index, raw in enumerate(options["resources"]):
        where = f"options.resources[{index}]"
        if raw["name"] in seen:
            problems.add(f"{where}.name", f"{raw['name']!r} is used by an earlier resource",
                         "resource names must be unique within an account")
        seen.add(raw["name"])
        resources.append(_resource(raw, where, problems))
    problems.raise_if_any()
    rate_limit = options.get("rate_limit")
    return VendorOptions(
        vendor=options.get("vendor", account.name),
        contact=options.get("contact", ""),
        auth=auth,
        resources=tuple(resources),
        headers=headers,
        request_id_header=options.get("request_id_header", "x-request-id"),
        rate=rate_limit["rate"] if rate_limit else None,
        burst=rate_limit.get("burst", max(1.0, rate_limit["rate"])) if rate_limit else None,
    )


def dataset_names(options: VendorOptions) -> frozenset[str]:
    return frozenset(name for r in options.resources for name in r.datasets)


def kinds(options: VendorOptions) -> frozenset[Kind]:
    return frozenset(r.kind for r in options.resources)


__all__: Sequence[str] = [
    "OPTIONS_SCHEMA",
    "STYLES",
    "Endpoint",
    "Pagination",
    "Resource",
    "VendorOptions",
    "parse_options",
]
