"""providers/http: the one place that decides what is retried, how long to wait, and what a
log or an error may show. Every test speaks to an ``httpx.MockTransport`` and a fake sleep that
records the waits, so retry timing is checked exactly and the file runs in well under a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from engine.logs import configure
from providers.http import (
    REDACTOR,
    HttpFactory,
    Redactor,
    ResponseLost,
    RetryPolicy,
    TokenBucket,
    is_loopback,
    require_safe_endpoint,
    retry_after_seconds,
)
from providers.sdk.errors import AuthError, ProviderError, RateLimitError, ResponseLostError

BASE = "https://api.vendor.example"
SECRET = "sk_test_CANARY_http_0f9e8d7c"

Answer = Callable[[httpx.Request], httpx.Response]


class Waits:
    """A fake ``asyncio.sleep`` that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Server:
    """Answers from a script (one entry per request, the last repeats) and keeps every request."""

    def __init__(self, script: Iterable[httpx.Response | type[Exception] | Answer]) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted transport failure", request=request)  # type: ignore[call-arg]
        if isinstance(step, httpx.Response):
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        return step(request)  # type: ignore[operator]


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


def call(
    server: Server,
    method: str = "GET",
    path: str = "/v1/things",
    *,
    policy: RetryPolicy = RetryPolicy(attempts=4, base_delay=1.0, max_delay=8.0),
    audit_log: list[dict[str, Any]] | None = None,
    limiter: Any = None,
    **kwargs: Any,
) -> tuple[httpx.Response | BaseException, Waits]:
    """One ``ApiClient.request`` through a fresh factory; returns the response or the error."""
    waits = Waits()

    async def run() -> httpx.Response:
        factory = HttpFactory(
            transport=httpx.MockTransport(server),
            retry=policy,
            sleep=waits,
            audit=audit_log.append if audit_log is not None else None,
        )
        try:
            client = factory.client(
                BASE,
                provider="vendor",
                account="acct",
                headers={"Authorization": f"Bearer {SECRET}"},
                secrets=[SECRET],
                limiter=limiter,
            )
            return await client.request(method, path, **kwargs)
        finally:
            await factory.aclose()

    try:
        return asyncio.run(run()), waits
    except ProviderError as exc:
        return exc, waits


# -- backoff ------------------------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=4.0)
    random.seed(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)]:
        samples = [policy.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples), (attempt, min(samples), max(samples))
        assert len(set(samples)) > 150, "no jitter: every client would retry in lockstep"


def test_a_503_is_retried_with_growing_waits_until_it_succeeds() -> None:
    server = Server([answer(503), answer(503), answer(503), answer(200, {"ok": True})])
    response, waits = call(server)
    assert isinstance(response, httpx.Response) and response.json() == {"ok": True}
    assert len(server.requests) == 4
    assert len(waits.waits) == 3
    for attempt, wait in enumerate(waits.waits, start=1):
        ceiling = min(8.0, 1.0 * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling


def test_retries_stop_after_the_policy_attempts_with_a_clear_error() -> None:
    server = Server([answer(502, {"error": "bad gateway"})])
    error, waits = call(server, policy=RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0))
    assert isinstance(error, ProviderError) and error.status == 502
    assert len(server.requests) == 3 and len(waits.waits) == 2
    assert "GET /v1/things answered 502" in str(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_every_5xx_on_a_read_is_retried(status: int) -> None:
    server = Server([answer(status), answer(200)])
    response, waits = call(server)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(server.requests) == 2 and len(waits.waits) == 1


# -- Retry-After --------------------------------------------------------------------------------


def test_retry_after_in_seconds_is_the_wait() -> None:
    server = Server([answer(429, headers={"Retry-After": "3"}), answer(200)])
    response, waits = call(server)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert waits.waits == [3.0]


def test_retry_after_as_an_http_date_is_the_time_until_then() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=6)
    server = Server([answer(503, headers={"Retry-After": format_datetime(when, usegmt=True)}), answer(200)])
    response, waits = call(server)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(waits.waits) == 1 and 4.0 <= waits.waits[0] <= 6.0


def test_a_retry_after_longer_than_the_policy_allows_fails_at_once_instead_of_retrying_early() -> None:
    # Retrying after the capped wait would only draw another 429: stop, and say how long to wait.
    server = Server([answer(429, headers={"Retry-After": "120"}), answer(200)])
    error, waits = call(
        server, "GET", f"/v1/things/{SECRET}", policy=RetryPolicy(attempts=6, base_delay=1.0, max_delay=30.0)
    )
    assert isinstance(error, RateLimitError) and error.status == 429
    assert len(server.requests) == 1 and waits.waits == []
    message = str(error)
    assert "vendor acct" in message and "GET /v1/things/***" in message and SECRET not in message
    assert "wait 120 s" in message and "Retry-After" in message and "at most 30 s" in message
    assert "run it again later" in message


def test_a_retry_after_date_further_off_than_the_policy_allows_fails_at_once() -> None:
    when = datetime.now(timezone.utc) + timedelta(minutes=10)
    server = Server([answer(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), answer(200)])
    error, waits = call(server, policy=RetryPolicy(attempts=6, base_delay=1.0, max_delay=30.0))
    assert isinstance(error, RateLimitError) and error.status == 429
    assert len(server.requests) == 1 and waits.waits == []
    assert any(f"wait {s} s" in str(error) for s in (599, 600)), str(error)  # the date has whole seconds


def test_a_long_retry_after_on_a_retryable_5xx_also_fails_at_once() -> None:
    server = Server([answer(503, headers={"Retry-After": "3600"}), answer(200)])
    error, waits = call(server, policy=RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0))
    assert isinstance(error, RateLimitError) and error.status == 503
    assert len(server.requests) == 1 and waits.waits == []
    assert "wait 3600 s" in str(error) and "at most 8 s" in str(error)


def test_a_retry_after_within_the_policy_is_waited_and_retried() -> None:
    server = Server([answer(429, headers={"Retry-After": "5"}), answer(200)])
    response, waits = call(server, policy=RetryPolicy(attempts=6, base_delay=1.0, max_delay=30.0))
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(server.requests) == 2 and waits.waits == [5.0]


def test_a_retry_after_equal_to_the_cap_is_still_waited() -> None:
    server = Server([answer(429, headers={"Retry-After": "8"}), answer(200)])
    response, waits = call(server, policy=RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0))
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert waits.waits == [8.0]


def test_a_429_without_retry_after_still_backs_off() -> None:
    server = Server([answer(429), answer(200)])
    response, waits = call(server, policy=RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0))
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(waits.waits) == 1 and 0.5 <= waits.waits[0] <= 1.0


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0", 0.0),
        ("2.5", 2.5),
        ("-4", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: go now
        ("soon", None),  # unreadable: fall back to backoff
        ("", None),
    ],
)
def test_retry_after_parsing(value: str, expected: float | None) -> None:
    headers = {"Retry-After": value} if value else {}
    assert retry_after_seconds(httpx.Response(429, headers=headers)) == expected


def test_an_unreadable_retry_after_falls_back_to_backoff() -> None:
    server = Server([answer(429, headers={"Retry-After": "in a while"}), answer(200)])
    _, waits = call(server)
    assert len(waits.waits) == 1 and 0.5 <= waits.waits[0] <= 1.0


# -- what is never retried ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 422])
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
def test_a_4xx_is_never_retried(status: int, method: str) -> None:
    server = Server([answer(status, {"error": "no"}), answer(200)])
    error, waits = call(server, method)
    assert isinstance(error, ProviderError) and error.status == status
    assert isinstance(error, AuthError) == (status in (401, 403))
    assert len(server.requests) == 1 and waits.waits == []


def test_an_accepted_4xx_is_returned_not_raised_and_not_retried() -> None:
    server = Server([answer(404), answer(200)])
    response, waits = call(server, "DELETE", accept=(404,))
    assert isinstance(response, httpx.Response) and response.status_code == 404
    assert len(server.requests) == 1 and waits.waits == []


def test_a_5xx_on_a_request_that_is_not_idempotent_is_not_repeated() -> None:
    server = Server([answer(503), answer(200)])
    error, waits = call(server, "POST", data={"cancel_at_period_end": "true"})
    assert isinstance(error, ProviderError) and error.status == 503
    assert len(server.requests) == 1 and waits.waits == []


def test_a_429_is_retried_even_when_not_idempotent_because_nothing_was_done() -> None:
    server = Server([answer(429, headers={"Retry-After": "1"}), answer(200)])
    response, waits = call(server, "POST", data={"x": "1"})
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(server.requests) == 2 and waits.waits == [1.0]


def test_a_rate_limit_that_never_lifts_is_a_rate_limit_error() -> None:
    server = Server([answer(429, headers={"Retry-After": "0"})])
    error, waits = call(server, policy=RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0))
    assert isinstance(error, RateLimitError) and error.status == 429
    assert len(server.requests) == 3 and waits.waits == [0.0, 0.0]


# -- Stripe-Should-Retry -----------------------------------------------------------------------


def test_stripe_should_retry_true_lets_a_post_be_retried() -> None:
    server = Server([answer(500, headers={"Stripe-Should-Retry": "true"}), answer(200)])
    response, _ = call(server, "POST", headers={"Idempotency-Key": "k-1"})
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["k-1", "k-1"]


def test_stripe_should_retry_false_stops_a_retry_that_would_otherwise_happen() -> None:
    server = Server([answer(503, headers={"Stripe-Should-Retry": "false"}), answer(200)])
    error, waits = call(server, "GET")
    assert isinstance(error, ProviderError) and error.status == 503
    assert len(server.requests) == 1 and waits.waits == []
    server = Server([answer(429, headers={"Stripe-Should-Retry": "false"}), answer(200)])
    error, _ = call(server, "GET")
    assert isinstance(error, RateLimitError) and len(server.requests) == 1


def test_stripe_should_retry_true_on_a_409_lock_timeout_is_retried_within_the_policy() -> None:
    # Stripe sends the header with 409 lock timeouts; honour it, but still stop at the policy.
    server = Server([answer(409, headers={"Stripe-Should-Retry": "true"})])
    error, waits = call(server, "POST", policy=RetryPolicy(attempts=2, base_delay=0.1, max_delay=1.0))
    assert isinstance(error, ProviderError) and error.status == 409
    assert len(server.requests) == 2 and len(waits.waits) == 1


# -- connections and lost responses ------------------------------------------------------------


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
def test_a_request_that_never_left_is_retried_even_when_not_idempotent(failure: type[Exception]) -> None:
    server = Server([failure, answer(200)])
    response, waits = call(server, "POST")
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(server.requests) == 2 and len(waits.waits) == 1


@pytest.mark.parametrize("failure", [httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_a_lost_response_to_a_request_that_is_not_idempotent_raises_response_lost(failure: type[Exception]) -> None:
    server = Server([failure, answer(200)])
    error, waits = call(server, "DELETE", "/v1/things/" + SECRET, idempotent=False)
    assert isinstance(error, ResponseLost)
    assert len(server.requests) == 1 and waits.waits == []  # settled by the caller, never resent
    assert "settled by reading" in str(error) and SECRET not in str(error)


@pytest.mark.parametrize("failure", [httpx.ReadError, httpx.ReadTimeout])
def test_a_lost_response_to_a_read_is_retried(failure: type[Exception]) -> None:
    server = Server([failure, answer(200)])
    response, waits = call(server, "GET")
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(server.requests) == 2 and len(waits.waits) == 1


def test_an_unreachable_host_fails_after_the_policy_attempts() -> None:
    server = Server([httpx.ConnectError])
    error, waits = call(server, policy=RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0))
    assert isinstance(error, ProviderError) and not isinstance(error, ResponseLost)
    assert "after 3 attempts" in str(error) and "ConnectError" in str(error)
    assert len(server.requests) == 3 and len(waits.waits) == 2


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_a_lost_response_to_any_mutating_request_is_never_resent(method: str) -> None:
    server = Server([httpx.ReadError, answer(404)])
    error, waits = call(server, method, "/v1/things/1")
    assert isinstance(error, ResponseLost)
    assert len(server.requests) == 1 and waits.waits == []


# -- the audit hook ----------------------------------------------------------------------------


def test_every_mutating_attempt_is_audited_without_secrets_and_reads_are_not() -> None:
    audit: list[dict[str, Any]] = []
    server = Server(
        [answer(429, headers={"Retry-After": "0", "x-request-id": "r-1"}), answer(200, headers={"x-request-id": "r-2"})]
    )
    call(server, "DELETE", f"/v1/things/{SECRET}", params={"token": SECRET}, audit_log=audit,
         idempotent=False, audit={"idempotency_key": "tether-k", "backup_sha256": "ab" * 32})
    assert [(e["method"], e["status"], e["request_id"]) for e in audit] == [("DELETE", 429, "r-1"), ("DELETE", 200, "r-2")]
    for entry in audit:
        assert entry["path"] == "/v1/things/***"  # the path only: no query string, no secret
        assert entry["idempotency_key"] == "tether-k" and entry["backup_sha256"] == "ab" * 32
        assert entry["provider"] == "vendor" and entry["account"] == "acct"
    reads: list[dict[str, Any]] = []
    call(Server([answer(200)]), "GET", audit_log=reads)
    call(Server([answer(200)]), "PUT", "/v1/search", audit_log=reads, mutating=False)
    assert reads == []


def test_a_mutating_call_whose_response_was_lost_is_audited() -> None:
    audit: list[dict[str, Any]] = []
    call(Server([httpx.ReadError]), "DELETE", "/v1/things/1", audit_log=audit, idempotent=False,
         audit={"idempotency_key": "tether-k"})
    assert len(audit) == 1
    assert audit[0]["method"] == "DELETE" and audit[0]["path"] == "/v1/things/1"
    assert audit[0]["status"] is None and audit[0]["idempotency_key"] == "tether-k"


# -- redaction ----------------------------------------------------------------------------------


def test_a_secret_never_reaches_an_error_message_or_a_log(capsys: pytest.CaptureFixture[str]) -> None:
    echo = Server([answer(400, {"error": f"bad key {SECRET} in ?api_key={SECRET}"})])
    configure("debug", "json", REDACTOR)
    try:
        error, _ = call(echo, "GET", f"/v1/things?api_key={SECRET}")
        flaky = Server([answer(503), httpx.ReadError, answer(200)])
        call(flaky, "GET", f"/v1/things?api_key={SECRET}")
    finally:
        configure("warning", "console")
    assert isinstance(error, ProviderError)
    assert SECRET not in str(error) and "***" in str(error)
    logged = capsys.readouterr().err
    events = [json.loads(line)["event"] for line in logged.splitlines()]
    assert {"http.response", "http.retry", "http.transport_error"} <= set(events)
    assert SECRET not in logged and "api_key=***" in logged


def test_the_redactor_masks_plain_and_percent_encoded_secrets_longest_first() -> None:
    redact = Redactor(["abc", "tok/en+1", "tok/en+1-long-version"])
    assert redact("x tok/en+1-long-version y") == "x *** y"
    assert redact("q=tok%2Fen%2B1&r=tok/en+1") == "q=***&r=***"
    assert redact("abc stays: too short to be a secret") == "abc stays: too short to be a secret"
    headers = redact.headers({"Authorization": "Bearer x", "X-Shopify-Access-Token": "y", "X-Note": "tok/en+1"})
    assert headers == {"Authorization": "***", "X-Shopify-Access-Token": "***", "X-Note": "***"}


def test_secrets_given_to_a_client_join_the_shared_redactor() -> None:
    call(Server([answer(200)]))
    assert REDACTOR(f"Bearer {SECRET}") == "Bearer ***"


def test_httpx_request_logging_stays_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        call(Server([answer(200)]), "GET", f"/v1/things?api_key={SECRET}")
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING
    assert not [r for r in caplog.records if r.name.startswith(("httpx", "httpcore"))]
    assert SECRET not in caplog.text


# -- https only ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://api.stripe.com", "http://127.0.0.1:8787/stripe", "http://localhost:9/x", "http://[::1]:8787", "http://127.8.9.10/"],
)
def test_https_or_loopback_endpoints_are_allowed(url: str) -> None:
    require_safe_endpoint(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.stripe.com",
        "http://10.0.0.5:8787",
        "http://127.0.0.1.evil.example/",
        "http://localhost.evil.example/",
        "ftp://127.0.0.1/",
        "api.stripe.com",
    ],
)
def test_plain_http_to_anything_but_loopback_is_refused(url: str) -> None:
    with pytest.raises(ProviderError, match="not https"):
        require_safe_endpoint(url)


@pytest.mark.parametrize(
    "url,loopback",
    [
        ("http://127.0.0.1.evil.example/", False),
        ("http://localhost.evil.example/", False),
        ("http://evil.example/?next=http://127.0.0.1/", False),
        ("http://user@127.0.0.1:8787/", True),
        ("http://[::1]/", True),
    ],
)
def test_loopback_is_decided_by_the_host_alone(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_a_client_is_never_built_for_a_plain_http_endpoint() -> None:
    async def run() -> None:
        factory = HttpFactory(transport=httpx.MockTransport(Server([answer(200)])))
        try:
            factory.client("http://api.vendor.example", provider="vendor", account="acct", secrets=[SECRET])
        finally:
            await factory.aclose()

    with pytest.raises(ProviderError, match="credentials are sent only over https"):
        asyncio.run(run())


# -- rate limits ---------------------------------------------------------------------------------


class Clock:
    """A monotonic clock that moves only when ``sleep`` is awaited; ``waits`` keeps each sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_token_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    clock = Clock()
    waits, sleep = clock.waits, clock.sleep

    async def run() -> None:
        bucket = TokenBucket(rate=2.0, burst=3, clock=clock, sleep=sleep)
        for _ in range(3):
            await bucket.acquire("op")
        assert waits == []  # the burst goes at once
        for _ in range(4):
            await bucket.acquire("op")

    asyncio.run(run())
    assert waits == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert clock.now == pytest.approx(102.0)  # 7 requests at 2/s after a burst of 3


def test_token_bucket_refills_only_up_to_its_burst() -> None:
    clock = Clock()
    waits, sleep = clock.waits, clock.sleep

    async def run() -> None:
        bucket = TokenBucket(rate=1.0, burst=2, clock=clock, sleep=sleep)
        clock.now += 3600  # an hour idle earns two tokens, not 3600
        for _ in range(3):
            await bucket.acquire("op")

    asyncio.run(run())
    assert waits == pytest.approx([1.0])


def test_token_bucket_empties_on_a_429() -> None:
    clock = Clock()
    waits, sleep = clock.waits, clock.sleep

    async def run() -> None:
        bucket = TokenBucket(rate=4.0, burst=10, clock=clock, sleep=sleep)
        await bucket.acquire("op")
        bucket.observe("op", httpx.Response(200))
        assert waits == []
        bucket.observe("op", httpx.Response(429))
        await bucket.acquire("op")

    asyncio.run(run())
    assert waits == pytest.approx([0.25])


def test_token_bucket_waits_at_least_a_millisecond() -> None:
    clock = Clock()
    waits, sleep = clock.waits, clock.sleep

    async def run() -> None:
        bucket = TokenBucket(rate=1_000_000.0, burst=1, clock=clock, sleep=sleep)
        await bucket.acquire("op")
        await bucket.acquire("op")

    asyncio.run(run())
    assert waits == [0.001]


def test_the_limiter_is_asked_before_every_attempt_and_shown_every_response() -> None:
    seen: list[tuple[str, Any]] = []

    class Spy:
        async def acquire(self, operation: str) -> None:
            seen.append(("acquire", operation))

        def observe(self, operation: str, response: httpx.Response) -> None:
            seen.append(("observe", response.status_code))

    call(Server([answer(429, headers={"Retry-After": "0"}), answer(200)]), limiter=Spy(), operation="list")
    assert seen == [("acquire", "list"), ("observe", 429), ("acquire", "list"), ("observe", 200)]


def test_json_body_reads_like_response_json_and_keeps_wide_integers() -> None:
    from providers.http import json_body

    def answer(content: bytes) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    assert json_body(answer(b'{"webhooks": [{"id": 9223372036854775807, "topic": "orders/create"}]}')) == {
        "webhooks": [{"id": 9223372036854775807, "topic": "orders/create"}]
    }
    wide = json_body(answer(b'{"id": 123456789012345678901234567890}'))
    assert wide == {"id": 123456789012345678901234567890} and isinstance(wide["id"], int)
    assert json_body(answer('{"name": "Lagerhaus Süd"}'.encode())) == {"name": "Lagerhaus Süd"}
    assert math.isnan(json_body(answer(b'{"rate": NaN}'))["rate"])  # the json module's reading
    with pytest.raises(ValueError):
        json_body(answer(b"<html>502 Bad Gateway</html>"))


# -- proxies: httpx reads them from the environment, never for loopback ---------------------------


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _proxy_of(factory: HttpFactory, url: str) -> httpx.AsyncBaseTransport:
    """The transport httpx chose for ``url``: the client's own, or one mounted for a proxy."""
    client = factory.http_client(url)
    return client._transport_for_url(httpx.URL(url))


def test_an_origin_the_environment_proxies_goes_through_the_proxy_and_loopback_never_does(
    no_proxy_environment: pytest.MonkeyPatch,
) -> None:
    no_proxy_environment.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    no_proxy_environment.setenv("NO_PROXY", "internal.example")
    no_proxy_environment.setenv("ALL_PROXY", "http://proxy.corp.example:3128")
    factory = HttpFactory(http2=False)
    try:
        vendor = factory.http_client("https://api.vendor.example/v1")
        assert _proxy_of(factory, "https://api.vendor.example/v1") is not vendor._transport  # proxied
        internal = factory.http_client("https://internal.example/v1")
        assert _proxy_of(factory, "https://internal.example/v1") is internal._transport  # NO_PROXY
        sandbox = factory.http_client("http://127.0.0.1:8080/shopify/shop")
        assert _proxy_of(factory, "http://127.0.0.1:8080/shopify/shop") is sandbox._transport
        # One pool per origin: the same client for every path of an origin, another for another.
        assert factory.http_client("https://api.vendor.example/v2/other") is vendor
        assert len({id(vendor), id(internal), id(sandbox)}) == 3
    finally:
        asyncio.run(factory.aclose())


def test_a_socks_proxy_without_its_package_is_a_clear_error_not_a_crash(
    no_proxy_environment: pytest.MonkeyPatch,
) -> None:
    try:
        import socksio  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("socksio is installed: the SOCKS proxy is usable")
    no_proxy_environment.setenv("ALL_PROXY", "socks5://proxy.corp.example:1080")
    with pytest.raises(ProviderError, match="socksio.*ALL_PROXY"):
        HttpFactory(http2=False).http_client("https://api.vendor.example")


def test_every_request_names_tether_accepts_compression_and_carries_the_timeouts() -> None:
    server = Server([answer(200, {})])
    response, _ = call(server)
    assert isinstance(response, httpx.Response)
    sent = server.requests[0]
    assert sent.headers["user-agent"] == "tether"
    assert "gzip" in sent.headers["accept-encoding"]
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.extensions["timeout"] == {"connect": 30.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    server = Server([answer(200, {})])
    call(server, headers={"User-Agent": "tether (stripe provider)", "accept": "application/json"})
    sent = server.requests[0]
    assert sent.headers.get_list("user-agent") == ["tether (stripe provider)"]
    assert sent.headers.get_list("accept") == ["application/json"]  # any case replaces the default


def test_the_factory_names_the_user_agent_the_engine_gives_it() -> None:
    server = Server([answer(200, {})])

    async def run() -> None:
        factory = HttpFactory(transport=httpx.MockTransport(server), user_agent="tether/9.8.7")
        try:
            await factory.client(BASE, provider="vendor", account="acct").request("GET", "/v1/things")
        finally:
            await factory.aclose()

    asyncio.run(run())
    assert server.requests[0].headers.get_list("user-agent") == ["tether/9.8.7"]


def test_a_gzip_body_is_read_decoded() -> None:
    import gzip

    body = json.dumps({"items": [1, 2, 3]}).encode()
    server = Server([lambda request: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(body))])
    response, _ = call(server)
    assert isinstance(response, httpx.Response)
    assert response.json() == {"items": [1, 2, 3]}
    assert response.request.url == httpx.URL(BASE + "/v1/things")


def test_response_lost_is_the_sdk_error() -> None:
    assert ResponseLost is ResponseLostError
