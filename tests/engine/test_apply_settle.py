"""Apply settles what it cannot know by sending: lost answers re-read once, a deadline that stops
new work, unfinished backups of a dead run recorded by the next one, backups encrypted on request."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519

from engine.apply import Outcome
from engine.backup import BackupState, BackupWriter, list_backups, new_backup_id, verify
from engine.errors import ProviderError
from engine.journal import JsonlLog
from engine.model import Ensure, Kind, LiveBinding
from providers.sdk import CancelOutcome, CancelRequest, ResponseLostError
from states.memory import MemoryStateStore
from states.model import RecordStatus
from tests.engine.planning import integration
from tests.engine.test_apply import NOW, TwoSided, apply, make

DECLARED = (integration("old", Kind.CARRIER, Ensure.ABSENT), integration("keep", Kind.CARRIER))


class LosesAnswers(TwoSided):
    """The cancel reaches the vendor (or not), and the answer never comes back."""

    def __init__(self, *names: tuple[str, Kind], happens: bool, pending: bool = False) -> None:
        super().__init__(*names)
        self.happens = happens
        self.pending = pending
        self.fetches = 0
        self.fetch_fails = False

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        self.calls.append((request.binding.id, request.side))
        if self.happens and not self.pending:
            self.removed.setdefault(request.binding.id, set()).add(request.side)
            if self.removed[request.binding.id] >= {"platform", "provider"}:
                self.live.pop(request.binding.id, None)
        raise ResponseLostError("the connection closed before the answer arrived")

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        self.fetches += 1
        if self.fetch_fails:
            raise ProviderError("the vendor is down")
        found = await super().fetch(binding)
        if found is None:
            return None
        still_on = tuple(s for s in ("platform", "provider") if s not in self.removed.get(binding.id, set()))
        return LiveBinding(found.account, found.provider, found.kind, found.id, found.name, "active",
                           found.resource, found.raw, sides=still_on, pending_cancel=self.pending and bool(self.calls))


def test_a_lost_answer_to_a_cancel_that_happened_is_settled_as_done_by_one_re_read(tmp_path: Path) -> None:
    provider, store = LosesAnswers(("old", Kind.CARRIER), ("keep", Kind.CARRIER), happens=True), MemoryStateStore()
    result, events = apply(make(provider, store, *DECLARED), provider, store, tmp_path)
    assert [r.outcome for r in result.results] == [Outcome.CANCELLED], result.results
    assert provider.calls == [("1", "platform"), ("1", "provider")]  # each side once, never resent
    assert "1" not in provider.live and "old" not in store.read().records
    assert ("settling", {"address": "old", "side": "platform"}) in events
    journal = (tmp_path / "j" / "run-0.jsonl").read_text()
    assert '"status": "lost"' in journal and '"event": "settled"' in journal


def test_a_lost_answer_to_a_cancel_that_did_not_happen_fails_without_resending(tmp_path: Path) -> None:
    provider, store = LosesAnswers(("old", Kind.CARRIER), ("keep", Kind.CARRIER), happens=False), MemoryStateStore()
    result, _ = apply(make(provider, store, *DECLARED), provider, store, tmp_path)
    (only,) = result.results
    assert only.outcome is Outcome.FAILED and "still live" in only.detail and "not sent again" in only.detail
    assert provider.calls == [("1", "platform")] and provider.fetches == 1
    assert "1" in provider.live and store.read().records["old"].status is RecordStatus.LIVE
    # safe to retry: the next apply plans the same cancel again
    provider.happens = True
    result, _ = apply(make(provider, store, *DECLARED), provider, store, tmp_path)
    assert [r.outcome for r in result.results] == [Outcome.CANCELLED]


def test_a_lost_answer_whose_cancel_is_scheduled_counts_as_scheduled(tmp_path: Path) -> None:
    provider = LosesAnswers(("old", Kind.CARRIER), ("keep", Kind.CARRIER), happens=True, pending=True)
    store = MemoryStateStore()
    result, _ = apply(make(provider, store, *DECLARED), provider, store, tmp_path)
    assert [r.outcome for r in result.results] == [Outcome.SCHEDULED]
    assert provider.calls == [("1", "platform"), ("1", "provider")]


def test_a_lost_answer_that_cannot_be_re_read_fails_and_says_the_next_plan_will_tell(tmp_path: Path) -> None:
    provider, store = LosesAnswers(("old", Kind.CARRIER), ("keep", Kind.CARRIER), happens=True), MemoryStateStore()
    plan = make(provider, store, *DECLARED)
    provider.fetch_fails = True
    result, _ = apply(plan, provider, store, tmp_path)
    (only,) = result.results
    assert only.outcome is Outcome.FAILED and "next plan" in only.detail
    assert provider.calls == [("1", "platform")]


def test_no_new_cancel_starts_after_the_deadline_and_the_one_in_flight_finishes(tmp_path: Path) -> None:
    provider = TwoSided(("a", Kind.CARRIER), ("b", Kind.CARRIER), ("keep", Kind.CARRIER))
    store = MemoryStateStore()
    declared = (integration("a", Kind.CARRIER, Ensure.ABSENT), integration("b", Kind.CARRIER, Ensure.ABSENT),
                integration("keep", Kind.CARRIER))
    plan = make(provider, store, *declared)
    original = provider.cancel

    async def slow(request: CancelRequest) -> CancelOutcome:
        await asyncio.sleep(0.4)  # the deadline passes while the first binding is in flight
        return await original(request)

    provider.cancel = slow  # type: ignore[method-assign]
    result, events = apply(plan, provider, store, tmp_path, deadline=time.monotonic() + 0.5)
    outcomes = {r.action.address: r.outcome for r in result.results}
    assert outcomes == {"a": Outcome.CANCELLED, "b": Outcome.SKIPPED}  # "a" was finished, both sides
    assert not result.ok and "deadline" in result.results[1].detail
    assert provider.calls == [("1", "platform"), ("1", "provider")]
    assert ("deadline", {"address": "b"}) in events


def test_a_deadline_already_past_starts_nothing(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, *DECLARED)
    with pytest.raises(ProviderError, match="deadline"):
        apply(plan, provider, store, tmp_path, deadline=time.monotonic() - 1)
    assert provider.calls == [] and not (tmp_path / "b").exists()


def test_a_preflight_listing_that_never_ends_is_cut_at_the_deadline(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, *DECLARED)

    async def never(kinds: frozenset[Kind]) -> object:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    provider.list_bindings = never  # type: ignore[assignment,method-assign]
    started = time.monotonic()
    with pytest.raises(ProviderError, match="deadline.*Nothing was changed"):
        apply(plan, provider, store, tmp_path, deadline=time.monotonic() + 0.3)
    assert time.monotonic() - started < 5 and provider.calls == []


def test_the_next_apply_records_a_dead_runs_unfinished_backup_and_its_replacement(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, *DECLARED)
    # what a run killed half way through the backup leaves: a journal without run-end, a backup
    # directory with its note and no manifest
    dead = JsonlLog(tmp_path / "j" / "run-dead.jsonl")
    dead.write({"event": "run-start", "run_id": "run-dead"})
    dead.write({"event": "intent-backup", "identity": "shop/carrier/1", "address": "old"})
    dead.close()
    writer = BackupWriter.begin(
        tmp_path / "b",
        {"address": "old", "account": "shop", "provider": "fake", "kind": "carrier", "live_id": "1", "run_id": "run-dead"},
        new_backup_id("old", NOW),
        now=NOW,
    )
    writer.write_binding({"id": "1"})
    writer.close()

    result, _ = apply(plan, provider, store, tmp_path)
    assert result.ok
    listed = {m.backup_id: m for m in list_backups(tmp_path / "b")}
    new = [m for m in listed.values() if m.complete]
    assert len(new) == 1
    note = listed[writer.backup_id].unfinished
    assert listed[writer.backup_id].state is BackupState.UNFINISHED and note is not None
    assert note.run_id == "run-dead" and note.settled_by == result.run_id and note.replaced_by == new[0].backup_id
    assert all(verify(tmp_path / "b", backup_id).ok for backup_id in listed)


def test_backups_are_encrypted_when_recipients_are_given(tmp_path: Path) -> None:
    key = x25519.Identity.generate()
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, integration("old", Kind.CARRIER, Ensure.ABSENT, backup=("orders",)),
                integration("keep", Kind.CARRIER))
    result, _ = apply(plan, provider, store, tmp_path, encrypt_to=(str(key.to_public()),))
    assert result.ok
    (backup,) = list((tmp_path / "b").iterdir())
    assert sorted(p.name for p in backup.iterdir()) == ["binding.json.age", "manifest.json", "orders.jsonl.age"]
    assert json.loads(pyrage.decrypt((backup / "binding.json.age").read_bytes(), [key])) == {"id": "1", "name": "old"}
    assert verify(tmp_path / "b", backup.name).ok
