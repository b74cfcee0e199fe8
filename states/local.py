"""The state as a file in the user's repository (``.tether/state.json``).

A write must never leave the user without a state: the new bytes go to a temporary file in the
same directory, are flushed and fsynced, then renamed over the old file, and the directory is
fsynced so the rename itself survives a power cut. Killed at any point, the file holds either the
old content or the new, whole. A write that would not change the content does not touch the file
at all, so ``git status`` stays clean and mtimes stay put.
"""

from __future__ import annotations

import errno
import os
import tempfile
import uuid
from pathlib import Path

from states.codec import decode, encode
from states.errors import StateError
from states.lock import LockInfo, StateLock, force_unlock
from states.model import State
from states.store import successor

_NEW_FILE_MODE = 0o644


class LocalStateStore:
    """Reads, persists and locks one state file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"LocalStateStore({str(self.path)!r})"

    def read(self) -> State:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return State.empty()
        except IsADirectoryError:
            raise StateError(f"{self.path}: is a directory, not a state file; move it away.") from None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read the state file ({exc.strerror}).") from None
        return decode(data, self.path)

    def persist(self, state: State) -> State:
        stored = self.read()
        new = successor(stored, state, where=str(self.path), new_lineage=lambda: str(uuid.uuid4()))
        if new is None:
            return stored
        self._write_atomically(encode(new))
        return new

    def lock(self, operation: str) -> StateLock:
        """A context manager holding the state for ``operation``; it yields the LockInfo."""
        return _CleaningLock(self, operation)

    def force_unlock(self, lock_id: str) -> LockInfo:
        return force_unlock(self.path, lock_id)

    def leftover_temp_files(self) -> list[Path]:
        """Temporary files of writes that were killed before their rename."""
        if not self.path.parent.is_dir():
            return []
        return sorted(self.path.parent.glob(f".{self.path.name}.*.tmp"))

    def _write_atomically(self, data: bytes) -> None:
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            mode = _mode_of(self.path)
            fd, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot write the state ({exc.strerror}); nothing changed.") from None
        temp = Path(temp_name)
        try:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
        except BaseException as exc:
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
            if isinstance(exc, OSError):
                raise StateError(
                    f"{self.path}: cannot write the state ({exc.strerror or exc}); the previous state is intact."
                ) from None
            raise
        _fsync_directory(directory)


class _CleaningLock(StateLock):
    """Once the lock is held no other write can be in flight, so a killed write's temp file can go."""

    def __init__(self, store: LocalStateStore, operation: str) -> None:
        super().__init__(store.path, operation)
        self._store = store

    def acquire(self) -> LockInfo:
        info = super().acquire()
        for leftover in self._store.leftover_temp_files():
            try:
                leftover.unlink()
            except OSError:
                pass
        return info


def _mode_of(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return _NEW_FILE_MODE


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some filesystems cannot sync a directory; the rename stands
            raise
    finally:
        os.close(fd)
