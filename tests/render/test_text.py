"""engine.render.text builds its rich Text in one go (``_Pieces``): it must be the very Text that
appending piece by piece gives, styles, control codes and all."""

from __future__ import annotations

import random

import pytest
from rich.text import Text

from engine.render.text import _Pieces

PIECES = ["  + ", "cancel    ", "hermes-rates", "", "  carrier \"Hermes\" on shop-eu\n", "中文标签 ", "x" * 40]
CONTROL = ["name with a carriage return\r", "bell\x07", "escape \x1b[31mred", "form\x0cfeed"]
STYLES = ["", "bold", "dim", "bold red", "cyan"]


def appended(parts: list[tuple[str, str]]) -> Text:
    text = Text()
    for piece, style in parts:
        text.append(piece, style=style)
    return text


@pytest.mark.parametrize("seed", range(40))
def test_pieces_make_the_text_that_appending_makes(seed: int) -> None:
    chooser = random.Random(seed)
    pool = PIECES + (CONTROL if seed % 2 else [])  # half of the runs hold control codes
    parts = [(chooser.choice(pool), chooser.choice(STYLES)) for _ in range(chooser.randint(0, 60))]
    pieces = _Pieces()
    for piece, style in parts:
        pieces.append(piece, style)
    built, expected = pieces.text(), appended(parts)
    assert built.plain == expected.plain
    assert built.spans == expected.spans
