"""The one place that builds HTTP clients: pooling, timeouts, retries, rate limits, redaction.

Every provider talks to its vendor through ``ApiClient.request`` (``client``), made by the run's
``HttpFactory`` (``factory``), which keeps httpx connection pools per origin (small ones: see
``factory.POOL_SIZE``). The policy
around httpx lives beside it: ``policy`` (retries, ``Retry-After``, rate limiters), ``redact``
(secrets out of logs and errors), ``body`` (the response size limit, fast JSON), ``endpoints``
(https or loopback only; which host a URL stands for), ``slots`` (the run's global slots).

httpx's own request logging is kept quiet here: it logs whole URLs, and a URL may carry a secret.
"""

from __future__ import annotations

import logging

from providers.http.body import DEFAULT_MAX_RESPONSE_BYTES, MIB, ResponseTooLargeError, json_body, read_limited
from providers.http.client import MUTATING, ApiClient, ErrorDescriber, default_describe, with_defaults
from providers.http.endpoints import host_key, is_loopback, is_loopback_host, origin, require_safe_endpoint
from providers.http.factory import DEFAULT_PARALLELISM, DEFAULT_PER_HOST, POOL_SIZE, AuditHook, HttpFactory
from providers.http.policy import NoLimit, RateLimiter, RetryPolicy, Sleep, TokenBucket, retry_after_seconds
from providers.http.redact import REDACTOR, Redactor
from providers.http.slots import PrioritySlots
from providers.sdk.errors import ResponseLostError

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

ResponseLost = ResponseLostError
"""The name providers used before the SDK had ``ResponseLostError``: the same class."""

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_PARALLELISM",
    "DEFAULT_PER_HOST",
    "MIB",
    "MUTATING",
    "POOL_SIZE",
    "REDACTOR",
    "ApiClient",
    "AuditHook",
    "ErrorDescriber",
    "HttpFactory",
    "NoLimit",
    "PrioritySlots",
    "RateLimiter",
    "Redactor",
    "ResponseLost",
    "ResponseLostError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Sleep",
    "TokenBucket",
    "default_describe",
    "host_key",
    "is_loopback",
    "is_loopback_host",
    "json_body",
    "origin",
    "read_limited",
    "require_safe_endpoint",
    "retry_after_seconds",
    "with_defaults",
]
