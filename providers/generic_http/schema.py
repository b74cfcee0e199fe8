"""The JSON Schema of an ``http`` account's options (for editors and the first check), and the
wording of a schema failure as a user reads it: the offending key's full path and what to write
there. ``options`` parses the options on top of this."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from providers.sdk.model import Kind

STYLES = ("none", "page", "offset", "cursor", "link")
METHODS = ("DELETE", "POST", "PUT", "PATCH")

_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"}
_DOTTED = {"type": "string", "pattern": r"^[^.\s{}][^\s{}]*$"}
_PATH = {"type": "string", "pattern": r"^/\S*$"}
_STATUSES = {
    "type": "array",
    "items": {"type": "integer", "minimum": 100, "maximum": 599},
    "minItems": 1,
    "uniqueItems": True,
}
_SCALAR = {"type": ["string", "number", "integer", "boolean"]}
_PARAMS = {"type": "object", "additionalProperties": _SCALAR}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}

PAGINATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["style"],
    "properties": {
        "style": {"enum": list(STYLES)},
        "page_param": _NAME,
        "offset_param": _NAME,
        "cursor_param": _NAME,
        "size_param": _NAME,
        "size": {"type": "integer", "minimum": 1},
        "start": {"type": "integer", "minimum": 0},
        "total": _DOTTED,
        "next": _DOTTED,
        "has_more": _DOTTED,
        "max_pages": {"type": "integer", "minimum": 1},
    },
}

# Which pagination keys mean something for which style (checked after the schema).
STYLE_KEYS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "page": frozenset({"page_param", "size_param", "size", "start", "total", "max_pages"}),
    "offset": frozenset({"offset_param", "size_param", "size", "total", "max_pages"}),
    "cursor": frozenset({"cursor_param", "size_param", "size", "next", "has_more", "max_pages"}),
    "link": frozenset({"size_param", "size", "max_pages"}),
}

COLLECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path"],
    "properties": {
        "path": _PATH,
        "items": _DOTTED,
        "params": _PARAMS,
        "pagination": PAGINATION_SCHEMA,
    },
}

_AUTH_ITEM: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "header": {"type": "string", "pattern": r"^[A-Za-z0-9-]+$"},
        "query": _NAME,
        "format": {"type": "string", "minLength": 1},
        # "user:password" with placeholders, e.g. "{user}:{password}"; a string (not a mapping
        # with a password key) so that tether.yaml never holds a key that looks like a secret.
        "basic": {"type": "string", "pattern": r"^[^:]*:.*\S"},
    },
    "oneOf": [{"required": ["header"]}, {"required": ["query"]}, {"required": ["basic"]}],
}

OPTIONS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "options of a tether account with provider: http",
    "type": "object",
    "additionalProperties": False,
    "required": ["auth", "resources"],
    "properties": {
        "vendor": {"type": "string", "minLength": 1},
        "contact": {"type": "string"},
        "auth": {"oneOf": [_AUTH_ITEM, {"type": "array", "items": _AUTH_ITEM, "minItems": 1}]},
        "headers": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z0-9-]+$"},
            "additionalProperties": {"type": "string"},
        },
        "request_id_header": {"type": "string", "pattern": r"^[A-Za-z0-9-]+$"},
        "rate_limit": {
            "type": "object",
            "additionalProperties": False,
            "required": ["rate"],
            "properties": {
                "rate": {"type": "number", "exclusiveMinimum": 0},
                "burst": {"type": "number", "minimum": 1},
            },
        },
        "resources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "name", "list"],
                "properties": {
                    "kind": {"enum": [k.value for k in Kind]},
                    "name": _NAME,
                    "list": COLLECTION_SCHEMA,
                    "fields": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "id": _DOTTED,
                            "name": _DOTTED,
                            "status": _DOTTED,
                            "pending_cancel": _DOTTED,
                        },
                    },
                    "get": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["path"],
                        "properties": {"path": _PATH, "params": _PARAMS, "item": _DOTTED},
                    },
                    "cancel": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["method", "path"],
                        "properties": {
                            "method": {"enum": list(METHODS)},
                            "path": _PATH,
                            "params": _PARAMS,
                            "body": {"type": "object"},
                            "ok": _STATUSES,
                            "idempotency_header": {"type": "string", "pattern": r"^[A-Za-z0-9-]+$"},
                            "blocked": _STATUSES,
                            "manual": _STATUSES,
                        },
                    },
                    "gone": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            "status": _STATUSES,
                            "field": _DOTTED,
                            "values": {"type": "array", "items": _SCALAR, "minItems": 1},
                        },
                    },
                    "runbook": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"navigation": _STRINGS, "contact": {"type": "string"}},
                    },
                    "datasets": {
                        "type": "object",
                        "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*$"},
                        "additionalProperties": COLLECTION_SCHEMA,
                    },
                },
            },
        },
    },
}


def _key_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Descend into oneOf/anyOf to the branch that fits the value's type, for a precise message."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[Any, list[ValidationError]] = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0]].append(sub)
        viable = [
            errs
            for errs in branches.values()
            if not any(e.validator == "type" and not e.relative_path for e in errs)
        ]
        if len(viable) == 1:
            for sub in viable[0]:
                yield from _leaves(sub)
            return
    yield error


def _describe(error: ValidationError) -> tuple[list[Any], str]:
    """(key path, message) for one schema error, worded for someone editing YAML."""
    path = list(error.absolute_path)
    value = error.instance
    if error.validator == "required":
        absent = [k for k in error.validator_value if isinstance(value, Mapping) and k not in value]
        return path + [absent[0] if absent else "?"], "is required"
    if error.validator == "additionalProperties" and isinstance(value, Mapping):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = [k for k in value if k not in allowed]
        key = extra[0] if extra else "?"
        hint = f" (known keys: {', '.join(allowed)})" if allowed else ""
        return path + [key], f"unknown key{hint}"
    if error.validator == "enum":
        return path, f"{value!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":
        return path, f"must be {_article(error.validator_value)}, not {type(value).__name__}"
    if error.validator == "pattern":
        return path, f"{value!r} is not valid here (expected {_pattern_hint(error.validator_value)})"
    if error.validator == "oneOf":
        branches = error.validator_value
        if all(set(b) == {"required"} for b in branches):
            keys = ", ".join(b["required"][0] for b in branches)
            return path, f"set exactly one of: {keys}"
    if error.validator == "exclusiveMinimum":
        return path, f"must be above {error.validator_value}"
    if error.validator == "minimum":
        return path, f"must be at least {error.validator_value}"
    if error.validator == "uniqueItems":
        return path, "lists a value twice"
    if error.validator == "minItems":
        return path, "must not be empty"
    return path, error.message


def _article(kind: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
             "number": "a number", "boolean": "true or false"}
    if isinstance(kind, list):
        return " or ".join(names.get(k, str(k)) for k in kind)
    return names.get(kind, str(kind))


def _pattern_hint(pattern: str) -> str:
    if pattern == _PATH["pattern"]:
        return "a path starting with /"
    if pattern.startswith("^[^:]*:"):
        return 'a "user:password" template such as "{user}:{password}"'
    if pattern == _DOTTED["pattern"]:
        return "a dotted field path such as data or meta.next_cursor"
    return f"a value matching {pattern}"


def schema_problems(schema: Mapping[str, Any], instance: Any) -> list[tuple[str, str]]:
    """Every schema violation as (key path like ``.resources[0].name``, message), in file order."""
    found: list[tuple[list[Any], str]] = []
    for error in Draft202012Validator(schema).iter_errors(instance):
        for leaf in _leaves(error):
            found.append(_describe(leaf))
    found.sort(key=lambda item: [(0, p) if isinstance(p, int) else (1, str(p)) for p in item[0]])
    return [(_key_path(path), message) for path, message in found]
