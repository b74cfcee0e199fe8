"""``make bench``: refresh/plan benchmarks against the sandbox, one JSON line per case.

For each case it generates a scenario and its tether.yaml (tests.bench.scenarios), starts the
sandbox in its own process with latency (``python -m providers.sandbox``), runs ``tether plan``
as a child process and prints one JSON line. Every Shopify shop is its own host at Shopify
(``{shop}.myshopify.com``), so the sandbox listens on one loopback address per shop
(127.0.0.1, 127.0.0.2, ...) and each shop's endpoint names its own; SP-API sellers share their
region's one host, so they share one origin here too. A vendor answers from many servers: the
shops' origins are split among ``--sandbox-processes`` independent sandbox processes (2), each
loading and serving only its own shops on its own addresses and port, so the bench measures
tether rather than one emulator process. The line holds:

- ``wall_s`` of the whole command (start-up, config, refresh, plan, JSON output) and
  ``refresh_s``, the refresh alone (from its ``refresh.done`` log event), of the fastest of
  ``--repeat`` runs (3) against the same sandbox; ``wall_runs_s`` lists every run's wall, and
  ``phases`` where the fastest run's time went, and ``phases_cpu`` the CPU seconds of each
  (a phase whose CPU is close to its wall is bound by tether's own work, not by the network);
- ``floor_s`` with every term of the model (tests.bench.floor) and ``bound_by``; ``ratio`` and
  ``refresh_ratio`` are the two walls divided by the floor;
- ``sequential_s``: the same provider code with ``--parallelism 1`` over the first
  ``--sequential-sample`` accounts; its refresh is extrapolated linearly by request count
  (``sequential_refresh_s``) and the full run's non-refresh time (start-up, config, plan,
  output, which concurrency does not change) is added; ``speedup`` = sequential / wall and
  ``refresh_speedup`` = sequential refresh / refresh;
- ``requests`` and ``sandbox_429`` as the sandbox counted them (``sandbox_cpu_s`` its CPU,
  every process's, ``sandbox_processes`` how many), ``surfaced_429`` when a 429 made
  it into the plan's problems; ``requests_per_account`` (requests per shop for Shopify) and
  ``operations``, the count of each GraphQL operation the sandbox logged;
- ``peak_rss_mb`` and ``cpu_s`` of the tether process (``os.wait4``), ``bindings_per_cpu_s``.

Two cases have no ``tether plan``: ``sandbox-rps`` (how many requests a second the sandbox answers
with no latency, and its CPU per request) and ``cpu-plan-N`` (``make_plan`` over N bindings in
process, tests.bench.cpu).

Defaults fit a 2-core machine in a few minutes: 10, 100 and 500 shops, 20 SP-API sellers, 50 ms
of latency, ``--parallelism 64``; then the wide case, 200 shops of 300 webhooks each at 25 ms
(``shopify-200x300-25ms``: many small accounts, where a client's own cost per request shows).
``--shops``/``--sellers``/``--wide-*`` take any sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.shopify import DEFAULT_API_VERSION
from providers.shopify import queries as shopify_queries
from tests.bench.floor import floor
from tests.bench.loadgen import run_load
from tests.bench.sandbox_process import sandbox
from tests.bench.scenarios import SHOPIFY_TOKEN, Case, SellerShape, ShopShape, shopify_case, sp_api_case

ROOT = Path(__file__).resolve().parents[2]
PER_HOST = 32  # HttpFactory's default; the floor's per-host term uses it


def note(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def origins_for(case: Case) -> int:
    """How many origins the case's vendor has: one per shop for Shopify, one otherwise."""
    return case.accounts if case.shape.get("provider") == "shopify" else 1


def scenario_shares(case: Case, scenario: Path, processes: int) -> list[Path]:
    """The case's scenario split among the sandbox processes, each holding only the shops whose
    origins it serves (origin n, the n-th account's endpoint, is served by process n % processes),
    so every shop lives in exactly one process. One process, or a vendor on one origin: the whole
    scenario."""
    count = max(1, min(processes, origins_for(case)))
    if count == 1:
        return [scenario]
    whole = json.loads(scenario.read_text(encoding="utf-8"))
    shops = whole.get("shopify") or {}
    shares: list[dict[str, Any]] = [{} for _ in range(count)]
    for n, piece in enumerate(case.config.split("{url}")[1:]):  # the n-th endpoint's path
        handle = piece.split('"', 1)[0].removeprefix("/shopify/")
        shares[n % count][handle] = shops.pop(handle)
    if shops or set(whole) != {"shopify"}:
        raise RuntimeError(f"{case.name}: the scenario has shops or vendors no endpoint names")
    paths = []
    for k, share in enumerate(shares):
        path = scenario.with_name(f"scenario-{k}.json")
        path.write_text(json.dumps({"shopify": share}), encoding="utf-8")
        paths.append(path)
    return paths


def write_config(case: Case, folder: Path, urls: list[str]) -> Path:
    """tether.yaml with the n-th account's endpoint on the n-th origin (round robin)."""
    if len(urls) == 1:
        return case.write_config(folder, urls[0])
    pieces = case.config.split("{url}")
    text = pieces[0] + "".join(urls[n % len(urls)] + piece for n, piece in enumerate(pieces[1:]))
    config = folder / "tether.yaml"
    config.write_text(text, encoding="utf-8")
    return config


# tether's own entry point, plus one thing: at exit, the process's high-water RSS (VmHWM) goes to
# the file TETHER_BENCH_PEAK names. ru_maxrss from wait4 is kept too, but Linux carries the
# parent's RSS into a child's ru_maxrss across fork and exec, so it can overstate a small child.
_PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    with open(os.environ['TETHER_BENCH_PEAK'], 'w') as out:
                        out.write(line.split()[1])
    except OSError:
        pass
atexit.register(_peak)
sys.argv = ['tether', *sys.argv[1:]]
runpy.run_module('engine.cli', run_name='__main__', alter_sys=True)
"""


# The command's log events that time its phases (``--log-level info``), by the name printed.
PHASE_EVENTS = {
    "config.loaded": "config_s",
    "refresh.done": "refresh_s",
    "plan.made": "plan_s",
    "output.written": "output_s",
}


@dataclass
class PlanRun:
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    ru_maxrss_mb: float
    refresh: dict[str, Any]
    phases: dict[str, float]
    phases_cpu: dict[str, float]
    retries: int
    plan: dict[str, Any]
    stderr_tail: str


def tether_plan(folder: Path, config: Path, env: dict[str, str], parallelism: int) -> PlanRun:
    """``tether plan --format json`` as a child process; its own rusage through ``os.wait4``."""
    out_path, err_path, peak_path = folder / "plan.json", folder / "plan.log", folder / "plan.peak"
    peak_path.unlink(missing_ok=True)
    command = [
        sys.executable, "-c", _PEAK_WRAPPER, "--log-level", "info", "--log-format", "json",
        "plan", "--config", str(config), "--format", "json", "--parallelism", str(parallelism),
    ]
    child_env = {**os.environ, **env, "TETHER_BENCH_PEAK": str(peak_path)}
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=child_env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    refresh: dict[str, Any] = {}
    phases: dict[str, float] = {}
    phases_cpu: dict[str, float] = {}
    retries = 0
    log_text = err_path.read_text(encoding="utf-8", errors="replace")
    for line in log_text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "refresh.done":
            refresh = event
        if event.get("event") in PHASE_EVENTS:
            phases[PHASE_EVENTS[event["event"]]] = event.get("seconds", 0.0)
            phases_cpu[PHASE_EVENTS[event["event"]]] = event.get("cpu_s", 0.0)
        elif event.get("event") == "http.retry":
            retries += 1
    try:
        plan = json.loads(out_path.read_text(encoding="utf-8"))
    except ValueError:
        plan = {}
    try:
        peak_kb = float(peak_path.read_text())
    except (OSError, ValueError):
        peak_kb = float(usage.ru_maxrss)
    return PlanRun(
        exit_code=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak_kb / 1024,
        ru_maxrss_mb=usage.ru_maxrss / 1024,
        refresh=refresh,
        phases=phases,
        phases_cpu=phases_cpu,
        retries=retries,
        plan=plan,
        stderr_tail=log_text[-600:],
    )


@dataclass
class CaseRun:
    """The fastest of a case's runs, with what the sandbox saw of it, and every run's wall."""

    run: PlanRun
    requests: int
    throttled: int
    server_cpu: float | None
    operations: dict[str, int]
    walls: list[float]


def _operations(log: list[dict[str, Any]]) -> dict[str, int]:
    """Requests per GraphQL operation name (``(anonymous)`` for an unnamed one), most first."""
    counts = Counter(entry["operation"] or "(anonymous)" for entry in log if "operation" in entry)
    return dict(counts.most_common())


SANDBOX_PROCESSES = 2
"""Sandbox processes splitting the origins of a case with several (``--sandbox-processes``)."""


def _plan_case(
    case: Case, folder: Path, latency_ms: float, parallelism: int, repeat: int = 1, processes: int = SANDBOX_PROCESSES
) -> CaseRun:
    """Run ``tether plan`` for a case ``repeat`` times against one fresh sandbox (a plan changes
    nothing there) and keep the fastest run, as timeit does: on a shared machine the slower runs
    measure the neighbours."""
    scenario, _ = case.write(folder, "http://placeholder")
    runs: list[CaseRun] = []
    shares = scenario_shares(case, scenario, processes)
    with sandbox(shares, latency_ms, origins_for(case), len(shares)) as box:
        config = write_config(case, folder, box.urls)
        for _ in range(max(1, repeat)):
            box.clear_requests()  # each run's own requests
            cpu_before = box.cpu()
            run = tether_plan(folder, config, case.env, parallelism)
            cpu_after = box.cpu()
            log = box.requests()
            server_cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
            throttled = sum(1 for entry in log if entry.get("status") == 429)
            runs.append(CaseRun(run, len(log), throttled, server_cpu, _operations(log), []))
    fastest = min(runs, key=lambda r: r.run.wall_s)
    fastest.walls = [round(r.run.wall_s, 3) for r in runs]
    return fastest


def plan_case(
    case: Case,
    out: Path,
    latency_ms: float,
    parallelism: int,
    sample: int,
    repeat: int = 1,
    processes: int = SANDBOX_PROCESSES,
) -> dict[str, Any]:
    note(f"{case.name}: {case.accounts} accounts, {case.bindings} bindings")
    measured = _plan_case(case, out / case.name, latency_ms, parallelism, repeat, processes)
    run, requests, throttled, server_cpu, walls = (
        measured.run, measured.requests, measured.throttled, measured.server_cpu, measured.walls,
    )
    model = floor(case.loads, latency_ms / 1000, parallelism, PER_HOST)

    subset = case.subset(sample)
    note(f"{case.name}: sequential client (--parallelism 1) over {subset.accounts} of {case.accounts} accounts")
    sequential_case = _plan_case(subset, out / f"{case.name}-sequential", latency_ms, 1, 1, processes)
    seq_run, seq_requests = sequential_case.run, sequential_case.requests
    # Only the refresh depends on the client's concurrency: scale the sample's refresh by the
    # request count, and add the full run's own start-up, config, plan and output time.
    scale = requests / seq_requests if seq_requests else math.nan
    refresh_s = run.refresh.get("seconds")
    seq_refresh = seq_run.refresh.get("seconds")
    if refresh_s is not None and seq_refresh is not None:
        sequential_refresh = seq_refresh * scale
        sequential = sequential_refresh + (run.wall_s - refresh_s)
    else:
        sequential_refresh, sequential = math.nan, seq_run.wall_s * scale

    problems = [str(p) for p in run.plan.get("problems", ())]
    floor_s = model["floor_s"]
    line: dict[str, Any] = {
        "case": case.name,
        "provider": case.shape.get("provider"),
        "accounts": case.accounts,
        "bindings": case.bindings,
        "requests": requests,
        "requests_per_account": round(requests / case.accounts, 2) if case.accounts else None,
        "operations": measured.operations,
        "latency_ms": latency_ms,
        "parallelism": parallelism,
        "wall_s": round(run.wall_s, 3),
        "wall_runs_s": walls,
        "refresh_s": refresh_s,
        "floor_s": floor_s,
        "bound_by": model["bound_by"],
        "floor_terms": model["terms"],
        "model_requests": model["requests"],
        "ratio": round(run.wall_s / floor_s, 2) if floor_s else None,
        "refresh_ratio": round(refresh_s / floor_s, 2) if floor_s and refresh_s else None,
        "sequential_s": round(sequential, 2),
        "sequential_refresh_s": round(sequential_refresh, 2),
        "sequential_sample_accounts": subset.accounts,
        "sequential_sample_refresh_s": seq_refresh,
        "sequential_sample_requests": seq_requests,
        "speedup": round(sequential / run.wall_s, 1) if run.wall_s else None,
        "refresh_speedup": round(sequential_refresh / refresh_s, 1) if refresh_s else None,
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "ru_maxrss_mb": round(run.ru_maxrss_mb, 1),
        "cpu_s": round(run.cpu_s, 3),
        # Where the wall time went; "other_s" is start-up, imports, state and exit.
        "phases": {**run.phases, "other_s": round(run.wall_s - sum(run.phases.values()), 3)},
        "phases_cpu": run.phases_cpu,
        "bindings_per_cpu_s": round(case.bindings / run.cpu_s) if run.cpu_s else None,
        "sandbox_cpu_s": round(server_cpu, 3) if server_cpu is not None else None,
        "sandbox_processes": max(1, min(processes, origins_for(case))),
        "sandbox_429": throttled,
        "retries": run.retries,
        "surfaced_429": any("429" in p for p in problems)
        or (run.exit_code not in (0, 2) and "429" in run.stderr_tail),
        "exit_code": run.exit_code,
        "incomplete": len(run.plan.get("incomplete", ())),
        "actions": len(run.plan.get("actions", ())),
        "progress_first_s": run.refresh.get("first_s"),
        "progress_max_gap_s": run.refresh.get("max_gap_s"),
    }
    if run.exit_code not in (0, 2):
        line["error"] = run.stderr_tail
    per_account = "shop" if case.shape.get("provider") == "shopify" else "account"
    note(
        f"{case.name}: {requests} requests, {line['requests_per_account']} per {per_account}, "
        f"wall {line['wall_s']} s, {line['speedup']}x a sequential client"
    )
    return line


def sandbox_rps_case(out: Path, requests: int, connections: int) -> dict[str, Any]:
    """The sandbox alone, no latency, rate limits off: answers per second and CPU per answer, for
    a small GraphQL query (the app's installation) and a page of 250 webhook subscriptions."""
    case = shopify_case(20, name="sandbox-rps")
    scenario, _ = case.write(out / "sandbox-rps", "http://placeholder")
    line: dict[str, Any] = {"case": "sandbox-rps", "connections": connections}
    path = f"/shopify/bench-0001/admin/api/{DEFAULT_API_VERSION}/graphql.json"
    webhook_page = shopify_queries.NEXT_PAGE[shopify_queries.WEBHOOKS.resource]
    with sandbox(scenario, 0) as box:
        box.send("POST", "/_sandbox/faults", {"rate_limits": False})
        headers = {"X-Shopify-Access-Token": SHOPIFY_TOKEN, "Content-Type": "application/json"}
        for label, query, variables, count in (
            ("small", shopify_queries.INSTALLATION, {}, requests),
            ("page250", webhook_page, {"first": 250}, max(1, requests // 4)),
        ):
            body = json.dumps({"query": query, "variables": variables}).encode()
            before = box.cpu()
            result = asyncio.run(run_load(box.url + path, headers, count, connections, body=body))
            after = box.cpu()
            line[f"{label}_requests"] = count
            line[f"{label}_rps"] = round(result.rate)
            line[f"{label}_statuses"] = {str(k): v for k, v in sorted(result.statuses.items())}
            if before is not None and after is not None:
                per = (after - before) / count
                line[f"{label}_server_cpu_ms"] = round(per * 1000, 3)
                line[f"{label}_capacity_rps"] = round(1 / per) if per else None
            line[f"{label}_loadgen_cpu_ms"] = round(result.client_cpu_s / count * 1000, 3)
    return line


def cpu_case(bindings: int) -> dict[str, Any]:
    """tests.bench.cpu in a child process, so its peak RSS is its own."""
    note(f"cpu-plan: {bindings} bindings in process")
    command = [sys.executable, "-m", "tests.bench.cpu", "--bindings", str(bindings)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must know
    process.stdout.close()
    line = json.loads(output.strip().splitlines()[-1])
    line["ru_maxrss_mb"] = round(usage.ru_maxrss / 1024, 1)
    line["exit_code"] = process.returncode
    return line


def _compile_tether() -> None:
    """Byte-compile tether's packages, as an installed tether has them after its first run. Where
    PYTHONDONTWRITEBYTECODE is set (this machine sets it), every child would otherwise compile
    all of tether from source again: a third of a second of each measured command."""
    for package in ("engine", "providers", "states", "schemas"):
        compileall.compile_dir(ROOT / package, quiet=1)


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip() and int(part) > 0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--shops", default="10,100,500", help="Shopify cases, comma-separated shop counts")
    parser.add_argument("--webhooks", type=int, default=ShopShape.webhooks, help="webhooks per shop (250 a page)")
    parser.add_argument("--sellers", type=int, default=20, help="SP-API sellers (0: no SP-API case)")
    parser.add_argument("--subscriptions", type=int, default=SellerShape.subscriptions_per_type,
                        help="SP-API subscriptions per notification type (100 a page)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each plan case; the fastest is reported")
    parser.add_argument("--sequential-sample", type=int, default=10, help="accounts the sequential client runs")
    parser.add_argument("--cpu-bindings", type=int, default=100_000, help="0: no CPU-only case")
    parser.add_argument("--rps-requests", type=int, default=4000, help="0: no sandbox-rps case")
    parser.add_argument("--wide-shops", type=int, default=200, help="the wide case's shops (0: no wide case)")
    parser.add_argument("--wide-webhooks", type=int, default=300, help="the wide case's webhooks per shop")
    parser.add_argument("--wide-latency-ms", type=float, default=25.0, help="the wide case's latency")
    parser.add_argument("--sandbox-processes", type=int, default=SANDBOX_PROCESSES,
                        help="sandbox processes splitting a case's origins (one per shop for Shopify)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / ".bench")
    args = parser.parse_args(argv)
    _compile_tether()

    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    started = time.perf_counter()

    def emit(line: dict[str, Any]) -> None:
        text = json.dumps(line, sort_keys=False)
        print(text, flush=True)
        with results.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")

    shape = ShopShape(webhooks=args.webhooks)
    for shops in _sizes(args.shops):
        emit(plan_case(shopify_case(shops, shape), out, args.latency_ms, args.parallelism, args.sequential_sample, args.repeat, args.sandbox_processes))
    if args.wide_shops > 0:
        wide = shopify_case(
            args.wide_shops,
            ShopShape(webhooks=args.wide_webhooks),
            name=f"shopify-{args.wide_shops}x{args.wide_webhooks}-{args.wide_latency_ms:g}ms",
        )
        emit(plan_case(wide, out, args.wide_latency_ms, args.parallelism, args.sequential_sample, args.repeat, args.sandbox_processes))
    if args.sellers > 0:
        seller_shape = SellerShape(subscriptions_per_type=args.subscriptions)
        # Rate-limited: a sample would be bound by one seller's buckets, so the sequential client
        # runs every seller.
        emit(plan_case(sp_api_case(args.sellers, seller_shape), out, args.latency_ms, args.parallelism, args.sellers, args.repeat, args.sandbox_processes))
    if args.rps_requests > 0:
        note("sandbox-rps: the sandbox alone, no latency")
        emit(sandbox_rps_case(out, args.rps_requests, 16))
    if args.cpu_bindings > 0:
        emit(cpu_case(args.cpu_bindings))
    note(f"done in {time.perf_counter() - started:.0f} s; lines appended to {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
