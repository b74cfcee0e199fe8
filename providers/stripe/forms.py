"""Stripe's form encoding, both ways.

Stripe takes ``application/x-www-form-urlencoded`` bodies (and query strings) where nesting is
spelled with brackets: ``metadata[name]=x``, ``expand[]=data.customer``, ``items[0][price]=p``.
The client needs the encoder; the emulator needs the decoder; the conformance tests use both to
check the client's parameters against the vendor's request schemas. Keeping them in one module
means the two halves cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter name or structure Stripe would refuse; ``param`` names the culprit."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def encode_form(params: Mapping[str, Any]) -> dict[str, str]:
    """Flatten nested parameters into bracketed keys; booleans become ``true``/``false``.

    ``None`` and an empty mapping encode as the empty string, which is how Stripe is told to
    unset a field.
    """
    flat: dict[str, str] = {}

    def walk(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            if not value:
                flat[key] = ""
            for name, inner in value.items():
                walk(f"{key}[{name}]", inner)
        elif isinstance(value, (list, tuple)):
            for index, inner in enumerate(value):
                walk(f"{key}[{index}]", inner)
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif value is None:
            flat[key] = ""
        else:
            flat[key] = str(value)

    for name, value in params.items():
        walk(str(name), value)
    return flat


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild the nested structure Stripe sees from decoded ``(key, value)`` pairs.

    A mapping whose keys are all decimal indices becomes a list (``items[0][price]``); ``[]``
    appends. Mixing a scalar and a nested value under one name is refused, as Stripe does.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        found = _KEY.match(key)
        if not found:
            raise FormError(f"Invalid parameter name: {key}", key)
        parts = [found.group(1), *_PART.findall(found.group(2))]
        node: Any = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            label = parts[0] + "".join(f"[{p}]" for p in parts[1:depth + 1])
            if isinstance(node, list):
                if part != "":
                    raise FormError(f"Invalid array: {label}", parts[0])
                if last:
                    node.append(value)
                else:
                    nxt: Any = [] if parts[depth + 1] == "" else {}
                    node.append(nxt)
                    node = nxt
                continue
            if last:
                if part in node:
                    raise FormError(f"Duplicate parameter: {key}", parts[0])
                node[part] = value
                continue
            want_list = parts[depth + 1] == ""
            existing = node.get(part)
            if existing is None:
                existing = [] if want_list else {}
                node[part] = existing
            elif isinstance(existing, str) or isinstance(existing, list) != want_list:
                raise FormError(f"Invalid hash: {label}", parts[0])
            node = existing
    return {name: _listify(value) for name, value in root.items()}


def _listify(node: Any) -> Any:
    if isinstance(node, list):
        return [_listify(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
