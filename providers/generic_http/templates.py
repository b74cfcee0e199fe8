"""Dotted paths into vendor JSON, and the ``{id}`` / ``{item.x}`` placeholders of the options.

A vendor's response nests what we need at places only the user knows (``data``, ``meta.next``),
so every such place is a dotted path. Paths sent back to the vendor name the binding through
placeholders; anything put in a URL path is percent-encoded whole (``/`` included), so an id
such as ``../admin`` can never climb out of the resource it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

MISSING: Any = object()

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def dotted(node: Any, path: str | None, default: Any = MISSING) -> Any:
    """The value at ``a.b.0.c`` in nested mappings and lists; ``default`` when it is not there."""
    if path is None or path == "":
        return node
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node


def set_dotted(target: dict[str, Any], path: str, value: Any) -> None:
    """Place ``value`` at a dotted path, creating the mappings on the way."""
    parts = path.split(".")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def placeholders(text: str) -> Iterator[str]:
    """The names inside ``{...}`` in a template, in order."""
    for found in _PLACEHOLDER.finditer(text):
        yield found.group(1)


def placeholder_problem(name: str) -> str | None:
    """Why a binding placeholder is not understood, or None when it is."""
    if name == "id":
        return None
    if name.startswith("item.") and len(name) > len("item.") and " " not in name:
        return None
    return f"unknown placeholder {{{name}}} (use {{id}} or {{item.<dotted path>}})"


class MissingValue(LookupError):
    """A placeholder names a field the binding does not have."""


def _value(name: str, binding_id: str, raw: Mapping[str, Any]) -> Any:
    if name == "id":
        return binding_id
    value = dotted(raw, name[len("item."):])
    if value is MISSING or value is None:
        raise MissingValue(f"binding {binding_id} has no field {name[len('item.'):]!r} for {{{name}}}")
    return value


def render_path(template: str, binding_id: str, raw: Mapping[str, Any]) -> str:
    """A URL path with each placeholder replaced by its percent-encoded value."""
    return _PLACEHOLDER.sub(
        lambda m: quote(str(_value(m.group(1), binding_id, raw)), safe=""), template
    )


def render_value(template: Any, binding_id: str, raw: Mapping[str, Any]) -> Any:
    """Placeholders in a query parameter or JSON body, recursively.

    A string that is exactly one placeholder keeps the field's own type (a numeric shop id stays
    a number in a JSON body); placeholders inside longer text are substituted as text.
    """
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return _value(whole.group(1), binding_id, raw)
        return _PLACEHOLDER.sub(lambda m: str(_value(m.group(1), binding_id, raw)), template)
    if isinstance(template, Mapping):
        return {k: render_value(v, binding_id, raw) for k, v in template.items()}
    if isinstance(template, list):
        return [render_value(v, binding_id, raw) for v in template]
    return template
