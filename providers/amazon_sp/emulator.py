"""A stateful stand-in for SP-API (Shipping v2 carrier accounts, Notifications) and Login with Amazon.

Served under ``/amazon-sp``; ``/amazon-sp/auth/o2/token`` stands in for
``https://api.amazon.com/auth/o2/token``. As in the real service the tenant is never in the URL:
it is the selling partner and application whose refresh token the access token was issued from,
or, for a grantless token, the application (all tenants sharing that LWA client id). An
application sees and deletes only its own notification destinations and subscriptions: another
application's are not found for it (404), as SP-API scopes them to "your application"
(https://developer-docs.amazon.com/sp-api/reference/deletesubscriptionbyid). Carrier accounts
are the selling partner's: every application it authorized with the shipping role sees them.

What it enforces, because the provider client must cope with it: the ``x-amz-access-token``
header (missing: 403; unknown: 401; expired: 403 naming the expiry), grantless operations only
with grantless tokens and the others only with seller tokens, the seller's roles, per-operation
token buckets on the injected clock (429 without ``Retry-After``), 409 for deleting a destination
still used by a subscription, and 403 for deleting subscriptions of the scenario's
``undeletable_types``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

from providers.emulation import Rate, Reply, Throttle, json_response
from providers.sandbox import path_segments

from .handlers import Handlers
from .operations import NOTIFICATIONS_SCOPE, OPERATIONS, SHIPPING_ROLE, Operation
from .replies import ROUTES, Call, Grant, denied, errors, strip_ends
from .scenario import ScenarioError, Tenant, dump_seller, load_tenant

TOKEN_LIFETIME = 3600
GRANTLESS_SCOPES = frozenset({NOTIFICATIONS_SCOPE, "sellingpartnerapi::client_credential:rotation"})


class AmazonSPEmulator(Handlers):
    name: ClassVar[str] = "amazon-sp"
    prefix: ClassVar[str] = "/amazon-sp"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._throttle = Throttle(clock)
        self._sellers: dict[str, list[Tenant]] = {}
        self._apps: dict[str, list[Tenant]] = {}
        self._by_refresh: dict[str, Tenant] = {}
        self._grants: dict[str, Grant] = {}
        self._routes: dict[tuple[str, int], list[tuple[tuple[str, ...], str, str]]] = {}
        for method, template, op, handler in ROUTES:
            parts = tuple(template.split("/"))
            self._routes.setdefault((method, len(parts)), []).append((parts, op, handler))

    # -- scenario --------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        if section is None:
            section = {}
        if not isinstance(section, Mapping):
            raise ScenarioError("amazon-sp scenario: the section must map selling partner ids to tenants")
        sellers = {str(k): load_tenant(str(k), v) for k, v in section.items()}
        tenants = [tenant for group in sellers.values() for tenant in group]
        apps: dict[str, list[Tenant]] = {}
        by_refresh: dict[str, Tenant] = {}
        for tenant in tenants:
            peers = apps.setdefault(tenant.client_id, [])
            if peers and peers[0].client_secret != tenant.client_secret:
                raise ScenarioError(
                    f"amazon-sp scenario: tenants {peers[0].seller_id} and {tenant.seller_id} share client_id "
                    "but not client_secret"
                )
            peers.append(tenant)
            if tenant.refresh_token in by_refresh:
                raise ScenarioError(f"amazon-sp scenario: refresh token of {tenant.seller_id} is used twice")
            by_refresh[tenant.refresh_token] = tenant
        for tenant in tenants:
            known = {d for peer in apps[tenant.client_id] for d in peer.destinations}
            for kind, subs in tenant.subscriptions.items():
                for sub in subs.values():
                    if sub["destinationId"] not in known:
                        raise ScenarioError(
                            f"amazon-sp scenario, tenant {tenant.seller_id}: {kind} subscription "
                            f"{sub['subscriptionId']} uses unknown destination {sub['destinationId']}"
                        )
        self._sellers, self._apps, self._by_refresh = sellers, apps, by_refresh
        self._grants.clear()
        self._throttle.reset()

    @property
    def enforce_rate_limits(self) -> bool:
        return self._throttle.enabled

    @enforce_rate_limits.setter
    def enforce_rate_limits(self, value: bool) -> None:
        self._throttle.enabled = value

    def dump(self) -> dict[str, Any]:
        return {seller_id: dump_seller(group) for seller_id, group in self._sellers.items()}

    # -- HTTP ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        if path.strip("/") == "auth/o2/token":
            if request.method != "POST":
                return self._respond(405, {"error": "invalid_request", "error_description": "Use POST"})
            status, body = self._token(request)
            return self._respond(status, body, extra={"Cache-Control": "no-store"})
        parts = strip_ends(path_segments(request, path))
        route = self._match(request.method, parts)
        if route is None:
            return self._respond(
                404, errors("NotFound", "The requested resource is invalid or doesn't exist")
            )
        op_key, handler, args = route
        op = OPERATIONS[op_key]
        shipping = op.role == SHIPPING_ROLE
        try:
            grant = self._authorize(request, op)
            call = Call(request, op, grant, args, shipping)
            status, body = getattr(self, handler)(call)
        except Reply as reply:
            status, body = reply.status, reply.body
        headers = {} if status in (401, 403, 429) else {"x-amzn-RateLimit-Limit": str(float(op.rate))}
        return self._respond(status, body, extra=headers)

    def _match(self, method: str, parts: tuple[str, ...]) -> tuple[str, str, dict[str, str]] | None:
        for template, op, handler in self._routes.get((method, len(parts)), ()):
            args: dict[str, str] = {}
            for want, got in zip(template, parts):
                if want.startswith("{"):
                    if not got:
                        break
                    args[want[1:-1]] = got
                elif want != got:
                    break
            else:
                return op, handler, args
        return None

    def _respond(self, status: int, body: Any, *, extra: Mapping[str, str] | None = None) -> httpx.Response:
        return json_response(status, body, request_id_header="x-amzn-RequestId", headers=extra)

    def _authorize(self, request: httpx.Request, op: Operation) -> Grant:
        token = request.headers.get("x-amz-access-token")
        if not token:
            raise denied()
        grant = self._grants.get(token)
        if grant is None:
            raise Reply(
                401,
                errors(
                    "Unauthorized",
                    "You don't have access to the requested response or the credentials are invalid.",
                    "The access token you provided is revoked, malformed or invalid.",
                ),
            )
        now = self._clock()
        if now >= grant.expires_at:
            raise denied("The access token you provided has expired.")
        if op.grantless and not grant.grantless:
            raise denied(f"{op.name} is a grantless operation; call it with a grantless access token.")
        if not op.grantless:
            if grant.grantless:
                raise denied(f"{op.name} needs the selling partner's authorization, not a grantless token.")
            tenant = grant.tenant
            if tenant is None or op.role.split("::")[-1] not in tenant.roles:
                raise denied()
        # Usage plans count per selling partner and application (seller tokens) or per
        # application (grantless), per operation.
        subject = (grant.client_id, grant.tenant.seller_id if grant.tenant else "")
        if self._throttle.admit((subject, op.name), Rate(op.rate, op.burst)):
            if op.role == SHIPPING_ROLE:
                raise Reply(
                    429, errors("TooManyRequests", "The total number of requests exceeded your allowed limit.")
                )
            raise Reply(429, errors("QuotaExceeded", "You exceeded your quota for the requested resource."))
        return grant

    # -- Login with Amazon -----------------------------------------------------------------

    def _token(self, request: httpx.Request) -> tuple[int, dict[str, Any]]:
        raw = request.read().decode("utf-8", "replace")
        if "json" in request.headers.get("content-type", ""):
            try:
                loaded = json.loads(raw or "{}")
            except ValueError:
                loaded = None
            form = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        else:
            form = dict(parse_qsl(raw, keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        if grant_type not in ("refresh_token", "client_credentials"):
            if not grant_type:
                return 400, _lwa_error(
                    "invalid_request", "The request is missing a required parameter : grant_type"
                )
            return 400, _lwa_error("unsupported_grant_type", "The authorization grant type is not supported")
        for name in ("client_id", "client_secret") + (
            ("refresh_token",) if grant_type == "refresh_token" else ("scope",)
        ):
            if not form.get(name):
                return 400, _lwa_error(
                    "invalid_request", f"The request is missing a required parameter : {name}"
                )
        app = self._apps.get(form["client_id"])
        if not app or not secrets.compare_digest(app[0].client_secret, form["client_secret"]):
            return 401, _lwa_error("invalid_client", "Client authentication failed")
        now = self._clock()
        if grant_type == "refresh_token":
            tenant = self._by_refresh.get(form["refresh_token"])
            if tenant is None or tenant.client_id != form["client_id"]:
                return 400, _lwa_error(
                    "invalid_grant", "The request has an invalid grant parameter : refresh_token"
                )
            token = self._issue("Atza|", Grant(False, tenant.client_id, now + TOKEN_LIFETIME, tenant))
            return 200, {
                "access_token": token,
                "refresh_token": tenant.refresh_token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
            }
        scope = form["scope"]
        if scope not in GRANTLESS_SCOPES:
            return 400, _lwa_error("invalid_scope", "An unknown scope was specified")
        token = self._issue("Atc|", Grant(True, form["client_id"], now + TOKEN_LIFETIME))
        return 200, {
            "access_token": token,
            "scope": scope,
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
        }

    def _issue(self, prefix: str, grant: Grant) -> str:
        if len(self._grants) > 10_000:
            now = self._clock()
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
        token = prefix + secrets.token_urlsafe(32)
        self._grants[token] = grant
        return token


def _lwa_error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}
