"""The sandbox as a process (``tether sandbox serve``, ``python -m providers.sandbox``): load the
scenario, announce the address, serve until Ctrl-C or SIGTERM, exit cleanly.

With several origins (one loopback address per tenant) it may also run ``workers`` processes,
forked once the scenario is loaded, each serving its share of the addresses (worker ``w`` the
addresses ``w, w + workers, ...``): a vendor answers from many servers, and a single sandbox
process executing GraphQL for hundreds of shops is otherwise what a benchmark measures. Each
worker keeps its own copy of the world, its own faults and its own request log, reached through
any of its addresses (the first worker's first address is the announced URL); a tenant's requests
always reach the same worker, so its state stays consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import Callable, Sequence

from providers.sandbox.errors import SandboxError
from providers.sandbox.router import Sandbox
from providers.sandbox.server import _url_host, check_bind_host, loopback_origins, serve


def main_serve(
    port: int = 8787,
    scenario: str = "demo",
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    host: str = "127.0.0.1",
    *,
    allow_remote: bool = False,
    seed: int = 0,
    origins: int = 1,
    workers: int = 1,
) -> None:
    """``tether sandbox serve``: load, announce, serve until Ctrl-C or SIGTERM, exit cleanly."""
    check_bind_host(host, allow_remote)
    if workers > 1 and (origins < workers or port == 0):
        raise SandboxError("several workers need at least as many origins, and a fixed --port")
    sandbox = Sandbox(seed=seed)
    sandbox.load_scenario_source(scenario)
    sandbox.set_faults(latency_ms=latency_ms, error_rate=error_rate)
    # The loaded world lives as long as the server: keep the cyclic GC from rescanning it
    # (hundreds of thousands of objects for a large scenario) while it answers requests.
    gc.collect()
    gc.freeze()

    def announce(bound: int, pids: Sequence[int] = ()) -> None:
        more = f" and {origins - 1} more loopback addresses up to {loopback_origins(origins)[-1]}" if origins > 1 else ""
        extra = f"; workers: {','.join(map(str, pids))}" if pids else ""
        print(
            f"tether sandbox listening on http://{_url_host(host)}:{bound}{more} (scenario: {scenario}{extra})",
            flush=True,
        )

    if workers > 1:
        _serve_workers(sandbox, port, loopback_origins(origins), workers, announce)
        return
    def listening(bound: int) -> None:
        announce(bound, ())

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signal(sandbox, host, port, listening, allow_remote, origins, None))


Announce = Callable[[int, Sequence[int]], None]


async def _serve_until_signal(
    sandbox: Sandbox,
    host: str,
    port: int,
    ready: Callable[[int], None],
    allow_remote: bool,
    origins: int,
    addresses: Sequence[str] | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        await serve(
            sandbox,
            host,
            port,
            ready=ready,
            stop=stop,
            allow_remote=allow_remote,
            origins=origins,
            addresses=addresses,
        )
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def _serve_workers(sandbox: Sandbox, port: int, addresses: list[str], workers: int, announce: Announce) -> None:
    """Fork the workers, announce once all listen, and stop them all on SIGTERM or Ctrl-C."""
    stopping = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stopping)  # until sigwait; workers unblock at once
    ready_read, ready_write = os.pipe()
    pids: list[int] = []
    try:
        for worker in range(workers):
            pid = os.fork()
            if pid == 0:  # the worker: serve its share, then leave without running the parent's exit code
                os.close(ready_read)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
                code = 0

                def listening(bound: int) -> None:
                    os.write(ready_write, b"1")

                try:
                    share = addresses[worker::workers]
                    asyncio.run(_serve_until_signal(sandbox, "127.0.0.1", port, listening, False, 1, share))
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)  # a forked child must not return into its parent's stack
            pids.append(pid)
        os.close(ready_write)
        started = 0
        while started < workers:
            chunk = os.read(ready_read, workers)
            if not chunk:
                break
            started += len(chunk)
        os.close(ready_read)
        if started < workers:
            raise SandboxError(f"only {started} of {workers} sandbox workers could listen on port {port}")
        announce(port, pids)
        signal.sigwait(stopping)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
