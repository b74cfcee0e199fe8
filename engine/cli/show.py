"""``tether show``: a saved plan, or the recorded state. Reads nothing live."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli.common import (
    ConfigOpt,
    Format,
    FormatOpt,
    LangOpt,
    StateOpt,
    VerboseOpt,
    guard,
    out,
    render,
    store_for,
    workspace,
)
from engine.i18n import detect_lang, t, word

if TYPE_CHECKING:
    from states.model import State


def show(
    planfile: Annotated[
        Path | None, typer.Argument(help="A saved plan. Without it, the recorded state is shown.")
    ] = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    fmt: FormatOpt = Format.text,
    verbose: VerboseOpt = False,
    lang: LangOpt = None,
) -> None:
    """Render a saved plan, or the recorded state. Reads nothing live."""
    lang = detect_lang(lang)

    def body() -> int:
        current = store_for(workspace(config, state)).read()
        if planfile is not None:
            from engine.planfile import read_plan

            saved, _ = read_plan(planfile)
            render(saved, fmt, lang, current, verbose=verbose)
            return 0
        print_state(current, fmt, lang)
        return 0

    guard(lang, body)


def print_state(current: State, fmt: Format, lang: str) -> None:
    if fmt is Format.json:
        from states.codec import encode

        sys.stdout.write(encode(current).decode("utf-8"))
        return
    console = out()
    if not current.records:
        console.print(t("state.empty", lang))
        return
    from engine.render.text import one_line

    console.print(t("state.header", lang, serial=current.serial, lineage=current.lineage))
    protected = t("state.protected", lang)
    for address in sorted(current.records):
        record = current.records[address]
        line = t(
            "state.record",
            lang,
            address=address,
            kind=word("kind", record.kind, lang),
            name=record.name,
            live_id=record.live_id,
            account=record.account,
            status=record.status.value,
            flags=protected if record.protect else "",
        )
        console.print(one_line(line))
