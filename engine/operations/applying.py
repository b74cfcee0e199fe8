"""``tether apply`` as a flow: take the lock, plan and ask (or take a saved plan), settle what a
dead run left open, and carry the plan out. The CLI supplies how to plan (with its progress bar),
how to show a plan and how to ask; it prints what comes back.

An incomplete plan (a listing failed or was refused for some account and kind) is carried out for
what was decided, and the outcome says it is incomplete: the CLI reports the gap and exits 1, and
never calls such a state "up to date" (SPEC section 4).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from engine.apply import ApplyResult, ApplySettings
from engine.journal import close_interrupted
from engine.model import Config
from engine.plan import Plan
from engine.runner import PlanRequest, plan_sha256, run_apply, run_sync
from engine.workspace import Workspace, new_run_id
from states.model import State
from states.store import StateStore

__all__ = ["ApplyHooks", "ApplyOutcome", "ApplyStatus", "SavedPlan", "run_apply_flow"]


class ApplyStatus(str, Enum):
    NOTHING_TO_DO = "nothing-to-do"  # the fresh plan changes nothing (maybe because it is incomplete)
    DECLINED = "declined"  # the person did not answer yes; nothing was changed
    STATE_ONLY = "state-only"  # only records changed in the state; nothing was cancelled
    APPLIED = "applied"  # cancels were carried out (each result says how it went)


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    sha256: str
    max_age: timedelta


@dataclass(frozen=True)
class ApplyHooks:
    """What the flow asks of whoever runs it: planning (with progress), showing the plan before
    the question, the question itself, and the running commentary of apply."""

    plan: Callable[[Config, State, PlanRequest], Plan]
    show: Callable[[Plan, State], None]
    confirm: Callable[[], bool]
    report: Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class ApplyOutcome:
    status: ApplyStatus
    plan: Plan
    state_before: State
    result: ApplyResult | None = None
    audit_file: Path | None = None

    @property
    def complete(self) -> bool:
        """The plan decided about every account and kind (nothing withheld by a failed listing)."""
        return self.plan.is_complete

    @property
    def ok(self) -> bool:
        """Everything decided was done, and everything was decided: exit 0."""
        if self.status is ApplyStatus.DECLINED:
            return False
        if self.result is not None and not self.result.ok:
            return False
        return self.complete

    @property
    def state_changes(self) -> list[str]:
        changes: list[str] = self.plan.state_changes(self.state_before)
        return changes


def run_apply_flow(
    ws: Workspace,
    config: Config,
    store: StateStore,
    hooks: ApplyHooks,
    *,
    saved: SavedPlan | None,
    request: PlanRequest,
    auto_approve: bool,
) -> ApplyOutcome:
    """One apply, under the state's lock from the first read to the last write.

    ``request.timeout_s`` is the deadline of the whole run, planning included; the time a person
    takes to answer the question does not count."""
    started = time.monotonic()
    waited = 0.0
    with store.lock("apply"):
        current = store.read()
        if saved is not None:
            the_plan, sha, max_age = saved.plan, saved.sha256, saved.max_age
        else:
            the_plan = hooks.plan(config, current, request)
            hooks.show(the_plan, current)
            if not the_plan.has_changes(current):
                # The refresh just re-read everything an interrupted run left open.
                close_interrupted(ws.journal_dir, current_run="", backup_dir=ws.backup_dir)
                return ApplyOutcome(ApplyStatus.NOTHING_TO_DO, the_plan, current)
            if not auto_approve:
                asked = time.monotonic()
                answer = hooks.confirm()
                waited = time.monotonic() - asked
                if not answer:
                    return ApplyOutcome(ApplyStatus.DECLINED, the_plan, current)
            sha, max_age = plan_sha256(the_plan), None
        ws.ensure_private_dirs()
        now = datetime.now(timezone.utc)
        run_id = new_run_id(now)
        settings = ApplySettings(
            run_id=run_id,
            plan_sha256=sha,
            now=now,
            config_sha256=config.sha256,
            backup_dir=ws.backup_dir,
            journal_dir=ws.journal_dir,
            max_plan_age=max_age,
        )
        audit_file = ws.audit_dir / f"{run_id}.jsonl"
        result = run_sync(
            run_apply(
                the_plan,
                config,
                store,
                settings,
                audit_file,
                hooks.report,
                request.parallelism,
                timeout_s=max(request.timeout_s - (time.monotonic() - started - waited), 0.001),
            )
        )
    status = ApplyStatus.APPLIED if result.results or result.blocked else ApplyStatus.STATE_ONLY
    return ApplyOutcome(status, the_plan, current, result, audit_file if audit_file.exists() else None)
