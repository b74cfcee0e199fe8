"""The sandbox as a process (``tether sandbox serve``, ``python -m providers.sandbox``): load the
scenario, announce the address, serve until Ctrl-C or SIGTERM, exit cleanly.

``origins=N`` listens on N loopback addresses, one port (one origin per tenant, as vendors have).
``addresses`` names the loopback addresses to listen on instead: a benchmark that wants several
sandbox processes starts each as its own ordinary program, with its own share of the addresses and
its own port, so every tenant lives in exactly one process, as on separate vendor hosts. Each
process keeps its own world, faults and request log.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
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
    addresses: Sequence[str] = (),
) -> None:
    """``tether sandbox serve``: load, announce, serve until Ctrl-C or SIGTERM, exit cleanly."""
    check_bind_host(host, allow_remote)
    share = [address.strip() for address in addresses if address.strip()]
    if share and origins > 1:
        raise SandboxError("give either several origins or a list of addresses, not both")
    for address in share:
        check_bind_host(address, allow_remote)
    if len(share) > 1 and port == 0:
        raise SandboxError("several addresses share one port: choose it with --port")
    sandbox = Sandbox(seed=seed)
    sandbox.load_scenario_source(scenario)
    sandbox.set_faults(latency_ms=latency_ms, error_rate=error_rate)
    # The loaded world lives as long as the server: keep the cyclic GC from rescanning it
    # (hundreds of thousands of objects for a large scenario) while it answers requests.
    gc.collect()
    gc.freeze()
    first = share[0] if share else host

    def listening(bound: int) -> None:
        if share:
            more = f" and {len(share) - 1} more: {','.join(share[1:])}" if len(share) > 1 else ""
        elif origins > 1:
            more = f" and {origins - 1} more loopback addresses up to {loopback_origins(origins)[-1]}"
        else:
            more = ""
        print(f"tether sandbox listening on http://{_url_host(first)}:{bound}{more} (scenario: {scenario})", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signal(sandbox, first, port, listening, allow_remote, origins, share or None))


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
