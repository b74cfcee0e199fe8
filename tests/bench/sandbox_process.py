"""The sandbox in its own process for the bench: started on a free port with its scenario, its
latency, its origins and workers; read (request logs, CPU) and stopped by its pid."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclass
class Sandbox:
    url: str
    urls: list[str]  # one per origin it listens on, ``url`` first
    process: subprocess.Popen[str]
    workers: list[int]  # the worker processes' pids; none when the sandbox is one process

    def get(self, path: str, url: str | None = None) -> Any:
        with urllib.request.urlopen((url or self.url) + path, timeout=120) as answer:
            return json.loads(answer.read())

    def send(self, method: str, path: str, body: Any = None, url: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request((url or self.url) + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read())

    def worker_urls(self) -> list[str]:
        """One address of each worker (worker w serves origin w first): each keeps its own log."""
        return self.urls[: max(1, len(self.workers))]

    def requests(self) -> list[dict[str, Any]]:
        return [entry for url in self.worker_urls() for entry in self.get("/_sandbox/requests", url)]

    def clear_requests(self) -> None:
        for url in self.worker_urls():
            self.send("DELETE", "/_sandbox/requests", url=url)

    def cpu(self) -> float | None:
        """CPU seconds of the sandbox and its workers so far."""
        times = [_proc_cpu(pid) for pid in (self.process.pid, *self.workers)]
        return None if any(t is None for t in times) else sum(t for t in times if t is not None)


@contextmanager
def sandbox(scenario: Path, latency_ms: float, origins: int = 1, workers: int = 1) -> Iterator[Sandbox]:
    """The sandbox in its own process (its own GIL), with ``workers`` processes sharing its
    origins when it has several, stopped by its pid however the case ends."""
    port = _free_port()
    workers = max(1, min(workers, origins))
    command = [
        sys.executable, "-m", "providers.sandbox", "--port", str(port), "--scenario", str(scenario),
        "--latency-ms", str(latency_ms), "--origins", str(origins), "--workers", str(workers),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening" not in line:
            raise RuntimeError(f"the sandbox did not start (exit {process.poll()}): {line.strip()}")
        urls = [f"http://{address}:{port}" for address in loopback_origins(origins)]
        pids = [int(pid) for pid in line.split("workers: ", 1)[1].split(")")[0].split(",")] if workers > 1 else []
        yield Sandbox(urls[0], urls, process, pids)
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
