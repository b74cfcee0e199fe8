"""Recorded state: what tether last saw and did, kept in ``.tether/state.json`` (in git).

The live APIs say what exists now; only the state remembers what tether decided: which bindings
are protected, which manual cancels wait for a human, which cancels reached only some sides. A
``State`` holds one ``Record`` per plan address, plus a ``lineage`` (one history of the file) and a
``serial`` (writes within it) so a saved plan can tell that the state moved under it.

- ``model``: the values (``State``, ``Record``, ``RecordStatus``).
- ``codec``: deterministic bytes out; versioned, upgraded, and clearly refused when corrupt.
- ``store``: the small protocols (``StateReader``, ``StatePersister``, ``Locker``).
- ``local``: the file store (atomic writes); ``lock``: one run at a time; ``memory``: for tests.
"""

from states.codec import decode, encode
from states.local import LocalStateStore
from states.lock import LockInfo, StateLock, force_unlock, read_lock_info
from states.memory import MemoryStateStore
from states.model import FORMAT_VERSION, Record, RecordStatus, State
from states.store import Locker, StatePersister, StateReader, StateStore

__all__ = [
    "FORMAT_VERSION",
    "LocalStateStore",
    "LockInfo",
    "Locker",
    "MemoryStateStore",
    "Record",
    "RecordStatus",
    "State",
    "StateLock",
    "StatePersister",
    "StateReader",
    "StateStore",
    "decode",
    "encode",
    "force_unlock",
    "read_lock_info",
]
