"""Invariant 5: an apply killed (SIGKILL) at any failpoint loses no backup, records nothing
untrue, and converges when run again, without repeating a cancel."""

from __future__ import annotations

import json
import signal
from collections import Counter

import pytest

from engine.backup import BackupState, list_backups, verify_backup
from engine.failpoints import POINTS
from states.local import LocalStateStore
from tests.e2e.conftest import CANCELLED_IDS, Repo

pytestmark = pytest.mark.e2e

SWEEP = [(point, 1) for point in POINTS] + [("before-cancel", 3), ("after-cancel", 2), ("after-state-write", 4)]


def backed_up_ids(repo: Repo) -> set[str]:
    root = repo.root / ".tether" / "backups"
    ids = set()
    for manifest in list_backups(root) if root.exists() else []:
        if manifest.complete and not verify_backup(root, manifest.backup_id):
            ids.add(manifest.live_id)
    return ids


def check_invariants(repo: Repo) -> None:
    live = repo.live_ids()
    gone = CANCELLED_IDS - live
    assert gone <= backed_up_ids(repo), "a binding was cancelled without a verified backup"
    state = LocalStateStore(repo.root / ".tether" / "state.json").read()  # parses: never torn
    if state.serial:
        recorded = {r.live_id for r in state.records.values()}
        for live_id in CANCELLED_IDS - recorded:
            assert live_id not in live, f"the state dropped {live_id} as cancelled, but it is live"


def verify_exits_0(repo: Repo) -> str:
    """``tether backups verify`` as a user runs it: unfinished backups are reported, never failed."""
    checked = repo.tether_process("backups", "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return checked.stdout


@pytest.mark.parametrize("point,nth", SWEEP, ids=[f"{p}:{n}" for p, n in SWEEP])
def test_apply_killed_at_failpoint_converges(repo: Repo, point: str, nth: int) -> None:
    killed = repo.tether_process("apply", "--auto-approve", env={"TETHER_FAILPOINTS": f"{point}:{nth}"})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    check_invariants(repo)
    verify_exits_0(repo)

    resumed = repo.tether_process("apply", "--auto-approve")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_invariants(repo)
    assert not (repo.live_ids() & CANCELLED_IDS)
    assert backed_up_ids(repo) >= CANCELLED_IDS
    verify_exits_0(repo)

    # One mutation per cancelled binding over both runs: nothing was sent twice.
    mutations = Counter(str(r.get("operation") or r["path"]) for r in repo.mutating_requests())
    assert sum(mutations.values()) == len(CANCELLED_IDS), f"a cancel was sent twice: {mutations}"

    root = repo.root / ".tether" / "backups"
    unfinished = [m for m in list_backups(root) if m.state is BackupState.UNFINISHED]
    if point == "mid-backup":
        assert unfinished, "the kill while the backup was written left no unfinished backup"
    for manifest in unfinished:  # the resumed apply settled the dead run: it says so, and what replaced it
        assert manifest.unfinished is not None and manifest.unfinished.settled_by
        replaced_by = manifest.unfinished.replaced_by
        assert replaced_by is not None and not verify_backup(root, replaced_by)
    assert all(m.state is not BackupState.DAMAGED for m in list_backups(root))

    final = repo.tether_process("plan", "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    journals = list((repo.root / ".tether" / "journal").glob("*.jsonl"))
    for journal in journals:  # every run is closed: the interrupted one settled by the next
        events = [json.loads(line)["event"] for line in journal.read_text().splitlines() if line.strip()]
        assert "run-end" in events
