"""One run at a time per state file, and a second run told exactly who holds it.

The lock is ``flock`` on ``<state>.lock``, not the file's existence: the kernel drops a flock when
its process dies (``kill -9`` included), so a lock file left behind by a dead run never blocks the
next one. The holder's identity is written into the file only so the loser can name it.

Unlinking the lock file on release races with a waiter that opened the old file just before: the
waiter can win the flock on an inode that no longer has a name. So after every successful flock the
holder checks that the path still names the inode it locked, and starts over if not.
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from states.errors import LockError

_ATTEMPTS = 20
_HOLDER_READ_TRIES = 10
_HOLDER_READ_PAUSE = 0.005


def lock_path_for(state_path: str | Path) -> Path:
    return Path(f"{state_path}.lock")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LockInfo:
    """Who holds the lock: enough for a human to find the run, and its id for force-unlock."""

    id: str
    pid: int
    host: str
    user: str
    operation: str
    created: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pid": self.pid,
            "host": self.host,
            "user": self.user,
            "operation": self.operation,
            "created": self.created,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LockInfo:
        if not isinstance(doc, Mapping) or not isinstance(doc.get("id"), str):
            raise ValueError("not a lock record")
        pid = doc.get("pid")
        return cls(
            id=doc["id"],
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else -1,
            host=str(doc.get("host", "?")),
            user=str(doc.get("user", "?")),
            operation=str(doc.get("operation", "?")),
            created=str(doc.get("created", "?")),
        )

    @classmethod
    def for_this_process(cls, operation: str, now: datetime) -> LockInfo:
        return cls(
            id=str(uuid.uuid4()),
            pid=os.getpid(),
            host=socket.gethostname(),
            user=_user(),
            operation=operation,
            created=iso_utc(now),
        )

    def held_message(self) -> str:
        return (
            f"the state is locked by {self.operation} (pid {self.pid}, {self.user}@{self.host}, "
            f"since {self.created}); lock id {self.id}. If that run is gone, run "
            f"`tether force-unlock {self.id}`."
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers): the uid still identifies the holder
        return str(os.getuid())


class StateLock:
    """An exclusive, non-blocking lock on one state file; use as a context manager.

    ``with StateLock(path, "apply") as info:`` takes the lock or raises LockError at once naming
    the holder; leaving the block releases it and removes the lock file.
    """

    def __init__(
        self,
        state_path: str | Path,
        operation: str,
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.path = lock_path_for(state_path)
        self.operation = operation
        self._now = now
        self._fd: int | None = None
        self.info: LockInfo | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> LockInfo:
        if self._fd is not None:
            raise LockError(f"{self.path}: this lock is already held by this run")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(_ATTEMPTS):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                try:
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise LockError(self._holder_message(fd)) from None
                    raise LockError(f"{self.path}: cannot lock the state ({exc.strerror})") from None
                finally:
                    os.close(fd)
            if _names_same_file(self.path, fd):
                info = LockInfo.for_this_process(self.operation, self._now())
                try:
                    _write_info(fd, info)
                except OSError as exc:
                    os.close(fd)
                    raise LockError(f"{self.path}: cannot write the lock file ({exc.strerror})") from None
                self._fd = fd
                self.info = info
                return info
            os.close(fd)
        raise LockError(f"{self.path}: the lock file kept being replaced while taking it; try again")

    def release(self) -> None:
        """Drop the lock. The file goes first, while still locked, so no waiter keeps a stale inode."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _names_same_file(self.path, fd):
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> LockInfo:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise LockError(f"{self.path}: cannot open the lock file ({exc.strerror})") from None

    def _holder_message(self, fd: int) -> str:
        # The holder writes its identity just after taking the flock; give it a moment.
        for attempt in range(_HOLDER_READ_TRIES):
            info = _read_info_fd(fd)
            if info is not None:
                return info.held_message()
            if attempt + 1 < _HOLDER_READ_TRIES:
                time.sleep(_HOLDER_READ_PAUSE)
        return f"the state is locked by another run that has not said who it is yet ({self.path}); try again."


def read_lock_info(state_path: str | Path) -> LockInfo | None:
    """The identity written in the lock file, or None when there is none (or it is unreadable)."""
    try:
        data = lock_path_for(state_path).read_bytes()
    except OSError:
        return None
    return _parse_info(data)


def force_unlock(state_path: str | Path, lock_id: str) -> LockInfo:
    """Remove the lock file of ``state_path`` if it carries ``lock_id``; returns whose lock it was.

    This does not stop the holder: it only lets the next run in. That is the point when a run is
    stuck, and the danger when it is not, hence the id a human has to copy from the message.
    """
    path = lock_path_for(state_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LockError(f"{path}: there is no lock file; nothing to unlock.") from None
    except OSError as exc:
        raise LockError(f"{path}: cannot read the lock file ({exc.strerror})") from None
    info = _parse_info(data)
    if info is None:
        raise LockError(
            f"{path}: the lock file holds no readable lock id, so it cannot be matched with {lock_id}. "
            f"If no tether run is active, delete {path} by hand."
        )
    if info.id != lock_id:
        raise LockError(
            f"lock id {lock_id} does not match the lock held: {info.held_message()} Nothing was unlocked."
        )
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return info


def _names_same_file(path: Path, fd: int) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)


def _write_info(fd: int, info: LockInfo) -> None:
    data = (json.dumps(info.to_json(), sort_keys=True, indent=2) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _read_info_fd(fd: int) -> LockInfo | None:
    try:
        data = os.pread(fd, 65536, 0)
    except OSError:
        return None
    return _parse_info(data)


def _parse_info(data: bytes) -> LockInfo | None:
    try:
        return LockInfo.from_json(json.loads(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError):
        return None
