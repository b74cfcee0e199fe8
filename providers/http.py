"""The one place that builds HTTP clients: pooling, timeouts, retries, rate limits, redaction.

Every provider talks to its vendor through ``ApiClient.request``. It:

- shares one pooled ``httpx.AsyncClient`` per origin for the whole run (connection reuse across
  accounts of the same vendor) and bounds concurrency globally (``parallelism``);
- asks the provider's ``RateLimiter`` before every attempt, and shows it every response, so the
  provider's own model (Shopify's leaky bucket, SP-API token buckets) keeps 429s rare;
- retries only what is safe: connection failures before a response, 429 and 5xx; never another
  4xx. A request that is not idempotent (``idempotent=False``) is retried only when the server
  says it did nothing (429, or ``Stripe-Should-Retry: true``); a lost response to it raises
  ``ResponseLost`` so the caller settles by reading, not by sending again;
- honours ``Retry-After`` (seconds or an HTTP date), else capped exponential backoff with jitter;
- never lets a credential reach a log or an error message (``Redactor``), and keeps httpx's own
  request logging quiet because a URL may carry a secret.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable, Collection, Iterable, Mapping, Protocol
from urllib.parse import quote, urlsplit

import httpx
import structlog

from engine.errors import AuthError, ProviderError, RateLimitError

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

log = structlog.get_logger("tether.http")

Sleep = Callable[[float], Awaitable[None]]


class ResponseLost(ProviderError):
    """A request that is not safe to repeat was sent, but no response came back."""


@dataclass(frozen=True)
class RetryPolicy:
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
    """``rate`` requests per second sustained, ``burst`` at once: SP-API's published model."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
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
            while self._tokens < 1:
                # at least 1 ms, so a clock that barely moves cannot spin this loop
                await self._sleep(max((1 - self._tokens) / self.rate, 0.001))
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


def _default_describe(response: httpx.Response) -> str:
    return response.text[:500]


class HttpFactory:
    """Shared by every provider in one run. Create inside the running event loop."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 16,
        per_host: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        audit: AuditHook | None = None,
    ) -> None:
        self.transport = transport
        self.per_host = per_host
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.audit = audit
        self.redactor = REDACTOR
        self.requests_sent = 0
        self._semaphore = asyncio.Semaphore(parallelism)
        self._pools: dict[str, httpx.AsyncClient] = {}

    def _pool(self, base_url: str) -> httpx.AsyncClient:
        parts = urlsplit(base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._pools:
            self._pools[origin] = httpx.AsyncClient(
                transport=self.transport,
                timeout=self.timeout,
                limits=httpx.Limits(
                    max_connections=self.per_host, max_keepalive_connections=self.per_host
                ),
                follow_redirects=False,
            )
        return self._pools[origin]

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
    ) -> "ApiClient":
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
        )

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            await pool.aclose()


_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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

    def set_header(self, name: str, value: str, *, secret: bool = False) -> None:
        if secret:
            self.factory.redactor.add(value)
        self.headers[name] = value

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

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
        merged = {**self.headers, **(headers or {})}
        redact = self.factory.redactor
        policy = self.factory.retry
        pool = self.factory._pool(url)
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(operation)
            started = time.monotonic()
            try:
                async with self.factory._semaphore:
                    self.factory.requests_sent += 1
                    response = await pool.request(
                        method, url, params=params, json=json, data=data, headers=merged
                    )
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
                if sent and not idempotent:
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
            elapsed_ms = round((time.monotonic() - started) * 1000, 1)
            log.debug(
                "http.response",
                provider=self.provider,
                account=self.account,
                method=method,
                url=redact(url),
                status=status,
                ms=elapsed_ms,
                attempt=attempt,
                request_id=request_id,
            )
            if mutating and self.factory.audit is not None:
                self.factory.audit(
                    {
                        "provider": self.provider,
                        "account": self.account,
                        "method": method,
                        "path": redact(urlsplit(url).path),
                        "status": status,
                        "request_id": request_id,
                        **(audit or {}),
                    }
                )

            if 200 <= status < 300 or status in accept:
                return response

            should_retry_header = response.headers.get("stripe-should-retry")
            retryable = status == 429 or (status >= 500 and idempotent)
            if should_retry_header == "true":
                retryable = True
            elif should_retry_header == "false":
                retryable = False
            if retryable and attempt < policy.attempts:
                wait = retry_after_seconds(response)
                if wait is None:
                    wait = policy.backoff(attempt)
                log.info(
                    "http.retry",
                    provider=self.provider,
                    account=self.account,
                    status=status,
                    wait_s=round(min(wait, policy.max_delay), 3),
                    attempt=attempt,
                )
                await self.factory.sleep(min(wait, policy.max_delay))
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
