"""The behaviour every state store must have, as plain functions taking a ``Harness``.

``test_local.py`` and ``test_memory.py`` run each function in ``CHECKS`` against their store, so
a new store is proven by adding one parametrized test, and the two can never drift apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from engine.errors import LockError, StateError
from states import Record, RecordStatus, State, StateStore


@dataclass
class Harness:
    """``make`` returns a store over the same backing each time (a second run, in effect);
    ``snapshot`` returns what is physically stored, to prove a no-op wrote nothing."""

    make: Callable[[], StateStore]
    snapshot: Callable[[], Any]


def record(address: str, **changes: Any) -> Record:
    fields: dict[str, Any] = {
        "address": address,
        "account": "shop-eu",
        "provider": "shopify",
        "kind": "webhook",
        "live_id": address.rsplit("/", 1)[-1],
        "name": f"binding {address}",
        "integration": None,
        "status": RecordStatus.LIVE,
    }
    fields.update(changes)
    return Record(**fields)


def varied_records() -> list[Record]:
    """Every field exercised, every status, unicode and nulls included."""
    return [
        record("shop-eu/webhook/4759306"),
        record(
            "legacy-plan",
            kind="subscription",
            integration="legacy-plan",
            status=RecordStatus.SCHEDULED,
            protect=True,
            fingerprint="sha256:" + "ab" * 32,
            sides_done=("platform", "provider"),
            backup_id="20261126T051500Z-0123456789ab",
            note="ends 2026-12-01 — Kündigung bestätigt",
        ),
        record("old-erp-hooks[1]", integration="old-erp-hooks", status=RecordStatus.PARTIAL, sides_done=("platform",)),
        record("manual-app", kind="app", provider="manual", status=RecordStatus.PENDING_MANUAL, note="订阅已取消"),
    ]


def check_empty_read(h: Harness) -> None:
    state = h.make().read()
    assert state == State.empty()
    assert (state.lineage, state.serial, dict(state.records)) == ("", 0, {})


def check_first_persist_sets_lineage_and_serial_one(h: Harness) -> None:
    store = h.make()
    written = store.persist(store.read().with_record(record("a")))
    assert written.serial == 1
    assert uuid.UUID(written.lineage).version == 4
    assert h.make().read() == written


def check_persisting_nothing_on_empty_store_writes_nothing(h: Harness) -> None:
    before = h.snapshot()
    result = h.make().persist(State.empty())
    assert result == State.empty()
    assert h.snapshot() == before


def check_noop_persist_changes_nothing(h: Harness) -> None:
    store = h.make()
    stored = store.persist(store.read().with_records(varied_records()))
    before = h.snapshot()
    rebuilt = h.make().read().with_records(reversed(varied_records()))
    result = h.make().persist(rebuilt)
    assert result == stored
    assert h.snapshot() == before


def check_changed_content_bumps_serial_and_keeps_lineage(h: Harness) -> None:
    store = h.make()
    first = store.persist(store.read().with_record(record("a")))
    second = store.persist(first.with_record(record("b")))
    third = store.persist(second.without("a"))
    assert [s.serial for s in (first, second, third)] == [1, 2, 3]
    assert first.lineage == second.lineage == third.lineage
    assert sorted(h.make().read().records) == ["b"]


def check_round_trip(h: Harness) -> None:
    store = h.make()
    written = store.persist(store.read().with_records(varied_records()))
    again = h.make().read()
    assert again == written
    assert again.records["legacy-plan"].sides_done == ("platform", "provider")
    assert again.records["legacy-plan"].status is RecordStatus.SCHEDULED
    assert again.by_account("shop-eu") == sorted(varied_records(), key=lambda r: r.address)


def check_stale_state_is_refused(h: Harness) -> None:
    store = h.make()
    base = store.persist(store.read().with_record(record("a")))
    newer = h.make().persist(base.with_record(record("b")))
    with pytest.raises(StateError, match="changed since this run read it"):
        store.persist(base.with_record(record("c")))
    assert h.make().read() == newer


def check_other_lineage_is_refused(h: Harness) -> None:
    store = h.make()
    base = store.persist(store.read().with_record(record("a")))
    foreign = State(lineage=str(uuid.uuid4()), serial=base.serial, records={"z": record("z")})
    with pytest.raises(StateError, match="another history"):
        store.persist(foreign)
    assert h.make().read() == base


def check_lock_is_exclusive_and_released(h: Harness) -> None:
    first, second = h.make(), h.make()
    with first.lock("apply") as info:
        assert info.operation == "apply"
        with pytest.raises(LockError) as refused, second.lock("state rm"):
            pass  # pragma: no cover - must not be reached
        message = str(refused.value)
        assert "locked by apply" in message
        assert f"pid {info.pid}" in message
        assert f"tether force-unlock {info.id}" in message
    with second.lock("state rm") as again:
        assert again.operation == "state rm"


def check_force_unlock_needs_the_right_id(h: Harness) -> None:
    holder, rescuer = h.make(), h.make()
    with holder.lock("apply") as info:
        with pytest.raises(LockError, match="does not match"):
            rescuer.force_unlock("not-" + info.id)
        with pytest.raises(LockError), rescuer.lock("apply"):
            pass  # pragma: no cover - still locked after a refused force-unlock
        released = rescuer.force_unlock(info.id)
        assert released == info
        with rescuer.lock("apply") as taken:
            assert taken.id != info.id
    with pytest.raises(LockError, match="nothing to unlock"):
        rescuer.force_unlock(info.id)


def check_pinned_hosts_round_trip_and_survive_record_changes(h: Harness) -> None:
    store = h.make()
    pinned = store.persist(store.read().with_hosts({"erp": "api.erp.example"}))
    assert pinned.serial == 1 and pinned.hosts == {"erp": "api.erp.example"}
    later = h.make().persist(h.make().read().with_record(record("a")))
    assert later.hosts == {"erp": "api.erp.example"} and h.make().read() == later
    assert h.make().persist(later.with_hosts({"erp": "api.erp.example"})) == later  # no change, no write


CHECKS: list[Callable[[Harness], None]] = [
    check_empty_read,
    check_first_persist_sets_lineage_and_serial_one,
    check_persisting_nothing_on_empty_store_writes_nothing,
    check_noop_persist_changes_nothing,
    check_changed_content_bumps_serial_and_keeps_lineage,
    check_round_trip,
    check_stale_state_is_refused,
    check_other_lineage_is_refused,
    check_lock_is_exclusive_and_released,
    check_force_unlock_needs_the_right_id,
    check_pinned_hosts_round_trip_and_survive_record_changes,
]
