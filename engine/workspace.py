"""Where a run's files are: tether.yaml (+ tether.d/), and .tether/ beside it.

Everything under ``.tether/`` is resolved against the directory of the first config file, so
``tether --config path/to/tether.yaml`` behaves the same from anywhere.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

GITIGNORE = """\
# Written by tether init. state.json belongs in git; everything else here may hold
# customers' data (backups) or run details (journal, audit) and must stay out of it.
*
!.gitignore
!state.json
!config.schema.json
"""


@dataclass(frozen=True)
class Workspace:
    config_paths: tuple[Path, ...] | None  # None: ./tether.yaml + ./tether.d/*.yaml
    root: Path
    state_path: Path
    backup_dir: Path
    journal_dir: Path
    audit_dir: Path

    @classmethod
    def from_options(
        cls,
        config: list[Path] | None = None,
        state: Path | None = None,
        backup_dir: Path | None = None,
    ) -> Workspace:
        paths = tuple(Path(p) for p in config) if config else None
        root = (paths[0].parent if paths else Path.cwd()).resolve()
        dot = root / ".tether"
        return cls(
            config_paths=paths,
            root=root,
            state_path=Path(state) if state else dot / "state.json",
            backup_dir=Path(backup_dir) if backup_dir else dot / "backups",
            journal_dir=dot / "journal",
            audit_dir=dot / "audit",
        )

    def ensure_private_dirs(self) -> None:
        """Called by apply and init only: plan and friends write nothing."""
        for path in (self.backup_dir, self.journal_dir, self.audit_dir):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(path, 0o700)
        gitignore = self.root / ".tether" / ".gitignore"
        if gitignore.parent.is_dir() and not gitignore.exists():
            gitignore.write_text(GITIGNORE, encoding="utf-8")


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"{moment}-{uuid.uuid4().hex[:8]}"
