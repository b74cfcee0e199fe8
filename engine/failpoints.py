"""Named points in apply where a test can kill the process, to prove a crash anywhere is safe.

``TETHER_FAILPOINTS="after-backup"`` kills the process (SIGKILL, like ``kill -9``) the first time
apply reaches that point; ``"before-cancel:2"`` the second time. Several may be given, comma
separated. Unset in normal use, the check is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "apply-start",
    "before-backup",
    "mid-backup",
    "after-backup",
    "before-cancel",
    "after-cancel",
    "after-verify",
    "after-state-write",
)

_hits: dict[str, int] = {}


def _armed() -> dict[str, int]:
    armed = {}
    for item in os.environ.get("TETHER_FAILPOINTS", "").split(","):
        name, _, nth = item.strip().partition(":")
        if name:
            armed[name] = int(nth) if nth.isdigit() else 1
    return armed


def failpoint(name: str) -> None:
    armed = _armed()
    if name not in armed:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == armed[name]:
        os.kill(os.getpid(), signal.SIGKILL)
