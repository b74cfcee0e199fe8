"""The ``tether`` console script ends as any Python program does (no ``os._exit``, no collector
switched off): its exit status, stdout, stderr and atexit hooks are the interpreter's own; only a
reader that went away (``tether plan | head``) is handled, quietly with status 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # print() buffers


def run_python(code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", code], cwd=ROOT, env=BUFFERED, capture_output=True, text=True, timeout=60, **kwargs
    )


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


def test_exit_hooks_run_and_the_collector_stays_on() -> None:
    """main() leaves through SystemExit: atexit hooks run and buffered output is flushed; the
    cyclic garbage collector is never switched off by a command."""
    done = run_python(
        "import atexit, gc, sys\n"
        "from engine.cli import main\n"
        "atexit.register(lambda: print('the hook ran, collector on:', gc.isenabled()))\n"
        "sys.argv = ['tether', 'providers']\n"
        "main()\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("the hook ran, collector on: True\n")
    assert "shopify" in done.stdout


def test_no_library_module_ends_the_process_or_switches_the_collector_off() -> None:
    """Process-wide tricks belong to nobody's library code (issue 11): no os._exit, no
    gc.disable, no forked children in engine/, states/ or providers/. (``gc.freeze()`` once in a
    main, after loading, is a setting a program may make: the sandbox server does. No exemption:
    several sandbox processes are separate programs started by whoever wants them.)"""
    offenders = []
    for package in ("engine", "states", "providers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for needle in ("os._exit(", "gc.disable(", "os.fork("):
                if needle in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def _into_closed_pipe(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(args, cwd=cwd, stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=60)
    finally:
        os.close(write_end)


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
    done = _into_closed_pipe(
        [sys.executable, "-m", "engine.cli", "state", "list"], tmp_path, {**BUFFERED, "PYTHONPATH": str(ROOT)}
    )
    assert done.stderr == b""
    assert done.returncode == 1


def test_buffered_output_into_a_closed_pipe_at_exit_ends_quietly() -> None:
    """What is still buffered when the command returns meets the closed pipe in main()'s own
    flush, after the command: still quiet, still status 1."""
    code = (
        "import sys\n"
        "from engine.cli import main\n"
        "print('x' * 100)\n"
        "sys.argv = ['tether', '--version']\n"
        "main()\n"
    )
    done = _into_closed_pipe([sys.executable, "-c", code], ROOT, BUFFERED)
    assert done.stderr == b""
    assert done.returncode == 1


def test_a_long_plain_report_into_a_closed_pipe_ends_quietly_too() -> None:
    """The plain-text path (no colours: engine.cli.common.print_text writes ``text.plain``
    itself) meets the closed pipe inside the command, where rich's own handling does not reach."""
    code = (
        "import typer\n"
        "from rich.text import Text\n"
        "from engine.cli.common import guard, print_text\n"
        "from engine.cli.main import _flush_stdout\n"
        "def body():\n"
        "    print_text(Text('a plan line\\n' * 100_000))\n"
        "    return 0\n"
        "try:\n"
        "    guard('en', body)\n"
        "except typer.Exit as stop:\n"
        "    exit_ = SystemExit(stop.exit_code)\n"
        "    _flush_stdout(exit_)\n"
        "    raise exit_\n"
    )
    done = _into_closed_pipe([sys.executable, "-c", code], ROOT, BUFFERED)
    assert done.stderr == b""
    assert done.returncode == 1


def test_the_cli_default_timeout_is_the_engine_default() -> None:
    from engine.cli.common import DEFAULT_TIMEOUT, parse_duration
    from engine.runner import DEFAULT_TIMEOUT_S

    assert parse_duration(DEFAULT_TIMEOUT, default_unit="s") == DEFAULT_TIMEOUT_S
