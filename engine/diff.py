"""Field-level drift between what ``expect`` declares and what the live binding holds.

This module is the only importer of deepdiff: nested expectations (lists, mappings) are compared
with it so the report names the exact sub-field; scalars go through ``engine.match``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.match import value_matches
from engine.model import LiveBinding


def drift(expect: Mapping[str, Any], binding: LiveBinding) -> dict[str, Any]:
    """``{field: {"expected": ..., "actual": ...}}`` for every expectation that does not hold."""
    found: dict[str, Any] = {}
    for field, expected in expect.items():
        actual = binding.get(field)
        if isinstance(expected, (list, dict)):
            if actual == expected:
                continue
            entry: dict[str, Any] = {"expected": expected, "actual": actual}
            if isinstance(actual, type(expected)):
                from deepdiff import DeepDiff  # only for nested expectations: it is slow to import

                changes = DeepDiff(expected, actual, ignore_order=True, verbose_level=1).to_dict()
                entry["changes"] = _plain(changes)
            found[field] = entry
        elif not value_matches(expected, actual):
            found[field] = {"expected": expected, "actual": actual}
    return found


def _plain(value: Any) -> Any:
    """DeepDiff returns sets and its own types; plans hold JSON only."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
