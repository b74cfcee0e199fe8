"""``make bench-compare BASE=<git ref>``: an earlier tether's bench and this tree's, run turn about
on this machine, their walls side by side.

A speed claim is a ratio between two runs, and on a shared machine runs a few minutes apart differ
by a third. So this checks the earlier commit out (``git archive``, into ``.bench/base-<sha>/``,
with its own virtualenv, made once and kept), then runs its ``make bench`` cases and this tree's
alternately, the same cases each turn and the order swapped every round, each ``tether plan`` the
fastest of ``--repeat`` runs as the bench does. A busy minute then slows both sides.

It prints one JSON line per case (both fastest walls, every run's wall, the ratio after / before,
both speedups over a sequential client and both request counts), then a Markdown table on stderr.
Cases are ``SHOPS@LATENCY_MS``: by default the two of issue 11, 500 shops at 50 ms and 200 shops
(of 300 webhooks) at 25 ms. The earlier bench needs only to know ``--shops`` and ``--latency-ms``.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CASES = ("500@50", "200@25")
READY = ".bench-compare-ready"


def note(text: str) -> None:
    print(f"[bench-compare] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Case:
    shops: int
    latency_ms: float

    @classmethod
    def parse(cls, text: str) -> Case:
        shops, _, latency = text.partition("@")
        try:
            return cls(int(shops), float(latency or 50))
        except ValueError:
            raise SystemExit(f"bench-compare: a case is SHOPS@LATENCY_MS, such as 500@50; got {text!r}") from None

    @property
    def name(self) -> str:
        return f"shopify-{self.shops}@{self.latency_ms:g}ms"


@dataclass(frozen=True)
class Side:
    label: str  # "before" or "after"
    ref: str
    root: Path
    python: Path
    has_wide: bool  # its bench knows --wide-shops (and would run the wide case unless told not to)

    def command(self, case: Case, repeat: int, out_dir: Path) -> list[str]:
        command = [
            str(self.python), "-m", "tests.bench.run", "--shops", str(case.shops),
            "--latency-ms", f"{case.latency_ms:g}", "--sellers", "0", "--cpu-bindings", "0",
            "--rps-requests", "0", "--repeat", str(repeat), "--out-dir", str(out_dir),
        ]
        return command + (["--wide-shops", "0"] if self.has_wide else [])


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def _knows_wide(python: Path, root: Path) -> bool:
    shown = subprocess.run(
        [str(python), "-m", "tests.bench.run", "--help"], cwd=root, capture_output=True, text=True, check=True
    )
    return "--wide-shops" in shown.stdout


def base_side(ref: str) -> Side:
    """The tree of ``ref`` with a virtualenv of its own, made on first use."""
    sha = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    root = ROOT / ".bench" / f"base-{sha[:12]}"
    python = root / ".venv" / "bin" / "python"
    if not (root / READY).is_file():
        note(f"checking out {ref} ({sha[:12]}) into {root}")
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha], check=True, capture_output=True).stdout
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later: refuse links out of root
                tar.extractall(root, filter="data")
            else:
                tar.extractall(root)  # our own repository's archive
        note(f"installing {ref} into its own virtualenv (once)")
        subprocess.run([sys.executable, "-m", "venv", str(root / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(root)], check=True)
        (root / READY).write_text(sha + "\n", encoding="utf-8")
    return Side("before", f"{ref} ({sha[:12]})", root, python, _knows_wide(python, root))


def head_side() -> Side:
    python = Path(sys.executable)
    return Side("after", "this tree", ROOT, python, _knows_wide(python, ROOT))


def run_side(side: Side, case: Case, repeat: int) -> dict[str, Any]:
    """The side's bench line for the case (its fastest run)."""
    out_dir = ROOT / ".bench" / "compare" / side.label
    completed = subprocess.run(
        side.command(case, repeat, out_dir), cwd=side.root, capture_output=True, text=True, check=False
    )
    for text in completed.stdout.splitlines():
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("case") == f"shopify-{case.shops}" and "wall_s" in line:
            return line
    tail = "\n".join(completed.stderr.splitlines()[-5:])
    raise SystemExit(f"bench-compare: the {side.label} bench gave no line for {case.name}:\n{tail}")


def summarize(case: Case, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One case over every round: each side's fastest line, every wall it ran, and the ratio."""
    best_before = min(before, key=lambda line: line["wall_s"])
    best_after = min(after, key=lambda line: line["wall_s"])
    return {
        "case": case.name,
        "before_wall_s": best_before["wall_s"],
        "before_walls": [wall for line in before for wall in line.get("wall_runs_s", [line["wall_s"]])],
        "after_wall_s": best_after["wall_s"],
        "after_walls": [wall for line in after for wall in line.get("wall_runs_s", [line["wall_s"]])],
        "after_over_before": round(best_after["wall_s"] / best_before["wall_s"], 3),
        "before_speedup": best_before.get("speedup"),
        "after_speedup": best_after.get("speedup"),
        "before_requests": best_before.get("requests"),
        "after_requests": best_after.get("requests"),
        "before_phases": best_before.get("phases"),
        "after_phases": best_after.get("phases"),
    }


def table(rows: Iterable[dict[str, Any]], before_ref: str) -> str:
    lines = [
        f"before: {before_ref}; after: this tree; fastest wall of every run, seconds",
        "",
        "| case | before | after | after / before | speedup before -> after | requests before -> after |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['case']} | {row['before_wall_s']} | {row['after_wall_s']} | {row['after_over_before']} "
            f"| {row['before_speedup']}x -> {row['after_speedup']}x "
            f"| {row['before_requests']} -> {row['after_requests']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier commit (any git ref), e.g. a release tag")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help="SHOPS@LATENCY_MS, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="turns of both sides over every case")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each plan per bench; the fastest counts")
    args = parser.parse_args(argv)
    cases = [Case.parse(text) for text in args.cases.split(",") if text.strip()]
    before, after = base_side(args.base), head_side()
    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for number in range(max(1, args.rounds)):
        for case in cases:
            order = (before, after) if number % 2 == 0 else (after, before)
            for side in order:
                line = run_side(side, case, args.repeat)
                note(f"round {number + 1}, {case.name}, {side.label}: {line['wall_s']} s")
                lines.setdefault((case.name, side.label), []).append(line)
    rows = [summarize(case, lines[(case.name, "before")], lines[(case.name, "after")]) for case in cases]
    for row in rows:
        print(json.dumps(row), flush=True)
    print(table(rows, before.ref), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
