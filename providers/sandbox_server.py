"""The sandbox over real HTTP: asyncio + h11, one task per connection, no threads per request.

Provider code must meet the sandbox exactly as it meets a vendor: through sockets, keep-alive,
Content-Length framing and lost connections. ``h11`` already ships with httpx, so a real HTTP/1.1
server costs no new dependency. Everything slow (latency faults) is awaited, so a thousand
concurrent slow requests cost a thousand sleeping coroutines, not a thousand threads.

The server binds to loopback unless told otherwise: the scenario's fake credentials are harmless,
but an emulator that accepts any write is not something to expose on a network by accident.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import threading
import time
from email.utils import formatdate
from typing import Any, Callable, Mapping

import h11
import httpx

from providers.sandbox import Sandbox, SandboxError

log = logging.getLogger("tether.sandbox")

MAX_BODY = 16 * 1024 * 1024
_READ_SIZE = 65536
_HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"upgrade"})


def check_bind_host(host: str, allow_remote: bool = False) -> None:
    """Refuse anything but a loopback address unless remote access is asked for explicitly."""
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SandboxError(
            f"refusing to listen on {host}: the sandbox accepts any change from anyone who can reach it, "
            "so it binds to loopback (127.0.0.1) only; pass allow_remote to override"
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _DateHeader:
    """``Date`` changes once a second; formatting it per request would be wasted work."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def __call__(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = formatdate(now, usegmt=True).encode()
        return self._value


class _Server:
    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        self.authority = f"{_url_host(host)}:{port}"
        self.date = _DateHeader()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        self.writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            while await self._one_exchange(conn, reader, writer):
                conn.start_next_cycle()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except h11.ProtocolError:
            pass  # the peer broke HTTP after we started answering; nothing useful left to say
        except asyncio.CancelledError:
            # Shutdown. This task is the top of its stack, and asyncio's stream machinery reports a
            # cancelled connection task as an unhandled error, so end it quietly instead.
            pass
        finally:
            self.writers.discard(writer)
            if task is not None:
                self.tasks.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _one_exchange(self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request, answer it; false when the connection is to end."""
        try:
            event = await self._next_event(conn, reader)
            if not isinstance(event, h11.Request):
                return False
            body = await self._body(conn, reader, writer)
            if body is None:
                self._send(conn, writer, 413, b'{"errors": "request body too large"}')
                return False
            request = self._to_httpx(event, body)
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                self._send(conn, writer, exc.error_status_hint, b'{"errors": "bad request"}')
            return False
        except httpx.InvalidURL:
            self._send(conn, writer, 400, b'{"errors": "bad request target"}')
            return False

        try:
            reply = await self.sandbox.arespond(request)
        except Exception:
            log.exception("sandbox: failed to answer %s %s", event.method, request.url.path)
            self._send(conn, writer, 500, b'{"errors": "sandbox internal error"}')
            return False
        if reply.dropped:
            writer.transport.abort()  # the change happened; the client never hears of it
            return False
        is_head = event.method == b"HEAD"
        self._send_response(conn, writer, reply.response, is_head)
        await writer.drain()
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    @staticmethod
    async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(await reader.read(_READ_SIZE))

    async def _body(self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes | None:
        if conn.they_are_waiting_for_100_continue:
            writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b"")
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._next_event(conn, reader)
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    return None
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            else:  # ConnectionClosed mid-body
                raise ConnectionError("the client closed the connection mid-request")

    def _to_httpx(self, event: h11.Request, body: bytes) -> httpx.Request:
        """The request as the client addressed it (its Host), so emulators can build absolute links."""
        method = event.method.decode("ascii")
        headers = [(name, value) for name, value in event.headers if name not in (b"transfer-encoding", b"content-length")]
        target = event.target.decode("ascii", "replace")
        if target.startswith(("http://", "https://")):
            return httpx.Request(method, target, headers=headers, content=body)
        host = next((value for name, value in event.headers if name == b"host"), b"").decode("ascii", "replace")
        if host:
            with contextlib.suppress(httpx.InvalidURL):
                return httpx.Request(method, f"http://{host}{target}", headers=headers, content=body)
        return httpx.Request(method, f"http://{self.authority}{target}", headers=headers, content=body)

    def _send_response(self, conn: h11.Connection, writer: asyncio.StreamWriter, response: httpx.Response, is_head: bool) -> None:
        body = response.content
        status = response.status_code
        no_body = is_head or status in (204, 304) or status < 200
        headers = [(name, value) for name, value in response.headers.raw if name.lower() not in _HOP_BY_HOP]
        if status not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        if not any(name.lower() == b"date" for name, _ in headers):
            headers.append((b"date", self.date()))
        out = [conn.send(h11.Response(status_code=status, headers=headers, reason=response.reason_phrase.encode()))]
        if body and not no_body:
            out.append(conn.send(h11.Data(data=body)))
        out.append(conn.send(h11.EndOfMessage()))
        writer.write(b"".join(part for part in out if part))

    def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        with contextlib.suppress(h11.ProtocolError):
            self._send_response(conn, writer, httpx.Response(status, content=body, headers={"content-type": "application/json"}), False)

    async def shutdown(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()
        tasks = [task for task in self.tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


async def serve(
    sandbox: Sandbox,
    host: str = "127.0.0.1",
    port: int = 8787,
    *,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    allow_remote: bool = False,
) -> None:
    """Serve until ``stop`` is set or the task is cancelled; ``ready`` gets the bound port."""
    check_bind_host(host, allow_remote)
    server_state: _Server | None = None

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert server_state is not None
        await server_state.connection(reader, writer)

    server = await asyncio.start_server(on_connection, host, port, backlog=1024, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    server_state = _Server(sandbox, host, bound)
    try:
        if ready is not None:
            ready(bound)
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        server.close()
        await server_state.shutdown()
        await server.wait_closed()
        for _ in range(3):  # let the transports' close callbacks run before the loop goes away
            await asyncio.sleep(0)


class SandboxServer:
    """The sandbox over HTTP on an ephemeral loopback port, in a background thread with its own loop.

    ``with SandboxServer(scenario="demo") as server: ... server.url ...`` is how tests and the demo
    run the real provider code against real sockets without managing a process.
    """

    def __init__(
        self,
        sandbox: Sandbox | None = None,
        *,
        scenario: Mapping[str, Any] | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
    ) -> None:
        check_bind_host(host, allow_remote)
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        if isinstance(scenario, str):
            self.sandbox.load_scenario_source(scenario)
        elif scenario is not None:
            self.sandbox.load_scenario(scenario)
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        if self._thread is None:
            raise RuntimeError("the sandbox server is not running; use it as a context manager or call start()")
        return f"http://{_url_host(self.host)}:{self.port}"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already running")
        self._started.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="tether-sandbox", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError("the sandbox server did not start in time")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def _on_ready(self, port: int) -> None:
        self.port = port
        self._started.set()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._stop = asyncio.Event()
            loop.run_until_complete(
                serve(self.sandbox, self.host, self.port, ready=self._on_ready, stop=self._stop, allow_remote=self.allow_remote)
            )
        except BaseException as exc:  # surfaced to start(); a thread must not die silently
            self._error = exc
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._started.set()

    def stop(self, timeout: float = 10.0) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main_serve(
    port: int = 8787,
    scenario: str = "demo",
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    host: str = "127.0.0.1",
    *,
    allow_remote: bool = False,
    seed: int = 0,
) -> None:
    """``tether sandbox serve``: load, announce, serve until Ctrl-C or SIGTERM, exit cleanly."""
    check_bind_host(host, allow_remote)
    sandbox = Sandbox(seed=seed)
    sandbox.load_scenario_source(scenario)
    sandbox.set_faults(latency_ms=latency_ms, error_rate=error_rate)

    def announce(bound: int) -> None:
        print(f"tether sandbox listening on http://{_url_host(host)}:{bound} (scenario: {scenario})", flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
        try:
            await serve(sandbox, host, port, ready=announce, stop=stop, allow_remote=allow_remote)
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
