"""``tether force-unlock``: release a lock whose run is gone."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.common import ConfigOpt, LangOpt, StateOpt, guard, out, store_for, workspace
from engine.i18n import detect_lang, t


def force_unlock(
    lock_id: Annotated[str, typer.Argument(help="The lock id printed by the run that holds it.")],
    config: ConfigOpt = None,
    state: StateOpt = None,
    lang: LangOpt = None,
) -> None:
    """Release a stale lock left by a run that is gone. Check first that it really is gone: the
    message of the run that was refused names the holder (pid, host, operation, start)."""
    lang = detect_lang(lang)

    def body() -> int:
        info = store_for(workspace(config, state)).force_unlock(lock_id)
        out().print(t("unlock.released", lang, lock_id=lock_id, operation=info.operation, pid=info.pid))
        return 0

    guard(lang, body)
