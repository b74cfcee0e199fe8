"""A stateful stand-in for the part of the Stripe API tether uses, in Stripe's own shapes.

What it is faithful to, because the client depends on it:

- auth: ``Authorization: Bearer <key>`` (or Basic with the key as user name); the account is
  found from the key; restricted keys (``rk_``) carry the permissions the scenario gives them;
  ``Stripe-Account`` acts on a connected account the key's account lists in ``connected_accounts``;
- form-encoded parameters with bracketed nesting, unknown parameters refused;
- cursor pagination (``limit`` 1..100, default 10; ``starting_after``/``ending_before``;
  ``has_more``; ``url``), newest first; the list's default ``status`` filter hides canceled ones;
- cancel now (``DELETE``) and at period end (``POST cancel_at_period_end``), a canceled
  subscription answering ``resource_missing`` to a second cancel and refusing other updates;
- idempotency: a POST's ``Idempotency-Key`` replays the saved response (``Idempotent-Replayed``),
  and the same key with other parameters is an ``idempotency_error``; keys expire after 24 hours;
- per-account rate limits (100 reads and 100 writes per second live, 25 in test mode), 429 with
  ``code: rate_limit`` and ``Stripe-Should-Retry: true``;
- every response carries ``Request-Id`` and the ``Stripe-Version`` it was rendered for; requests
  pinned to a version before 2025-03-31 get the period fields at the top of the subscription.

What it leaves out: creating objects, prorations and final invoices (``invoice_now``/``prorate``
are checked and accepted but bill nothing), expansions (``expand`` is accepted and ignored), and
the filters listed in ``_NOT_EMULATED``, which answer 400 rather than an unfiltered list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx

from providers.emulation import Rate, Throttle
from providers.sandbox import path_segments
from providers.stripe.answers import ApiError as _ApiError
from providers.stripe.answers import Call as _Call
from providers.stripe.forms import FormError, decode_form
from providers.stripe.handlers import Handlers
from providers.stripe.rights import (
    CUSTOMERS_READ,
    INVOICES_READ,
    STRIPE_NAMES,
    SUBSCRIPTIONS_READ,
    SUBSCRIPTIONS_WRITE,
)
from providers.stripe.store import ApiKey, Tenant, build_tenant, scenario_error
from providers.stripe.versions import problem as version_problem

_KEY_PREFIX = re.compile(r"^[a-z]{2}_(test|live)_")
_IDEMPOTENCY_TTL = 24 * 3600

def mask_key(secret: str) -> str:
    """A key as Stripe echoes it in errors: its prefix, asterisks, and the last four characters."""
    found = _KEY_PREFIX.match(secret)
    prefix = found.group(0) if found else secret[:3]
    rest = secret[len(prefix):]
    return prefix + "*" * max(4, len(rest) - 4) + rest[-4:]


@dataclass
class _Fault:
    method: str
    path: str
    status: int
    error: dict[str, Any]
    headers: dict[str, str]
    times: int
    query: dict[str, str]

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        return (
            self.times > 0
            and self.method == method
            and self.path == path
            and all(query.get(k) == v for k, v in self.query.items())
        )


@dataclass
class _Saved:
    fingerprint: str
    endpoint: str
    status: int
    body: bytes
    request_id: str
    at: float


class StripeEmulator(Handlers):
    name = "stripe"
    prefix = "/stripe"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._wall = wall_clock
        self.enforce_rate_limits: bool = True
        self.read_rate = {True: 100.0, False: 25.0}  # requests per second, by livemode
        self.write_rate = {True: 100.0, False: 25.0}
        self._tenants: dict[str, Tenant] = {}
        self._keys: dict[str, ApiKey] = {}
        self._throttle = Throttle(clock)  # Stripe counts per account and mode, reads apart from writes
        self._faults: list[_Fault] = []
        self._served = 0
        self.received: deque[dict[str, Any]] = deque(maxlen=2000)

    # -- scenario -----------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        if not isinstance(section, Mapping):
            raise scenario_error("expected a mapping of account id -> account")
        now = int(self._wall())
        tenants: dict[str, Tenant] = {}
        keys: dict[str, ApiKey] = {}
        for account, body in section.items():
            tenant, tenant_keys = build_tenant(str(account), body, now=now)
            tenants[tenant.account] = tenant
            for key in tenant_keys:
                if key.secret in keys:
                    raise scenario_error(f"API key {mask_key(key.secret)} is listed by two accounts")
                keys[key.secret] = key
        for tenant in tenants.values():
            for connected in tenant.connected_accounts:
                if connected not in tenants:
                    raise scenario_error(f"{tenant.account}.connected_accounts names {connected}, which the scenario does not define")
        self._tenants, self._keys = tenants, keys
        self._throttle.reset()
        self._faults.clear()

    def dump(self) -> dict[str, Any]:
        now = int(self._wall())
        for tenant in self._tenants.values():
            for sub in tenant.subscriptions.values():
                self._settle(sub, now)
        return {account: tenant.dump() for account, tenant in self._tenants.items()}

    def inject_fault(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        code: str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        should_retry: bool | None = None,
        times: int = 1,
        query: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching authenticated requests with an error, as Stripe would.

        ``code="lock_timeout"`` or ``"rate_limit"`` with status 429 gives Stripe's exact bodies.
        """
        if message is None:
            message = {
                "lock_timeout": "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request.",
                "rate_limit": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            }.get(code or "", "An unknown error occurred")
        error = _ApiError(status, message, error_type=error_type or ("api_error" if status >= 500 else "invalid_request_error"), code=code).error
        headers = {} if should_retry is None else {"Stripe-Should-Retry": "true" if should_retry else "false"}
        self._faults.append(_Fault(method.upper(), path, status, error, headers, times, dict(query or {})))

    # -- HTTP ---------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        self._served += 1
        request_id = "req_" + hashlib.sha256(f"{id(self)}:{self._served}".encode()).hexdigest()[:14]
        method = request.method.upper()
        headers: dict[str, str] = {"Request-Id": request_id, "Content-Type": "application/json", "Cache-Control": "no-cache, no-store"}
        try:
            status, body, extra = self._serve(request, method, path, request_id)
            headers.update(extra)
        except _ApiError as err:
            status, body = err.status, json.dumps({"error": err.error}).encode()
            headers.update(err.headers)
        except Exception as exc:  # a fault of the emulator: answer as Stripe answers its own
            failure = _ApiError(500, f"An unknown error occurred in the sandbox ({type(exc).__name__}: {exc})", error_type="api_error")
            status, body = 500, json.dumps({"error": failure.error}).encode()
        self.received.append({"method": method, "path": path, "status": status, "request_id": request_id})
        return httpx.Response(status, headers=headers, content=body)

    def _serve(self, request: httpx.Request, method: str, path: str, request_id: str) -> tuple[int, bytes, dict[str, str]]:
        key = self._authenticate(request)
        tenant = self._target(key, request.headers.get("stripe-account"))
        version = request.headers.get("stripe-version") or tenant.api_version
        if version_problem(version, today=datetime.fromtimestamp(self._wall(), timezone.utc).date()):
            raise _ApiError(400, f"Invalid Stripe API version: {version}")
        self._rate_limit(key, method)
        query = dict(parse_qsl(request.url.query.decode("ascii", "replace"), keep_blank_values=True))
        for fault in self._faults:
            if fault.matches(method, path, query):
                fault.times -= 1
                raise _ApiError(fault.status, fault.error["message"], error_type=fault.error["type"],
                                code=fault.error.get("code"), headers=fault.headers)
        now = int(self._wall())
        call = _Call(key, tenant, version, self._params(request, method), request_id, now)
        route, ids = self._route(method, path, path_segments(request, path))
        self._authorize(key, tenant, route)
        extra = {"Stripe-Version": version}
        idem_key = request.headers.get("idempotency-key") if method == "POST" else None
        if idem_key:
            extra["Idempotency-Key"] = idem_key
            replay = self._replay(tenant, key, idem_key, method, path, call.params, now)
            if replay is not None:
                extra.update({"Idempotent-Replayed": "true", "Original-Request": replay.request_id})
                return replay.status, replay.body, extra
        status, payload = getattr(self, "_" + route)(call, *ids)
        body = json.dumps(payload).encode()
        if idem_key and 200 <= status < 300:
            tenant.idempotency[("live" if key.livemode else "test", idem_key)] = _Saved(
                self._fingerprint(call.params), f"{method} {path}", status, body, request_id, now
            )
        return status, body, extra

    def _authenticate(self, request: httpx.Request) -> ApiKey:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        secret = ""
        if scheme.lower() == "bearer":
            secret = value.strip()
        elif scheme.lower() == "basic":
            try:
                secret = base64.b64decode(value.strip()).decode("utf-8").split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError):
                secret = ""
        challenge = {"WWW-Authenticate": 'Bearer realm="Stripe"'}
        if not secret:
            raise _ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
                "for details, or we can help at https://support.stripe.com/.",
                headers=challenge,
            )
        key = self._keys.get(secret)
        if key is None:
            raise _ApiError(401, f"Invalid API Key provided: {mask_key(secret)}", headers=challenge)
        return key

    def _target(self, key: ApiKey, stripe_account: str | None) -> Tenant:
        own = self._tenants[key.account]
        if not stripe_account or stripe_account == key.account:
            return own
        if stripe_account in own.connected_accounts and stripe_account in self._tenants:
            return self._tenants[stripe_account]
        raise _ApiError(
            403,
            f"The provided key '{mask_key(key.secret)}' does not have access to account '{stripe_account}' "
            "(or that account does not exist). Application access may have been revoked.",
            code="account_invalid",
        )

    def _rate_limit(self, key: ApiKey, method: str) -> None:
        if not self.enforce_rate_limits:
            return
        kind = "read" if method == "GET" else "write"
        rate = (self.read_rate if kind == "read" else self.write_rate)[key.livemode]
        if self._throttle.admit((key.account, key.livemode, kind), Rate(rate, int(rate))):
            raise _ApiError(
                429,
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                code="rate_limit",
                headers={"Stripe-Should-Retry": "true"},
            )

    def _params(self, request: httpx.Request, method: str) -> dict[str, Any]:
        pairs = parse_qsl(request.url.query.decode("ascii", "replace"), keep_blank_values=True)
        body = request.content
        if body and method in ("POST", "DELETE"):
            content_type = request.headers.get("content-type", "")
            if not content_type.startswith("application/x-www-form-urlencoded"):
                raise _ApiError(
                    400,
                    "Invalid request (check that your POST content type is application/x-www-form-urlencoded). "
                    "If you have any questions, we can help at https://support.stripe.com/.",
                )
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        try:
            return decode_form(pairs)
        except FormError as exc:
            raise _ApiError(400, str(exc), param=exc.param) from None

    def _route(self, method: str, path: str, segments: list[str]) -> tuple[str, tuple[str, ...]]:
        # ``segments`` were split before decoding, so an id holding an encoded '/' stays whole.
        parts = [part for part in segments if part]
        routes = {
            ("GET", 2, "subscriptions"): "list_subscriptions",
            ("GET", 3, "subscriptions"): "retrieve_subscription",
            ("POST", 3, "subscriptions"): "update_subscription",
            ("DELETE", 3, "subscriptions"): "cancel_subscription",
            ("GET", 2, "invoices"): "list_invoices",
            ("GET", 3, "invoices"): "retrieve_invoice",
            ("GET", 2, "customers"): "list_customers",
            ("GET", 3, "customers"): "retrieve_customer",
        }
        if len(parts) in (2, 3) and parts[0] == "v1":
            route = routes.get((method, len(parts), parts[1]))
            if route:
                return route, tuple(parts[2:])
        raise _ApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    def _authorize(self, key: ApiKey, tenant: Tenant, route: str) -> None:
        if not key.restricted:
            return
        needed = {
            "list_subscriptions": SUBSCRIPTIONS_READ,
            "retrieve_subscription": SUBSCRIPTIONS_READ,
            "update_subscription": SUBSCRIPTIONS_WRITE,
            "cancel_subscription": SUBSCRIPTIONS_WRITE,
            "list_invoices": INVOICES_READ,
            "retrieve_invoice": INVOICES_READ,
            "list_customers": CUSTOMERS_READ,
            "retrieve_customer": CUSTOMERS_READ,
        }[route]
        if needed not in key.rights:
            raise _ApiError(
                403,
                f"The provided key '{mask_key(key.secret)}' does not have the required permissions for this endpoint on "
                f"account '{tenant.account}'. Having the '{STRIPE_NAMES[needed]}' permission would allow this request to continue.",
            )

    @staticmethod
    def _fingerprint(params: Mapping[str, Any]) -> str:
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()

    def _replay(self, tenant: Tenant, key: ApiKey, idem_key: str, method: str, path: str, params: Mapping[str, Any], now: int) -> _Saved | None:
        slot = ("live" if key.livemode else "test", idem_key)
        saved = tenant.idempotency.get(slot)
        if saved is None:
            return None
        if now - saved.at > _IDEMPOTENCY_TTL:
            del tenant.idempotency[slot]
            return None
        endpoint = f"{method} {path}"
        if saved.endpoint != endpoint:
            raise _ApiError(
                400,
                f"Keys for idempotent requests can only be used for the same endpoint they were first used for "
                f"('{saved.endpoint}' vs '{endpoint}'). Try using a key other than '{idem_key}' if you meant to execute a different request.",
                error_type="idempotency_error",
            )
        if saved.fingerprint != self._fingerprint(params):
            raise _ApiError(
                400,
                f"Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{idem_key}' if you meant to execute a different request.",
                error_type="idempotency_error",
            )
        found: _Saved = saved
        return found

    # -- parameters ---------------------------------------------------------------------------
