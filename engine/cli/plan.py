"""``tether plan``: refresh, compare, print. Read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli.common import (
    DEFAULT_PARALLELISM,
    DEFAULT_TIMEOUT,
    AllowEndpointOpt,
    ConfigOpt,
    ExcludeOpt,
    FeesOpt,
    Format,
    FormatOpt,
    LangOpt,
    MassOpt,
    ParallelOpt,
    StateOpt,
    TargetOpt,
    TimeoutOpt,
    VerboseOpt,
    examples,
    guard,
    load,
    out,
    parse_duration,
    render,
    store_for,
    workspace,
)
from engine.i18n import detect_lang, t

EPILOG = examples(
    "tether plan",
    "tether plan --out tether.plan          # save it; apply exactly this later",
    "tether plan --format markdown          # for a pull-request comment",
    "tether plan --detailed-exitcode        # CI: exit 2 when apply would change something",
    "tether plan --target legacy-erp-hooks  # only this integration",
    "tether plan --timeout 5m               # CI: give up on a silent vendor after 5 minutes",
)


def plan(
    config: ConfigOpt = None,
    state: StateOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Save the plan to apply it later, exactly as shown.")
    ] = None,
    fmt: FormatOpt = Format.text,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when apply would change something.")
    ] = False,
    target: TargetOpt = None,
    exclude: ExcludeOpt = None,
    accept_fees: FeesOpt = False,
    allow_mass_cancel: MassOpt = False,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT,
    allow_endpoint: AllowEndpointOpt = None,
    verbose: VerboseOpt = False,
    lang: LangOpt = None,
) -> None:
    """Refresh live bindings, compare with tether.yaml, and print the plan. Read-only.

    Exit 0 when the plan is complete, 1 on an error or when the plan is incomplete (a listing
    failed or was refused: what was decided is printed, and what was not is named), 2 with
    --detailed-exitcode when apply would change something."""
    lang = detect_lang(lang)
    timeout_s = parse_duration(timeout, default_unit="s")

    def body() -> int:
        from engine.cli.progress import plan_with_progress
        from engine.operations.loading import check_names
        from engine.runner import PlanRequest

        ws = workspace(config, state)
        cfg = load(ws, allow_endpoint)
        check_names(cfg, target or (), exclude or ())
        current = store_for(ws).read()
        request = PlanRequest(
            accept_fees,
            allow_mass_cancel,
            tuple(target or ()),
            tuple(exclude or ()),
            parallelism,
            timeout_s=timeout_s,
        )
        result = plan_with_progress(cfg, current, request)
        render(result, fmt, lang, current, verbose=verbose)
        if out_file is not None:
            from engine.planfile import write_plan

            write_plan(out_file, result)
            if fmt is Format.text:
                out().print(t("plan.saved", lang, path=out_file))
        if not result.is_complete:
            return 1
        if detailed_exitcode and result.has_changes(current):
            return 2
        return 0

    guard(lang, body)
