"""Apply against an in-memory two-sided provider: partial cancels, ordering, refusals, outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

from engine.apply import Applier, ApplySettings, Outcome, check_fresh
from engine.errors import ProviderError, StalePlanError
from engine.model import CancelAt, Ensure, Kind, Listing, LiveBinding
from engine.plan import AccountInfo, Plan, PlanOptions, make_plan
from providers.sdk import CancelOutcome, CancelRequest, CancelStatus, Capabilities
from states.memory import MemoryStateStore
from states.model import RecordStatus, State
from tests.engine.planning import TODAY, config, integration

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc)


class TwoSided:
    """A provider whose bindings exist on the platform and at the vendor: a cancel has two calls."""

    name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset(Kind), datasets=frozenset({"orders"}), sides=("platform", "provider"),
        cancel_at=frozenset({CancelAt.NOW, CancelAt.PERIOD_END}),
    )

    def __init__(self, *names: tuple[str, Kind]) -> None:
        self.live = {str(i): (name, kind) for i, (name, kind) in enumerate(names, start=1)}
        self.removed: dict[str, set[str]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_side: str | None = None
        self.granted_rights: frozenset[str] | None = frozenset({"write"})

    def _binding(self, id_: str) -> LiveBinding:
        name, kind = self.live[id_]
        return LiveBinding("shop", "fake", kind, id_, name, "active", "things", {"id": id_, "name": name})

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        return Listing("shop", "fake", tuple(self._binding(i) for i in sorted(self.live) if self.live[i][1] in kinds))

    async def granted(self) -> frozenset[str] | None:
        return self.granted_rights

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        return ("write",)

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        for n in range(3):
            yield {"order": n, "for": binding.id}

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        self.calls.append((request.binding.id, request.side))
        if request.side == self.fail_side:
            raise ProviderError(f"{request.side} side is down")
        done = self.removed.setdefault(request.binding.id, set())
        done.add(request.side)
        if done >= {"platform", "provider"}:
            self.live.pop(request.binding.id, None)
        return CancelOutcome(CancelStatus.DONE)

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        return self._binding(binding.id) if binding.id in self.live else None

    async def aclose(self) -> None:
        return None


def make(provider: TwoSided, store: MemoryStateStore, *integrations: Any) -> Plan:
    listing = asyncio.run(provider.list_bindings(frozenset(Kind)))
    listing = replace(listing, granted=asyncio.run(provider.granted()))
    info = {"shop": AccountInfo(capabilities=provider.capabilities, required=provider.required)}
    cfg = config(*integrations)
    return make_plan(cfg, {"shop": listing}, info, store.read(), PlanOptions(today=TODAY, now=NOW.isoformat(), allow_mass_cancel=True))


def apply(plan: Plan, provider: TwoSided, store: MemoryStateStore, tmp_path: Path, **settings: Any):
    events: list[tuple[str, Mapping[str, Any]]] = []
    applier = Applier(
        plan, store, {"shop": provider},
        ApplySettings(run_id=f"run-{len(list(tmp_path.glob('j/*')))}", plan_sha256="0" * 64, now=NOW,
                      config_sha256="cfg", backup_dir=tmp_path / "b", journal_dir=tmp_path / "j", **settings),
        lambda event, fields: events.append((event, fields)),
    )
    return asyncio.run(applier.run()), events


def test_a_cancel_failing_on_one_side_is_recorded_partial_and_finished_next_time(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    provider.fail_side = "provider"
    declared = (integration("old", Kind.CARRIER, Ensure.ABSENT), integration("keep", Kind.CARRIER))
    result, _ = apply(make(provider, store, *declared), provider, store, tmp_path)
    assert [r.outcome for r in result.results] == [Outcome.FAILED]
    record = store.read().records["old"]
    assert record.status is RecordStatus.PARTIAL and record.sides_done == ("platform",)

    provider.fail_side = None
    second = make(provider, store, *declared)
    (cancel,) = [a for a in second.actions if a.actionable]
    assert cancel.sides == ("provider",) and "finishing a cancel" in cancel.reason
    result, _ = apply(second, provider, store, tmp_path)
    assert [r.outcome for r in result.results] == [Outcome.CANCELLED]
    assert provider.calls == [("1", "platform"), ("1", "provider"), ("1", "provider")]  # platform never twice
    assert "old" not in store.read().records
    assert not make(provider, store, *declared).has_changes(store.read())


def test_the_app_is_not_revoked_when_something_it_owns_failed(tmp_path: Path) -> None:
    provider, store = TwoSided(("hook", Kind.WEBHOOK), ("the-app", Kind.APP), ("keep", Kind.CARRIER)), MemoryStateStore()
    provider.fail_side = "provider"
    plan = make(provider, store, integration("hook", Kind.WEBHOOK, Ensure.ABSENT), integration("the-app", Kind.APP, Ensure.ABSENT), integration("keep", Kind.CARRIER))
    assert [a.address for a in plan.actions if a.actionable] == ["hook", "the-app"]
    result, _ = apply(plan, provider, store, tmp_path)
    outcomes = {r.action.address: r.outcome for r in result.results}
    assert outcomes == {"hook": Outcome.FAILED, "the-app": Outcome.SKIPPED}
    assert ("2", "platform") not in provider.calls


def test_missing_rights_refuse_before_any_backup(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, integration("old", Kind.CARRIER, Ensure.ABSENT, backup=("orders",)), integration("keep", Kind.CARRIER))
    provider.granted_rights = frozenset()  # apply's credential is weaker than the plan's
    result, _ = apply(plan, provider, store, tmp_path)
    assert [r.outcome for r in result.results] == [Outcome.REFUSED]
    assert provider.calls == [] and not (tmp_path / "b").exists()


def test_backup_holds_the_binding_and_datasets_before_the_cancel(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("keep", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, integration("old", Kind.CARRIER, Ensure.ABSENT, backup=("orders",)), integration("keep", Kind.CARRIER))
    result, events = apply(plan, provider, store, tmp_path)
    assert result.ok
    kinds = [e for e, _ in events]
    assert kinds.index("backup") < kinds.index("verified")
    (backup,) = list((tmp_path / "b").iterdir())
    assert sorted(p.name for p in backup.iterdir()) == ["binding.json", "manifest.json", "orders.jsonl"]
    assert len((backup / "orders.jsonl").read_text().splitlines()) == 3


def test_check_fresh_refuses_moved_state_other_config_and_old_plans(tmp_path: Path) -> None:
    provider, store = TwoSided(("old", Kind.CARRIER), ("x", Kind.CARRIER)), MemoryStateStore()
    plan = make(provider, store, integration("old", Kind.CARRIER, Ensure.ABSENT))
    settings = ApplySettings("r", "0" * 64, NOW, "cfg", tmp_path, tmp_path, max_plan_age=timedelta(hours=24))
    check_fresh(plan, store.read(), settings)
    with pytest.raises(StalePlanError, match="state was changed"):
        check_fresh(plan, State(lineage="other", serial=4), settings)
    with pytest.raises(StalePlanError, match="different tether.yaml"):
        check_fresh(plan, store.read(), replace(settings, config_sha256="changed"))
    with pytest.raises(StalePlanError, match="older than --max-plan-age"):
        check_fresh(plan, store.read(), replace(settings, now=NOW + timedelta(hours=25)))
