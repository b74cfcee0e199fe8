"""Planning with a progress bar per provider on a terminal (nothing when stderr is not one)."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

from engine.cli.common import err

if TYPE_CHECKING:
    from engine.model import Config, Listing
    from engine.plan import Plan
    from engine.runner import PlanRequest, Refreshed
    from states.model import State


def plan_with_progress(config: Config, state: State, request: PlanRequest) -> Plan:
    """Refresh and plan; the bars advance as each account's listing arrives.

    The listings, and then the plan, live until the command ends: each is moved out of the
    collector's generations once made (``gc.freeze``, as after loading the configuration), so the
    collections the next phase sets off do not walk a hundred thousand bindings again and again."""
    from engine.runner import plan_refreshed

    refreshed = _refresh(config, state, request)
    gc.freeze()
    plan = plan_refreshed(config, state, request, refreshed)
    gc.freeze()
    return plan


def _refresh(config: Config, state: State, request: PlanRequest) -> Refreshed:
    from engine.runner import refresh_for_plan, run_sync

    if not sys.stderr.isatty():
        return run_sync(refresh_for_plan(config, state, request))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("refreshing {task.description}"), BarColumn(), MofNCompleteColumn(), console=err(), transient=True
    )
    totals: dict[str, int] = {}
    for account in config.accounts.values():
        totals[account.provider] = totals.get(account.provider, 0) + 1
    with progress:
        tasks = {provider: progress.add_task(provider, total=total) for provider, total in sorted(totals.items())}

        def advance(account: str, _: Listing) -> None:
            progress.advance(tasks[config.accounts[account].provider])

        return run_sync(refresh_for_plan(config, state, request, advance))
