"""The sandbox over real HTTP: asyncio protocols + h11, no thread or task per request.

Provider code must meet the sandbox exactly as it meets a vendor: through sockets, keep-alive,
Content-Length framing and lost connections. ``h11`` already ships with httpx, so a real HTTP/1.1
server costs no new dependency. A request is answered inline as its bytes arrive; a latency
fault only delays writing the answer with a timer, so a thousand concurrent slow requests cost
a thousand timers, not a thousand threads or tasks.

The server binds to loopback unless told otherwise: the scenario's fake credentials are harmless,
but an emulator that accepts any write is not something to expose on a network by accident.

Real vendors are many origins (every Shopify shop is its own host), and an HTTP client keeps one
connection pool per origin. ``origins=N`` makes the sandbox listen on N loopback addresses
(127.0.0.1, 127.0.0.2, ...) on one port, so N tenants can each be reached at their own origin
(``loopback_origins``); every address serves the same router.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate
from typing import Any

import h11
import httpx

from providers.sandbox.errors import SandboxError
from providers.sandbox.router import Pending, Reply, Sandbox

log = logging.getLogger("tether.sandbox")

MAX_BODY = 16 * 1024 * 1024
_FRAMING = (b"transfer-encoding", b"content-length")  # the body reaches emulators whole
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


MAX_ORIGINS = 250 * 256


def loopback_origins(count: int) -> list[str]:
    """``count`` IPv4 loopback addresses, 127.0.0.1 first: one origin per tenant, as vendors have.
    Linux routes all of 127.0.0.0/8 to loopback with no setup."""
    if not 1 <= count <= MAX_ORIGINS:
        raise SandboxError(f"origins must be between 1 and {MAX_ORIGINS}, got {count}")
    return [f"127.0.{k // 250}.{k % 250 + 1}" for k in range(count)]


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
    """What every connection shares: the sandbox, the bound address, and what to stop on shutdown."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        self.authority = f"{_url_host(host)}:{port}"
        self.date = _DateHeader()
        self.connections: set[_Connection] = set()
        self.timers: set[asyncio.TimerHandle] = set()

    def to_httpx(self, event: h11.Request, body: bytes) -> httpx.Request:
        """The request as the client addressed it (its Host), so emulators can build absolute links."""
        method = event.method.decode("ascii")
        headers = [(name, value) for name, value in event.headers if name not in _FRAMING]
        target = event.target.decode("ascii", "replace")
        if target.startswith(("http://", "https://")):
            return httpx.Request(method, target, headers=headers, content=body)
        host = next((value for name, value in event.headers if name == b"host"), b"").decode("ascii", "replace")
        if host:
            with contextlib.suppress(httpx.InvalidURL):
                return httpx.Request(method, f"http://{host}{target}", headers=headers, content=body)
        return httpx.Request(method, f"http://{self.authority}{target}", headers=headers, content=body)

    def encode(self, conn: h11.Connection, response: httpx.Response, is_head: bool) -> bytes:
        body = response.content
        status = response.status_code
        headers = [(name, value) for name, value in response.headers.raw if name.lower() not in _HOP_BY_HOP]
        if status not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        if "date" not in response.headers:
            headers.append((b"date", self.date()))
        head = h11.Response(status_code=status, headers=headers, reason=response.reason_phrase.encode())
        out = conn.send(head) or b""
        if body and not (is_head or status in (204, 304)):
            out += conn.send(h11.Data(data=body)) or b""
        return out + (conn.send(h11.EndOfMessage()) or b"")

    async def shutdown(self) -> None:
        for connection in list(self.connections):
            connection.abort()
        for timer in list(self.timers):
            timer.cancel()
        self.timers.clear()


class _Connection(asyncio.Protocol):
    """One client connection: h11 parses, the sandbox answers, one request at a time in order.

    Without latency a request is answered inside ``data_received`` (no task, no await): that is
    what keeps a pure-Python server at thousands of requests per second. With latency the
    emulator still acts at once and the answer waits on a timer (``call_later``, cheaper than a
    task), and reading pauses until it is written, which also bounds what a pipelining client
    can make us buffer.
    """

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.conn = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None
        self.request: h11.Request | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.pending: asyncio.TimerHandle | None = None
        self.write_paused = False
        self.closed = False

    # -- asyncio callbacks ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # A pending answer still runs: a real server finishes work the client stopped waiting for.
        self.closed = True
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self._advance()

    def eof_received(self) -> bool:
        self.conn.receive_data(b"")
        self._advance()
        return True  # we close once the request in hand, if any, is answered

    def pause_writing(self) -> None:
        self.write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update_reading()
        self._advance()

    # -- the exchange ---------------------------------------------------------------------------

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _update_reading(self) -> None:
        if self.transport is None or self.closed:
            return
        if self.pending is None and not self.write_paused:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def _advance(self) -> None:
        """Consume parsed events until more data is needed or an answer is in flight."""
        while self.pending is None and not self.closed and not self.write_paused:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(exc.error_status_hint, b'{"errors": "bad request"}')
                return
            if event is h11.NEED_DATA:
                if self.conn.they_are_waiting_for_100_continue:
                    self._write(self.conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                return
            if isinstance(event, h11.Request):
                self.request, self.body, self.size = event, [], 0
            elif isinstance(event, h11.Data):
                self.size += len(event.data)
                if self.size > MAX_BODY:
                    self._fail(413, b'{"errors": "request body too large"}')
                    return
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            else:  # ConnectionClosed, or PAUSED after a close was decided
                self._close()
                return

    def _dispatch(self) -> None:
        assert self.request is not None
        try:
            request = self.server.to_httpx(self.request, b"".join(self.body))
        except httpx.InvalidURL:
            self._fail(400, b'{"errors": "bad request target"}')
            return
        self.body = []
        try:
            pending = self.server.sandbox.arrive(request)
        except Exception:
            log.exception("sandbox: failed to answer %s %s", request.method, request.url.path)
            self._fail(500, b'{"errors": "sandbox internal error"}')
            return
        if pending.delay > 0:
            # Latency: a timer, not a task per request; reading pauses until it is written.
            timer = asyncio.get_running_loop().call_later(pending.delay, self._answered, pending)
            self.pending = timer
            self.server.timers.add(timer)
            self._update_reading()
            return
        pending.finish_now()
        self._reply(pending.reply)

    def _answered(self, pending: Pending) -> None:
        if self.pending is not None:
            self.server.timers.discard(self.pending)
        self.pending = None
        pending.finish_now()
        self._reply(pending.reply)
        self._update_reading()
        self._advance()

    def _reply(self, reply: Reply) -> None:
        if reply.dropped:
            self.abort()  # the change happened; the client never hears of it
            return
        if self.closed:
            return
        assert self.request is not None
        try:
            self._write(self.server.encode(self.conn, reply.response, self.request.method == b"HEAD"))
        except h11.LocalProtocolError:
            log.exception("sandbox: could not encode the answer to %s", self.request.target)
            self.abort()
            return
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        else:
            self._close()

    def _fail(self, status: int, body: bytes) -> None:
        if not self.closed and self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            with contextlib.suppress(h11.ProtocolError):
                response = httpx.Response(status, content=body, headers={"content-type": "application/json"})
                self._write(self.server.encode(self.conn, response, False))
        self._close()

    def _write(self, data: bytes | None) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def serve(
    sandbox: Sandbox,
    host: str = "127.0.0.1",
    port: int = 8787,
    *,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    allow_remote: bool = False,
    origins: int = 1,
    addresses: Sequence[str] | None = None,
) -> None:
    """Serve until ``stop`` is set or the task is cancelled; ``ready`` gets the bound port.

    ``origins`` above 1 listens on that many loopback addresses (``loopback_origins``) on the
    same port; ``host`` must then be 127.0.0.1. ``addresses`` names the addresses to listen on
    instead (one process's share of the origins, see ``providers.sandbox.process``).
    """
    check_bind_host(host, allow_remote)
    if origins > 1 and host != "127.0.0.1":
        raise SandboxError("several origins are loopback addresses: use them with host 127.0.0.1")
    hosts = list(addresses) if addresses else loopback_origins(origins) if origins > 1 else [host]
    for address in hosts:
        check_bind_host(address, allow_remote)
    state = _Server(sandbox, host, port)
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    try:
        bound = port
        for address in hosts:
            try:
                server = await loop.create_server(
                    lambda: _Connection(state), address, bound, backlog=1024, reuse_address=True
                )
            except OSError as exc:  # the port is taken (another sandbox still running), or not ours
                why = "the port is already in use" if exc.errno == errno.EADDRINUSE else str(exc)
                raise SandboxError(
                    f"cannot listen on {_url_host(address)}:{bound}: {why}; "
                    "stop what holds that port, or choose another with --port"
                ) from None
            servers.append(server)
            bound = server.sockets[0].getsockname()[1]  # the others share the first one's port
        state.authority = f"{_url_host(host)}:{bound}"
        if ready is not None:
            ready(bound)
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        for server in servers:
            server.close()
        await state.shutdown()
        for server in servers:
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
        origins: int = 1,
    ) -> None:
        check_bind_host(host, allow_remote)
        self.origins = origins
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
        if not self.port:
            raise RuntimeError("the sandbox server has no port yet; use it as a context manager or call start()")
        return f"http://{_url_host(self.host)}:{self.port}"

    def urls(self) -> list[str]:
        """One URL per origin the server listens on (``url`` first)."""
        if self.origins <= 1:
            return [self.url]
        return [f"http://{address}:{self.port}" for address in loopback_origins(self.origins)]

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
                serve(
                    self.sandbox,
                    self.host,
                    self.port,
                    ready=self._on_ready,
                    stop=self._stop,
                    allow_remote=self.allow_remote,
                    origins=self.origins,
                )
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
