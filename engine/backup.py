"""Backups taken before a cancel: written, synced, re-read and checked before anything is cancelled.

Layout (SPEC section 7)::

    <backup-dir>/<backup-id>/binding.json     the provider's own object
    <backup-dir>/<backup-id>/<dataset>.jsonl  one JSON record per line (orders, products, invoices)
    <backup-dir>/<backup-id>/manifest.json    written last: every file's sha256, size, record count,
                                              and the binding (address, account, provider, kind, live id)

A directory without ``manifest.json`` was begun and never finished; it is not a backup.

Backups may hold personal data, so directories are 0700 and files 0600 whatever the umask, and
nothing is followed through a symlink: every file is created relative to a descriptor of its
directory with ``O_NOFOLLOW | O_EXCL``. Provider ids are untrusted text, so they never reach a
path: the backup id is a timestamp plus a hash, and ids appear only inside JSON content.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import AsyncIterable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.errors import BackupError

MANIFEST = "manifest.json"
BINDING = "binding.json"
MANIFEST_FORMAT_VERSION = 1
BINDING_KEYS = ("address", "account", "provider", "kind", "live_id")

BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}$")
DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FILE_NAME = re.compile(r"^(binding\.json|[a-z][a-z0-9_]*\.jsonl)$")
_RESERVED_DATASETS = frozenset({"binding", "manifest"})

_DIR_MODE = 0o700
_FILE_MODE = 0o600
_CHUNK = 1 << 20
_WRITE_BUFFER = 1 << 16
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def new_backup_id(address: str, now: datetime) -> str:
    """``20261126T051500Z-<12 hex>``: sorts by time, unique, and free of any provider text."""
    if now.tzinfo is None:
        raise ValueError("new_backup_id needs a timezone-aware time")
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256((address + secrets.token_hex(16)).encode("utf-8")).hexdigest()
    return f"{stamp}-{digest[:12]}"


@dataclass(frozen=True)
class ManifestFile:
    name: str
    sha256: str
    bytes: int
    records: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "bytes": self.bytes, "records": self.records}

    @classmethod
    def from_json(cls, doc: Any) -> ManifestFile:
        if not isinstance(doc, dict):
            raise ValueError("a file entry must be an object")
        name, sha, size, records = (doc.get(k) for k in ("name", "sha256", "bytes", "records"))
        if not isinstance(name, str) or not _FILE_NAME.match(name):
            raise ValueError(f"file entry has an unsafe or invalid name: {name!r}")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ValueError(f"{name}: sha256 is not 64 hex digits")
        for label, value in (("bytes", size), ("records", records)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {label} is not a whole number")
        return cls(name=name, sha256=sha, bytes=size, records=records)


@dataclass(frozen=True)
class Manifest:
    """What a backup holds. ``complete`` is false for a directory that has no usable manifest;
    ``problem`` then says why (never finished, unreadable manifest, a symlink)."""

    backup_id: str
    created: str
    binding: Mapping[str, Any]
    files: tuple[ManifestFile, ...]
    complete: bool = True
    problem: str = ""
    format_version: int = field(default=MANIFEST_FORMAT_VERSION)

    @property
    def address(self) -> str | None:
        return self.binding.get("address")

    @property
    def live_id(self) -> str | None:
        return self.binding.get("live_id")

    @property
    def datasets(self) -> tuple[str, ...]:
        """Dataset names held, ``binding`` first (the names a plan's backup step lists)."""
        return tuple(f.name.rsplit(".", 1)[0] for f in self.files)

    @property
    def sha256(self) -> str:
        """Digest of manifest.json as written: one value that pins every file of the backup."""
        return hashlib.sha256(_encode_manifest(self)).hexdigest()

    def file(self, name: str) -> ManifestFile | None:
        return next((f for f in self.files if f.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "backup_id": self.backup_id,
            "created": self.created,
            "binding": dict(self.binding),
            "files": [f.to_json() for f in self.files],
        }

    @classmethod
    def from_json(cls, doc: Any) -> Manifest:
        if not isinstance(doc, dict):
            raise ValueError("the manifest is not a JSON object")
        version = doc.get("format_version")
        if version != MANIFEST_FORMAT_VERSION:
            raise ValueError(f"unknown manifest format_version {version!r}")
        backup_id, created, binding, files = (doc.get(k) for k in ("backup_id", "created", "binding", "files"))
        if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
            raise ValueError(f"invalid backup_id {backup_id!r}")
        if not isinstance(created, str):
            raise ValueError("'created' is not a string")
        if not isinstance(binding, dict):
            raise ValueError("'binding' is not an object")
        if not isinstance(files, list):
            raise ValueError("'files' is not a list")
        entries = tuple(ManifestFile.from_json(item) for item in files)
        names = [e.name for e in entries]
        if len(set(names)) != len(names):
            raise ValueError("a file is listed twice")
        return cls(backup_id=backup_id, created=created, binding=binding, files=entries)


def _encode_manifest(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class BackupWriter:
    """Writes one backup. ``begin`` -> ``write_binding`` -> ``write_dataset``... -> ``finish``.

    Until ``finish`` returns, the directory has no manifest and counts as incomplete; ``finish``
    raises BackupError unless every file reads back exactly as written. ``close`` (or leaving a
    ``with`` block) releases the directory descriptors of a backup abandoned half way.
    """

    def __init__(self, root: Path, backup_id: str, binding_info: Mapping[str, Any], created: str,
                 root_fd: int, dir_fd: int, made_dirs: tuple[Path, ...]) -> None:
        self.root = root
        self.backup_id = backup_id
        self.path = root / backup_id
        self._binding_info = dict(binding_info)
        self._created = created
        self._root_fd: int | None = root_fd
        self._dir_fd: int | None = dir_fd
        self._made_dirs = made_dirs
        self._files: dict[str, ManifestFile] = {}
        self._manifest: Manifest | None = None

    @classmethod
    def begin(
        cls,
        backup_dir: str | Path,
        binding_info: Mapping[str, Any],
        backup_id: str,
        *,
        now: datetime | None = None,
    ) -> BackupWriter:
        """Create ``<backup_dir>/<backup_id>/`` (0700). ``binding_info`` goes into the manifest as
        given, so the caller passes only what may be stored (no secrets): at least address,
        account, provider, kind and live_id."""
        if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
            raise BackupError(f"{backup_id!r} is not a backup id (expected one from new_backup_id)")
        missing = [key for key in BINDING_KEYS if key not in binding_info]
        if missing:
            raise BackupError(f"the backup's binding info lacks {', '.join(missing)}")
        try:
            json.dumps(dict(binding_info), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise BackupError(f"the backup's binding info is not JSON: {exc}") from None
        moment = now or datetime.now(timezone.utc)
        if moment.tzinfo is None:
            raise ValueError("BackupWriter.begin needs a timezone-aware time")
        created = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        root = Path(backup_dir)
        made = _ensure_root(root)
        root_fd = _open_root(root)
        try:
            try:
                os.mkdir(backup_id, _DIR_MODE, dir_fd=root_fd)
            except FileExistsError:
                raise BackupError(f"{root / backup_id}: a backup with this id already exists") from None
            dir_fd = os.open(backup_id, _DIR_FLAGS, dir_fd=root_fd)
            os.fchmod(dir_fd, _DIR_MODE)
        except OSError as exc:
            os.close(root_fd)
            raise BackupError(f"{root / backup_id}: cannot create the backup directory ({exc.strerror})") from None
        except BaseException:
            os.close(root_fd)
            raise
        return cls(root, backup_id, binding_info, created, root_fd, dir_fd, made)

    def write_binding(self, raw: Mapping[str, Any]) -> ManifestFile:
        """``binding.json``: the provider's object exactly as it returned it."""
        if not isinstance(raw, Mapping):
            raise BackupError(f"{self.path}: the binding to back up is not an object")
        if BINDING in self._files:
            raise BackupError(f"{self.path / BINDING}: already written")
        try:
            data = (json.dumps(dict(raw), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise BackupError(f"{self.path / BINDING}: the binding is not JSON ({exc})") from None
        with self._new_file(BINDING) as out:
            out.write(data)
        entry = ManifestFile(BINDING, out.sha256, out.size, 1)
        self._files[BINDING] = entry
        return entry

    async def write_dataset(
        self, name: str, records: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
    ) -> ManifestFile:
        """``<name>.jsonl``, streamed: one record in memory at a time, however many there are.

        If ``records`` fails part way, the partial file is removed and the error propagates; the
        same dataset may then be written again.
        """
        if not isinstance(name, str) or not DATASET_NAME.match(name) or name in _RESERVED_DATASETS:
            raise BackupError(f"{name!r} is not a dataset name (lowercase letters, digits, _; not binding/manifest)")
        file_name = f"{name}.jsonl"
        if file_name in self._files:
            raise BackupError(f"{self.path / file_name}: already written")
        count = 0
        with self._new_file(file_name) as out:  # an exception inside removes the partial file
            if hasattr(records, "__aiter__"):
                async for record in records:  # type: ignore[union-attr]
                    out.write(_json_line(record, file_name, count))
                    count += 1
            else:
                for record in records:  # type: ignore[union-attr]
                    out.write(_json_line(record, file_name, count))
                    count += 1
        entry = ManifestFile(file_name, out.sha256, out.size, count)
        self._files[file_name] = entry
        return entry

    def finish(self) -> Manifest:
        """Write the manifest, sync everything, read it all back; BackupError unless it matches."""
        if self._manifest is not None:
            return self._manifest
        dir_fd = self._require_open()
        if BINDING not in self._files:
            raise BackupError(f"{self.path}: the binding itself was not written (write_binding)")
        ordered = [self._files[BINDING]] + [self._files[n] for n in sorted(self._files) if n != BINDING]
        manifest = Manifest(
            backup_id=self.backup_id,
            created=self._created,
            binding=self._binding_info,
            files=tuple(ordered),
        )
        encoded = _encode_manifest(manifest)
        with self._new_file(MANIFEST) as out:
            out.write(encoded)
        try:
            _fsync_fd(dir_fd)
            assert self._root_fd is not None
            _fsync_fd(self._root_fd)
            for made in self._made_dirs:
                _fsync_path(made.parent)
        except OSError as exc:
            self._withdraw_manifest()
            raise BackupError(f"{self.path}: cannot sync the backup to disk ({exc.strerror})") from None
        problems = _check_contents(dir_fd, manifest, expected_manifest=encoded)
        if problems:
            self._withdraw_manifest()
            raise BackupError(f"{self.path}: the backup did not verify: " + "; ".join(problems))
        self._manifest = manifest
        self.close()
        return manifest

    def close(self) -> None:
        for attr in ("_dir_fd", "_root_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                setattr(self, attr, None)
                os.close(fd)

    def __del__(self) -> None:
        # A writer abandoned by an exception must not keep its directories open.
        if getattr(self, "_dir_fd", None) is not None or getattr(self, "_root_fd", None) is not None:
            self.close()

    def __enter__(self) -> BackupWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_open(self) -> int:
        if self._dir_fd is None:
            raise BackupError(f"{self.path}: this backup writer is closed")
        return self._dir_fd

    def _new_file(self, name: str) -> _SyncedFile:
        return _SyncedFile(self._require_open(), name, self.path / name)

    def _withdraw_manifest(self) -> None:
        """A backup that failed its check must not look finished."""
        try:
            os.unlink(MANIFEST, dir_fd=self._require_open())
        except FileNotFoundError:
            pass


def _json_line(record: Any, file_name: str, index: int) -> bytes:
    if not isinstance(record, Mapping):
        raise BackupError(f"{file_name}: record {index + 1} is a {type(record).__name__}, not an object")
    try:
        text = json.dumps(record if isinstance(record, dict) else dict(record), ensure_ascii=False,
                          separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise BackupError(f"{file_name}: record {index + 1} is not JSON ({exc})") from None
    return (text + "\n").encode("utf-8")


class _SyncedFile:
    """A new 0600 file in the backup directory, hashed as it is written and fsynced on close."""

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

    def __enter__(self) -> _SyncedFile:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self._fd = os.open(self._name, flags, _FILE_MODE, dir_fd=self._dir_fd)
            os.fchmod(self._fd, _FILE_MODE)
        except FileExistsError:
            raise BackupError(f"{self._shown}: already exists (or is a symlink); refusing to write over it") from None
        except OSError as exc:
            raise BackupError(f"{self._shown}: cannot create ({exc.strerror})") from None
        return self

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= _WRITE_BUFFER:
            self._flush()

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


def _ensure_root(root: Path) -> tuple[Path, ...]:
    """Make the backup root and any missing parents 0700; refuse a root that is a symlink."""
    if os.path.lexists(root):
        _check_real_directory(root)
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
            os.mkdir(path, _DIR_MODE)
        except FileExistsError:
            _check_real_directory(path)
            continue
        except OSError as exc:
            raise BackupError(f"{path}: cannot create the backup directory ({exc.strerror})") from None
        os.chmod(path, _DIR_MODE)
        made.append(path)
    return tuple(made)


def _check_real_directory(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise BackupError(f"{path}: the backup directory is a symlink; refusing to follow it")
    if not stat.S_ISDIR(info.st_mode):
        raise BackupError(f"{path}: is not a directory")


def _open_root(root: Path) -> int:
    try:
        return os.open(root, _DIR_FLAGS)
    except OSError as exc:
        raise BackupError(f"{root}: cannot open the backup directory ({exc.strerror}); is it a symlink?") from None


def _fsync_fd(fd: int) -> None:
    os.fsync(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(dir_fd: int, name: str) -> tuple[str, int, int, bytes]:
    """sha256, size, line count, and the first bytes (to parse binding.json) of one file."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        digest = hashlib.sha256()
        size = lines = 0
        head = b""
        last = b"\n"
        while chunk := os.read(fd, _CHUNK):
            if not head:
                head = chunk
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        if last != b"\n":
            lines += 1
        return digest.hexdigest(), size, lines, head
    finally:
        os.close(fd)


def _check_contents(dir_fd: int, manifest: Manifest, *, expected_manifest: bytes | None = None) -> list[str]:
    """Every problem with the files of an open backup directory, against its manifest."""
    problems: list[str] = []
    listed = {f.name for f in manifest.files}
    for entry in manifest.files:
        problems.extend(_check_file(dir_fd, entry))
    if expected_manifest is not None:
        try:
            fd = os.open(MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            try:
                on_disk = b"".join(iter(lambda: os.read(fd, _CHUNK), b""))
            finally:
                os.close(fd)
            if on_disk != expected_manifest:
                problems.append(f"{MANIFEST}: does not read back as written")
        except OSError as exc:
            problems.append(f"{MANIFEST}: cannot be read back ({exc.strerror})")
    for name in sorted(os.listdir(dir_fd)):
        if name in listed or name == MANIFEST:
            continue
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            problems.append(f"{name}: is a symlink, not part of the backup")
        else:
            problems.append(f"{name}: extra file, not listed in the manifest")
    return problems


def _check_file(dir_fd: int, entry: ManifestFile) -> list[str]:
    name = entry.name
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return [f"{name}: missing"]
    if stat.S_ISLNK(info.st_mode):
        return [f"{name}: is a symlink; a backup file must be a regular file"]
    if not stat.S_ISREG(info.st_mode):
        return [f"{name}: is not a regular file"]
    problems: list[str] = []
    if info.st_mode & 0o077:
        problems.append(f"{name}: permissions {info.st_mode & 0o777:04o}, expected 0600 (it may hold personal data)")
    try:
        sha, size, lines, head = _digest(dir_fd, name)
    except OSError as exc:
        return problems + [f"{name}: cannot be read ({exc.strerror})"]
    mismatches: list[str] = []
    if size != entry.bytes:
        mismatches.append(f"{size} bytes, the manifest says {entry.bytes}")
    if sha != entry.sha256:
        mismatches.append("sha256 differs from the manifest")
    records = _record_count(name, lines, head, size)
    if records != entry.records:
        mismatches.append(f"{records} records, the manifest says {entry.records}")
    if mismatches:
        problems.append(f"{name}: " + "; ".join(mismatches))
    return problems


def _record_count(name: str, lines: int, head: bytes, size: int) -> int:
    if name != BINDING:
        return lines
    if size > len(head):
        return 1  # too large to have been read whole here; the checksum already vouches for it
    try:
        return 1 if isinstance(json.loads(head.decode("utf-8")), dict) else 0
    except (ValueError, UnicodeDecodeError):
        return 0


def _read_manifest(dir_fd: int) -> Manifest:
    """Parse the manifest of an open backup directory; OSError or ValueError when unusable."""
    fd = os.open(MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        data = b"".join(iter(lambda: os.read(fd, _CHUNK), b""))
    finally:
        os.close(fd)
    return Manifest.from_json(json.loads(data.decode("utf-8")))


def _created_from_id(backup_id: str) -> str:
    if not BACKUP_ID.match(backup_id):
        return ""
    stamp = datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _incomplete(backup_id: str, problem: str) -> Manifest:
    return Manifest(backup_id=backup_id, created=_created_from_id(backup_id), binding={}, files=(),
                    complete=False, problem=problem)


def list_backups(backup_dir: str | Path) -> list[Manifest]:
    """Every backup under ``backup_dir``, oldest first; unfinished or damaged ones have
    ``complete=False`` and a ``problem``. Checksums are not recomputed here (``verify_backup``)."""
    root = Path(backup_dir)
    if not os.path.lexists(root):
        return []
    _check_real_directory(root)
    root_fd = _open_root(root)
    try:
        found: list[Manifest] = []
        for name in sorted(os.listdir(root_fd)):
            info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                found.append(_incomplete(name, "is a symlink, not a backup directory"))
                continue
            if not stat.S_ISDIR(info.st_mode):
                continue
            found.append(_describe(root_fd, name))
        return found
    finally:
        os.close(root_fd)


def _describe(root_fd: int, name: str) -> Manifest:
    try:
        dir_fd = os.open(name, _DIR_FLAGS, dir_fd=root_fd)
    except OSError as exc:
        return _incomplete(name, f"cannot be opened ({exc.strerror})")
    try:
        try:
            manifest = _read_manifest(dir_fd)
        except FileNotFoundError:
            return _incomplete(name, "no manifest.json: the backup was begun but never finished")
        except OSError as exc:
            return _incomplete(name, f"manifest.json cannot be read ({exc.strerror})")
        except (ValueError, UnicodeDecodeError) as exc:
            return _incomplete(name, f"manifest.json is not a valid manifest ({exc})")
        if manifest.backup_id != name:
            return _incomplete(name, f"manifest.json names another backup ({manifest.backup_id})")
        return manifest
    finally:
        os.close(dir_fd)


def verify_backup(backup_dir: str | Path, backup_id: str) -> list[str]:
    """Recheck one backup against its manifest; the problems found, empty when it is good."""
    if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
        return [f"{backup_id!r} is not a backup id"]
    root = Path(backup_dir)
    if not os.path.lexists(root):
        return [f"{root}: no backup directory"]
    try:
        _check_real_directory(root)
    except BackupError as exc:
        return [str(exc)]
    root_fd = _open_root(root)
    try:
        try:
            info = os.stat(backup_id, dir_fd=root_fd, follow_symlinks=False)
        except FileNotFoundError:
            return [f"{root / backup_id}: no such backup"]
        if stat.S_ISLNK(info.st_mode):
            return [f"{root / backup_id}: is a symlink, not a backup directory"]
        if not stat.S_ISDIR(info.st_mode):
            return [f"{root / backup_id}: is not a directory"]
        problems: list[str] = []
        if info.st_mode & 0o077:
            problems.append(
                f"{backup_id}: permissions {info.st_mode & 0o777:04o}, expected 0700 (it may hold personal data)"
            )
        dir_fd = os.open(backup_id, _DIR_FLAGS, dir_fd=root_fd)
        try:
            return problems + _verify_open(dir_fd, backup_id)
        finally:
            os.close(dir_fd)
    finally:
        os.close(root_fd)


def _verify_open(dir_fd: int, backup_id: str) -> list[str]:
    try:
        manifest = _read_manifest(dir_fd)
    except FileNotFoundError:
        return [f"{MANIFEST}: missing; the backup was begun but never finished"]
    except OSError as exc:
        return [f"{MANIFEST}: cannot be read ({exc.strerror}); is it a symlink?"]
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"{MANIFEST}: not a valid manifest ({exc})"]
    problems: list[str] = []
    if manifest.backup_id != backup_id:
        problems.append(f"{MANIFEST}: names backup {manifest.backup_id}, not {backup_id}")
    info = os.stat(MANIFEST, dir_fd=dir_fd, follow_symlinks=False)
    if info.st_mode & 0o077:
        problems.append(f"{MANIFEST}: permissions {info.st_mode & 0o777:04o}, expected 0600")
    if manifest.file(BINDING) is None:
        problems.append(f"{MANIFEST}: lists no {BINDING}")
    return problems + _check_contents(dir_fd, manifest)
