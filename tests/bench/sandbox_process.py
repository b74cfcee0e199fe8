"""The sandbox for the bench: one or more ordinary ``python -m providers.sandbox`` processes,
started with subprocess on free ports with the case's scenario and latency. With several origins
and ``processes`` above 1, process ``k`` serves the origins ``k, k + processes, ...`` on its own
addresses and port, so every tenant lives in exactly one process, as on separate vendor hosts.
Read (request logs, CPU) and stopped by their pids."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.sandbox import loopback_origins

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_cpu(pid: int) -> float | None:
    """CPU seconds a live process used so far (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=120) as answer:
        return json.loads(answer.read())


def _send(method: str, url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


@dataclass
class Sandbox:
    url: str
    urls: list[str]  # one per origin, in origin order, ``url`` first
    processes: list[subprocess.Popen[str]]
    first_urls: list[str]  # one address of each process: each keeps its own log and faults

    def get(self, path: str, url: str | None = None) -> Any:
        return _get((url or self.url) + path)

    def send(self, method: str, path: str, body: Any = None, url: str | None = None) -> Any:
        return _send(method, (url or self.url) + path, body)

    def send_all(self, method: str, path: str, body: Any = None) -> None:
        """The same admin request to every process (faults, for instance)."""
        for url in self.first_urls:
            _send(method, url + path, body)

    def requests(self) -> list[dict[str, Any]]:
        return [entry for url in self.first_urls for entry in _get(url + "/_sandbox/requests")]

    def clear_requests(self) -> None:
        self.send_all("DELETE", "/_sandbox/requests")

    def cpu(self) -> float | None:
        """CPU seconds of every sandbox process so far."""
        times = [_proc_cpu(process.pid) for process in self.processes]
        return None if any(t is None for t in times) else sum(t for t in times if t is not None)


@contextmanager
def _process(command: list[str]) -> Iterator[subprocess.Popen[str]]:
    """One sandbox process, started and announced, stopped by its pid however the case ends."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_listening(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening" not in line:
        raise RuntimeError(f"the sandbox did not start (exit {process.poll()}): {line.strip()}")


@contextmanager
def sandbox(
    scenario: Path | Sequence[Path], latency_ms: float, origins: int = 1, processes: int = 1
) -> Iterator[Sandbox]:
    """The sandbox in ``processes`` independent processes (each its own GIL) sharing ``origins``
    loopback addresses, origin ``n`` served by process ``n % processes`` on that process's port.
    ``scenario`` is one file every process loads, or one file per process (its own tenants)."""
    count = max(1, min(processes, origins))
    scenarios = [scenario] * count if isinstance(scenario, Path) else list(scenario)
    if len(scenarios) != count:
        raise ValueError(f"{len(scenarios)} scenario files for {count} sandbox processes")
    addresses = loopback_origins(origins)
    ports = [_free_port() for _ in range(count)]
    with ExitStack() as stack:
        started = []
        for k, port in enumerate(ports):
            if count == 1:
                where = ["--origins", str(origins)]
            else:
                where = ["--addresses", ",".join(addresses[k::count])]
            command = [
                sys.executable, "-m", "providers.sandbox", "--scenario", str(scenarios[k]),
                "--latency-ms", str(latency_ms), "--port", str(port), *where,
            ]
            started.append(stack.enter_context(_process(command)))
        for process in started:  # all load their scenario at once, on their own cores
            _wait_listening(process)
        urls = [f"http://{address}:{ports[n % count]}" for n, address in enumerate(addresses)]
        yield Sandbox(urls[0], urls, started, urls[:count])
