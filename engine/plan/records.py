"""The state records a plan carries: what the state will say after apply if every cancel
succeeds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from engine.model import Integration, LiveBinding
from states.model import Record, RecordStatus


def new_record(
    binding: LiveBinding, address: str, integration: Integration | None, previous: Record | None
) -> Record:
    """The record of a listed binding: protection from its integration (or, undeclared, from
    the state), and an unfinished cancel or a pending manual step carried over from the state."""
    if integration is not None:
        protect = integration.protect
    else:
        protect = previous.protect if previous else False
    status = RecordStatus.LIVE
    sides_done: tuple[str, ...] = ()
    backup_id = None
    if previous is not None and previous.status in (RecordStatus.PARTIAL, RecordStatus.PENDING_MANUAL):
        status, sides_done, backup_id = previous.status, previous.sides_done, previous.backup_id
    return Record(
        address=address,
        account=binding.account,
        provider=binding.provider,
        kind=binding.kind.value,
        live_id=binding.id,
        name=binding.name,
        integration=integration.name if integration else None,
        status=status,
        protect=protect,
        sides_done=sides_done,
        backup_id=backup_id,
    )


def carry_over(records: dict[str, Record], previous: Mapping[str, Record], keep: Callable[[Record], bool]) -> None:
    """Add to ``records`` (by identity) every previous record the plan did not replace and
    ``keep`` says to keep. A record whose address the plan gave another binding (deleted and
    re-created by hand) stays under its own unambiguous address, ``name[live-id]``."""
    taken = {r.address for r in records.values()}
    for key, record in previous.items():
        if key in records or not keep(record):
            continue
        carried = record
        if carried.address in taken:
            carried = replace(carried, address=f"{carried.address.split('[')[0]}[{carried.live_id}]")
            if carried.address in taken:
                continue
        taken.add(carried.address)
        records[key] = carried


def identity_of(record: Record) -> str:
    """A record's ``account/kind/live-id``, the key a live binding is looked up by."""
    return f"{record.account}/{record.kind}/{record.live_id}"
