"""What a state store offers, split small so each caller asks only for what it uses.

``plan`` needs a reader; ``apply`` needs all three; ``force-unlock`` needs only the locker. Every
implementation passes the same contract suite (``tests/states/contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from states.errors import StateError
from states.lock import LockInfo
from states.model import State


@runtime_checkable
class StateReader(Protocol):
    def read(self) -> State:
        """The recorded state; ``State.empty()`` when none was ever written."""


@runtime_checkable
class StatePersister(Protocol):
    def persist(self, state: State) -> State:
        """Record ``state``'s records and return what is now stored.

        Equal content writes nothing and returns the stored state unchanged. Otherwise the serial
        goes up by one (and a first write gets a fresh lineage). A ``state`` that was not derived
        from the stored one (another lineage, or an older serial) is refused with StateError.
        """


@runtime_checkable
class Locker(Protocol):
    def lock(self, operation: str) -> AbstractContextManager[LockInfo]:
        """Hold the state for ``operation`` ("apply", "state rm"...); LockError at once if taken."""

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Release a lock left by a stuck run, given its id; LockError if the id does not match."""


@runtime_checkable
class StateStore(StateReader, StatePersister, Locker, Protocol):
    """The three together: what ``apply`` uses."""


def successor(stored: State, incoming: State, *, where: str, new_lineage: Callable[[], str]) -> State | None:
    """What ``persist(incoming)`` must write over ``stored``; None when nothing needs writing.

    Shared by every store so they agree on the rules: content decides whether to write; lineage
    and serial decide whether ``incoming`` may replace ``stored`` at all (no lost updates).
    """
    if incoming.same_content(stored):
        return None
    if stored.lineage and incoming.lineage and incoming.lineage != stored.lineage:
        raise StateError(
            f"{where}: refusing to overwrite the state: it belongs to another history (lineage "
            f"{stored.lineage}, this run holds {incoming.lineage}). Run plan again against this state."
        )
    if incoming.serial != stored.serial:
        raise StateError(
            f"{where}: refusing to overwrite the state: it changed since this run read it (serial "
            f"{incoming.serial} read, {stored.serial} stored). Another run wrote it; run plan again."
        )
    lineage = stored.lineage or incoming.lineage or new_lineage()
    return State(lineage=lineage, serial=stored.serial + 1, records=incoming.records, hosts=incoming.hosts)
