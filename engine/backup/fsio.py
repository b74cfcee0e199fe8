"""Private files and directories for backups, never followed through a symlink.

Backups may hold personal data: directories are 0700 and files 0600 whatever the umask, and every
file is created relative to a descriptor of its directory with ``O_NOFOLLOW | O_EXCL``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from engine.errors import BackupError

DIR_MODE = 0o700
FILE_MODE = 0o600
CHUNK = 1 << 20
_WRITE_BUFFER = 1 << 16
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class SyncedFile:
    """A new 0600 file in a backup directory, hashed as it is written and fsynced on close. An
    exception inside the ``with`` block removes the partial file."""

    def __init__(self, dir_fd: int, name: str, shown: Path) -> None:
        self._dir_fd = dir_fd
        self._name = name
        self._shown = shown
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self.size = 0
        self._fd: int | None = None

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def __enter__(self) -> SyncedFile:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self._fd = os.open(self._name, flags, FILE_MODE, dir_fd=self._dir_fd)
            os.fchmod(self._fd, FILE_MODE)
        except FileExistsError:
            raise BackupError(f"{self._shown}: already exists (or is a symlink); refusing to write over it") from None
        except OSError as exc:
            raise BackupError(f"{self._shown}: cannot create ({exc.strerror})") from None
        return self

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= _WRITE_BUFFER:
            self._flush()
        return len(data)

    def flush(self) -> None:
        """Part of the file-like protocol the age library writes through; data is synced on close."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        assert fd is not None
        failed = exc_type is not None
        try:
            if not failed:
                self._flush_to(fd)
                os.fsync(fd)
        except OSError as err:
            failed = True
            raise BackupError(f"{self._shown}: cannot write ({err.strerror})") from None
        finally:
            os.close(fd)
            if failed:
                try:
                    os.unlink(self._name, dir_fd=self._dir_fd)
                except FileNotFoundError:
                    pass

    def _flush(self) -> None:
        assert self._fd is not None
        try:
            self._flush_to(self._fd)
        except OSError as err:
            raise BackupError(f"{self._shown}: cannot write ({err.strerror})") from None

    def _flush_to(self, fd: int) -> None:
        view = memoryview(self._buffer)
        while view:
            view = view[os.write(fd, view):]
        view.release()
        self._buffer.clear()


def ensure_root(root: Path) -> tuple[Path, ...]:
    """Make the backup root and any missing parents 0700; refuse a root that is a symlink."""
    if os.path.lexists(root):
        check_real_directory(root)
        return ()
    missing: list[Path] = []
    node = root
    while not os.path.lexists(node):
        missing.append(node)
        if node.parent == node:
            break
        node = node.parent
    made: list[Path] = []
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            check_real_directory(path)
            continue
        except OSError as exc:
            raise BackupError(f"{path}: cannot create the backup directory ({exc.strerror})") from None
        os.chmod(path, DIR_MODE)
        made.append(path)
    return tuple(made)


def check_real_directory(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise BackupError(f"{path}: the backup directory is a symlink; refusing to follow it")
    if not stat.S_ISDIR(info.st_mode):
        raise BackupError(f"{path}: is not a directory")


def open_root(root: Path) -> int:
    try:
        return os.open(root, DIR_FLAGS)
    except OSError as exc:
        raise BackupError(f"{root}: cannot open the backup directory ({exc.strerror}); is it a symlink?") from None


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_small(dir_fd: int, name: str) -> bytes:
    """A whole file of a backup directory (manifest, note), never through a symlink."""
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        return b"".join(iter(lambda: os.read(fd, CHUNK), b""))
    finally:
        os.close(fd)


def open_read(dir_fd: int, name: str) -> BinaryIO:
    """A file of a backup directory to read in chunks (orders of a large shop run to gigabytes),
    never through a symlink."""
    return os.fdopen(os.open(name, _READ_FLAGS, dir_fd=dir_fd), "rb", buffering=CHUNK)


def replace_small(dir_fd: int, name: str, data: bytes) -> None:
    """Replace a small file atomically: a 0600 temporary beside it, fsynced, renamed over it."""
    temp = f".{name}.tmp"
    try:
        os.unlink(temp, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE, dir_fd=dir_fd)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    os.fsync(dir_fd)


def digest(dir_fd: int, name: str) -> tuple[str, int, int, bytes]:
    """sha256, size, line count, and the first bytes (to parse binding.json) of one file."""
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        hashed = hashlib.sha256()
        size = lines = 0
        head = b""
        last = b"\n"
        while chunk := os.read(fd, CHUNK):
            if not head:
                head = chunk
            hashed.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        if last != b"\n":
            lines += 1
        return hashed.hexdigest(), size, lines, head
    finally:
        os.close(fd)


def remove_tree(root_fd: int, name: str) -> None:
    """Remove one backup directory: its regular files, then itself. Nothing is followed; a
    subdirectory (never written by tether) stops the removal with a BackupError."""
    dir_fd = os.open(name, DIR_FLAGS, dir_fd=root_fd)
    try:
        for entry in os.listdir(dir_fd):
            info = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                raise BackupError(f"{name}/{entry}: a directory inside a backup; remove it by hand")
            os.unlink(entry, dir_fd=dir_fd)
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    os.rmdir(name, dir_fd=root_fd)
    os.fsync(root_fd)
