"""Stripe's bracketed form encoding: what the client writes, the emulator must read back."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.stripe.forms import FormError, decode_form, encode_form

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_scalars = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_values: Any = st.recursive(
    _scalars,
    lambda inner: st.dictionaries(_names, inner, min_size=1, max_size=3) | st.lists(inner, min_size=1, max_size=3),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, database=None)
@given(st.dictionaries(_names, _values, min_size=1, max_size=4))
def test_encoding_round_trips_through_the_wire(params: dict[str, Any]) -> None:
    wire = urlencode(encode_form(params))
    assert decode_form(parse_qsl(wire, keep_blank_values=True)) == params


def test_encoding_spells_stripe_parameters() -> None:
    assert encode_form({"cancel_at_period_end": True, "prorate": False, "metadata": {"name": "ERP"}, "expand": ["a", "b"],
                        "cancel_at": None, "items": [{"price": "p", "quantity": 2}]}) == {
        "cancel_at_period_end": "true",
        "prorate": "false",
        "metadata[name]": "ERP",
        "expand[0]": "a",
        "expand[1]": "b",
        "cancel_at": "",
        "items[0][price]": "p",
        "items[0][quantity]": "2",
    }
    assert encode_form({"metadata": {}}) == {"metadata": ""}


def test_decoding_reads_appends_and_indices() -> None:
    pairs = [("expand[]", "a"), ("expand[]", "b"), ("items[1][price]", "q"), ("items[0][price]", "p"), ("metadata[k]", "")]
    assert decode_form(pairs) == {"expand": ["a", "b"], "items": [{"price": "p"}, {"price": "q"}], "metadata": {"k": ""}}


@pytest.mark.parametrize(
    "pairs",
    [
        [("metadata[name", "x")],
        [("metadata", "x"), ("metadata[name]", "y")],
        [("limit", "1"), ("limit", "2")],
        [("expand[]", "a"), ("expand[x]", "b")],
    ],
)
def test_decoding_refuses_what_stripe_refuses(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(FormError) as caught:
        decode_form(pairs)
    assert caught.value.param
