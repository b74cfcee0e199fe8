"""A state store in memory, with the same rules as the file one.

It keeps the encoded bytes rather than the State object, so a round trip goes through the codec
exactly as it does on disk, and tests of the engine can inspect what would have been written.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from states.codec import decode, encode
from states.errors import LockError
from states.lock import LockInfo, utc_now
from states.model import State
from states.store import successor

_counter = itertools.count(1)


class MemoryStateStore:
    def __init__(self, data: bytes | None = None, *, now: Callable[[], datetime] = utc_now) -> None:
        self.name = f"memory-state-{next(_counter)}"
        self.data = data
        self.writes = 0
        self.holder: LockInfo | None = None
        self._now = now

    def __repr__(self) -> str:
        return f"MemoryStateStore({self.name!r})"

    def read(self) -> State:
        return State.empty() if self.data is None else decode(self.data, self.name)

    def persist(self, state: State) -> State:
        stored = self.read()
        new = successor(stored, state, where=self.name, new_lineage=lambda: str(uuid.uuid4()))
        if new is None:
            return stored
        self.data = encode(new)
        self.writes += 1
        return new

    @contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        if self.holder is not None:
            raise LockError(self.holder.held_message())
        info = LockInfo.for_this_process(operation, self._now())
        self.holder = info
        try:
            yield info
        finally:
            if self.holder is not None and self.holder.id == info.id:
                self.holder = None

    def force_unlock(self, lock_id: str) -> LockInfo:
        holder = self.holder
        if holder is None:
            raise LockError(f"{self.name}: the state is not locked; nothing to unlock.")
        if holder.id != lock_id:
            raise LockError(
                f"lock id {lock_id} does not match the lock held: {holder.held_message()} Nothing was unlocked."
            )
        self.holder = None
        return holder
