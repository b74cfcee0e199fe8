"""Planning with a progress bar per provider on a terminal (nothing when stderr is not one)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from engine.cli.common import err

if TYPE_CHECKING:
    from engine.model import Config, Listing
    from engine.plan import Plan
    from engine.runner import PlanRequest
    from states.model import State


def plan_with_progress(config: Config, state: State, request: PlanRequest) -> Plan:
    """Refresh and plan; the bars advance as each account's listing arrives."""
    from engine.runner import build_plan, run_sync

    if not sys.stderr.isatty():
        return run_sync(build_plan(config, state, request))
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

        return run_sync(build_plan(config, state, request, advance))
