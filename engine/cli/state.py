"""``tether state list | show | rm``: inspect or forget recorded bindings."""

from __future__ import annotations

import json
import sys

import typer

from engine.cli.common import ConfigOpt, LangOpt, StateOpt, fail, guard, out, store_for, workspace
from engine.i18n import detect_lang, t

state_app = typer.Typer(help="Inspect or forget the bindings recorded in .tether/state.json.", no_args_is_help=True)


@state_app.command("list")
def state_list(config: ConfigOpt = None, state: StateOpt = None, lang: LangOpt = None) -> None:
    """List recorded bindings, one address a line."""
    lang = detect_lang(lang)

    def body() -> int:
        current = store_for(workspace(config, state)).read()
        for address in sorted(current.records):
            out().print(address)
        return 0

    guard(lang, body)


@state_app.command("show")
def state_show(address: str, config: ConfigOpt = None, state: StateOpt = None, lang: LangOpt = None) -> None:
    """Show one recorded binding as JSON."""
    lang = detect_lang(lang)

    def body() -> int:
        current = store_for(workspace(config, state)).read()
        record = current.records.get(address)
        if record is None:
            fail(t("state.unknown", lang, address=address), lang)
        sys.stdout.write(json.dumps(record.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return 0

    guard(lang, body)


@state_app.command("rm")
def state_rm(address: str, config: ConfigOpt = None, state: StateOpt = None, lang: LangOpt = None) -> None:
    """Forget a recorded binding (nothing is cancelled; protection recorded for it is dropped)."""
    lang = detect_lang(lang)

    def body() -> int:
        store = store_for(workspace(config, state))
        with store.lock("state rm"):
            current = store.read()
            if address not in current.records:
                fail(t("state.unknown", lang, address=address), lang)
            store.persist(current.without(address))
        out().print(t("state.removed", lang, address=address))
        return 0

    guard(lang, body)
