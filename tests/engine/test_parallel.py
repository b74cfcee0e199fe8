"""engine.parallel.split_map: the same results as a plain map, in order, whoever computed them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import parallel
from engine.parallel import halves, split_map

ROOT = Path(__file__).resolve().parents[2]


def test_halves_balances_the_weights_and_keeps_each_part_in_order() -> None:
    first, second = halves([5, 1, 1, 1, 1, 1, 4])
    assert sorted(first + second) == list(range(7))
    assert first == sorted(first) and second == sorted(second)
    weights = [5, 1, 1, 1, 1, 1, 4]
    assert abs(sum(weights[i] for i in first) - sum(weights[i] for i in second)) <= 1


def test_below_the_minimum_weight_everything_is_done_here() -> None:
    assert split_map(lambda x: (x * 2, os.getpid()), [1, 2, 3], [1, 1, 1], min_weight=10) == [
        (2, os.getpid()),
        (4, os.getpid()),
        (6, os.getpid()),
    ]


def test_with_another_thread_running_it_never_forks() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not parallel.can_fork()
        pids = {pid for _, pid in split_map(lambda x: (x, os.getpid()), list(range(6)), [1] * 6, min_weight=0)}
        assert pids == {os.getpid()}
    finally:
        stop.set()
        other.join()


# Forking is checked in a fresh interpreter: the test process may have threads of its own.
FORKED = """
import os, sys
from engine.parallel import split_map
parent = os.getpid()
def square(x):
    if {fail_in_child} and os.getpid() != parent:
        raise RuntimeError("the child fails")
    return x * x, os.getpid()
results = split_map(square, list(range(10)), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], min_weight=0)
assert [value for value, _ in results] == [x * x for x in range(10)], results
pids = {{pid for _, pid in results}}
print(len(pids), parent in pids)
try:
    os.waitpid(-1, os.WNOHANG)
    print("a child is left")
except ChildProcessError:
    print("no child left")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")
@pytest.mark.parametrize(
    ("fail_in_child", "processes"),
    [(False, "2 True"), (True, "1 True")],  # a failed child is silent: its share is redone here
    ids=["about half in a forked child, back in order", "the child fails: its share is done here"],
)
def test_split_map_in_a_fresh_interpreter(fail_in_child: bool, processes: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORKED.format(fail_in_child=fail_in_child)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [processes, "no child left"]
    assert done.stderr == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")
def test_an_error_in_the_parents_share_propagates_and_the_child_is_reaped() -> None:
    code = """
import os
from engine.parallel import split_map
parent = os.getpid()
def work(x):
    if os.getpid() == parent:
        raise ValueError("bad file")
    return x
try:
    split_map(work, [1, 2, 3, 4], [1, 1, 1, 1], min_weight=0)
except ValueError as exc:
    print("raised:", exc)
try:
    os.waitpid(-1, os.WNOHANG)
    print("a child is left")
except ChildProcessError:
    print("no child left")
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["raised: bad file", "no child left"]


LOAD_BOTH_WAYS = """
import json, sys
from pathlib import Path
import engine.config as config
from engine import parallel
from engine.errors import ConfigError

forked = []
original = parallel.split_map
def watched(function, items, weights, *, min_weight):
    forked.append(parallel.can_fork() and sum(weights) >= min_weight)
    return original(function, items, weights, min_weight=min_weight)
config.split_map = watched

def load(threshold):
    config.PARALLEL_BYTES = threshold
    try:
        return ("ok", repr(config.load_config(cwd=Path(sys.argv[1]))))
    except ConfigError as exc:
        return ("error", [(d.file, d.line, d.message) for d in exc.diagnostics])

print(json.dumps({"forked": load(0), "here": load(1 << 40), "fork_used": forked}))
"""


def _write_config(root: Path, broken: bool) -> None:
    (root / "tether.d").mkdir()
    (root / "tether.yaml").write_text(
        "version: 1\naccounts:\n"
        + "".join(f"  shop-{n}: {{provider: manual, options: {{vendor: v{n}}}}}\n" for n in range(4))
    )
    for part in range(5):
        lines = ["integrations:"]
        for n in range(40):
            lines.append(f"  i-{part}-{n}: {{account: shop-{n % 4}, kind: carrier, match: {{name: \"c {part} {n}\"}}}}")
        if broken and part in (1, 3):
            lines.append(f"  bad-{part}: {{account: shop-9, kind: carriers, match: {{name: x}}}}")
        if broken and part == 4:
            lines.append("  dup: {account: shop-0, kind: carrier, match: {name: a}}")
            lines.append("  dup: {account: shop-0, kind: carrier, match: {name: b}}")
        (root / "tether.d" / f"{part:02d}.yaml").write_text("\n".join(lines) + "\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")
@pytest.mark.parametrize("broken", [False, True])
def test_a_configuration_loads_the_same_with_files_parsed_in_a_child(tmp_path: Path, broken: bool) -> None:
    """The same Config, or the same diagnostics with the same files and lines, either way."""
    import json

    _write_config(tmp_path, broken)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_BOTH_WAYS, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["fork_used"] == [True, False]
    assert outcome["forked"] == outcome["here"]
    status, detail = outcome["forked"]
    if broken:
        assert status == "error"
        files = {file for file, _, _ in detail}
        assert {"tether.d/01.yaml", "tether.d/03.yaml", "tether.d/04.yaml"} <= files
    else:
        assert status == "ok" and "i-4-39" in detail
