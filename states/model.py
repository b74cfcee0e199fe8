"""Recorded state as frozen values: what tether last saw and did, binding by binding.

The state is what lets a later run know things the live APIs cannot tell it: that a binding was
protected, that a manual cancel is waiting for a human, that a cancel reached only some sides.
It lives in git, so it must stay free of secrets and serialise deterministically (``codec``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from typing import Any

FORMAT_VERSION = 1


class RecordStatus(str, Enum):
    LIVE = "live"  # seen on the last refresh and kept
    PENDING_MANUAL = "pending-manual"  # a manual cancel is waiting for a human
    PARTIAL = "partial"  # cancelled on some sides only (see ``sides_done``)
    SCHEDULED = "scheduled"  # cancel accepted, takes effect at period end


def _check_str(name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str):
        kind = "a string or null" if optional else "a string"
        raise ValueError(f"field '{name}' must be {kind}, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Record:
    """One binding tether knows about, keyed by its plan address."""

    address: str
    account: str
    provider: str
    kind: str
    live_id: str
    name: str
    integration: str | None
    status: RecordStatus
    protect: bool = False
    fingerprint: str | None = None
    sides_done: tuple[str, ...] = ()
    backup_id: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if (  # the planner makes one per binding; the checks below are for state files
            type(self.address) is str and self.address and type(self.account) is str
            and type(self.provider) is str and type(self.kind) is str and type(self.live_id) is str
            and type(self.name) is str and type(self.note) is str
            and (self.integration is None or type(self.integration) is str)
            and (self.fingerprint is None or type(self.fingerprint) is str)
            and (self.backup_id is None or type(self.backup_id) is str)
            and type(self.protect) is bool and type(self.status) is RecordStatus and self.sides_done == ()
        ):
            return
        for name in ("address", "account", "provider", "kind", "live_id", "name", "note"):
            _check_str(name, getattr(self, name))
        for name in ("integration", "fingerprint", "backup_id"):
            _check_str(name, getattr(self, name), optional=True)
        if not self.address:
            raise ValueError("field 'address' must not be empty")
        if not isinstance(self.protect, bool):
            raise ValueError(f"field 'protect' must be true or false, not {self.protect!r}")
        try:
            object.__setattr__(self, "status", RecordStatus(self.status))
        except ValueError:
            allowed = ", ".join(s.value for s in RecordStatus)
            raise ValueError(f"field 'status' is {self.status!r}; expected one of {allowed}") from None
        sides = self.sides_done
        if isinstance(sides, str) or not all(isinstance(s, str) for s in sides):
            raise ValueError("field 'sides_done' must be a list of strings")
        object.__setattr__(self, "sides_done", tuple(sides))

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "account": self.account,
            "provider": self.provider,
            "kind": self.kind,
            "live_id": self.live_id,
            "name": self.name,
            "integration": self.integration,
            "status": self.status.value,
            "protect": self.protect,
            "fingerprint": self.fingerprint,
            "sides_done": list(self.sides_done),
            "backup_id": self.backup_id,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Record:
        """Build a record from its JSON object. Raises ValueError with a message fit for a user."""
        if not isinstance(doc, Mapping):
            raise ValueError(f"a record must be an object, not {type(doc).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(unknown)}")
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        missing = [name for name in required if name not in doc]
        if missing:
            raise ValueError(f"missing field(s): {', '.join(missing)}")
        values = dict(doc)
        if "sides_done" in values:
            sides = values["sides_done"]
            if not isinstance(sides, list):
                raise ValueError("field 'sides_done' must be a list of strings")
            values["sides_done"] = tuple(sides)
        return cls(**values)


@dataclass(frozen=True)
class State:
    """Every record, plus the identity of this state's history.

    ``lineage`` names one history of the file (a uuid4 set by the first write); ``serial`` counts
    the writes within it. Together they let a saved plan notice that the state moved under it.
    Only a store assigns them: ``with_records`` keeps both, and ``persist`` bumps the serial.

    ``hosts`` pins, per account of an ``http`` vendor, the host its credential was first sent to
    by an apply; a later change of host needs an allowance outside tether.yaml (SPEC section 3).
    """

    lineage: str
    serial: int
    records: Mapping[str, Record] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    hosts: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.lineage, str):
            raise ValueError("lineage must be a string")
        if isinstance(self.serial, bool) or not isinstance(self.serial, int) or self.serial < 0:
            raise ValueError(f"serial must be a whole number >= 0, not {self.serial!r}")
        copied: dict[str, Record] = {}
        for address, record in self.records.items():
            if not isinstance(record, Record):
                raise TypeError(f"state record {address!r} is a {type(record).__name__}, not a Record")
            if address != record.address:
                raise ValueError(f"state record keyed {address!r} has address {record.address!r}")
            copied[address] = record
        object.__setattr__(self, "records", copied)
        hosts = dict(self.hosts)
        for account, host in hosts.items():
            if not isinstance(account, str) or not isinstance(host, str) or not account or not host:
                raise ValueError(f"pinned host of {account!r} must be a non-empty string, not {host!r}")
        object.__setattr__(self, "hosts", hosts)

    @classmethod
    def empty(cls) -> State:
        """The state before anything was ever written."""
        return cls(lineage="", serial=0, records={})

    def with_records(self, records: Mapping[str, Record] | Iterable[Record]) -> State:
        """Same lineage and serial, new records (a Mapping keyed by address, or just the records)."""
        if isinstance(records, Mapping):
            mapping = dict(records)
        else:
            mapping = {}
            for record in records:
                if record.address in mapping:
                    raise ValueError(f"two records share the address {record.address!r}")
                mapping[record.address] = record
        return State(lineage=self.lineage, serial=self.serial, records=mapping, hosts=self.hosts)

    def with_hosts(self, hosts: Mapping[str, str]) -> State:
        """Same records, these pinned hosts (account -> host) added or replaced."""
        return State(
            lineage=self.lineage, serial=self.serial, records=self.records, hosts={**self.hosts, **hosts}
        )

    def with_record(self, record: Record) -> State:
        """Add or replace one record."""
        return self.with_records({**self.records, record.address: record})

    def without(self, address: str) -> State:
        """Forget one record (``tether state rm``); unknown addresses are a no-op."""
        return self.with_records({a: r for a, r in self.records.items() if a != address})

    def get(self, address: str) -> Record | None:
        return self.records.get(address)

    def by_account(self, account: str) -> list[Record]:
        """Records of one account, ordered by address."""
        return [self.records[a] for a in sorted(self.records) if self.records[a].account == account]

    def same_content(self, other: State) -> bool:
        """True when both hold the same records, whatever their lineage and serial."""
        return (
            self.format_version == other.format_version
            and dict(self.records) == dict(other.records)
            and dict(self.hosts) == dict(other.hosts)
        )
