"""``tether import``: write declarations for the live bindings nobody declared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli.common import (
    DEFAULT_PARALLELISM,
    DEFAULT_TIMEOUT,
    AllowEndpointOpt,
    ConfigOpt,
    LangOpt,
    ParallelOpt,
    StateOpt,
    TimeoutOpt,
    err,
    examples,
    guard,
    out,
    parse_duration,
    store_for,
    workspace,
)
from engine.i18n import detect_lang, t

EPILOG = examples(
    "tether import --all                          # every unmanaged binding, into tether.d/imported.yaml",
    "tether import shop-eu/webhook/4759306        # one binding, by the address `tether plan` shows",
    "tether import --all --out tether.d/shop.yaml",
    "tether import --all --force                  # write tether.d/imported.yaml again",
)


def import_bindings(
    addresses: Annotated[
        list[str] | None,
        typer.Argument(metavar="ADDRESS", help="Addresses of unmanaged bindings (account/kind/live-id, as `tether plan` prints them)."),
    ] = None,
    import_all: Annotated[bool, typer.Option("--all", help="Import every unmanaged binding.")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of tether.d/imported.yaml.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Write over an existing file.")] = False,
    config: ConfigOpt = None,
    state: StateOpt = None,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT,
    allow_endpoint: AllowEndpointOpt = None,
    lang: LangOpt = None,
) -> None:
    """Declare live bindings that no integration declares: one `ensure: present` integration per
    binding, matching it by id, named after its kind and name, with a comment saying what it is.
    The file is checked with the rest of the configuration before it is written, and never written
    over without --force; the next `tether plan` keeps those bindings. Refreshes like `plan`;
    changes nothing at any provider.

    The way in for a store that already has bindings: `tether plan`, `tether import --all`, then
    review tether.d/imported.yaml in a pull request."""
    lang = detect_lang(lang)
    timeout_s = parse_duration(timeout, default_unit="s")

    def body() -> int:
        from datetime import datetime, timezone

        from engine.cli.progress import plan_with_progress
        from engine.operations.importing import run_import
        from engine.operations.loading import allowed_hosts
        from engine.render.text import describe, one_line
        from engine.runner import PlanRequest
        from engine.scaffold import SCHEMA_COPY, link_line

        ws = workspace(config, state)

        def schema_line(target: Path) -> str:
            return link_line(target, ws.root) if (ws.root / SCHEMA_COPY).is_file() else ""

        result = run_import(
            ws,
            addresses=list(addresses or ()),
            import_all=import_all,
            out=out_file,
            force=force,
            allowed_hosts=allowed_hosts(allow_endpoint or ()),
            make_plan=plan_with_progress,
            request=PlanRequest(parallelism=parallelism, audit=True, timeout_s=timeout_s),
            read_state=store_for(ws).read,
            today=datetime.now(timezone.utc).date(),
            schema_line=schema_line,
        )
        console = out()
        console.print(t("import.wrote", lang, path=result.path, count=len(result.declared)))
        for item in result.declared:
            subject, app = describe(item.source, lang), item.source.app
            line = t("import.item.app", lang, name=item.name, subject=subject, app=app) if app else None
            console.print(one_line(line or t("import.item", lang, name=item.name, subject=subject)))
        if result.outside_config:
            err().print(t("import.outside", lang, path=result.path))
        if not result.plan_complete:
            # Not an error of import: what was listed is declared, and the gap is named.
            err().print(t("import.incomplete", lang, gaps=", ".join(result.gaps)))
        console.print(t("import.next", lang))
        return 0

    guard(lang, body)
