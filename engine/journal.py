"""Append-only, fsynced JSON Lines files: the apply journal and the audit log.

The journal (``.tether/journal/<run-id>.jsonl``) says what apply meant to do before it did it:
``intent-backup``, ``backup-ok``, ``intent-cancel``, ``outcome``, ``verified``, ``committed`` for
each binding, ``run-end`` when the run finished. A run killed anywhere leaves an intent without an
outcome; the next apply reads it back (``interrupted``) and re-reads that binding before acting.

The audit log (``.tether/audit/<run-id>.jsonl``) records every mutating API call. Both files may
name customers' bindings, so they are private (0600 in a 0700 directory) and never in git.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


class JsonlLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _private_dir(self.path.parent)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True)
class Interrupted:
    """A binding a previous run began but did not finish."""

    run_id: str
    identity: str
    address: str
    last_event: str
    side: str | None = None
    idempotency_key: str | None = None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line; a torn last line (the process died mid-write) is skipped."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def interrupted(journal_dir: Path) -> list[Interrupted]:
    """Bindings whose last journal entry is an intent or an unverified outcome, in runs that
    never reached ``run-end``."""
    found: list[Interrupted] = []
    if not Path(journal_dir).is_dir():
        return found
    for path in sorted(Path(journal_dir).glob("*.jsonl")):
        entries = read_jsonl(path)
        if any(e.get("event") == "run-end" for e in entries):
            continue
        last: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if "identity" in entry:
                last[entry["identity"]] = entry
        for identity, entry in last.items():
            if entry.get("event") != "committed":
                found.append(
                    Interrupted(
                        run_id=path.stem,
                        identity=identity,
                        address=entry.get("address", identity),
                        last_event=entry.get("event", "?"),
                        side=entry.get("side"),
                        idempotency_key=entry.get("idempotency_key"),
                    )
                )
    return found


def close_interrupted(journal_dir: Path, current_run: str, *, backup_dir: Path | None = None) -> list[str]:
    """Mark earlier unfinished runs as settled once a later apply has re-read their bindings, and
    return their ids. With ``backup_dir``, every backup such a run left half written is recorded
    as unfinished: which run began it, which settled it, and the backup that replaced it."""
    closed: list[str] = []
    if not Path(journal_dir).is_dir():
        return closed
    for path in sorted(Path(journal_dir).glob("*.jsonl")):
        if path.stem == current_run:
            continue
        entries = read_jsonl(path)
        if not any(e.get("event") == "run-end" for e in entries):
            closed.append(path.stem)
    if backup_dir is not None and closed:
        from engine.backup import settle_unfinished  # the journal alone stays light to import

        settle_unfinished(backup_dir, closed, settled_by=current_run or "a later run with nothing left to do")
    for run_id in closed:
        log = JsonlLog(Path(journal_dir) / f"{run_id}.jsonl")
        log.write({"event": "run-end", "settled_by_later_run": True, "settled_by": current_run or None})
        log.close()
    return closed
