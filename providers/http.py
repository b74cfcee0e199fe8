"""The one place that builds HTTP clients: pooling, timeouts, retries, rate limits, redaction.

Every provider talks to its vendor through ``ApiClient.request``. It:

- shares pooled connections per origin for the whole run (connection reuse across accounts of
  the same vendor, HTTP/2 where the vendor offers it and ``h2`` is installed), and bounds
  concurrency globally (``parallelism``) and per vendor host (``per_host``);
- asks the provider's ``RateLimiter`` before every attempt, and shows it every response, so the
  provider's own model (Shopify's leaky bucket, SP-API token buckets) keeps 429s rare;
- retries only what is safe: connection failures before a response, 429 and 5xx; never another
  4xx. A request that is not idempotent (``idempotent=False``) is retried only when the server
  says it did nothing (429, or ``Stripe-Should-Retry: true``); a lost response to it raises
  ``ResponseLost`` so the caller settles by reading, not by sending again;
- honours ``Retry-After`` (seconds or an HTTP date), else capped exponential backoff with jitter;
  a ``Retry-After`` longer than ``RetryPolicy.max_delay`` is not retried early: it raises
  ``RateLimitError`` at once, naming the wait the vendor asked for;
- never lets a credential reach a log or an error message (``Redactor``), and keeps httpx's own
  request logging quiet because a URL may carry a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import importlib.util
import ipaddress
import itertools
import logging
import math
import random
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import h11
import httpx
import orjson
import structlog

try:
    __version__ = version("tether")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0"
from providers.sdk.errors import AuthError, ProviderError, RateLimitError

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

log = structlog.get_logger("tether.http")

Sleep = Callable[[float], Awaitable[None]]


class ResponseLost(ProviderError):
    """A request that is not safe to repeat was sent, but no response came back."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long ``ApiClient.request`` retries.

    ``max_delay`` caps one wait: the backoff never exceeds it, and a vendor whose
    ``Retry-After`` asks for longer is not retried at all (``RateLimitError`` at once), since a
    retry before the vendor's wait is over would only be refused again.
    """

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff, capped (attempt counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


class RateLimiter(Protocol):
    async def acquire(self, operation: str) -> None:
        """Wait until one more request of ``operation`` may be sent."""

    def observe(self, operation: str, response: httpx.Response) -> None:
        """Learn from a response (call-limit headers, 429s)."""


class TokenBucket:
    """``rate`` requests per second sustained, ``burst`` at once: SP-API's published model.

    ``headroom`` (seconds, default 0) is how much later than its token a request may reach the
    vendor: the bucket then keeps ``rate * headroom`` tokens in reserve. Pacing at exactly the
    published rate leaves the vendor's bucket at exactly one token on each arrival, so any
    request delayed after taking its token (a new connection, a busy event loop) makes the next
    one arrive "early" and draw a 429; the reserve costs ``headroom`` once, not a slower rate.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        headroom: float = 0.0,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.headroom = headroom
        self._tokens = burst
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, operation: str = "") -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self._refill()
            # Never more reserve than the burst allows, or the bucket could not send at all.
            need = 1 + min(self.rate * self.headroom, max(0.0, self.burst - 1))
            while self._tokens < need:
                # at least 1 ms, so a clock that barely moves cannot spin this loop
                await self._sleep(max((need - self._tokens) / self.rate, 0.001))
                self._refill()
            self._tokens -= 1

    def observe(self, operation: str, response: httpx.Response) -> None:
        if response.status_code == 429:
            self._tokens = 0.0


class NoLimit:
    async def acquire(self, operation: str) -> None:
        return None

    def observe(self, operation: str, response: httpx.Response) -> None:
        return None


class Redactor:
    """Replaces every known secret value (and obvious credential headers) with ``***``."""

    SENSITIVE_HEADERS = frozenset(
        {"authorization", "x-shopify-access-token", "x-amz-access-token", "cookie", "x-api-key"}
    )

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            k: ("***" if k.lower() in self.SENSITIVE_HEADERS else self(v)) for k, v in headers.items()
        }


REDACTOR = Redactor()
"""Shared by every HttpFactory in the process and by the log processor (engine.logs)."""


_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9999999999")
_TWENTY_DIGITS = b"9" * 20


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, as ``response.json()`` gives it, read by orjson (a page of 250
    webhooks decodes about twice as fast). orjson turns an integer wider than 64 bits into a
    float, so a body holding a run of 20 digits is left to the json module, which keeps every
    digit; so is one orjson refuses (NaN, another encoding), so errors stay ``ValueError``s."""
    content = response.content
    if content.translate(_DIGITS_AS_NINES).find(_TWENTY_DIGITS) < 0:  # ten times a regex's speed
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return response.json()


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_safe_endpoint(url: str) -> None:
    """Credentials travel only over https, except to the sandbox on this machine."""
    scheme = urlsplit(url).scheme
    if scheme == "https" or (scheme == "http" and is_loopback(url)):
        return
    raise ProviderError(
        f"endpoint {url} is not https; credentials are sent only over https "
        "(plain http is allowed for loopback addresses such as the sandbox)"
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


AuditHook = Callable[[Mapping[str, Any]], None]
ErrorDescriber = Callable[[httpx.Response], str]


def _debug_enabled() -> bool:
    try:
        return bool(log.is_enabled_for(logging.DEBUG))
    except AttributeError:  # a logger without level filtering: assume it wants everything
        return True


def _default_describe(response: httpx.Response) -> str:
    return response.text[:500]


POOL_SHARD = 8
"""Connections per ``httpx.AsyncClient``. httpcore's pool rescans every connection, and for each
one every other, whenever a request arrives or leaves: O(connections^2) per request. Past a
dozen connections that scan costs more CPU than the request itself, so an origin that needs more
connections gets several small pools (shards) instead of one large one."""

DEFAULT_PARALLELISM = 64
"""Requests in flight across the whole run. Enough to keep ~600 requests/s moving at 100 ms of
latency, about what one core can parse; each vendor's own limits still apply per host/account."""


def host_key(url: str) -> str:
    """The vendor host a base URL stands for, which ``per_host`` limits.

    A real vendor is its origin. The sandbox on loopback serves many vendors' hosts on one port,
    one per path prefix (``/shopify/<shop>`` stands for ``https://<shop>.myshopify.com``), so
    there the base URL itself is the host; otherwise every shop would share one host's limit.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if is_loopback(url):
        return origin + parts.path.rstrip("/")
    return origin


def _h2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


class _Slots:
    """A semaphore that serves waiters by priority (lowest first), then in arrival order.

    The run's global slots use it with the account's position as priority: the accounts that
    started first get their next page before later accounts get their first request, so
    pagination chains are never starved by a flood of new first pages, and accounts finish one
    after another (progress moves steadily) instead of all at the end. It is work-conserving:
    a free slot is never left idle while anyone waits.
    """

    def __init__(self, size: int) -> None:
        self.free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, priority: int = 0) -> None:
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            raise  # a cancelled waiter stays in the heap; release() skips it

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # handed over directly: ``free`` does not change
                return
        self.free += 1


class _Direct:
    """Requests handed straight to a transport: tether's ``Http11Transport``, or the one a test
    mounts (``httpx.MockTransport`` over an emulator).

    It does what ``httpx.AsyncClient.send`` does for a request that needs no auth flow, cookie
    jar, redirect or proxy (tether's never do: the credential is a header, redirects are not
    followed, a proxy takes the ``_ViaClient`` route): hand the request over, read the body, close
    the stream. Skipping the client's merging of URLs, headers and cookies for a request that is
    already whole saves about a third of the CPU a request costs on tether's side.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(self, request: httpx.Request) -> httpx.Response:
        response = await self.transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()


class _ViaClient:
    """Requests through an ``httpx.AsyncClient``, for what only httpx's own transports do:
    HTTP/2, and a proxy named by the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, request: httpx.Request) -> httpx.Response:
        response = await self.client.send(request)
        _unbind(response)
        return response

    async def aclose(self) -> None:
        await self.client.aclose()


class _Pools:
    """The routes to one origin: one, or several small httpx pools (see ``POOL_SHARD``); a
    request takes the least busy."""

    def __init__(self, routes: list[_Direct | _ViaClient]) -> None:
        self.routes = routes
        self.busy = [0] * len(routes)

    def pick(self) -> int:
        busy = self.busy
        if len(busy) == 1:
            return 0
        return busy.index(min(busy))

    async def aclose(self) -> None:
        for route in self.routes:
            await route.aclose()


def proxied(url: str) -> bool:
    """Whether the environment sends ``url`` through a proxy (the standard variables, as urllib
    reads them). Loopback never is: the sandbox is on this machine."""
    if is_loopback(url):
        return False
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


class _Connection:
    """One keep-alive HTTP/1.1 connection: its streams and h11's view of the exchange."""

    __slots__ = ("h11", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    def usable(self) -> bool:
        """Idle and still open: a server that closed an idle connection left EOF in the reader."""
        return (
            not self.reader.at_eof() and not self.writer.is_closing() and self.h11.our_state is h11.IDLE
        )

    def close(self) -> None:
        self.writer.close()


async def _timed(
    awaitable: Any, seconds: float | None, timeout_exc: type[httpx.TimeoutException], request: httpx.Request
) -> Any:
    """Await with httpx's timeout for this phase; ``asyncio.timeout`` (3.11+) costs no task."""
    try:
        if seconds is None:
            return await awaitable
        if _TIMEOUT is not None:
            async with _TIMEOUT(seconds):
                return await awaitable
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:
        raise timeout_exc("timed out", request=request) from None


_TIMEOUT: Any = getattr(asyncio, "timeout", None)


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams and h11, for httpx.AsyncClient.

    Why not httpx's default (httpcore over anyio): per request it rescans its whole pool and
    checks every connection's socket, and wraps each read in cancel scopes; at hundreds of
    requests a second that is most of tether's CPU. This does the same protocol work (h11 is
    what httpcore uses too) with a list of idle connections per origin: about a third of the
    CPU per request. It raises httpx's own exceptions, so retries read them as before:
    ``ConnectError``/``ConnectTimeout`` when nothing was sent, ``ReadError``,
    ``RemoteProtocolError``, ``WriteError`` or a timeout once the request may have left.
    HTTP/2 and proxies stay with httpx: HttpFactory sends those through an ``httpx.AsyncClient``.
    Concurrency is bounded by the caller (HttpFactory's slots), not here.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None, keepalive: int = 64) -> None:
        self._ssl = ssl_context
        self._keepalive = keepalive
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port or (443 if url.raw_scheme == b"https" else 80))
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        idle = self._idle.setdefault(key, [])
        conn = None
        while idle:
            candidate = idle.pop()
            if candidate.usable():
                conn = candidate
                break
            candidate.close()
        if conn is None:
            conn = await self._connect(key, request, timeouts.get("connect"))
        try:
            response = await self._exchange(conn, request, timeouts)
        except BaseException:
            conn.close()
            raise
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            conn.h11.start_next_cycle()
            if len(idle) < self._keepalive:
                idle.append(conn)
            else:
                conn.close()
        else:
            conn.close()
        return response

    async def _connect(
        self, key: tuple[bytes, bytes, int], request: httpx.Request, timeout: float | None
    ) -> _Connection:
        scheme, host, port = key
        hostname = host.decode("ascii")
        secure = scheme == b"https"
        if secure and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        try:
            reader, writer = await _timed(
                asyncio.open_connection(
                    hostname,
                    port,
                    ssl=self._ssl if secure else None,
                    server_hostname=hostname if secure else None,
                    limit=1 << 20,
                ),
                timeout,
                httpx.ConnectTimeout,
                request,
            )
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        return _Connection(reader, writer)

    async def _exchange(
        self, conn: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        body = await request.aread()
        target = request.url.raw_path
        head = h11.Request(method=request.method.encode("ascii"), target=target, headers=request.headers.raw)
        data = conn.h11.send(head) or b""
        if body:
            data += conn.h11.send(h11.Data(data=body)) or b""
        data += conn.h11.send(h11.EndOfMessage()) or b""
        try:
            conn.writer.write(data)
            await _timed(conn.writer.drain(), timeouts.get("write"), httpx.WriteTimeout, request)
        except OSError as exc:
            raise httpx.WriteError(str(exc), request=request) from exc
        status = 0
        reason = b""
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        read_timeout = timeouts.get("read")
        while True:
            try:
                event = conn.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
            if event is h11.NEED_DATA:
                try:
                    incoming = await _timed(
                        conn.reader.read(1 << 16), read_timeout, httpx.ReadTimeout, request
                    )
                except OSError as exc:
                    raise httpx.ReadError(str(exc), request=request) from exc
                if not incoming and conn.h11.their_state is h11.SEND_RESPONSE and not status:
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response.", request=request
                    )
                conn.h11.receive_data(incoming)
                continue
            if isinstance(event, h11.Response):
                status, reason, headers = event.status_code, event.reason, list(event.headers)
            elif isinstance(event, h11.InformationalResponse):
                continue
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.ReadError("connection closed before the response ended", request=request)
        return httpx.Response(
            status,
            headers=headers,
            content=b"".join(chunks),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for conn in connections:
                conn.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await conn.writer.wait_closed()


class HttpFactory:
    """Shared by every provider in one run. Create inside the running event loop.

    ``parallelism`` bounds requests in flight across the run, ``per_host`` those to one vendor
    host (see ``host_key``). ``http2`` None means: HTTP/2 to https origins when ``h2`` is
    installed (it multiplexes a host's requests over few connections), HTTP/1.1 otherwise.
    HTTP/1.1 goes through ``Http11Transport`` unless a ``transport`` is given (tests mount
    emulators that way); HTTP/2, and an origin the environment sends through a proxy (see
    ``proxied``), through ``httpx.AsyncClient``.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = DEFAULT_PARALLELISM,
        per_host: int = 32,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        audit: AuditHook | None = None,
        http2: bool | None = None,
    ) -> None:
        self.transport = transport
        self.parallelism = parallelism
        self.per_host = per_host
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.audit = audit
        self.http2 = http2
        self.redactor = REDACTOR
        self.requests_sent = 0
        # What httpx.AsyncClient would add to each request: its timeouts, per phase.
        self.extensions = {"timeout": httpx.Timeout(timeout).as_dict()}
        self._slots = _Slots(parallelism)
        self._clients = itertools.count()
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._pools: dict[str, _Pools] = {}
        self._ssl: ssl.SSLContext | None = None

    def _origin_pools(self, url: str) -> _Pools:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        pools = self._pools.get(origin)
        if pools is None:
            pools = self._pools[origin] = self._routes(url)
        return pools

    def _routes(self, url: str) -> _Pools:
        # The sandbox's one origin stands for many hosts: it may use every global slot.
        connections = max(self.per_host, self.parallelism) if is_loopback(url) else self.per_host
        if self.transport is not None:  # a test's: not a real pool at all
            return _Pools([_Direct(self.transport)])
        https = urlsplit(url).scheme == "https"
        http2 = self.http2 if self.http2 is not None else https and _h2_available()
        if not http2 and not proxied(url):
            return _Pools([_Direct(Http11Transport(self._ssl_context(), keepalive=connections))])
        if http2:
            shards = [connections]  # multiplexed: few connections in one pool
        else:
            count = math.ceil(connections / POOL_SHARD)
            shards = [connections // count + (1 if i < connections % count else 0) for i in range(count)]
        try:
            return _Pools([_ViaClient(self._client(size, http2)) for size in shards])
        except ImportError as exc:  # a SOCKS proxy without socksio, HTTP/2 forced without h2
            raise ProviderError(
                f"cannot reach {urlsplit(url).netloc}: {exc} "
                "(the proxy comes from HTTPS_PROXY/ALL_PROXY in the environment)"
            ) from None

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:  # loading the CA bundle takes tens of ms: once per run, not per pool
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def _client(self, connections: int, http2: bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=self._ssl_context(),
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            follow_redirects=False,
            http2=http2,
        )

    def host_slots(self, key: str) -> asyncio.Semaphore:
        slots = self._hosts.get(key)
        if slots is None:
            slots = self._hosts[key] = asyncio.Semaphore(self.per_host)
        return slots

    def client(
        self,
        base_url: str,
        *,
        provider: str,
        account: str,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        limiter: RateLimiter | None = None,
        describe_error: ErrorDescriber = _default_describe,
        request_id_header: str = "x-request-id",
    ) -> ApiClient:
        require_safe_endpoint(base_url)
        for secret in secrets:
            self.redactor.add(secret)
        api = ApiClient(
            self,
            base_url.rstrip("/"),
            provider=provider,
            account=account,
            headers=dict(headers or {}),
            limiter=limiter or NoLimit(),
            describe_error=describe_error,
            request_id_header=request_id_header,
        )
        api.priority = next(self._clients)  # clients made earlier are served first
        return api

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            await pool.aclose()


_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DEFAULT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",  # httpx decodes both
    "User-Agent": f"tether/{__version__}",
}
"""Sent with every request unless the provider sets its own (Stripe names its provider)."""

_DEFAULT_NAMES = {name.lower(): name for name in DEFAULT_HEADERS}


def _with_defaults(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` and every default they do not set, whatever the case of their names."""
    missing = dict(_DEFAULT_NAMES)
    for name in headers:
        missing.pop(name.lower(), None)
    if not missing:
        return headers
    return {**{name: DEFAULT_HEADERS[name] for name in missing.values()}, **headers}


_READ_STREAM = httpx.ByteStream(b"")


def _unbind(response: httpx.Response) -> None:
    """httpx leaves a response it has read and the stream it read from pointing at each other: one
    reference cycle per request, holding the body, that only the cyclic collector frees (tether
    runs with it off; see engine.gctune). The body is read and the stream closed by now, so the
    stream is let go and the response is freed as soon as its reader drops it."""
    response.stream = _READ_STREAM


class ApiClient:
    def __init__(
        self,
        factory: HttpFactory,
        base_url: str,
        *,
        provider: str,
        account: str,
        headers: dict[str, str],
        limiter: RateLimiter,
        describe_error: ErrorDescriber,
        request_id_header: str,
    ) -> None:
        self.factory = factory
        self.base_url = base_url
        self.provider = provider
        self.account = account
        self.headers = headers
        self.limiter = limiter
        self.describe_error = describe_error
        self.request_id_header = request_id_header
        self.host = host_key(base_url)
        self.priority = 0

    def _host_of(self, url: str) -> str:
        base = self.base_url
        if url.startswith(base) and url[len(base) : len(base) + 1] in ("", "/", "?"):
            return self.host
        return host_key(url)

    def set_header(self, name: str, value: str, *, secret: bool = False) -> None:
        if secret:
            self.factory.redactor.add(value)
        self.headers[name] = value

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def _audit(
        self, method: str, url: str, status: int | None, request_id: str | None, extra: Mapping[str, Any] | None
    ) -> None:
        """One line of the audit log for a call that may have changed something at the vendor."""
        if self.factory.audit is None:
            return
        self.factory.audit(
            {
                "provider": self.provider,
                "account": self.account,
                "method": method,
                "path": self.factory.redactor(urlsplit(url).path),
                "status": status,
                "request_id": request_id,
                **(extra or {}),
            }
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str = "",
        params: Any = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        accept: Collection[int] = (),
        audit: Mapping[str, Any] | None = None,
        mutating: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; return any 2xx or a status in ``accept``; raise otherwise.

        ``idempotent`` defaults to true for every method but POST. ``mutating`` defaults to true
        for POST/PUT/PATCH/DELETE; say False for a read the vendor sends as PUT (SP-API's
        getCarrierAccounts) so the audit log holds only real changes. ``audit`` extra fields are
        recorded with a mutating call (idempotency key, plan hash, backup sha256).
        """
        if mutating is None:
            mutating = method.upper() in _MUTATING
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        url = self.url(path)
        merged = _with_defaults({**self.headers, **(headers or {})})
        factory = self.factory
        redact = factory.redactor
        policy = factory.retry
        pools = factory._origin_pools(url)
        host_slots = factory.host_slots(self._host_of(url))
        debug = _debug_enabled()
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(operation)
            started = time.monotonic()
            try:
                # The host's slot first: waiting for a busy host must not hold a global slot
                # that a request to another host could use.
                async with host_slots:
                    await factory._slots.acquire(self.priority)
                    try:
                        factory.requests_sent += 1
                        shard = pools.pick()
                        pools.busy[shard] += 1
                        try:
                            response = await pools.routes[shard].send(
                                httpx.Request(
                                    method,
                                    url,
                                    params=params,
                                    json=json,
                                    data=data,
                                    headers=merged,
                                    extensions=factory.extensions,
                                )
                            )
                        finally:
                            pools.busy[shard] -= 1
                    finally:
                        factory._slots.release()
            except httpx.TransportError as exc:
                sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                log.info(
                    "http.transport_error",
                    provider=self.provider,
                    account=self.account,
                    method=method,
                    url=redact(url),
                    error=type(exc).__name__,
                    attempt=attempt,
                )
                if sent and mutating:
                    # The vendor may have acted on it: the audit log must say it was sent.
                    self._audit(method, url, None, None, {**(audit or {}), "error": type(exc).__name__})
                if sent and (mutating or not idempotent):
                    # A change that may have happened is settled by reading, never by resending.
                    raise ResponseLost(
                        f"{self.provider} {self.account}: no response to {method} {redact(path)} "
                        f"({type(exc).__name__}); the outcome will be settled by reading it back"
                    ) from None
                if attempt >= policy.attempts:
                    raise ProviderError(
                        f"{self.provider} {self.account}: cannot reach {redact(url)} after "
                        f"{attempt} attempts ({type(exc).__name__})"
                    ) from None
                await self.factory.sleep(policy.backoff(attempt))
                continue

            self.limiter.observe(operation, response)
            status = response.status_code
            request_id = response.headers.get(self.request_id_header)
            if debug:  # redacting every URL costs a scan per known secret: only when it is shown
                log.debug(
                    "http.response",
                    provider=self.provider,
                    account=self.account,
                    method=method,
                    url=redact(url),
                    status=status,
                    ms=round((time.monotonic() - started) * 1000, 1),
                    attempt=attempt,
                    request_id=request_id,
                )
            if mutating:
                self._audit(method, url, status, request_id, audit)

            if 200 <= status < 300 or status in accept:
                return response

            should_retry_header = response.headers.get("stripe-should-retry")
            retryable = status == 429 or (status >= 500 and idempotent)
            if should_retry_header == "true":
                retryable = True
            elif should_retry_header == "false":
                retryable = False
            if retryable and attempt < policy.attempts:
                asked = retry_after_seconds(response)
                if asked is not None and asked > policy.max_delay:
                    # Retrying before the vendor's wait is over only draws another refusal and
                    # spends the remaining attempts (and the vendor's patience with this key);
                    # stopping now with the vendor's wait in the message lets the user come back
                    # when it has passed.
                    raise RateLimitError(
                        redact(
                            f"{self.provider} {self.account}: {method} {urlsplit(url).path} answered "
                            f"{status} and asked to wait {math.ceil(asked)} s before the next request "
                            f"(Retry-After); tether waits at most {policy.max_delay:g} s, so this "
                            "request stops here instead of retrying early; run it again later"
                        ),
                        status=status,
                        request_id=request_id,
                    )
                wait = asked if asked is not None else policy.backoff(attempt)
                log.info(
                    "http.retry",
                    provider=self.provider,
                    account=self.account,
                    status=status,
                    wait_s=round(wait, 3),
                    attempt=attempt,
                )
                await self.factory.sleep(wait)
                continue

            message = redact(
                f"{self.provider} {self.account}: {method} {urlsplit(url).path} answered "
                f"{status}: {self.describe_error(response)}"
            )
            if status == 429:
                raise RateLimitError(message, status=status, request_id=request_id)
            if status in (401, 403):
                raise AuthError(message, status=status, request_id=request_id)
            raise ProviderError(message, status=status, request_id=request_id)
