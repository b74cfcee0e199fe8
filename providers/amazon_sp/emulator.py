"""A stateful stand-in for SP-API (Shipping v2 carrier accounts, Notifications) and Login with Amazon.

Served under ``/amazon-sp``; ``/amazon-sp/auth/o2/token`` stands in for
``https://api.amazon.com/auth/o2/token``. As in the real service the tenant is never in the URL:
it is the selling partner whose refresh token the access token was issued from, or, for a
grantless token, the application (all tenants sharing that LWA client id).

What it enforces, because the provider client must cope with it: the ``x-amz-access-token``
header (missing: 403; unknown: 401; expired: 403 naming the expiry), grantless operations only
with grantless tokens and the others only with seller tokens, the seller's roles, per-operation
token buckets on the injected clock (429 without ``Retry-After``), 409 for deleting a destination
still used by a subscription, and 403 for deleting subscriptions of the scenario's
``undeletable_types``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

from providers.sandbox import path_segments

from .operations import NOTIFICATIONS_SCOPE, OPERATIONS, SHIPPING_BUSINESS_IDS, SHIPPING_ROLE, Operation
from .scenario import SQS_ARN, ScenarioError, Tenant, load_tenant, new_id

TOKEN_LIFETIME = 3600
GRANTLESS_SCOPES = frozenset({NOTIFICATIONS_SCOPE, "sellingpartnerapi::client_credential:rotation"})
CLIENT_REFERENCE_TYPES = frozenset({"IntegratorShipperId", "IntegratorMerchantId"})


@dataclass
class _Grant:
    grantless: bool
    subject: str  # seller id, or client id for a grantless token
    expires_at: float


class _Bucket:
    def __init__(self, op: Operation, now: float) -> None:
        self.rate = op.rate
        self.burst = float(op.burst)
        self.tokens = float(op.burst)
        self.stamp = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class _Reply(Exception):
    """Raised by a handler to answer at once (errors are answers, not failures)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def _errors(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def _denied(details: str = "") -> _Reply:
    return _Reply(403, _errors("Unauthorized", "Access to requested resource is denied.", details))


def _not_found(shipping: bool, details: str = "") -> _Reply:
    if shipping:
        return _Reply(404, _errors("NotFound", "The requested resource is invalid or doesn't exist", details))
    return _Reply(404, _errors("NotFound", "The resource specified does not exist.", details))


def _invalid(shipping: bool, details: str) -> _Reply:
    if shipping:
        return _Reply(400, _errors("InvalidRequest", "Request is missing or has invalid parameters", details))
    return _Reply(
        400,
        _errors("InvalidInput", "Request has missing or invalid parameters and cannot be parsed.", details),
    )


def _strip_ends(segments: list[str]) -> tuple[str, ...]:
    """``segments`` as ``path.strip("/").split("/")`` gives them: empty ones dropped at the ends only.

    They come from ``path_segments``, split before decoding, so an id holding an encoded '/'
    (``..%2F..%2Fx``) stays one segment instead of spilling into the route.
    """
    start, end = 0, len(segments)
    while start < end and not segments[start]:
        start += 1
    while end > start and not segments[end - 1]:
        end -= 1
    return tuple(segments[start:end]) or ("",)


# (method, path template, operation key, handler name)
_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("PUT", "shipping/v2/carrierAccounts", "getCarrierAccounts", "_get_carrier_accounts"),
    ("GET", "shipping/v2/carrierAccountFormInputs", "getCarrierAccountFormInputs", "_get_form_inputs"),
    ("PUT", "shipping/v2/carrierAccounts/{carrierId}", "linkCarrierAccount", "_link_carrier_account"),
    ("POST", "shipping/v2/carrierAccounts/{carrierId}", "linkCarrierAccount#POST", "_link_carrier_account"),
    (
        "PUT",
        "shipping/v2/carrierAccounts/{carrierId}/unlink",
        "unlinkCarrierAccount",
        "_unlink_carrier_account",
    ),
    ("GET", "notifications/v1/subscriptions", "getSubscriptions", "_get_subscriptions"),
    ("GET", "notifications/v1/subscriptions/{notificationType}", "getSubscription", "_get_subscription"),
    (
        "POST",
        "notifications/v1/subscriptions/{notificationType}",
        "createSubscription",
        "_create_subscription",
    ),
    (
        "GET",
        "notifications/v1/subscriptions/{notificationType}/{subscriptionId}",
        "getSubscriptionById",
        "_get_subscription_by_id",
    ),
    (
        "DELETE",
        "notifications/v1/subscriptions/{notificationType}/{subscriptionId}",
        "deleteSubscriptionById",
        "_delete_subscription_by_id",
    ),
    ("GET", "notifications/v1/destinations", "getDestinations", "_get_destinations"),
    ("POST", "notifications/v1/destinations", "createDestination", "_create_destination"),
    ("GET", "notifications/v1/destinations/{destinationId}", "getDestination", "_get_destination"),
    ("DELETE", "notifications/v1/destinations/{destinationId}", "deleteDestination", "_delete_destination"),
)


@dataclass
class _Call:
    request: httpx.Request
    op: Operation
    grant: _Grant
    args: dict[str, str]
    shipping: bool

    def tenant_of(self, emulator: AmazonSPEmulator) -> Tenant:
        return emulator._tenants[self.grant.subject]

    def app_tenants(self, emulator: AmazonSPEmulator) -> list[Tenant]:
        return emulator._apps.get(self.grant.subject, [])


class AmazonSPEmulator:
    name: ClassVar[str] = "amazon-sp"
    prefix: ClassVar[str] = "/amazon-sp"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.enforce_rate_limits = True
        self._tenants: dict[str, Tenant] = {}
        self._apps: dict[str, list[Tenant]] = {}
        self._by_refresh: dict[str, Tenant] = {}
        self._grants: dict[str, _Grant] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._routes: dict[tuple[str, int], list[tuple[tuple[str, ...], str, str]]] = {}
        for method, template, op, handler in _ROUTES:
            parts = tuple(template.split("/"))
            self._routes.setdefault((method, len(parts)), []).append((parts, op, handler))

    # -- scenario --------------------------------------------------------------------------

    def load(self, section: Mapping[str, Any]) -> None:
        if section is None:
            section = {}
        if not isinstance(section, Mapping):
            raise ScenarioError("amazon-sp scenario: the section must map selling partner ids to tenants")
        tenants = {str(k): load_tenant(str(k), v) for k, v in section.items()}
        apps: dict[str, list[Tenant]] = {}
        by_refresh: dict[str, Tenant] = {}
        for tenant in tenants.values():
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
        for tenant in tenants.values():
            known = {d for peer in apps[tenant.client_id] for d in peer.destinations}
            for kind, subs in tenant.subscriptions.items():
                for sub in subs.values():
                    if sub["destinationId"] not in known:
                        raise ScenarioError(
                            f"amazon-sp scenario, tenant {tenant.seller_id}: {kind} subscription "
                            f"{sub['subscriptionId']} uses unknown destination {sub['destinationId']}"
                        )
        self._tenants, self._apps, self._by_refresh = tenants, apps, by_refresh
        self._grants.clear()
        self._buckets.clear()

    def dump(self) -> dict[str, Any]:
        return {seller_id: tenant.dump() for seller_id, tenant in self._tenants.items()}

    # -- HTTP ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        if path.strip("/") == "auth/o2/token":
            if request.method != "POST":
                return self._respond(405, {"error": "invalid_request", "error_description": "Use POST"})
            status, body = self._token(request)
            return self._respond(status, body, extra={"Cache-Control": "no-store"})
        parts = _strip_ends(path_segments(request, path))
        route = self._match(request.method, parts)
        if route is None:
            return self._respond(
                404, _errors("NotFound", "The requested resource is invalid or doesn't exist")
            )
        op_key, handler, args = route
        op = OPERATIONS[op_key]
        shipping = op.role == SHIPPING_ROLE
        try:
            grant = self._authorize(request, op)
            call = _Call(request, op, grant, args, shipping)
            status, body = getattr(self, handler)(call)
        except _Reply as reply:
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
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), "content-type": "application/json", **(extra or {})}
        return httpx.Response(status, content=json.dumps(body).encode("utf-8"), headers=headers)

    def _authorize(self, request: httpx.Request, op: Operation) -> _Grant:
        token = request.headers.get("x-amz-access-token")
        if not token:
            raise _denied()
        grant = self._grants.get(token)
        if grant is None:
            raise _Reply(
                401,
                _errors(
                    "Unauthorized",
                    "You don't have access to the requested response or the credentials are invalid.",
                    "The access token you provided is revoked, malformed or invalid.",
                ),
            )
        now = self._clock()
        if now >= grant.expires_at:
            raise _denied("The access token you provided has expired.")
        if op.grantless and not grant.grantless:
            raise _denied(f"{op.name} is a grantless operation; call it with a grantless access token.")
        if not op.grantless:
            if grant.grantless:
                raise _denied(f"{op.name} needs the selling partner's authorization, not a grantless token.")
            tenant = self._tenants.get(grant.subject)
            if tenant is None or op.role.split("::")[-1] not in tenant.roles:
                raise _denied()
        if self.enforce_rate_limits:
            key = (grant.subject, op.name)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(op, now)
            if not bucket.take(now):
                if op.role == SHIPPING_ROLE:
                    raise _Reply(
                        429,
                        _errors(
                            "TooManyRequests", "The total number of requests exceeded your allowed limit."
                        ),
                    )
                raise _Reply(
                    429, _errors("QuotaExceeded", "You exceeded your quota for the requested resource.")
                )
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
            token = self._issue("Atza|", _Grant(False, tenant.seller_id, now + TOKEN_LIFETIME))
            return 200, {
                "access_token": token,
                "refresh_token": tenant.refresh_token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
            }
        scope = form["scope"]
        if scope not in GRANTLESS_SCOPES:
            return 400, _lwa_error("invalid_scope", "An unknown scope was specified")
        token = self._issue("Atc|", _Grant(True, form["client_id"], now + TOKEN_LIFETIME))
        return 200, {
            "access_token": token,
            "scope": scope,
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
        }

    def _issue(self, prefix: str, grant: _Grant) -> str:
        if len(self._grants) > 10_000:
            now = self._clock()
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
        token = prefix + secrets.token_urlsafe(32)
        self._grants[token] = grant
        return token

    # -- Shipping v2 -----------------------------------------------------------------------

    def _shipping_body(self, call: _Call, *, required: bool = False) -> dict[str, Any]:
        business = call.request.headers.get("x-amzn-shipping-business-id")
        if business is not None and business not in SHIPPING_BUSINESS_IDS:
            raise _invalid(True, f"x-amzn-shipping-business-id {business} is not supported")
        body = _json_body(call, shipping=True, required=required)
        refs = body.get("clientReferenceDetails")
        if refs is not None and (not isinstance(refs, list) or not all(
            isinstance(r, dict)
            and r.get("clientReferenceType") in CLIENT_REFERENCE_TYPES
            and isinstance(r.get("clientReferenceId"), str)
            for r in refs
        )):
            raise _invalid(
                True, "clientReferenceDetails must hold clientReferenceType and clientReferenceId"
            )
        return body

    def _get_carrier_accounts(self, call: _Call) -> tuple[int, Any]:
        self._shipping_body(call)  # the model marks the body required; an empty one is accepted
        tenant = call.tenant_of(self)
        return 200, {"activeAccounts": [copy.deepcopy(a) for a in tenant.carriers.values()]}

    def _get_form_inputs(self, call: _Call) -> tuple[int, Any]:
        self._shipping_body(call)
        return 200, {"linkableCarriersList": copy.deepcopy(call.tenant_of(self).linkable)}

    def _link_carrier_account(self, call: _Call) -> tuple[int, Any]:
        body = self._shipping_body(call, required=True)
        if not isinstance(body.get("carrierAccountType"), str) or not isinstance(
            body.get("carrierAccountAttributes"), list
        ):
            raise _invalid(True, "carrierAccountType and carrierAccountAttributes are required")
        tenant = call.tenant_of(self)
        account_id = new_id()
        tenant.carriers[account_id] = {"accountId": account_id, "carrierId": call.args["carrierId"]}
        return 200, {"registrationStatus": "ACTIVE", "accountId": account_id}

    def _unlink_carrier_account(self, call: _Call) -> tuple[int, Any]:
        # Extra keys (such as the model example's merchantId) are ignored, not refused.
        body = self._shipping_body(call, required=True)
        tenant = call.tenant_of(self)
        carrier_id = call.args["carrierId"]
        account_id = body.get("accountId")
        if account_id is not None:
            found = tenant.carriers.get(str(account_id))
            if found is None or found.get("carrierId") != carrier_id:
                raise _not_found(True, f"No {carrier_id} account {account_id} is linked")
            del tenant.carriers[str(account_id)]
        else:
            linked = [k for k, a in tenant.carriers.items() if a.get("carrierId") == carrier_id]
            if not linked:
                raise _not_found(True, f"No {carrier_id} account is linked")
            for key in linked:
                del tenant.carriers[key]
        return 200, {"isUnlinked": True}

    # -- Notifications ---------------------------------------------------------------------

    def _get_subscriptions(self, call: _Call) -> tuple[int, Any]:
        tenant = call.tenant_of(self)
        if not tenant.paged_list:
            raise _not_found(False)
        params = call.request.url.params
        kinds = [k for v in params.get_list("notificationTypes") for k in v.split(",") if k]
        if len(kinds) != 1:
            raise _invalid(False, "notificationTypes must name exactly one notification type")
        kind = kinds[0]
        try:
            size = int(params.get("pageSize", "30"))
        except ValueError:
            size = 0
        if not 30 <= size <= 100:
            raise _invalid(False, "pageSize must be between 30 and 100")
        offset = 0
        if params.get("nextToken"):
            offset = _decode_token(params["nextToken"], kind)
        version = params.get("payloadVersion")
        items = [
            s
            for s in tenant.subscriptions.get(kind, {}).values()
            if version is None or s["payloadVersion"] == version
        ]
        page: dict[str, Any] = {"subscriptions": copy.deepcopy(items[offset : offset + size])}
        if offset + size < len(items):
            page["nextToken"] = _encode_token(kind, offset + size)
        return 200, {"payload": page}

    def _get_subscription(self, call: _Call) -> tuple[int, Any]:
        kind = call.args["notificationType"]
        version = call.request.url.params.get("payloadVersion")
        items = [
            s
            for s in call.tenant_of(self).subscriptions.get(kind, {}).values()
            if version is None or s["payloadVersion"] == version
        ]
        if not items:
            raise _not_found(False, f"No {kind} subscription exists")
        latest = max(items, key=lambda s: _version_key(s["payloadVersion"]))
        return 200, {"payload": copy.deepcopy(latest)}

    def _create_subscription(self, call: _Call) -> tuple[int, Any]:
        kind = call.args["notificationType"]
        body = _json_body(call, shipping=False, required=True)
        version, dest_id = body.get("payloadVersion"), body.get("destinationId")
        if not isinstance(version, str) or not isinstance(dest_id, str):
            raise _invalid(False, "payloadVersion and destinationId are required")
        tenant = call.tenant_of(self)
        if self._find_destination(self._apps[tenant.client_id], dest_id) is None:
            raise _invalid(False, f"destination {dest_id} does not exist")
        bucket = tenant.subscriptions.setdefault(kind, {})
        if any(s["payloadVersion"] == version for s in bucket.values()):
            raise _Reply(
                409,
                _errors(
                    "Conflict",
                    "The resource specified conflicts with the current state.",
                    f"A {kind} subscription with payload version {version} already exists.",
                ),
            )
        sub: dict[str, Any] = {
            "subscriptionId": new_id(),
            "payloadVersion": version,
            "destinationId": dest_id,
        }
        if isinstance(body.get("processingDirective"), dict):
            sub["processingDirective"] = copy.deepcopy(body["processingDirective"])
        bucket[sub["subscriptionId"]] = sub
        return 200, {"payload": copy.deepcopy(sub)}

    def _find_subscription(self, call: _Call) -> tuple[Tenant, dict[str, Any]]:
        kind, sub_id = call.args["notificationType"], call.args["subscriptionId"]
        for tenant in call.app_tenants(self):
            sub = tenant.subscriptions.get(kind, {}).get(sub_id)
            if sub is not None:
                return tenant, sub
        raise _not_found(False, f"No {kind} subscription {sub_id} exists")

    def _get_subscription_by_id(self, call: _Call) -> tuple[int, Any]:
        _, sub = self._find_subscription(call)
        return 200, {"payload": copy.deepcopy(sub)}

    def _delete_subscription_by_id(self, call: _Call) -> tuple[int, Any]:
        tenant, sub = self._find_subscription(call)
        kind = call.args["notificationType"]
        if kind in tenant.undeletable:
            raise _denied(f"Subscriptions of notification type {kind} cannot be deleted by the application.")
        del tenant.subscriptions[kind][sub["subscriptionId"]]
        return 200, {}

    @staticmethod
    def _find_destination(tenants: list[Tenant], dest_id: str) -> tuple[Tenant, dict[str, Any]] | None:
        for tenant in tenants:
            dest = tenant.destinations.get(dest_id)
            if dest is not None:
                return tenant, dest
        return None

    def _get_destinations(self, call: _Call) -> tuple[int, Any]:
        found = [copy.deepcopy(d) for t in call.app_tenants(self) for d in t.destinations.values()]
        return 200, {"payload": found}

    def _get_destination(self, call: _Call) -> tuple[int, Any]:
        dest_id = call.args["destinationId"]
        found = self._find_destination(call.app_tenants(self), dest_id)
        if found is None:
            raise _not_found(False, f"No destination {dest_id} exists")
        return 200, {"payload": copy.deepcopy(found[1])}

    def _create_destination(self, call: _Call) -> tuple[int, Any]:
        body = _json_body(call, shipping=False, required=True)
        name, spec = body.get("name"), body.get("resourceSpecification")
        if not isinstance(name, str) or not name or not isinstance(spec, dict) or len(spec) != 1:
            raise _invalid(
                False, "name and a resourceSpecification with one of sqs or eventBridge are required"
            )
        tenants = call.app_tenants(self)
        if not tenants:
            raise _denied()
        dest_id = new_id()
        if "sqs" in spec:
            arn = spec["sqs"].get("arn") if isinstance(spec["sqs"], dict) else None
            if not isinstance(arn, str) or not SQS_ARN.match(arn):
                raise _invalid(False, "resourceSpecification.sqs.arn is not an SQS queue ARN")
            resource: dict[str, Any] = {"sqs": {"arn": arn}}
        elif "eventBridge" in spec and isinstance(spec["eventBridge"], dict):
            bridge = spec["eventBridge"]
            if not isinstance(bridge.get("region"), str) or not isinstance(bridge.get("accountId"), str):
                raise _invalid(False, "resourceSpecification.eventBridge needs region and accountId")
            resource = {
                "eventBridge": {
                    "name": f"aws.partner/sellingpartnerapi.amazon.com/{bridge['accountId']}/{dest_id}",
                    "region": bridge["region"],
                    "accountId": bridge["accountId"],
                }
            }
        else:
            raise _invalid(False, "resourceSpecification must hold sqs or eventBridge")
        for tenant in tenants:
            for dest in tenant.destinations.values():
                if resource.get("sqs") and dest["resource"].get("sqs") == resource["sqs"]:
                    raise _Reply(
                        409,
                        _errors(
                            "Conflict",
                            "The resource specified conflicts with the current state.",
                            f"Destination {dest['destinationId']} already uses this queue.",
                        ),
                    )
        created = {"destinationId": dest_id, "name": name, "resource": resource}
        tenants[0].destinations[dest_id] = created
        return 200, {"payload": copy.deepcopy(created)}

    def _delete_destination(self, call: _Call) -> tuple[int, Any]:
        dest_id = call.args["destinationId"]
        tenants = call.app_tenants(self)
        found = self._find_destination(tenants, dest_id)
        if found is None:
            raise _not_found(False, f"No destination {dest_id} exists")
        users = sorted(
            f"{kind}/{sub['subscriptionId']}"
            for t in tenants
            for kind, subs in t.subscriptions.items()
            for sub in subs.values()
            if sub["destinationId"] == dest_id
        )
        if users:
            raise _Reply(
                409,
                _errors(
                    "Conflict",
                    "The resource specified conflicts with the current state.",
                    f"Destination {dest_id} is in use by subscriptions {', '.join(users)}.",
                ),
            )
        del found[0].destinations[dest_id]
        return 200, {}


def _lwa_error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


def _json_body(call: _Call, *, shipping: bool, required: bool) -> dict[str, Any]:
    raw = call.request.read()
    if not raw.strip():
        if required:
            raise _invalid(shipping, "The request body is required")
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Reply(
            415 if shipping else 400,
            _errors(
                "InvalidRequest" if shipping else "InvalidInput",
                "The request payload format is not supported.",
            ),
        ) from None
    if not isinstance(body, dict):
        raise _invalid(shipping, "The request body must be a JSON object")
    return body


def _encode_token(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str, kind: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        token_kind, _, offset = text.rpartition(":")
        if token_kind == kind and int(offset) >= 0:
            return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise _invalid(False, "nextToken is not valid for this request")


def _version_key(version: str) -> tuple[Any, ...]:
    try:
        return (1, tuple(int(p) for p in version.split(".")))
    except ValueError:
        return (0, version)
