"""The audit log of an apply: every mutating API call, with what apply was doing at the time.

``providers.http`` reports each mutating request to ``AuditTrail.hook``; apply sets
``audit_context`` (address, idempotency key, backup sha256) around each cancel, so every line says
which binding, which backup and which plan the call served.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.journal import JsonlLog

__all__ = ["AuditTrail", "audit_context"]

audit_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "tetheraudit_context", default=None
)


class AuditTrail:
    """Receives every mutating HTTP call (providers.http) and appends it to the audit log, with
    what apply was doing at the time (address, idempotency key, backup sha256, plan hash)."""

    def __init__(self, path: Path, run_id: str, plan_sha256: str) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.plan_sha256 = plan_sha256
        self._log: JsonlLog | None = None

    def hook(self, entry: Mapping[str, Any]) -> None:
        if self._log is None:
            self._log = JsonlLog(self.path)
        self._log.write(
            {
                "time": datetime.now().astimezone().isoformat(timespec="milliseconds"),
                "run_id": self.run_id,
                "plan_sha256": self.plan_sha256,
                **(audit_context.get() or {}),
                **entry,
            }
        )

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
