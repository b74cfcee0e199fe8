"""``tether apply``: carry a plan out (the flow is ``engine.operations.applying``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.cli import common
from engine.cli.common import (
    DEFAULT_PARALLELISM,
    DEFAULT_TIMEOUT,
    AllowEndpointOpt,
    BackupOpt,
    ConfigOpt,
    ExcludeOpt,
    FeesOpt,
    Format,
    LangOpt,
    MassOpt,
    ParallelOpt,
    StateOpt,
    TargetOpt,
    TimeoutOpt,
    err,
    examples,
    fail,
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
    "tether apply                    # plan, show it, ask for 'yes'",
    "tether apply tether.plan        # a saved plan: refused if the world moved since",
    "tether apply --auto-approve     # CI, after review",
)


def apply(
    planfile: Annotated[
        Path | None,
        typer.Argument(help="A plan saved with `tether plan --out`. Without it, tether plans and asks."),
    ] = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    backup_dir: BackupOpt = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")] = False,
    accept_fees: FeesOpt = False,
    allow_mass_cancel: MassOpt = False,
    max_plan_age: Annotated[
        str, typer.Option("--max-plan-age", metavar="DURATION", help="Refuse a saved plan older than this (24h, 90m, 2d).")
    ] = "24h",
    target: TargetOpt = None,
    exclude: ExcludeOpt = None,
    parallelism: ParallelOpt = DEFAULT_PARALLELISM,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT,
    allow_endpoint: AllowEndpointOpt = None,
    lang: LangOpt = None,
) -> None:
    """Carry out a plan: for each cancel, back up, cancel, verify, record. Blocked ones are skipped.

    Exit 0 when everything decided was done and the plan was complete; 1 when a cancel failed or
    stayed blocked, or the plan was incomplete (what was decided is done, the gap is reported)."""
    from datetime import timedelta

    lang = detect_lang(lang)
    age = timedelta(seconds=parse_duration(max_plan_age))
    timeout_s = parse_duration(timeout, default_unit="s")

    def body() -> int:
        from engine.cli.progress import plan_with_progress
        from engine.operations.applying import ApplyHooks, ApplyStatus, SavedPlan, run_apply_flow
        from engine.operations.loading import check_names
        from engine.planfile import read_plan
        from engine.render.text import render_apply
        from engine.runner import PlanRequest

        ws = workspace(config, state, backup_dir)
        saved = None
        if planfile is not None:
            the_plan, sha = read_plan(planfile)  # a corrupt plan is refused before anything else
            saved = SavedPlan(the_plan, sha, age)
            if accept_fees and not the_plan.accept_fees:
                err().print("Note: --accept-fees does not change a saved plan; make a new plan with --accept-fees.")
        cfg = load(ws, allow_endpoint)
        if saved is None:
            check_names(cfg, target or (), exclude or ())
            if not auto_approve and not common.interactive():
                fail(t("apply.no_tty", lang), lang)
        request = PlanRequest(
            accept_fees, allow_mass_cancel, tuple(target or ()), tuple(exclude or ()), parallelism, timeout_s=timeout_s
        )
        console = out()

        def confirm() -> bool:
            answer = typer.prompt(t("apply.confirm", lang), default="", show_default=False)
            return bool(answer.strip() == "yes")

        def report(event: str, fields: Mapping[str, Any]) -> None:
            if event == "backup":
                datasets = " + ".join(fields["datasets"])
                address, backup_id = fields["address"], fields["backup_id"]
                console.print(t("apply.backup", lang, address=address, backup_id=backup_id, datasets=datasets))
            elif event == "verified":
                console.print(t("apply.verified", lang, address=fields["address"]))
            elif event == "preflight":
                console.print(t("apply.preflight", lang, **fields), style="dim")
            elif event == "resume":
                console.print(t("apply.resume", lang, **fields), style="yellow")

        hooks = ApplyHooks(
            plan=plan_with_progress,
            show=lambda p, s: render(p, Format.text, lang, s),
            confirm=confirm,
            report=report,
        )
        outcome = run_apply_flow(
            ws, cfg, store_for(ws), hooks, saved=saved, request=request, auto_approve=auto_approve
        )
        gap = ", ".join(outcome.plan.incomplete_accounts)
        if outcome.status is ApplyStatus.DECLINED:
            console.print(t("apply.cancelled_by_user", lang))
        elif outcome.status is ApplyStatus.NOTHING_TO_DO:
            if outcome.complete:
                console.print(t("apply.nothing", lang))
            else:
                console.print(t("apply.nothing_incomplete", lang, accounts=gap), style="bold red")
        elif outcome.status is ApplyStatus.STATE_ONLY:
            console.print(t("apply.state_only", lang, count=len(outcome.state_changes)))
        elif outcome.result is not None:
            console.print(render_apply(outcome.result, lang), end="")
            if outcome.audit_file is not None:
                console.print(t("apply.audit", lang, path=outcome.audit_file), style="dim")
        if outcome.status in (ApplyStatus.APPLIED, ApplyStatus.STATE_ONLY) and not outcome.complete:
            console.print(t("apply.incomplete", lang, accounts=gap), style="bold red")
        return 0 if outcome.ok else 1

    guard(lang, body)
