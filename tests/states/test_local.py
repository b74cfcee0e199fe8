"""The file store: the shared contract, then what only a real file can get wrong.

Bytes on disk (determinism, no rewrite on a no-op), crash safety of the write, clear refusal of a
corrupt or newer file, and the lock across real processes, ``kill -9`` included.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import LockError, StateError
from states import LocalStateStore, State, StateLock, encode, force_unlock, read_lock_info
from states.lock import lock_path_for
from tests.states import contract

REPO = Path(__file__).resolve().parents[2]


def _snapshot(path: Path) -> Any:
    if not path.exists():
        return None
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, info.st_ino


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "repo" / ".tether" / "state.json"


@pytest.mark.parametrize("check", contract.CHECKS, ids=lambda check: check.__name__)
def test_contract(check: Callable[[Any], None], state_path: Path) -> None:
    check(contract.Harness(make=lambda: LocalStateStore(state_path), snapshot=lambda: _snapshot(state_path)))


# --- bytes on disk -------------------------------------------------------------------------------


def test_same_content_in_any_insertion_order_gives_identical_bytes(state_path: Path) -> None:
    records = contract.varied_records()
    forward = State(lineage="L", serial=3, records={r.address: r for r in records})
    backward = State(lineage="L", serial=3, records={r.address: r for r in reversed(records)})
    assert list(forward.records) != list(backward.records)
    assert encode(forward) == encode(backward)

    store = LocalStateStore(state_path)
    store.persist(State.empty().with_records(records))
    before = _snapshot(state_path)
    store.persist(store.read().with_records(reversed(records)))
    assert _snapshot(state_path) == before


def test_file_layout_is_sorted_indented_utf8_with_trailing_newline(state_path: Path) -> None:
    store = LocalStateStore(state_path)
    written = store.persist(State.empty().with_records([contract.record("zeta"), contract.record("alpha", note="Grüße")]))
    text = state_path.read_bytes().decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert "Grüße" in text  # not \u-escaped
    doc = json.loads(text)
    assert list(doc) == ["format_version", "lineage", "records", "serial"]
    assert [r["address"] for r in doc["records"]] == ["alpha", "zeta"]
    assert doc["serial"] == written.serial == 1
    assert text.splitlines()[1] == '  "format_version": 1,'


def test_new_file_is_world_readable_but_existing_mode_is_kept(state_path: Path) -> None:
    store = LocalStateStore(state_path)
    state = store.persist(State.empty().with_record(contract.record("a")))
    assert state_path.stat().st_mode & 0o777 == 0o644
    os.chmod(state_path, 0o600)
    store.persist(state.with_record(contract.record("b")))
    assert state_path.stat().st_mode & 0o777 == 0o600


# --- crash safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_write_that_dies_before_the_rename_leaves_the_old_file_intact(
    state_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    store = LocalStateStore(state_path)
    old = store.persist(State.empty().with_record(contract.record("a")))
    old_bytes = state_path.read_bytes()

    def dying_replace(src: Any, dst: Any) -> None:
        assert Path(src).parent == state_path.parent  # the temp file sits beside the target
        assert Path(src).read_bytes() != old_bytes  # and already holds the whole new state
        raise failure

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises((StateError, KeyboardInterrupt)) as raised:
        store.persist(old.with_record(contract.record("b")))
    if isinstance(failure, OSError):
        assert "previous state is intact" in str(raised.value)
    monkeypatch.undo()
    assert state_path.read_bytes() == old_bytes
    assert sorted(p.name for p in state_path.parent.iterdir()) == ["state.json"]
    assert store.read() == old


def test_write_order_is_data_fsync_rename_then_directory_fsync(state_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStateStore(state_path)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.persist(State.empty().with_record(contract.record("a")))
    assert events == ["fsync-file", "replace", "fsync-dir"]


def test_taking_the_lock_clears_temp_files_of_killed_writes(state_path: Path) -> None:
    store = LocalStateStore(state_path)
    store.persist(State.empty().with_record(contract.record("a")))
    leftover = state_path.parent / ".state.json.abc123.tmp"
    leftover.write_text("half a state")
    assert store.leftover_temp_files() == [leftover]
    with store.lock("apply"):
        assert not leftover.exists()
    assert store.read().records.keys() == {"a"}


# --- refusing bad files --------------------------------------------------------------------------


def test_corrupt_json_names_file_line_column_and_the_way_back(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text('{\n  "format_version": 1,\n  "lineage": "x",\n  serial: 2\n}\n')
    with pytest.raises(StateError) as raised:
        LocalStateStore(state_path).read()
    message = str(raised.value)
    assert f"{state_path}:4:3:" in message
    assert "not valid JSON" in message
    assert f"git checkout -- {state_path}" in message


def test_corrupt_file_is_never_overwritten(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_bytes(b"<<<<<<< HEAD\n")
    with pytest.raises(StateError):
        LocalStateStore(state_path).persist(State.empty().with_record(contract.record("a")))
    assert state_path.read_bytes() == b"<<<<<<< HEAD\n"


def test_bad_record_is_reported_with_its_address_and_line(state_path: Path) -> None:
    store = LocalStateStore(state_path)
    store.persist(State.empty().with_records([contract.record("a"), contract.record("b")]))
    doc = json.loads(state_path.read_text())
    doc["records"][1]["status"] = "gone"
    state_path.write_text(json.dumps(doc, indent=2, sort_keys=True))
    with pytest.raises(StateError) as raised:
        store.read()
    message = str(raised.value)
    line = next(i for i, text in enumerate(state_path.read_text().splitlines(), 1) if '"address": "b"' in text)
    assert f"{state_path}:{line}:" in message
    assert "record 2 (b)" in message and "'gone'" in message


def test_newer_format_version_is_refused(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text(json.dumps({"format_version": 2, "lineage": "x", "serial": 1, "records": [], "new": {}}))
    with pytest.raises(StateError, match="written by a newer tether") as raised:
        LocalStateStore(state_path).read()
    assert "format_version 2" in str(raised.value)


def test_directory_in_place_of_the_file_is_a_clear_error(state_path: Path) -> None:
    state_path.mkdir(parents=True)
    with pytest.raises(StateError, match="is a directory"):
        LocalStateStore(state_path).read()


# --- the lock, within one process ----------------------------------------------------------------


def test_release_removes_the_lock_file(state_path: Path) -> None:
    lock = StateLock(state_path, "apply")
    info = lock.acquire()
    lock_file = lock_path_for(state_path)
    assert lock_file.name == "state.json.lock"
    assert read_lock_info(state_path) == info
    on_disk = json.loads(lock_file.read_text())
    assert set(on_disk) == {"id", "pid", "host", "user", "operation", "created"}
    assert on_disk["pid"] == os.getpid() and on_disk["created"].endswith("Z")
    lock.release()
    assert not lock_file.exists()
    lock.release()  # twice is harmless


def test_lock_file_left_by_a_dead_run_does_not_block(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    stale = {"id": "dead", "pid": 999999, "host": "h", "user": "u", "operation": "apply", "created": "2020-01-01T00:00:00Z"}
    lock_path_for(state_path).write_text(json.dumps(stale))
    with StateLock(state_path, "apply") as info:
        assert read_lock_info(state_path) == info
        assert info.id != "dead"


def test_a_lock_lost_to_force_unlock_does_not_remove_its_successor(state_path: Path) -> None:
    stuck = StateLock(state_path, "apply")
    stuck_info = stuck.acquire()
    force_unlock(state_path, stuck_info.id)
    successor = StateLock(state_path, "apply")
    successor_info = successor.acquire()
    stuck.release()
    assert read_lock_info(state_path) == successor_info
    with pytest.raises(LockError, match=successor_info.id):
        StateLock(state_path, "plan").acquire()
    successor.release()
    assert not lock_path_for(state_path).exists()


def test_winning_the_flock_on_an_unlinked_lock_file_retries_on_the_real_one(
    state_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_path.parent.mkdir(parents=True)
    lock_file = lock_path_for(state_path)
    lock_file.write_text("")
    orphan = os.open(lock_file, os.O_RDWR)  # a waiter opened the file, then the holder released it
    os.unlink(lock_file)
    opened: list[int] = []
    real_open = StateLock._open

    def open_orphan_first(self: StateLock) -> int:
        fd = orphan if not opened else real_open(self)
        opened.append(fd)
        return fd

    monkeypatch.setattr(StateLock, "_open", open_orphan_first)
    lock = StateLock(state_path, "apply")
    info = lock.acquire()
    try:
        assert len(opened) == 2
        assert read_lock_info(state_path) == info
        monkeypatch.undo()
        with pytest.raises(LockError, match=info.id):
            StateLock(state_path, "plan").acquire()
    finally:
        lock.release()


def test_holder_that_has_not_written_its_name_yet_is_still_a_holder(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    fd = os.open(lock_path_for(state_path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(LockError, match="has not said who it is yet"):
            StateLock(state_path, "apply").acquire()
    finally:
        os.close(fd)


def test_force_unlock_without_a_lock_file(state_path: Path) -> None:
    with pytest.raises(LockError, match="nothing to unlock"):
        force_unlock(state_path, "any")


# --- the lock, across processes ------------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from states.lock import StateLock
    info = StateLock(sys.argv[2], "apply").acquire()
    print(info.id, flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def child_holding_the_lock(state_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A separate python process that takes the lock, says its lock id, and sleeps until killed."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(REPO), str(state_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            lock_id = child.stdout.readline().strip() if child.stdout else ""
            assert lock_id, f"the child did not take the lock: {child.stderr.read() if child.stderr else ''}"
            yield child, lock_id
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()


def test_lock_held_by_another_process_names_it_and_dies_with_it(
    state_path: Path, child_holding_the_lock: tuple[subprocess.Popen[str], str]
) -> None:
    child, lock_id = child_holding_the_lock
    with pytest.raises(LockError) as refused:
        StateLock(state_path, "plan").acquire()
    message = str(refused.value)
    assert f"locked by apply (pid {child.pid}," in message
    assert f"lock id {lock_id}" in message
    assert f"`tether force-unlock {lock_id}`" in message

    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert lock_path_for(state_path).exists()  # left behind, yet no longer a lock
    with LocalStateStore(state_path).lock("apply") as info:
        assert info.pid == os.getpid()


def test_force_unlock_of_a_stuck_process_needs_its_id(
    state_path: Path, child_holding_the_lock: tuple[subprocess.Popen[str], str]
) -> None:
    child, lock_id = child_holding_the_lock
    store = LocalStateStore(state_path)
    with pytest.raises(LockError, match="does not match") as refused:
        store.force_unlock("00000000-0000-4000-8000-000000000000")
    assert f"pid {child.pid}" in str(refused.value)
    assert lock_path_for(state_path).exists()

    released = store.force_unlock(lock_id)
    assert (released.id, released.pid) == (lock_id, child.pid)
    with store.lock("apply") as info:
        assert info.id != lock_id
