"""The life of backups after they are written: unfinished ones settled, old ones pruned.

A run killed while writing a backup leaves a directory with an ``unfinished.json`` note. The next
apply that settles that run (``engine.journal.close_interrupted``) records in the note which run
settled it and which backup of the same binding replaced it, so ``backups list`` can say so.

Backups may hold personal data (orders carry names and addresses), so they should not be kept
longer than they are useful: ``prune`` removes those older than a given age, or the unfinished
ones, and with ``dry_run`` only says what it would remove.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from engine.backup import fsio
from engine.backup.manifest import UNFINISHED, BackupState, Manifest, encode_unfinished
from engine.backup.verify import describe, list_backups
from engine.errors import BackupError


def settle_unfinished(backup_dir: str | Path, dead_runs: Collection[str], settled_by: str) -> list[Manifest]:
    """Record, in every unfinished backup begun by one of ``dead_runs``, that ``settled_by``
    settled it and which later complete backup of the same binding replaced it. Returns the
    backups so recorded. A missing backup directory is nothing to settle."""
    root = Path(backup_dir)
    if not os.path.lexists(root) or not dead_runs:
        return []
    backups = list_backups(root)
    newest: dict[str, Manifest] = {}
    for manifest in backups:  # oldest first: the last one seen per address is the newest
        if manifest.complete and manifest.address:
            newest[manifest.address] = manifest
    settled: list[Manifest] = []
    root_fd = fsio.open_root(root)
    try:
        for manifest in backups:
            note = manifest.unfinished
            if note is None or note.settled_by is not None or note.run_id not in dead_runs:
                continue
            later = newest.get(note.address)
            replacement = later.backup_id if later is not None and later.created >= note.started else None
            recorded = replace(note, settled_by=settled_by, replaced_by=replacement)
            dir_fd = os.open(manifest.backup_id, fsio.DIR_FLAGS, dir_fd=root_fd)
            try:
                fsio.replace_small(dir_fd, UNFINISHED, encode_unfinished(recorded))
            except OSError as exc:
                raise BackupError(
                    f"{root / manifest.backup_id}: cannot record it as unfinished ({exc.strerror})"
                ) from None
            finally:
                os.close(dir_fd)
            settled.append(describe(root_fd, manifest.backup_id))
    finally:
        os.close(root_fd)
    return settled


@dataclass(frozen=True)
class Pruned:
    """One backup ``prune`` removed (or, in a dry run, would remove), and why."""

    backup_id: str
    address: str | None
    reason: str  # "older-than" | "unfinished"
    removed: bool


def _age(manifest: Manifest, now: datetime) -> timedelta | None:
    try:
        created = datetime.strptime(manifest.created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return now - created


def prune(
    backup_dir: str | Path,
    *,
    older_than: timedelta | None = None,
    unfinished: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[Pruned]:
    """Remove backups older than ``older_than`` (complete or unfinished) and, with
    ``unfinished``, every unfinished one whose run was settled or that holds nothing. A damaged
    backup is never removed here (it is evidence; look at it, then remove it by hand), nor an
    unfinished one whose run may still be writing it (not settled yet) unless it is old enough.

    The caller holds the state lock, so no apply is writing a backup meanwhile."""
    if older_than is None and not unfinished:
        raise BackupError("say what to prune: an age (--older-than 90d) or --unfinished")
    if older_than is not None and older_than <= timedelta(0):
        raise BackupError("--older-than must be a positive duration, like 90d or 12h")
    moment = now or datetime.now(timezone.utc)
    root = Path(backup_dir)
    chosen: list[Pruned] = []
    for manifest in list_backups(root):
        reason = _reason(manifest, older_than, unfinished, moment)
        if reason is not None:
            chosen.append(Pruned(manifest.backup_id, manifest.address, reason, removed=False))
    if dry_run or not chosen:
        return chosen
    done: list[Pruned] = []
    root_fd = fsio.open_root(root)
    try:
        for item in chosen:
            info = os.stat(item.backup_id, dir_fd=root_fd, follow_symlinks=False)
            if not stat.S_ISDIR(info.st_mode):
                continue
            try:
                fsio.remove_tree(root_fd, item.backup_id)
            except OSError as exc:
                raise BackupError(f"{root / item.backup_id}: cannot remove ({exc.strerror})") from None
            done.append(replace(item, removed=True))
    finally:
        os.close(root_fd)
    return done


def _reason(manifest: Manifest, older_than: timedelta | None, unfinished: bool, now: datetime) -> str | None:
    if manifest.state is BackupState.DAMAGED:
        return None
    if older_than is not None:
        age = _age(manifest, now)
        if age is not None and age > older_than:
            return "older-than"
    if unfinished and manifest.state is BackupState.UNFINISHED:
        note = manifest.unfinished
        if note is None or note.settled_by is not None:
            return "unfinished"
    return None
