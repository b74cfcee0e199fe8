"""``HttpFactory``: the run's HTTP connections, shared by every provider, built on httpx's own
transports (connection pools, TLS, proxies from the environment, HTTP/2 when ``h2`` is
installed), with tether's limits around them."""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import itertools
import math
import ssl
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from providers.http.body import DEFAULT_MAX_RESPONSE_BYTES
from providers.http.client import ApiClient, ErrorDescriber, default_describe
from providers.http.endpoints import is_loopback, origin, require_safe_endpoint
from providers.http.policy import NoLimit, RateLimiter, RetryPolicy, Sleep
from providers.http.redact import REDACTOR, Redactor
from providers.http.slots import PrioritySlots
from providers.sdk.errors import ProviderError

AuditHook = Callable[[Mapping[str, Any]], None]

DEFAULT_PARALLELISM = 64
"""Requests in flight across the whole run. Enough to keep ~600 requests/s moving at 100 ms of
latency, about what one core can parse; each vendor's own limits still apply per host/account."""

DEFAULT_PER_HOST = 32
"""Requests in flight to one vendor host, and so the connections kept to that origin."""

POOL_SIZE = 4
"""Connections per httpx pool. httpcore reassigns requests to connections whenever a request
arrives or leaves, and each time checks every idle connection against every other (and polls its
socket): CPU per request grows with the square of the pool's size. Measured on loopback (one
origin, 32 requests in flight, 25 ms latency, this 2-core machine): one pool of 32 connections
cost 6.7-8.3 ms of CPU per request, pools of 8 about 3.1 ms, pools of 4 about 2.0-2.2 ms. An origin
that may hold ``per_host`` connections gets up to ``ceil(per_host / POOL_SIZE)`` pools, made as
they fill; a request takes the least busy."""


def _h2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


class _Shared:
    """What every view of one factory shares: the pools, the slots, the counters."""

    def __init__(self, parallelism: int) -> None:
        self.slots = PrioritySlots(parallelism)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.origins: dict[str, _OriginPools] = {}
        self.priorities = itertools.count()
        self.ssl: ssl.SSLContext | None = None
        self.requests_sent = 0


class _OriginPools:
    """The httpx clients (each one connection pool) of one origin, made as they are needed; a
    request takes the least busy, and a new pool is made only when every pool is full."""

    def __init__(self, make: Callable[[int], httpx.AsyncClient], sizes: list[int]) -> None:
        self._make = make
        self._sizes = sizes
        self.clients = [make(sizes[0])]
        self.busy = [0]

    def pick(self) -> int:
        busy = self.busy
        least = 0 if len(busy) == 1 else busy.index(min(busy))
        count = len(self.clients)
        if busy[least] >= self._sizes[least] and count < len(self._sizes):
            self.clients.append(self._make(self._sizes[count]))
            busy.append(0)
            return count
        return least

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


class HttpFactory:
    """Shared by every provider in one run. Create inside the running event loop; close it with
    ``aclose`` once every provider is done.

    Each origin (scheme, host, port) gets ``httpx.AsyncClient``s, each one httpcore connection
    pool of at most ``pool_size`` connections, ``per_host`` connections in all (see
    ``POOL_SIZE``). httpx checks an idle connection before reusing it, so a server that closed
    it quietly costs a new connection, never a lost request. Proxies are taken from the
    environment as httpx reads it (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``; never for
    loopback). ``http2`` None means: HTTP/2 to https origins when ``h2`` is installed.

    ``transport`` replaces the network (tests mount emulators with ``httpx.MockTransport``);
    ``ssl_context`` replaces the system's trust store (a private CA); ``user_agent`` is sent with
    every request whose provider does not set its own (the engine passes ``tether/<version>``).

    ``parallelism`` bounds requests in flight across the run, ``per_host`` those to one vendor
    host (``endpoints.host_key``). ``max_response_bytes`` bounds one response body;
    ``scoped(max_response_bytes=...)`` gives one account its own limit over the same pools.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = DEFAULT_PARALLELISM,
        per_host: int = DEFAULT_PER_HOST,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        audit: AuditHook | None = None,
        http2: bool | None = None,
        user_agent: str = "tether",
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.transport = transport
        self.parallelism = parallelism
        self.per_host = per_host
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.audit = audit
        self.http2 = http2
        self.user_agent = user_agent
        self.max_response_bytes = max_response_bytes
        self.pool_size = max(1, pool_size)
        self.redactor: Redactor = REDACTOR
        # What httpx.AsyncClient.build_request would add to each request: its timeouts, per phase.
        self.extensions = {"timeout": httpx.Timeout(timeout).as_dict()}
        self.default_headers = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": user_agent}
        self._shared = _Shared(parallelism)
        self._shared.ssl = ssl_context

    # -- views ---------------------------------------------------------------------------------

    def scoped(self, *, max_response_bytes: int | None = None) -> HttpFactory:
        """A view of this factory with its own response size limit, sharing its connection
        pools, slots and counters: the engine makes one per account from
        ``options.max_response_mb``. Closing the view closes the whole factory."""
        view = copy.copy(self)
        if max_response_bytes is not None:
            if max_response_bytes < 1:
                raise ValueError("max_response_bytes must be at least 1")
            view.max_response_bytes = max_response_bytes
        return view

    @property
    def requests_sent(self) -> int:
        """Attempts handed to the network (or the test transport) so far, by every view."""
        return self._shared.requests_sent

    # -- what ApiClient uses -------------------------------------------------------------------

    def count_request(self) -> None:
        self._shared.requests_sent += 1

    @property
    def slots(self) -> PrioritySlots:
        return self._shared.slots

    def host_slots(self, key: str) -> asyncio.Semaphore:
        hosts = self._shared.hosts
        slots = hosts.get(key)
        if slots is None:
            slots = hosts[key] = asyncio.Semaphore(self.per_host)
        return slots

    def pools(self, url: str) -> _OriginPools:
        """The httpx clients for the origin of ``url`` (made on first use)."""
        key = "" if self.transport is not None else origin(url)
        origins = self._shared.origins
        pools = origins.get(key)
        if pools is None:
            pools = origins[key] = self._new_pools(url)
        return pools

    def http_client(self, url: str) -> httpx.AsyncClient:
        """The least busy ``httpx.AsyncClient`` (one pool) for the origin of ``url``."""
        pools = self.pools(url)
        return pools.clients[pools.pick()]

    def _new_pools(self, url: str) -> _OriginPools:
        transport = self.transport
        if transport is not None:  # a test's: every origin goes to it

            def mock(size: int) -> httpx.AsyncClient:
                return httpx.AsyncClient(transport=transport, timeout=self.timeout, follow_redirects=False)

            return _OriginPools(mock, [self.per_host])
        loopback = is_loopback(url)
        http2 = self.http2 if self.http2 is not None else url.startswith("https:") and _h2_available()
        # HTTP/2 multiplexes a host's requests over few connections: one pool is enough.
        count = 1 if http2 else math.ceil(self.per_host / self.pool_size)
        sizes = [self.per_host // count + (1 if i < self.per_host % count else 0) for i in range(count)]

        def pool(size: int) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                verify=self._ssl_context(),
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                follow_redirects=False,
                http2=http2,
                trust_env=not loopback,  # proxies from the environment; the sandbox is on this machine
            )

        try:
            return _OriginPools(pool, sizes)
        except ImportError as exc:  # a SOCKS proxy without socksio, HTTP/2 forced without h2
            raise ProviderError(
                f"cannot reach {origin(url)}: {exc} "
                "(the proxy comes from HTTPS_PROXY/ALL_PROXY in the environment)"
            ) from None

    def _ssl_context(self) -> ssl.SSLContext:
        shared = self._shared
        if shared.ssl is None:  # loading the CA bundle takes tens of ms: once per run, not per pool
            shared.ssl = httpx.create_ssl_context()
        return shared.ssl

    # -- clients -------------------------------------------------------------------------------

    def client(
        self,
        base_url: str,
        *,
        provider: str,
        account: str,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        limiter: RateLimiter | None = None,
        describe_error: ErrorDescriber = default_describe,
        request_id_header: str = "x-request-id",
    ) -> ApiClient:
        require_safe_endpoint(base_url)
        for secret in secrets:
            self.redactor.add(secret)
        return ApiClient(
            self,
            base_url.rstrip("/"),
            provider=provider,
            account=account,
            headers=dict(headers or {}),
            limiter=limiter or NoLimit(),
            describe_error=describe_error,
            request_id_header=request_id_header,
            priority=next(self._shared.priorities),  # clients made earlier are served first
        )

    async def aclose(self) -> None:
        origins, self._shared.origins = self._shared.origins, {}
        for pools in origins.values():
            await pools.aclose()
