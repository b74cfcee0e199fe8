"""engine.cli.main ends the process with ``leave``: the exit status, stdout, stderr and atexit hooks
must come out exactly as ``sys.exit`` would give them, only without tearing every object down; and
engine.gctune keeps a command's objects and the collector off only when that exit follows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # print() buffers


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=BUFFERED, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("argument", "status", "stderr"),
    [("None", 0, ""), ("0", 0, ""), ("3", 3, ""), ("'a message'", 1, "a message\n")],
)
def test_leave_exits_as_sys_exit_would_after_the_hooks_and_the_buffered_output(
    argument: str, status: int, stderr: str
) -> None:
    done = run_python(
        "import atexit\n"
        "from engine.cli import leave\n"
        "atexit.register(lambda: print('the hook ran'))\n"
        "print('buffered, not yet flushed', end=' ')\n"
        f"leave({argument})\n"
        "print('never reached')\n"
    )
    assert done.returncode == status
    assert done.stdout == "buffered, not yet flushed the hook ran\n"
    assert done.stderr == stderr


def test_leave_on_a_closed_pipe_exits_1_quietly() -> None:
    """``tether plan | head``: the reader has gone before the output is flushed."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import sys\nfrom engine.cli import leave\nprint('x' * 100)\nleave(0)\n"],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=BUFFERED,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == b""


def test_the_console_script_prints_its_version_and_exits_zero() -> None:
    """--version is eager: before, it answered "Missing command" with status 2."""
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tether ")
    assert done.stderr == ""


def test_the_console_script_keeps_the_status_of_a_failed_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "plan", "--config", str(tmp_path / "missing.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "missing.yaml" in done.stderr


def test_without_an_exit_to_follow_objects_are_freed_and_the_collector_comes_back() -> None:
    """Commands also run inside tests and from code that goes on afterwards."""
    import gc
    import weakref

    from engine import gctune

    class Made:
        pass

    assert gctune._kept is None
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        with gctune.batch():
            assert not gc.isenabled()
            made = Made()
            assert gctune.kept(made) is made
            alive = weakref.ref(made)
            del made
        assert alive() is None
        assert gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()


def test_when_the_exit_follows_the_command_keeps_its_objects_and_the_collector_stays_off() -> None:
    done = run_python(
        "import gc, weakref\n"
        "from engine import gctune\n"
        "class Made: pass\n"
        "gctune.exit_follows()\n"
        "with gctune.batch():\n"
        "    alive = weakref.ref(gctune.kept(Made()))\n"
        "print(alive() is not None, gc.isenabled())\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "True False\n"


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`tether state list | head`, the pipe closed: no "internal error", no traceback, status
    1 (rich's own convention for what it prints)."""
    from states.local import LocalStateStore
    from states.model import Record, RecordStatus, State

    (tmp_path / "tether.yaml").write_text("version: 1\naccounts:\n  a: {provider: manual, options: {vendor: v}}\n")
    records = [
        Record(f"binding-{n}", "a", "manual", "carrier", str(n), f"carrier {n}", None, RecordStatus.LIVE)
        for n in range(2000)
    ]
    LocalStateStore(tmp_path / ".tether" / "state.json").persist(State.empty().with_records(records))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "engine.cli", "state", "list"],
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**BUFFERED, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr == b""
    assert done.returncode == 1


def test_a_long_plain_report_into_a_closed_pipe_ends_quietly_too() -> None:
    """The plain-text path (no colours: engine.cli._print_text writes ``text.plain`` itself)
    meets the closed pipe inside the command, where rich's own handling does not reach."""
    code = (
        "import typer\n"
        "from rich.text import Text\n"
        "from engine.cli import _guard, _print_text, leave\n"
        "def body():\n"
        "    _print_text(Text('a plan line\\n' * 100_000))\n"
        "    return 0\n"
        "try:\n"
        "    _guard('en', body)\n"
        "except typer.Exit as stop:\n"
        "    leave(stop.exit_code)\n"
    )
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, env=BUFFERED, timeout=60
        )
    finally:
        os.close(write_end)
    assert done.stderr == b""
    assert done.returncode == 1
