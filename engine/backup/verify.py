"""Reading backups without a key: listing them, and re-checking each against its manifest.

``verify`` recomputes the sha256 and size of every file on disk (encrypted or not, so no key is
needed) and, for files in the clear, their record counts. A directory that carries an
``unfinished.json`` note and no manifest (or nothing at all) was begun by a run that died: it is
reported as unfinished, which is not a failure. Anything else without a valid manifest is damage.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from engine.backup import fsio
from engine.backup.manifest import (
    BACKUP_ID,
    BINDING,
    MANIFEST,
    UNFINISHED,
    BackupState,
    Manifest,
    ManifestFile,
    Unfinished,
    incomplete,
)
from engine.errors import BackupError

_NEVER_FINISHED = "no manifest.json: the backup was begun but never finished"


@dataclass(frozen=True)
class Verification:
    """The result of re-checking one backup: ``ok`` unless it is damaged. ``note`` describes an
    unfinished one (which run began it, which run settled it, what replaced it)."""

    backup_id: str
    state: BackupState
    problems: tuple[str, ...] = ()
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_contents(dir_fd: int, manifest: Manifest, *, expected_manifest: bytes | None = None) -> list[str]:
    """Every problem with the files of an open backup directory, against its manifest."""
    problems: list[str] = []
    listed = {f.name for f in manifest.files}
    for entry in manifest.files:
        problems.extend(_check_file(dir_fd, entry))
    if expected_manifest is not None:
        try:
            if fsio.read_small(dir_fd, MANIFEST) != expected_manifest:
                problems.append(f"{MANIFEST}: does not read back as written")
        except OSError as exc:
            problems.append(f"{MANIFEST}: cannot be read back ({exc.strerror})")
    for name in sorted(os.listdir(dir_fd)):
        if name in listed or name in (MANIFEST, UNFINISHED):  # a note left by a kill after the manifest
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
        sha, size, lines, head = fsio.digest(dir_fd, name)
    except OSError as exc:
        return problems + [f"{name}: cannot be read ({exc.strerror})"]
    mismatches: list[str] = []
    if size != entry.bytes:
        mismatches.append(f"{size} bytes, the manifest says {entry.bytes}")
    if sha != entry.sha256:
        mismatches.append("sha256 differs from the manifest")
    if not entry.encrypted:  # an age file's records are counted by whoever holds the key
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


def read_manifest(dir_fd: int) -> Manifest:
    """Parse the manifest of an open backup directory; OSError or ValueError when unusable."""
    return Manifest.from_json(json.loads(fsio.read_small(dir_fd, MANIFEST).decode("utf-8")))


def read_note(dir_fd: int) -> Unfinished | None:
    """The unfinished note of an open backup directory; None when there is none or it is unreadable."""
    try:
        return Unfinished.from_json(json.loads(fsio.read_small(dir_fd, UNFINISHED).decode("utf-8")))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _without_manifest(dir_fd: int, name: str) -> Manifest:
    """A directory with no manifest: unfinished when its note says so or it holds nothing else
    (killed while the note itself was written), else damaged."""
    note = read_note(dir_fd)
    if note is not None:
        return incomplete(name, f"{_NEVER_FINISHED}; {note.describe()}", BackupState.UNFINISHED, note)
    if not [entry for entry in os.listdir(dir_fd) if entry != UNFINISHED]:
        return incomplete(name, f"{_NEVER_FINISHED} (nothing was written in it)", BackupState.UNFINISHED)
    return incomplete(name, f"{MANIFEST}: missing, and nothing says the backup was left unfinished")


def describe(root_fd: int, name: str) -> Manifest:
    try:
        dir_fd = os.open(name, fsio.DIR_FLAGS, dir_fd=root_fd)
    except OSError as exc:
        return incomplete(name, f"cannot be opened ({exc.strerror})")
    try:
        try:
            manifest = read_manifest(dir_fd)
        except FileNotFoundError:
            return _without_manifest(dir_fd, name)
        except OSError as exc:
            return incomplete(name, f"manifest.json cannot be read ({exc.strerror})")
        except (ValueError, UnicodeDecodeError) as exc:
            return incomplete(name, f"manifest.json is not a valid manifest ({exc})")
        if manifest.backup_id != name:
            return incomplete(name, f"manifest.json names another backup ({manifest.backup_id})")
        return manifest
    finally:
        os.close(dir_fd)


def list_backups(backup_dir: str | Path) -> list[Manifest]:
    """Every backup under ``backup_dir``, oldest first; unfinished or damaged ones have
    ``complete=False``, a ``state`` and a ``problem``. Checksums are not recomputed here."""
    root = Path(backup_dir)
    if not os.path.lexists(root):
        return []
    fsio.check_real_directory(root)
    root_fd = fsio.open_root(root)
    try:
        found: list[Manifest] = []
        for name in sorted(os.listdir(root_fd)):
            info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                found.append(incomplete(name, "is a symlink, not a backup directory"))
                continue
            if not stat.S_ISDIR(info.st_mode) or name.startswith("."):
                continue
            found.append(describe(root_fd, name))
        return found
    finally:
        os.close(root_fd)


def verify(backup_dir: str | Path, backup_id: str) -> Verification:
    """Recheck one backup against its manifest. An unfinished one is reported, not failed."""
    if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
        return Verification(str(backup_id), BackupState.DAMAGED, (f"{backup_id!r} is not a backup id",))
    root = Path(backup_dir)
    damaged = BackupState.DAMAGED
    if not os.path.lexists(root):
        return Verification(backup_id, damaged, (f"{root}: no backup directory",))
    try:
        fsio.check_real_directory(root)
    except BackupError as exc:
        return Verification(backup_id, damaged, (str(exc),))
    root_fd = fsio.open_root(root)
    try:
        try:
            info = os.stat(backup_id, dir_fd=root_fd, follow_symlinks=False)
        except FileNotFoundError:
            return Verification(backup_id, damaged, (f"{root / backup_id}: no such backup",))
        if stat.S_ISLNK(info.st_mode):
            return Verification(backup_id, damaged, (f"{root / backup_id}: is a symlink, not a backup directory",))
        if not stat.S_ISDIR(info.st_mode):
            return Verification(backup_id, damaged, (f"{root / backup_id}: is not a directory",))
        problems: list[str] = []
        if info.st_mode & 0o077:
            problems.append(
                f"{backup_id}: permissions {info.st_mode & 0o777:04o}, expected 0700 (it may hold personal data)"
            )
        dir_fd = os.open(backup_id, fsio.DIR_FLAGS, dir_fd=root_fd)
        try:
            return _verify_open(dir_fd, backup_id, problems)
        finally:
            os.close(dir_fd)
    finally:
        os.close(root_fd)


def _verify_open(dir_fd: int, backup_id: str, problems: list[str]) -> Verification:
    damaged = BackupState.DAMAGED
    try:
        manifest = read_manifest(dir_fd)
    except FileNotFoundError:
        found = _without_manifest(dir_fd, backup_id)
        if found.state is BackupState.UNFINISHED:
            note = found.unfinished.describe() if found.unfinished else "nothing was written in it"
            return Verification(backup_id, found.state, tuple(problems), note)
        return Verification(backup_id, damaged, (*problems, found.problem))
    except OSError as exc:
        return Verification(backup_id, damaged, (*problems, f"{MANIFEST}: cannot be read ({exc.strerror}); is it a symlink?"))
    except (ValueError, UnicodeDecodeError) as exc:
        return Verification(backup_id, damaged, (*problems, f"{MANIFEST}: not a valid manifest ({exc})"))
    if manifest.backup_id != backup_id:
        problems.append(f"{MANIFEST}: names backup {manifest.backup_id}, not {backup_id}")
    info = os.stat(MANIFEST, dir_fd=dir_fd, follow_symlinks=False)
    if info.st_mode & 0o077:
        problems.append(f"{MANIFEST}: permissions {info.st_mode & 0o777:04o}, expected 0600")
    if manifest.binding_file() is None:
        problems.append(f"{MANIFEST}: lists no {BINDING}")
    problems.extend(check_contents(dir_fd, manifest))
    return Verification(backup_id, damaged if problems else BackupState.COMPLETE, tuple(problems))


def verify_backup(backup_dir: str | Path, backup_id: str) -> list[str]:
    """The problems of one backup, empty when it is good or merely unfinished (``verify`` tells
    which)."""
    return list(verify(backup_dir, backup_id).problems)
