"""How a declared ``match``/``expect`` value is compared with a live field.

Strings with ``*`` glob (``"https://erp.example.com/*"``); every other string compares as text, so
``id: 4759306`` in YAML matches the string id a provider returns; booleans compare only with
booleans; numbers numerically; lists and mappings by value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from engine.model import LiveBinding


def is_glob(value: Any) -> bool:
    return isinstance(value, str) and ("*" in value or "?" in value or "[" in value)


@lru_cache(maxsize=32768)
def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """``lambda text: fnmatchcase(text, pattern)``. Globs in tether files are nearly always
    ``*`` alone (``https://erp.example.com/*``): those are matched by comparing the literal pieces
    in order, which is many times cheaper than compiling a regular expression for each of
    thousands of distinct patterns; ``?`` and ``[...]`` go to fnmatch."""
    if "?" in pattern or "[" in pattern:
        return lambda text: fnmatchcase(text, pattern)
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return lambda text: text == pattern
    head, middle, tail = pieces[0], pieces[1:-1], pieces[-1]
    if not tail and not any(middle):  # "https://erp.example.com/*": a prefix
        return lambda text: text.startswith(head)
    if not head and not any(middle):  # "*.example.com": a suffix
        return lambda text: text.endswith(tail)
    least = len(head) + len(tail) + sum(len(piece) for piece in middle)

    def matches(text: str) -> bool:
        if len(text) < least or not text.startswith(head) or not text.endswith(tail):
            return False
        position, end = len(head), len(text) - len(tail)
        for piece in middle:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return matches


def value_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or (isinstance(actual, str) and str(expected).lower() == actual.lower())
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, str):
        return glob_matcher(expected)(str(actual)) if is_glob(expected) else str(actual) == expected
    if isinstance(expected, (int, float)):
        if isinstance(actual, (int, float)):
            return expected == actual
        return str(actual) == str(expected)
    return bool(expected == actual)


def binding_matches(selector: Mapping[str, Any], binding: LiveBinding) -> bool:
    """Every key of the selector must hold on the binding."""
    return all(value_matches(value, binding.get(key)) for key, value in selector.items())


def index_key(selector: Mapping[str, Any]) -> tuple[str, str] | None:
    """A (field, text) pair that can look the selector up in an index, if it has one."""
    for field in ("id", "name"):
        value = selector.get(field)
        if value is not None and not is_glob(value) and not isinstance(value, (bool, list, dict)):
            return field, str(value)
    for field, value in selector.items():
        if isinstance(value, str) and not is_glob(value):
            return field, value
    return None
