"""``ApiClient.request``: one call to a vendor, with tether's policy around httpx.

- the provider's ``RateLimiter`` is asked before every attempt and shown every response;
- a host's slot, then one of the run's global slots, bound what is in flight;
- only what is safe is retried: connection failures before the request left, 429, and 5xx on
  an idempotent call; never another 4xx. ``Retry-After`` is honoured (longer than the policy
  allows: ``RateLimitError`` at once);
- a change (POST, PUT, PATCH, DELETE) whose answer is lost once it may have left (a read
  timeout, a connection dropped mid-response) is never sent again: ``ResponseLostError``, which
  apply settles by reading the binding back;
- a body larger than the account's limit is refused unread (``ResponseTooLargeError``);
- no credential reaches a log line or an error message.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import structlog

from providers.http.body import ResponseTooLargeError, read_limited
from providers.http.endpoints import host_key
from providers.http.policy import RateLimiter, retry_after_seconds
from providers.sdk.errors import AuthError, ProviderError, RateLimitError, ResponseLostError

if TYPE_CHECKING:
    from providers.http.factory import HttpFactory

log = structlog.get_logger("tether.http")

ErrorDescriber = Callable[[httpx.Response], str]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Failures that prove the request never left this machine: safe to send again, whatever it is.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError, httpx.UnsupportedProtocol)


def default_describe(response: httpx.Response) -> str:
    return response.text[:500]


def _debug_enabled() -> bool:
    try:
        return bool(log.is_enabled_for(logging.DEBUG))
    except AttributeError:  # a logger without level filtering: assume it wants everything
        return True


def with_defaults(headers: dict[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    """``headers`` and every default they do not set, whatever the case of their names."""
    missing = {name.lower(): name for name in defaults}
    for name in headers:
        missing.pop(name.lower(), None)
    if not missing:
        return headers
    return {**{name: defaults[name] for name in missing.values()}, **headers}


class ApiClient:
    """One account's view of one vendor API: its base URL, headers, limiter and error wording."""

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
        priority: int = 0,
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
        self.priority = priority

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

    async def _attempt(self, request: httpx.Request, host_slots: Any) -> httpx.Response:
        """Send once and read the body whole, within the host's and the run's slots."""
        factory = self.factory
        pools = factory.pools(str(request.url))
        # The host's slot first: waiting for a busy host must not hold a global slot that a
        # request to another host could use.
        async with host_slots:
            await factory.slots.acquire(self.priority)
            shard = pools.pick()
            pools.busy[shard] += 1
            try:
                factory.count_request()
                response = await pools.clients[shard].send(request, stream=True)

                def what() -> str:  # named only in the error of an answer too large to read
                    path = urlsplit(str(request.url)).path
                    return factory.redactor(f"{self.provider} {self.account}: {request.method} {path}")

                await read_limited(response, factory.max_response_bytes, what)
                return response
            finally:
                pools.busy[shard] -= 1
                factory.slots.release()

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
        for POST/PUT/PATCH/DELETE; say False for a read the vendor sends as POST or PUT (a GraphQL
        query, SP-API's getCarrierAccounts) so the audit log holds only real changes and a lost
        answer is read again. ``audit`` extra fields are recorded with a mutating call.
        """
        method = method.upper()
        if mutating is None:
            mutating = method in MUTATING
        if idempotent is None:
            idempotent = method != "POST"
        url = self.url(path)
        factory = self.factory
        merged = with_defaults({**self.headers, **(headers or {})}, factory.default_headers)
        redact = factory.redactor
        policy = factory.retry
        host_slots = factory.host_slots(self._host_of(url))
        debug = _debug_enabled()
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(operation)
            started = time.monotonic()
            request = httpx.Request(
                method, url, params=params, json=json, data=data, headers=merged, extensions=factory.extensions
            )
            try:
                response = await self._attempt(request, host_slots)
            except ResponseTooLargeError as exc:
                if mutating:
                    self._audit(method, url, exc.status, None, {**(audit or {}), "error": "response too large"})
                raise
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
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
                    raise ResponseLostError(
                        f"{self.provider} {self.account}: no answer to {method} {redact(urlsplit(url).path)} "
                        f"({type(exc).__name__}) after it may have reached the vendor; it is not sent "
                        "again, and its outcome will be settled by reading the binding back"
                    ) from None
                if attempt >= policy.attempts:
                    raise ProviderError(
                        f"{self.provider} {self.account}: cannot reach {redact(url)} after "
                        f"{attempt} attempts ({type(exc).__name__})"
                    ) from None
                await factory.sleep(policy.backoff(attempt))
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
                    # spends the remaining attempts; stopping now with the vendor's wait in the
                    # message lets the user come back when it has passed.
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
                await factory.sleep(wait)
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
