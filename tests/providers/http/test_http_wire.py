"""providers/http against real sockets on loopback: servers that behave as real ones do.

Each server here is a plain threaded socket server that records every request it reads, so a
test can count exactly what reached it: a server that closes idle keep-alive connections without
saying so, one that takes a change and never answers, one behind TLS with a private CA, and ones
that answer more than the client may read.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import trustme

from providers.http import HttpFactory, ResponseTooLargeError, RetryPolicy
from providers.sdk.errors import ProviderError, ResponseLostError

pytestmark = pytest.mark.e2e

Behaviour = Callable[[socket.socket, "Received"], bool]
"""Answers one request on a connection; returns whether the connection may take another."""


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    body: bytes


@dataclass
class WireServer:
    """Loopback HTTP/1.1 server, a thread per connection, answering with ``behaviour``."""

    behaviour: Behaviour
    tls: ssl.SSLContext | None = None
    idle_close: float | None = None  # close a connection idle this long, with no notice
    received: list[Received] = field(default_factory=list)
    sent_bytes: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def count(self, method: str) -> int:
        with self._lock:
            return sum(1 for r in self.received if r.method == method)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            reader = conn.makefile("rb")
            while True:
                if self.idle_close is not None:
                    conn.settimeout(self.idle_close)
                try:
                    line = reader.readline()
                except TimeoutError:
                    return  # idle too long: close without a word, as load balancers do
                if not line:
                    return
                conn.settimeout(None)
                method, path, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                request = Received(method, path, reader.read(length) if length else b"")
                with self._lock:
                    self.received.append(request)
                if not self.behaviour(conn, request):
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()


@contextlib.contextmanager
def wire(behaviour: Behaviour, **kwargs: object) -> Iterator[WireServer]:
    server = WireServer(behaviour, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.close()


def ok(conn: socket.socket, request: Received) -> bool:
    """200 with a small JSON body and no ``Connection`` header: the connection looks reusable."""
    body = b'{"ok": true, "path": "%s"}' % request.path.encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


def fast_policy() -> RetryPolicy:
    return RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


# -- a server that closes idle keep-alive connections without saying so --------------------------


@pytest.mark.parametrize("idle_close", [0.0, 0.05])
def test_gets_and_posts_with_idle_gaps_all_succeed_and_each_post_arrives_once(idle_close: float) -> None:
    """nginx, cloud load balancers and CDNs close an idle keep-alive connection after answering,
    without ``Connection: close``. The client must not send on the dead connection: a POST sent
    there is lost (and must not be sent twice), a GET only survives by being retried."""

    def answer_then_maybe_close(conn: socket.socket, request: Received) -> bool:
        ok(conn, request)
        return idle_close > 0  # 0: close right after answering

    with wire(answer_then_maybe_close, idle_close=idle_close or None) as server:

        async def run() -> list[int]:
            factory = HttpFactory(retry=RetryPolicy(attempts=1))  # no retry may hide a lost request
            statuses = []
            try:
                api = factory.client(server.url(), provider="vendor", account="acct")
                for i in range(4):
                    statuses.append((await api.request("GET", f"/things?page={i}")).status_code)
                    await asyncio.sleep(0.15)  # idle longer than the server keeps the connection
                for i in range(4):
                    response = await api.request("POST", f"/things/{i}/cancel", json={"n": i})
                    statuses.append(response.status_code)
                    await asyncio.sleep(0.15)
            finally:
                await factory.aclose()
            return statuses

        assert asyncio.run(run()) == [200] * 8
        assert server.count("GET") == 4
        assert [r.path for r in server.received if r.method == "POST"] == [f"/things/{i}/cancel" for i in range(4)]


def test_busy_connections_are_reused_while_the_server_keeps_them() -> None:
    with wire(ok) as server:
        connections: list[int] = []

        async def run() -> None:
            factory = HttpFactory()
            try:
                api = factory.client(server.url(), provider="vendor", account="acct")
                for _ in range(5):
                    await api.request("GET", "/x")
                pool = factory.http_client(server.url())._transport._pool  # type: ignore[attr-defined]
                connections.append(len(pool.connections))
            finally:
                await factory.aclose()

        asyncio.run(run())
        assert connections == [1] and server.count("GET") == 5


def test_concurrent_requests_to_one_origin_fill_small_pools_up_to_the_host_limit() -> None:
    """One origin's connections are split over pools of ``pool_size`` (CPU per request grows with
    the square of a pool's size in httpcore); pools are made only as the earlier ones fill, and
    never more connections than ``per_host``."""

    def slow_ok(conn: socket.socket, request: Received) -> bool:
        time.sleep(0.1)
        return ok(conn, request)

    with wire(slow_ok) as server:
        shape: list[object] = []

        async def run() -> None:
            factory = HttpFactory(per_host=10, pool_size=4)
            try:
                api = factory.client(server.url(), provider="vendor", account="acct")
                await api.request("GET", "/warm")
                shape.append(len(factory.pools(server.url()).clients))  # one request: one pool
                answers = await asyncio.gather(*(api.request("GET", f"/x/{n}") for n in range(25)))
                assert {a.status_code for a in answers} == {200}
                pools = factory.pools(server.url())
                sizes = [len(c._transport._pool.connections) for c in pools.clients]  # type: ignore[attr-defined]
                shape.extend([len(pools.clients), max(sizes), sum(sizes)])
            finally:
                await factory.aclose()

        asyncio.run(run())
        assert shape[0] == 1
        assert shape[1] == 3 and shape[2] <= 4 and shape[3] <= 10  # ceil(10 / 4) pools
        assert server.count("GET") == 26


# -- a change whose answer is lost -------------------------------------------------------------


def hang_up(conn: socket.socket, request: Received) -> bool:
    """Takes the request whole, then closes without answering."""
    return False


def never_answer(conn: socket.socket, request: Received) -> bool:
    time.sleep(2.0)
    return False


@pytest.mark.parametrize(("behaviour", "error"), [(hang_up, "RemoteProtocolError"), (never_answer, "ReadTimeout")])
def test_a_lost_answer_to_a_post_raises_response_lost_and_is_not_sent_again(behaviour: Behaviour, error: str) -> None:
    with wire(behaviour) as server:

        async def run() -> BaseException:
            factory = HttpFactory(retry=fast_policy(), timeout=0.5)
            try:
                api = factory.client(server.url(), provider="vendor", account="acct")
                with pytest.raises(ResponseLostError) as caught:
                    await api.request("POST", "/things/1/cancel", json={})
                return caught.value
            finally:
                await factory.aclose()

        lost = asyncio.run(run())
        assert server.count("POST") == 1
        assert error in str(lost) and "not sent again" in str(lost) and "/things/1/cancel" in str(lost)


def test_a_lost_answer_to_a_get_is_asked_again() -> None:
    answered: list[bool] = []

    def first_hangs_up(conn: socket.socket, request: Received) -> bool:
        if not answered:
            answered.append(False)
            return False
        return ok(conn, request)

    with wire(first_hangs_up) as server:

        async def run() -> int:
            factory = HttpFactory(retry=fast_policy())
            try:
                api = factory.client(server.url(), provider="vendor", account="acct")
                return (await api.request("GET", "/things")).status_code
            finally:
                await factory.aclose()

        assert asyncio.run(run()) == 200
        assert server.count("GET") == 2


# -- TLS with a private CA -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


def test_tls_on_loopback_with_a_ca_the_factory_is_given(ca: trustme.CA) -> None:
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    with wire(ok, tls=_tls_server_context(ca)) as server:

        async def run() -> tuple[int, int]:
            factory = HttpFactory(ssl_context=trusting, retry=fast_policy())
            try:
                api = factory.client(server.url("localhost"), provider="vendor", account="acct")
                first = await api.request("GET", "/a")
                second = await api.request("POST", "/b", json={})
                return first.status_code, second.status_code
            finally:
                await factory.aclose()

        assert asyncio.run(run()) == (200, 200)
        assert [r.path for r in server.received] == ["/a", "/b"]


def test_tls_to_a_server_whose_ca_is_not_trusted_fails_clearly_and_sends_nothing(ca: trustme.CA) -> None:
    with wire(ok, tls=_tls_server_context(ca)) as server:

        async def run() -> None:
            factory = HttpFactory(retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01))
            try:
                api = factory.client(server.url("localhost"), provider="vendor", account="acct")
                await api.request("POST", "/b", json={})
            finally:
                await factory.aclose()

        with pytest.raises(ProviderError, match="cannot reach .* after 2 attempts \\(ConnectError\\)"):
            asyncio.run(run())
        assert server.received == []


# -- answers larger than the client may read ---------------------------------------------------


LIMIT = 64 * 1024
HUGE = 256 * 1024 * 1024


def test_a_body_announced_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    """The server announces 256 MiB, sends 1 KiB and then waits: the client refuses at once from
    the Content-Length, without waiting for (or reading) the rest."""

    def announce_huge(conn: socket.socket, request: Received) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % HUGE + b"x" * 1024)
        time.sleep(3.0)
        return False

    with wire(announce_huge) as server:

        async def run() -> None:
            factory = HttpFactory(retry=fast_policy())
            try:
                api = factory.scoped(max_response_bytes=LIMIT).client(server.url(), provider="vendor", account="acct")
                await api.request("GET", "/page")
            finally:
                await factory.aclose()

        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError, match=r"larger than 0\.0625 MiB .*options\.max_response_mb"):
            asyncio.run(run())
        assert time.monotonic() - started < 2.0
        assert server.count("GET") == 1  # refused, not retried


def test_a_chunked_body_is_refused_once_it_passes_the_limit_and_read_no_further() -> None:
    written: list[int] = []

    def stream_forever(conn: socket.socket, request: Received) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (16384, b"y" * 16384)
        total = 0
        try:
            while total < HUGE:
                conn.sendall(chunk)
                total += 16384
        except OSError:
            pass  # the client hung up
        written.append(total)
        return False

    with wire(stream_forever) as server:

        async def run() -> None:
            factory = HttpFactory(retry=fast_policy())
            try:
                api = factory.scoped(max_response_bytes=LIMIT).client(server.url(), provider="vendor", account="acct")
                await api.request("GET", "/page")
            finally:
                await factory.aclose()

        with pytest.raises(ResponseTooLargeError, match="went on past the limit"):
            asyncio.run(run())
        deadline = time.monotonic() + 5
        while not written and time.monotonic() < deadline:
            time.sleep(0.01)
        # What the server wrote before the client hung up: the limit and the sockets' buffers,
        # nowhere near the 256 MiB it had to send.
        assert written and written[0] < 32 * 1024 * 1024


def test_the_default_limit_is_32_mib_and_a_scoped_view_shares_the_pools() -> None:
    class Huge(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b"{}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(40 * 1024 * 1024)}, stream=Huge())

    async def run() -> tuple[str, bool, int]:
        factory = HttpFactory(transport=httpx.MockTransport(handler))
        view = factory.scoped(max_response_bytes=50 * 1024 * 1024)
        try:
            with pytest.raises(ResponseTooLargeError) as caught:
                await factory.client("https://api.vendor.example", provider="v", account="a").request("GET", "/x")
            shared = view.http_client("https://api.vendor.example") is factory.http_client("https://api.vendor.example")
            with contextlib.suppress(httpx.HTTPError):  # the view's limit lets the header pass
                await view.client("https://api.vendor.example", provider="v", account="b").request("GET", "/x")
            return str(caught.value), shared, factory.requests_sent
        finally:
            await factory.aclose()

    message, shared, sent = asyncio.run(run())
    assert "larger than 32 MiB" in message and "options.max_response_mb" in message
    assert shared and sent == 2  # the view's request counts on the factory it shares
    with pytest.raises(ValueError):
        HttpFactory().scoped(max_response_bytes=0)
