"""Glob matching: the fast matcher for ``*`` globs must answer exactly as fnmatchcase does."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.match import glob_matcher, value_matches

# Few letters, so pieces repeat and overlap: where a piece-by-piece matcher would go wrong.
TEXT = st.text(alphabet="ab/.*", max_size=12)
PATTERN = st.text(alphabet="ab/.*", max_size=8)


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(PATTERN, TEXT)
def test_star_globs_match_as_fnmatchcase_does(pattern: str, text: str) -> None:
    assert glob_matcher(pattern)(text) is fnmatchcase(text, pattern)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.text(alphabet="ab?[]!*", max_size=6), st.text(alphabet="ab?[]!*", max_size=6))
def test_other_globs_are_fnmatch(pattern: str, text: str) -> None:
    assert glob_matcher(pattern)(text) is fnmatchcase(text, pattern)


def test_examples_from_tether_files() -> None:
    assert glob_matcher("https://erp.example.com/*")("https://erp.example.com/hooks/orders")
    assert not glob_matcher("https://erp.example.com/*")("https://erp.example.com")
    assert glob_matcher("*/orders/*")("https://x/orders/1")
    assert not glob_matcher("a*a")("a")  # the head and the tail may not overlap
    assert glob_matcher("a*a")("aa")
    assert value_matches("Legacy*", "LegacyERP") and not value_matches("legacy*", "LegacyERP")
    assert not value_matches("*", None) and not value_matches("*", True)


def test_app_selects_on_the_owning_app_unless_the_vendor_object_has_its_own_app_field() -> None:
    from engine import match
    from engine.model import Kind, LiveBinding
    from engine.plan import Index, binding_matches

    owned = LiveBinding("shop", "shopify", Kind.WEBHOOK, "1", "h", "active", "hooks", {"topic": "x"}, app="LegacyERP")
    other = LiveBinding("shop", "shopify", Kind.WEBHOOK, "2", "h", "active", "hooks", {"topic": "x"}, app="Lumen Ops")
    unknown = LiveBinding("shop", "shopify", Kind.WEBHOOK, "3", "h", "active", "hooks", {"topic": "x"})
    raw_app = LiveBinding("shop", "http", Kind.APP, "4", "a", "active", "apps", {"app": "Raw"}, app="Owner")
    live = [owned, other, unknown, raw_app]
    for selector in ({"app": "LegacyERP"}, {"app": "Legacy*"}, {"app": "Raw"}, {"app": "Owner"}):
        expected = [b for b in live if match.binding_matches(selector, b)]
        assert [b for b in live if binding_matches(selector, b)] == expected
        assert Index(live).select(selector) == expected
    assert Index(live).select({"app": "LegacyERP"}) == [owned]
    assert Index(live).select({"app": "Raw"}) == [raw_app]  # the vendor's own field wins
