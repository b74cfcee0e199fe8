"""Apply: carry a plan out, binding by binding; every cancel after a verified backup.

Apply reads only the plan (and the providers it needs to speak to). It never decides anew what
to cancel; it re-checks that the plan still describes the world and refuses the whole run if not.

For each binding, in the plan's execution order (within an account, an app last):

    journal intent-backup -> backup written, fsynced, re-read and checked -> journal backup-ok
    per side: journal intent-cancel (with its idempotency key) -> cancel -> journal outcome
    verify (re-read: gone, or its cancel scheduled) -> journal verified
    state written (atomic) -> journal committed

Killed anywhere, the next run finds the journal's unfinished intent and, like every run, re-reads
the live binding before acting; the idempotency key is derived from the binding's identity, side
and live fingerprint, so a retried cancel of an unchanged binding carries the same key. A backup
the dead run left half written is recorded as unfinished by the run that settles it.

A cancel whose answer was lost (``ResponseLostError``: sent, but the connection dropped before the
answer) is settled here, once, for every provider: apply re-reads the binding. Gone or scheduled,
the cancel happened; still live, it did not, and the binding fails, safe to retry by the next
apply. The cancel is never sent again within a run.

The run has a deadline (``ApplySettings.deadline``, from ``--timeout``): after it no new binding is
started; the one in flight is finished or settled.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import structlog

from engine.audit import AuditTrail, audit_context  # noqa: F401 - AuditTrail: runner imports it here
from engine.backup import BackupWriter, new_backup_id
from engine.errors import ConfigError, ProviderError, StalePlanError, TetherError
from engine.failpoints import failpoint
from engine.journal import JsonlLog, close_interrupted, interrupted
from engine.model import Action, CancelAt, Kind, LiveBinding, Runbook
from engine.plan import Plan, PlannedAction, execution_order, record_key
from engine.settle import settle_lost
from providers.sdk import CancelRequest, CancelStatus, Provider, ResponseLostError
from states.model import Record, RecordStatus, State

log = structlog.get_logger("tether.apply")


class Outcome(str, Enum):
    CANCELLED = "cancelled"
    SCHEDULED = "scheduled"
    ALREADY_GONE = "already-gone"
    MANUAL_PENDING = "manual-pending"
    BLOCKED = "blocked"
    REFUSED = "refused"  # the credential lacks a right; nothing was touched
    SKIPPED = "skipped"  # not attempted, to keep something else safe
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self in (Outcome.CANCELLED, Outcome.SCHEDULED, Outcome.ALREADY_GONE, Outcome.MANUAL_PENDING)


@dataclass(frozen=True)
class BindingResult:
    action: PlannedAction
    outcome: Outcome
    detail: str = ""
    backup_id: str | None = None
    runbook: Runbook | None = None


@dataclass(frozen=True)
class ApplyResult:
    run_id: str
    results: tuple[BindingResult, ...]
    blocked: tuple[PlannedAction, ...]
    state: State

    @property
    def ok(self) -> bool:
        return all(r.outcome.ok for r in self.results) and not self.blocked


@dataclass(frozen=True)
class ApplySettings:
    run_id: str
    plan_sha256: str
    now: datetime
    config_sha256: str
    backup_dir: Path
    journal_dir: Path
    max_plan_age: timedelta | None = None  # None: the plan was made in this run
    encrypt_to: tuple[str, ...] = ()  # age recipients of the backups (defaults.backups.encrypt_to)
    deadline: float | None = None  # time.monotonic() after which no new binding is started
    pin_hosts: Mapping[str, str] = field(default_factory=dict)  # http accounts' hosts, pinned in the state
    allowed_hosts: frozenset[str] = frozenset()  # hosts allowed outside tether.yaml

    def past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


Report = Callable[[str, Mapping[str, Any]], None]


def idempotency_key(action: PlannedAction, side: str) -> str:
    seed = f"{action.identity}|{side}|{action.fingerprint}"
    return "tether-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def check_fresh(plan: Plan, state: State, settings: ApplySettings) -> None:
    """Refuse a plan that no longer describes the world it was made for."""
    if (plan.lineage, plan.serial) != (state.lineage, state.serial):
        raise StalePlanError(
            "the saved plan can no longer be applied: the state was changed by another "
            f"operation after the plan was made (plan: serial {plan.serial}, lineage "
            f"{plan.lineage or '-'}; state now: serial {state.serial}, lineage {state.lineage or '-'}). "
            "Nothing was changed. Run `tether plan` again."
        )
    if plan.config_sha256 != settings.config_sha256:
        raise StalePlanError(
            "the saved plan was made from a different tether.yaml than the one here now. "
            "Nothing was changed. Run `tether plan` again."
        )
    if settings.max_plan_age is not None:
        created = datetime.fromisoformat(plan.created_at)
        age = settings.now - created
        if age > settings.max_plan_age:
            hours = age.total_seconds() / 3600
            limit = settings.max_plan_age.total_seconds() / 3600
            raise StalePlanError(
                f"the saved plan is {hours:.1f} hours old, older than --max-plan-age ({limit:g}h). "
                "Nothing was changed. Run `tether plan` again."
            )


class Applier:
    def __init__(
        self,
        plan: Plan,
        store: Any,  # states.local.LocalStateStore or any store meeting the contract
        providers: Mapping[str, Provider],
        settings: ApplySettings,
        report: Report,
    ) -> None:
        self.plan = plan
        self.store = store
        self.providers = providers
        self.settings = settings
        self.report = report
        self.records: dict[str, Record] = {}
        self.state: State = State.empty()
        self.journal: JsonlLog | None = None

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> ApplyResult:
        failpoint("apply-start")
        self.state = self.store.read()
        check_fresh(self.plan, self.state, self.settings)
        self._pin_hosts()
        for item in interrupted(self.settings.journal_dir):
            self.report(
                "resume",
                {"address": item.address, "last_event": item.last_event, "run_id": item.run_id},
            )
        self.journal = JsonlLog(self.settings.journal_dir / f"{self.settings.run_id}.jsonl")
        self.journal.write({"event": "run-start", "run_id": self.settings.run_id, "plan_sha256": self.settings.plan_sha256})
        try:
            return await self._run()
        finally:
            self.journal.close()

    async def _run(self) -> ApplyResult:
        self.records = {f"{r.account}/{r.kind}/{r.live_id}": r for r in self.plan.records}
        self._persist()
        actions = execution_order(self.plan.actions)
        blocked = tuple(a for a in self.plan.actions if a.action is Action.BLOCKED)
        results: list[BindingResult] = []
        if actions:
            live, refused = await self._preflight(actions)
            failed_accounts: set[str] = set()
            for action in actions:
                if self.settings.past_deadline():
                    results.append(
                        BindingResult(
                            action,
                            Outcome.SKIPPED,
                            "not started: the run's deadline (--timeout) passed; nothing was done "
                            "for this binding. Run tether apply again to carry it out",
                        )
                    )
                    self.report("deadline", {"address": action.address})
                    continue
                if action.address in refused:
                    results.append(refused[action.address])
                    failed_accounts.add(action.account)
                    continue
                if action.kind is Kind.APP and action.account in failed_accounts:
                    results.append(
                        BindingResult(
                            action,
                            Outcome.SKIPPED,
                            "not revoking the app: an earlier cancel on this account did not "
                            "finish, and revoking the app would invalidate the token needed to "
                            "finish it",
                        )
                    )
                    continue
                result = await self._one(action, live[action.identity])
                results.append(result)
                self.report("result", {"address": action.address, "outcome": result.outcome.value, "detail": result.detail})
                if not result.outcome.ok:
                    failed_accounts.add(action.account)
        close_interrupted(
            self.settings.journal_dir, self.settings.run_id, backup_dir=self.settings.backup_dir
        )
        assert self.journal is not None
        self.journal.write({"event": "run-end", "run_id": self.settings.run_id})
        return ApplyResult(
            run_id=self.settings.run_id, results=tuple(results), blocked=blocked, state=self.state
        )

    async def _preflight(
        self, actions: list[PlannedAction]
    ) -> tuple[dict[str, LiveBinding], dict[str, BindingResult]]:
        """Re-read every binding the plan cancels and re-check rights, before touching anything."""
        live: dict[str, LiveBinding] = {}
        refused: dict[str, BindingResult] = {}
        by_account: dict[str, list[PlannedAction]] = {}
        for action in actions:
            by_account.setdefault(action.account, []).append(action)
        granted_by_account: dict[str, frozenset[str] | None] = {}
        for account, group in by_account.items():
            provider = self.providers[account]
            self.report("preflight", {"account": account, "count": len(group)})
            try:
                listing = await asyncio.wait_for(
                    provider.list_bindings(frozenset(a.kind for a in group)), self.settings.remaining()
                )
            except asyncio.TimeoutError:
                raise ProviderError(
                    f"{account}: cannot confirm the plan, the live listing did not finish before the "
                    "run's deadline (--timeout). Nothing was changed; try again later."
                ) from None
            if not listing.complete:
                raise ProviderError(
                    f"{account}: cannot confirm the plan, the live listing was partial "
                    f"({'; '.join(listing.problems)}). Nothing was changed; try again later."
                )
            for binding in listing.bindings:
                live[record_key(account, binding.kind, binding.id)] = binding
            try:
                granted_by_account[account] = await provider.granted()
            except TetherError:
                granted_by_account[account] = None
        stale = []
        for action in actions:
            seen = live.get(action.identity)
            if seen is None:
                stale.append(f"{action.address}: gone since the plan was made")
            elif seen.fingerprint != action.fingerprint:
                stale.append(f"{action.address}: changed since the plan was made")
        if stale:
            raise StalePlanError(
                "the plan is stale: " + "; ".join(stale) + ". Nothing was changed. Run `tether plan` again."
            )
        for action in actions:
            granted = granted_by_account.get(action.account)
            check = action.step("check-permission")
            rights = list(check.detail.get("rights", ())) if check else []
            missing = [r for r in rights if granted is not None and "*" not in granted and r not in granted]
            if missing:
                refused[action.address] = BindingResult(
                    action,
                    Outcome.REFUSED,
                    f"the credential for {action.account} lacks {', '.join(missing)}; nothing was "
                    "backed up or cancelled for this binding. Use an owner/admin credential.",
                )
        return live, refused

    async def _one(self, action: PlannedAction, binding: LiveBinding) -> BindingResult:
        provider = self.providers[action.account]
        key = action.identity
        base = {"identity": key, "address": action.address}
        backup_id = new_backup_id(action.address, self.settings.now)
        self._journal("intent-backup", {**base, "backup_id": backup_id})
        failpoint("before-backup")
        try:
            backup_sha = await self._backup(action, binding, provider, backup_id)
        except TetherError as exc:
            self._journal("backup-failed", {**base, "error": str(exc)})
            return BindingResult(action, Outcome.FAILED, f"backup failed, nothing cancelled: {exc}")
        self._journal("backup-ok", {**base, "backup_id": backup_id, "sha256": backup_sha})
        self.report("backup", {"address": action.address, "backup_id": backup_id, "datasets": list(action.datasets)})
        failpoint("after-backup")

        record = self.records.get(key) or _record_for(action)
        if action.action is Action.MANUAL:
            self.records[key] = replace(record, status=RecordStatus.PENDING_MANUAL, backup_id=backup_id)
            self._persist()
            self._journal("committed", {**base, "outcome": Outcome.MANUAL_PENDING.value})
            return BindingResult(action, Outcome.MANUAL_PENDING, "recorded as pending", backup_id, action.runbook)

        sides_done = list(record.sides_done)
        cancel_at = CancelAt(_cancel_at(action, self.plan.cancel_at))
        statuses: list[CancelStatus] = []
        for side in action.sides:
            ikey = idempotency_key(action, side)
            self._journal("intent-cancel", {**base, "side": side, "idempotency_key": ikey})
            failpoint("before-cancel")
            token = audit_context.set(
                {"address": action.address, "idempotency_key": ikey, "backup_sha256": backup_sha}
            )
            try:
                outcome = await provider.cancel(CancelRequest(binding, side, cancel_at, ikey))
            except ResponseLostError as exc:
                self._journal("outcome", {**base, "side": side, "status": "lost", "error": str(exc)})
                self.report("settling", {"address": action.address, "side": side})
                settled = await settle_lost(provider, binding, side, exc, several_sides=len(action.sides) > 1)
                self._journal("settled", {**base, "side": side, "status": settled.status})
                if not settled.happened:
                    if sides_done:
                        self.records[key] = replace(
                            record, status=RecordStatus.PARTIAL, sides_done=tuple(sides_done), backup_id=backup_id
                        )
                        self._persist()
                    return BindingResult(action, Outcome.FAILED, settled.detail, backup_id)
                statuses.append(CancelStatus.SCHEDULED if settled.status == "scheduled" else CancelStatus.DONE)
                sides_done.append(side)
                continue
            except TetherError as exc:
                self._journal("outcome", {**base, "side": side, "status": "error", "error": str(exc)})
                if sides_done:
                    self.records[key] = replace(
                        record, status=RecordStatus.PARTIAL, sides_done=tuple(sides_done), backup_id=backup_id
                    )
                    self._persist()
                return BindingResult(action, Outcome.FAILED, f"cancel on {side} failed: {exc}", backup_id)
            finally:
                audit_context.reset(token)
            self._journal(
                "outcome",
                {**base, "side": side, "status": outcome.status.value, "request_id": outcome.request_id},
            )
            failpoint("after-cancel")
            if outcome.status is CancelStatus.MANUAL:
                self.records[key] = replace(
                    record, status=RecordStatus.PENDING_MANUAL, sides_done=tuple(sides_done), backup_id=backup_id
                )
                self._persist()
                self._journal("committed", {**base, "outcome": Outcome.MANUAL_PENDING.value})
                return BindingResult(
                    action, Outcome.MANUAL_PENDING, outcome.detail, backup_id, outcome.runbook
                )
            if outcome.status is CancelStatus.BLOCKED:
                return BindingResult(action, Outcome.BLOCKED, outcome.detail, backup_id)
            statuses.append(outcome.status)
            sides_done.append(side)

        try:
            after = await provider.fetch(binding)
        except TetherError as exc:
            return BindingResult(
                action, Outcome.FAILED, f"cancel sent but could not verify it: {exc}; the next plan will re-check", backup_id
            )
        if after is not None and not after.pending_cancel:
            self._journal("verify-failed", base)
            return BindingResult(
                action,
                Outcome.FAILED,
                "the provider accepted the cancel but the binding is still live; check it by hand",
                backup_id,
            )
        self._journal("verified", {**base, "gone": after is None})
        self.report("verified", {"address": action.address, "gone": after is None})
        failpoint("after-verify")
        self.records.pop(key, None)
        self._persist()
        self._journal("committed", base)
        failpoint("after-state-write")
        if after is not None or CancelStatus.SCHEDULED in statuses:
            return BindingResult(action, Outcome.SCHEDULED, "cancel scheduled at period end", backup_id)
        if statuses and all(s is CancelStatus.ALREADY_GONE for s in statuses):
            return BindingResult(action, Outcome.ALREADY_GONE, "was already gone", backup_id)
        return BindingResult(action, Outcome.CANCELLED, "cancelled and verified", backup_id)

    async def _backup(
        self, action: PlannedAction, binding: LiveBinding, provider: Provider, backup_id: str
    ) -> str:
        info = {
            "address": action.address,
            "account": action.account,
            "provider": action.provider,
            "kind": action.kind.value,
            "live_id": binding.id,
            "name": binding.name,
            "resource": binding.resource,
            "integration": action.integration,
            "run_id": self.settings.run_id,
            "plan_sha256": self.settings.plan_sha256,
        }
        with BackupWriter.begin(
            self.settings.backup_dir, info, backup_id, now=self.settings.now, encrypt_to=self.settings.encrypt_to
        ) as writer:
            writer.write_binding(binding.raw)
            failpoint("mid-backup")
            for dataset in action.datasets:
                if dataset != "binding":
                    await writer.write_dataset(dataset, provider.export(binding, dataset))
            manifest = writer.finish()
        return manifest.sha256

    # -- bookkeeping ---------------------------------------------------------------------------

    def _pin_hosts(self) -> None:
        """Pin each http vendor's host in the state (the first apply that uses it does); a host
        that moved from its pin goes on only when allowed outside tether.yaml."""
        moved = [
            f"{account}: {host} (pinned: {self.state.hosts[account]})"
            for account, host in self.settings.pin_hosts.items()
            if self.state.hosts.get(account, host) != host and host not in self.settings.allowed_hosts
        ]
        if moved:
            raise ConfigError(
                "the credential of an http vendor would go to another host than the state pinned: "
                + "; ".join(moved)
                + ". Nothing was changed. If the new host is yours, allow it outside tether.yaml "
                "(--allow-endpoint HOST or TETHER_ALLOW_ENDPOINTS)."
            )
        self.state = self.state.with_hosts(self.settings.pin_hosts)

    def _persist(self) -> None:
        self.state = self.store.persist(self.state.with_records(list(self.records.values())))

    def _journal(self, event: str, fields: Mapping[str, Any]) -> None:
        assert self.journal is not None
        self.journal.write({"event": event, **fields})


def _cancel_at(action: PlannedAction, default: CancelAt) -> str:
    for step in action.steps:
        if step.type == "cancel" and "cancel_at" in step.detail:
            return str(step.detail["cancel_at"])
    return default.value


def _record_for(action: PlannedAction) -> Record:
    return Record(
        address=action.address,
        account=action.account,
        provider=action.provider,
        kind=action.kind.value,
        live_id=action.live_id or "",
        name=action.name,
        integration=action.integration,
        status=RecordStatus.LIVE,
    )
