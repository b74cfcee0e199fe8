"""``HttpFactory``: the run's HTTP connections, shared by every provider, built on httpx's own
transports (connection pools, TLS, proxies from the environment, HTTP/2 when ``h2`` is
installed), with tether's limits around them."""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import itertools
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
"""Requests in flight to one vendor host, and so the size of that origin's connection pool."""


def _h2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


class _Shared:
    """What every view of one factory shares: the pools, the slots, the counters."""

    def __init__(self, parallelism: int) -> None:
        self.slots = PrioritySlots(parallelism)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.priorities = itertools.count()
        self.ssl: ssl.SSLContext | None = None
        self.requests_sent = 0


class HttpFactory:
    """Shared by every provider in one run. Create inside the running event loop; close it with
    ``aclose`` once every provider is done.

    Each origin (scheme, host, port) gets one ``httpx.AsyncClient``: one httpcore connection pool
    of at most ``per_host`` connections, as a vendor's host gets. httpx checks an idle connection before reusing it, so a server that closed
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

    def http_client(self, url: str) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` (one pool) for the origin of ``url``."""
        key = "" if self.transport is not None else origin(url)
        clients = self._shared.clients
        client = clients.get(key)
        if client is None:
            client = clients[key] = self._new_client(url)
        return client

    def _new_client(self, url: str) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.per_host, max_keepalive_connections=self.per_host)
        if self.transport is not None:  # a test's: every origin goes to it
            return httpx.AsyncClient(transport=self.transport, timeout=self.timeout, follow_redirects=False)
        loopback = is_loopback(url)
        http2 = self.http2 if self.http2 is not None else url.startswith("https:") and _h2_available()
        try:
            return httpx.AsyncClient(
                verify=self._ssl_context(),
                timeout=self.timeout,
                limits=limits,
                follow_redirects=False,
                http2=http2,
                trust_env=not loopback,  # proxies from the environment; the sandbox is on this machine
            )
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
        clients, self._shared.clients = self._shared.clients, {}
        for client in clients.values():
            await client.aclose()
