"""Finding the live bindings a selector matches without comparing every pair: one index per
account and kind, looked up by exact value, or by the literal prefix of a glob. Planning stays
linear in the number of bindings and integrations (tests/bench/cpu.py measures it)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from typing import Any

from engine.match import glob_matcher, index_key, is_glob, value_matches
from engine.model import IgnoreRule, Kind, LiveBinding

_ATTRIBUTES = frozenset({"id", "name", "status"})
_KIND_TEXT: dict[Kind, str] = {kind: kind.value for kind in Kind}


def field_of(binding: LiveBinding, path: str) -> Any:
    """``binding.get(path)`` without its generic Mapping checks for the common case (a raw
    dict and a plain key): the planner asks this for every binding and every selector key."""
    if path in _ATTRIBUTES:
        return getattr(binding, path)
    raw = binding.raw
    if type(raw) is dict and "." not in path and path != "app":
        return raw.get(path)
    return binding.get(path)


def _simple(path: str) -> bool:
    """True when ``field_of`` reads ``path`` as a key of a raw dict (or through ``get``)."""
    return path not in _ATTRIBUTES and "." not in path and path != "app"


def field_values(bindings: list[LiveBinding], path: str) -> list[Any]:
    """``[field_of(b, path) for b in bindings]``, with the choice of how to read it made once."""
    if path in _ATTRIBUTES:
        return [getattr(b, path) for b in bindings]
    if _simple(path):
        return [raw.get(path) if type(raw := b.raw) is dict else b.get(path) for b in bindings]
    return [b.get(path) for b in bindings]


def _glob_prefix(pattern: str) -> str:
    """The literal text a glob starts with: every match starts with it too."""
    for position, char in enumerate(pattern):
        if char in "*?[":
            return pattern[:position]
    return pattern


def _check(expected: Any) -> Callable[[Any], bool]:
    """``lambda actual: value_matches(expected, actual)``, with the decisions that depend only on
    ``expected`` (a string? a glob?) taken once: an ignore rule is tried on every binding."""
    if isinstance(expected, str):
        # A string never matches a boolean or a missing value; anything else compares (or
        # globs) as its text.
        if is_glob(expected):
            glob = glob_matcher(expected)
            return lambda actual: actual is not None and not isinstance(actual, bool) and glob(str(actual))
        return lambda actual: (
            actual == expected
            if type(actual) is str
            else actual is not None and not isinstance(actual, bool) and str(actual) == expected
        )
    return lambda actual: value_matches(expected, actual)


def binding_matches(selector: Mapping[str, Any], binding: LiveBinding) -> bool:
    """``engine.match.binding_matches`` (every key must hold), reading fields with ``field_of``."""
    return all(value_matches(expected, field_of(binding, key)) for key, expected in selector.items())


SCANS_BEFORE_SORTING = 4
# An index of one field: text -> the one binding filed under it, and text -> all of them (in
# listing order) where several are.
_Table = tuple[dict[str, LiveBinding], dict[str, list[LiveBinding]]]
FEW = 8  # an exact lookup finding more bindings than this tries a glob of the selector too


def indexed_text(value: Any) -> str | None:
    """The text an ``Index`` files a field value under; None for a boolean, a missing value, a
    list or a mapping, which no looked-up value equals (``index_key`` never gives a boolean)."""
    if type(value) is str:
        return value
    if value is None or type(value) is bool or isinstance(value, (dict, list)):
        return None
    return str(value)


class Index:
    """Live bindings of one (account, kind), looked up by exact field value in O(1), or by the
    literal prefix of a glob: the first few globs of a field by a scan, later ones in a sorted
    list with a bisect, so many globs on one account do not each scan all its bindings."""

    def __init__(self, bindings: list[LiveBinding]) -> None:
        self.bindings = bindings
        self._by_field: dict[str, _Table] = {}
        self._sorted: dict[str, tuple[list[str], list[int]]] = {}
        self._glob_scans: dict[str, int] = {}

    def select(self, selector: Mapping[str, Any]) -> list[LiveBinding]:
        key = index_key(selector)
        if key is None:
            return [b for b in self._glob_candidates(selector) if binding_matches(selector, b)]
        name, text = key
        table = self._by_field.get(name)
        if table is None:
            table = self._by_field[name] = self._table(name)
        single, several = table
        found = several.get(text)
        if found is None:
            one = single.get(text)
            if one is None:
                return []
            found = [one]
        expected = selector[name]
        if type(expected) is str:
            # The table holds a binding under ``text`` exactly when a string ``expected`` matches
            # its field (booleans, which no string matches, are left out of it): only the other
            # keys are left to check.
            if len(selector) == 1:
                return list(found)
            rest = {k: v for k, v in selector.items() if k != name}
            if len(found) > FEW:
                # An exact value many bindings share (``app``) beside a glob with a literal
                # prefix (``uri: https://legacy.example/*``): the glob's few candidates, each
                # checked against the exact value as the table holds it.
                narrower = self._glob_candidates(rest)
                if len(narrower) < len(found):
                    return [
                        b
                        for b in narrower
                        if indexed_text(field_of(b, name)) == text and binding_matches(rest, b)
                    ]
            return [b for b in found if binding_matches(rest, b)]
        return [b for b in found if binding_matches(selector, b)]

    def _table(self, name: str) -> _Table:
        """The bindings by the text of one field (``indexed_text``). Most texts name one binding:
        those map to it directly, and only a text several share gets a list (in listing order),
        so a field of unique values costs one dict entry per binding and no list."""
        single: dict[str, LiveBinding] = {}
        several: dict[str, list[LiveBinding]] = {}
        for binding, value in zip(self.bindings, field_values(self.bindings, name)):
            if type(value) is str:
                text = value
            else:
                found = indexed_text(value)
                if found is None:
                    continue
                text = found
            first = single.get(text)
            if first is None:
                single[text] = binding
            else:
                bucket = several.get(text)
                if bucket is None:
                    several[text] = [first, binding]
                else:
                    bucket.append(binding)
        return single, several

    def _glob_candidates(self, selector: Mapping[str, Any]) -> list[LiveBinding]:
        """The bindings that can match a glob of the selector (in listing order): those whose
        field starts with the glob's literal prefix. Without such a prefix, all of them."""
        best, prefix = None, ""
        for name, value in selector.items():
            if isinstance(value, str) and is_glob(value):
                literal = _glob_prefix(value)
                if len(literal) > len(prefix):
                    best, prefix = name, literal
        if best is None:
            return self.bindings
        if best not in self._sorted and self._glob_scans.get(best, 0) < SCANS_BEFORE_SORTING:
            # A few globs per account are the rule: a scan is cheaper than sorting for them.
            self._glob_scans[best] = self._glob_scans.get(best, 0) + 1
            return [
                binding
                for binding, value in zip(self.bindings, field_values(self.bindings, best))
                if (
                    value.startswith(prefix)
                    if type(value) is str
                    else value is not None and not isinstance(value, bool) and str(value).startswith(prefix)
                )
            ]
        if best not in self._sorted:
            # A glob never matches a missing value or a boolean; everything else as its text.
            pairs = sorted(
                (str(value), position)
                for position, value in ((i, field_of(b, best)) for i, b in enumerate(self.bindings))
                if value is not None and not isinstance(value, bool)
            )
            self._sorted[best] = ([text for text, _ in pairs], [position for _, position in pairs])
        texts, positions = self._sorted[best]
        hits = []
        index = bisect_left(texts, prefix)
        while index < len(texts) and texts[index].startswith(prefix):
            hits.append(positions[index])
            index += 1
        return [self.bindings[i] for i in sorted(hits)]


_RULE_FIELDS: dict[str, Callable[[LiveBinding], Any]] = {
    "account": lambda b: b.account,
    "kind": lambda b: _KIND_TEXT[b.kind],
    "provider": lambda b: b.provider,
}


def rule_matcher(rule: IgnoreRule) -> Callable[[LiveBinding], bool]:
    """An ignore rule as one predicate: ``account``, ``kind`` and ``provider`` name the
    binding's own identity, every other key a field as in ``match``."""
    checks = [(_RULE_FIELDS.get(key), key, _check(value)) for key, value in rule.match.items()]

    def matches(binding: LiveBinding) -> bool:
        for special, key, check in checks:
            actual = special(binding) if special is not None else field_of(binding, key)
            if not check(actual):
                return False
        return True

    return matches


def _always(binding: LiveBinding) -> bool:
    return True


def group_rule_matcher(
    rule: IgnoreRule, account: str, kind: str, provider: str
) -> Callable[[LiveBinding], bool] | None:
    """``rule_matcher(rule)`` for the bindings of one account, kind (its text) and provider: the
    keys naming that identity are decided once for all of them. None when one of those refuses
    them all; else a predicate over the rule's other keys (one that is always true if none)."""
    identity = {"account": account, "kind": kind, "provider": provider}
    checks: list[tuple[str, Callable[[Any], bool]]] = []
    for key, value in rule.match.items():
        check = _check(value)
        if key in identity:
            if not check(identity[key]):
                return None
        else:
            checks.append((key, check))
    if not checks:
        return _always
    if len(checks) == 1:
        (key, check), = checks
        if _simple(key):
            return lambda b: check(raw.get(key) if type(raw := b.raw) is dict else b.get(key))
        return lambda binding: check(field_of(binding, key))

    def matches(binding: LiveBinding) -> bool:
        return all(check(field_of(binding, key)) for key, check in checks)

    return matches


def describe_selector(selector: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in selector.items()) + "}"
