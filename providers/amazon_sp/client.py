"""Amazon Selling Partner API: Shipping v2 carrier accounts and Notifications as bindings."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from providers.http import ResponseLost, is_loopback, json_body
from providers.sdk import CancelOutcome, CancelRequest, CancelStatus, Capabilities, ProviderContext
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import Gap, GapReason, Kind, Listing, LiveBinding

from . import runbooks
from .lwa import GRANTLESS, SELLER, LwaError, LwaSession, describe_lwa_error
from .operations import (
    ALL_ROLES,
    DEFAULT_BUSINESS_ID,
    DEFAULT_NOTIFICATION_TYPES,
    LWA_TOKEN_ENDPOINT,
    NOTIFICATIONS_ROLE,
    OPERATIONS,
    REGIONS,
    SHIPPING_ROLE,
)
from .ratelimit import SpApiRateLimiter

CARRIER_ACCOUNTS = "carrierAccounts"
SUBSCRIPTIONS = "subscriptions"
DESTINATIONS = "destinations"

_PAGE_SIZE = 100  # getSubscriptions accepts 30..100; the largest page costs the fewest 1/s calls


def describe_sp_error(response: httpx.Response) -> str:
    """``{"errors": [{"code", "message", "details"}]}`` as ``Code: message (details)``."""
    try:
        body = json_body(response)
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return response.text[:200]
    parts = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        text = f"{error.get('code', 'Error')}: {error.get('message', '')}".rstrip()
        if error.get("details"):
            text += f" ({error['details']})"
        parts.append(text)
    return "; ".join(parts) or response.text[:200]


def _error_text(response: httpx.Response) -> str:
    try:
        body = json_body(response)
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return " ".join(
        f"{e.get('message', '')} {e.get('details', '')}" for e in errors if isinstance(e, Mapping)
    )


def _token_rejected(response: httpx.Response) -> bool:
    """A 401, or a 403 that blames the access token (expired, revoked, malformed)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    text = _error_text(response).lower()
    return "access token" in text or "expired" in text


def _segment(value: str) -> str:
    return quote(value, safe="")


class _PageFailed(ProviderError):
    """A listing stopped part-way or returned something unusable; what was gathered is kept."""


class AmazonSPProvider:
    """Carrier accounts (Shipping v2) and notification subscriptions and destinations.

    Account: ``options.region`` (eu, na, fe; default eu) picks the SP-API host unless
    ``endpoint`` is set; ``options.token_endpoint`` is Login with Amazon (default
    https://api.amazon.com/auth/o2/token; when ``endpoint`` is a loopback sandbox and no token
    endpoint is given, ``<endpoint>/auth/o2/token``); ``options.business_id`` is the
    ``x-amzn-shipping-business-id`` (default AmazonShipping_UK); ``options.notification_types``
    lists the notification types whose subscriptions are listed (the API lists one type per
    call and has no "all types" query, so subscriptions of other types are not seen);
    ``options.marketplace`` is accepted but not needed by these operations. Credentials:
    ``client_id``, ``client_secret``, ``refresh_token``.

    Bindings: ``carrier`` from ``getCarrierAccounts`` (resource ``carrierAccounts``; the model's
    ActiveAccount has only ``accountId`` and ``carrierId``, so name is ``carrierId`` and status is
    ``active``); ``webhook`` from ``getSubscriptions`` per notification type (resource
    ``subscriptions``, name = the notification type) and from ``getDestinations`` (resource
    ``destinations``, name = the destination's name).

    Rights: LWA does not say which roles a selling partner granted. The rule used: a successful
    refresh-token exchange is taken to grant both ``sellingpartnerapi::shipping`` and
    ``sellingpartnerapi::notifications``; a role is withdrawn from ``granted()`` as soon as an
    operation needing it answers 403 ``Unauthorized`` with a valid token. The grantless
    Notifications operations need the app to be allowed the ``sellingpartnerapi::notifications``
    scope, which the grantless token exchange proves.
    """

    name: ClassVar[str] = "amazon-sp"
    # cancel_order: Amazon refuses (409) to delete a destination while a subscription still
    # delivers to it, so subscriptions go first.
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({Kind.CARRIER, Kind.WEBHOOK}),
        cancel_order=(CARRIER_ACCOUNTS, SUBSCRIPTIONS, DESTINATIONS),
    )

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.monotonic) -> None:
        account = ctx.account
        options = dict(account.options or {})
        self._account = account.name
        self.region = str(options.get("region", "eu")).lower()
        if self.region not in REGIONS:
            raise ConfigError(
                f"account {account.name!r}: options.region {options.get('region')!r} is not one of "
                f"{', '.join(sorted(REGIONS))}"
            )
        creds: dict[str, str] = {}
        for key in ("client_id", "client_secret", "refresh_token"):
            value = ctx.credentials.get(key)
            if not value:
                raise ConfigError(
                    f"account {account.name!r}: credentials.{key} is required for provider amazon-sp"
                )
            creds[key] = str(value)
        base_url = (account.endpoint or REGIONS[self.region]).rstrip("/")
        token_endpoint = options.get("token_endpoint")
        if not token_endpoint:
            sandbox = account.endpoint and is_loopback(account.endpoint)
            token_endpoint = f"{base_url}/auth/o2/token" if sandbox else LWA_TOKEN_ENDPOINT
        self.business_id = str(options.get("business_id") or DEFAULT_BUSINESS_ID)
        self.notification_types = _notification_types(account.name, options.get("notification_types"))

        http = ctx.http
        secrets = list(creds.values())
        self.limiter = SpApiRateLimiter(clock=clock, sleep=http.sleep)
        # One client for both kinds of token: the token travels per request, so concurrent
        # seller and grantless calls never see each other's header.
        self._api = http.client(
            base_url,
            provider=self.name,
            account=account.name,
            secrets=secrets,
            limiter=self.limiter,
            describe_error=describe_sp_error,
            request_id_header="x-amzn-RequestId",
        )
        lwa_api = http.client(
            str(token_endpoint),
            provider=self.name,
            account=account.name,
            secrets=secrets,
            describe_error=describe_lwa_error,
            request_id_header="x-amzn-RequestId",
        )
        self.lwa = LwaSession(lwa_api, clock=clock, **creds)
        self._denied: set[str] = set()

    # -- transport -------------------------------------------------------------------------

    async def _call(
        self,
        kind: str,
        method: str,
        path: str,
        operation: str,
        *,
        accept: Iterable[int] = (),
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        shipping: bool = False,
        audit: Mapping[str, Any] | None = None,
        mutating: bool | None = None,
    ) -> httpx.Response:
        """One SP-API call with the right kind of token; a refused token is renewed once."""
        accepted = tuple(accept)
        api = self._api
        extra = {"x-amzn-shipping-business-id": self.business_id} if shipping else {}
        for attempt in (1, 2):
            token = await self.lwa.token(kind)
            response = await api.request(
                method,
                path,
                operation=operation,
                params=params,
                json=json,
                headers={**extra, "x-amz-access-token": token},
                accept=(*accepted, 401, 403),
                audit=audit,
                mutating=mutating,
            )
            if attempt == 1 and _token_rejected(response):
                self.lwa.invalidate(kind, token)
                continue
            break
        status = response.status_code
        if status in (401, 403) and status not in accepted:
            hint = ""
            if status == 403 and not _token_rejected(response):
                role = OPERATIONS[operation].role
                self._denied.add(role)
                hint = f"; the app or the selling partner's authorization lacks {role}"
            raise AuthError(
                api.factory.redactor(
                    f"{self.name} {self._account}: {method} {path} answered {status}: "
                    f"{describe_sp_error(response)}{hint}"
                ),
                status=status,
                request_id=response.headers.get("x-amzn-RequestId"),
            )
        return response

    def _binding(
        self, kind: Kind, resource: str, ident: str, name: str, raw: Mapping[str, Any]
    ) -> LiveBinding:
        return LiveBinding(
            account=self._account,
            provider=self.name,
            kind=kind,
            id=ident,
            name=name,
            status="active",
            resource=resource,
            raw=raw,
        )

    def _carrier(self, raw: Mapping[str, Any]) -> LiveBinding:
        name = raw.get("carrierName") or raw.get("carrierId") or raw.get("accountId")
        return self._binding(Kind.CARRIER, CARRIER_ACCOUNTS, str(raw["accountId"]), str(name), raw)

    def _subscription(self, notification_type: str, raw: Mapping[str, Any]) -> LiveBinding:
        return self._binding(Kind.WEBHOOK, SUBSCRIPTIONS, str(raw["subscriptionId"]), notification_type, raw)

    def _destination(self, raw: Mapping[str, Any]) -> LiveBinding:
        name = raw.get("name") or raw["destinationId"]
        return self._binding(Kind.WEBHOOK, DESTINATIONS, str(raw["destinationId"]), str(name), raw)

    # -- listing ---------------------------------------------------------------------------

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        found: list[LiveBinding] = []
        problems: list[str] = []
        seen: set[tuple[str, str]] = set()

        def add(binding: LiveBinding) -> None:
            key = (binding.resource, binding.id)
            if key in seen:
                raise _PageFailed(f"{binding.resource} id {binding.id} came back twice")
            seen.add(key)
            found.append(binding)

        steps: list[tuple[str, Any]] = []
        if Kind.CARRIER in kinds:
            steps.append(("carrier accounts", self._list_carriers))
        if Kind.WEBHOOK in kinds:
            steps.append(("notification destinations", self._list_destinations))
            for notification_type in self.notification_types:
                steps.append(
                    (f"{notification_type} subscriptions", _bind(self._list_subscriptions, notification_type))
                )
        for label, step in steps:
            try:
                await step(add)
            except LwaError as exc:
                if not exc.scope_refused:
                    raise
                self._denied.add(NOTIFICATIONS_ROLE)
                problems.append(f"{label}: {exc}")
            except AuthError as exc:
                if exc.status == 401:
                    raise
                problems.append(f"{label}: {exc}")
            except ProviderError as exc:
                problems.append(f"{label}: {exc}")
        return Listing(
            account=self._account,
            provider=self.name,
            bindings=tuple(found),
            gaps=tuple(Gap(kind=None, reason=GapReason.FAILED, detail=p) for p in problems),
            granted=ALL_ROLES - frozenset(self._denied),
        )

    async def _carrier_accounts(self) -> list[Mapping[str, Any]]:
        response = await self._call(
            SELLER, "PUT", "/shipping/v2/carrierAccounts", "getCarrierAccounts", json={}, shipping=True,
            mutating=False,  # a read, sent as PUT: not for the audit log
        )
        accounts = _json(response).get("activeAccounts")
        if not isinstance(accounts, list) or not all(
            isinstance(a, Mapping) and a.get("accountId") for a in accounts
        ):
            raise _PageFailed("getCarrierAccounts answered without a list of activeAccounts with accountId")
        return accounts

    async def _list_carriers(self, add: Callable[[LiveBinding], None]) -> None:
        for raw in await self._carrier_accounts():
            add(self._carrier(raw))

    async def _list_destinations(self, add: Callable[[LiveBinding], None]) -> None:
        response = await self._call(GRANTLESS, "GET", "/notifications/v1/destinations", "getDestinations")
        payload = _json(response).get("payload")
        if not isinstance(payload, list):
            raise _PageFailed("getDestinations answered without a payload list")
        for raw in payload:
            if not isinstance(raw, Mapping) or not raw.get("destinationId"):
                raise _PageFailed("getDestinations returned a destination without destinationId")
            add(self._destination(raw))

    async def _list_subscriptions(self, notification_type: str, add: Callable[[LiveBinding], None]) -> None:
        """All pages of getSubscriptions for one type; a 404 means the paged list is not there
        (or has nothing), so the single-subscription getSubscription decides."""
        tokens: set[str] = set()
        next_token: str | None = None
        page = 0
        while True:
            page += 1
            params: dict[str, Any] = {"notificationTypes": notification_type, "pageSize": _PAGE_SIZE}
            if next_token:
                params["nextToken"] = next_token
            try:
                response = await self._call(
                    SELLER,
                    "GET",
                    "/notifications/v1/subscriptions",
                    "getSubscriptions",
                    params=params,
                    accept=(404,),
                )
            except ProviderError as exc:
                if page == 1:
                    raise
                raise _PageFailed(f"page {page} failed: {exc}") from None
            if response.status_code == 404:
                if page > 1:
                    raise _PageFailed(f"page {page} answered 404 ({describe_sp_error(response)})")
                await self._single_subscription(notification_type, add)
                return
            payload = _json(response).get("payload") or {}
            items = payload.get("subscriptions") if isinstance(payload, Mapping) else None
            if not isinstance(items, list):
                raise _PageFailed(f"page {page} of getSubscriptions has no subscriptions list")
            for raw in items:
                if not isinstance(raw, Mapping) or not raw.get("subscriptionId"):
                    raise _PageFailed(f"page {page} holds a subscription without subscriptionId")
                add(self._subscription(notification_type, raw))
            next_token = payload.get("nextToken") or None
            if next_token is None:
                return
            if next_token in tokens:
                raise _PageFailed(f"the nextToken of page {page} was already used; stopped to avoid a loop")
            tokens.add(next_token)

    async def _single_subscription(self, notification_type: str, add: Callable[[LiveBinding], None]) -> None:
        response = await self._call(
            SELLER,
            "GET",
            f"/notifications/v1/subscriptions/{_segment(notification_type)}",
            "getSubscription",
            accept=(404,),
        )
        if response.status_code == 404:
            return
        raw = _json(response).get("payload")
        if not isinstance(raw, Mapping) or not raw.get("subscriptionId"):
            raise _PageFailed("getSubscription answered without a subscription payload")
        add(self._subscription(notification_type, raw))

    # -- rights ----------------------------------------------------------------------------

    async def granted(self) -> frozenset[str]:
        await self.lwa.token(SELLER)  # raises LwaError when the credential is refused
        try:
            await self.lwa.token(GRANTLESS)
        except LwaError as exc:
            if not exc.scope_refused:
                raise
            self._denied.add(NOTIFICATIONS_ROLE)
        return ALL_ROLES - frozenset(self._denied)

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        return (SHIPPING_ROLE,) if binding.resource == CARRIER_ACCOUNTS else (NOTIFICATIONS_ROLE,)

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        """Nothing beyond the binding itself can be backed up through these APIs."""
        if dataset != "binding":
            raise ProviderError(
                f"{self.name} has no backup dataset {dataset!r}; only the binding itself is saved"
            )
        yield dict(binding.raw)

    # -- fetch and cancel ------------------------------------------------------------------

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        if binding.resource == CARRIER_ACCOUNTS:
            for raw in await self._carrier_accounts():
                if str(raw.get("accountId")) == binding.id:
                    return self._carrier(raw)
            return None
        if binding.resource == SUBSCRIPTIONS:
            response = await self._call(
                GRANTLESS,
                "GET",
                f"/notifications/v1/subscriptions/{_segment(binding.name)}/{_segment(binding.id)}",
                "getSubscriptionById",
                accept=(404,),
            )
            if response.status_code == 404:
                return None
            return self._subscription(binding.name, _payload(response))
        if binding.resource == DESTINATIONS:
            response = await self._call(
                GRANTLESS,
                "GET",
                f"/notifications/v1/destinations/{_segment(binding.id)}",
                "getDestination",
                accept=(404,),
            )
            if response.status_code == 404:
                return None
            return self._destination(_payload(response))
        raise ProviderError(f"{self.name} {self._account}: unknown resource {binding.resource!r}")

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if request.side != "platform":
            raise ProviderError(f"{self.name} cancels only on the platform side, not {request.side!r}")
        audit = {"idempotency_key": request.idempotency_key}
        try:
            if binding.resource == CARRIER_ACCOUNTS:
                return await self._unlink(binding, audit)
            if binding.resource == SUBSCRIPTIONS:
                return await self._delete_subscription(binding, audit)
            if binding.resource == DESTINATIONS:
                return await self._delete_destination(binding, audit)
        except ResponseLost:
            if await self.fetch(binding) is None:
                return CancelOutcome(CancelStatus.DONE, detail="the response was lost; re-read: it is gone")
            raise ProviderError(
                f"{self.name} {self._account}: the response to cancelling {binding.resource} "
                f"{binding.id} was lost and it still exists; run apply again"
            ) from None
        raise ProviderError(f"{self.name} {self._account}: unknown resource {binding.resource!r}")

    async def _unlink(self, binding: LiveBinding, audit: Mapping[str, Any]) -> CancelOutcome:
        carrier_id = binding.raw.get("carrierId")
        if not carrier_id:
            raise ProviderError(f"{self.name} {self._account}: carrier account {binding.id} has no carrierId")
        response = await self._call(
            SELLER,
            "PUT",
            f"/shipping/v2/carrierAccounts/{_segment(str(carrier_id))}/unlink",
            "unlinkCarrierAccount",
            json={"accountId": binding.id},
            shipping=True,
            accept=(404,),
            audit=audit,
        )
        request_id = response.headers.get("x-amzn-RequestId")
        if response.status_code == 404:
            return CancelOutcome(CancelStatus.ALREADY_GONE, request_id=request_id)
        if _json(response).get("isUnlinked") is True:
            return CancelOutcome(CancelStatus.DONE, request_id=request_id)
        raise ProviderError(
            f"{self.name} {self._account}: unlinkCarrierAccount for {binding.id} did not report "
            f"isUnlinked=true ({response.text[:200]})",
            status=response.status_code,
            request_id=request_id,
        )

    async def _delete_subscription(self, binding: LiveBinding, audit: Mapping[str, Any]) -> CancelOutcome:
        response = await self._call(
            GRANTLESS,
            "DELETE",
            f"/notifications/v1/subscriptions/{_segment(binding.name)}/{_segment(binding.id)}",
            "deleteSubscriptionById",
            accept=(403, 404, 409),
            audit=audit,
        )
        request_id = response.headers.get("x-amzn-RequestId")
        status = response.status_code
        if status == 404:
            return CancelOutcome(CancelStatus.ALREADY_GONE, request_id=request_id)
        if status == 403:
            reason = describe_sp_error(response)
            return CancelOutcome(
                CancelStatus.MANUAL,
                detail=f"Amazon refused to delete this {binding.name} subscription ({reason}); "
                "Selling Partner API support must remove it",
                request_id=request_id,
                runbook=runbooks.undeletable_subscription(
                    account=self._account,
                    region=self.region,
                    notification_type=binding.name,
                    subscription_id=binding.id,
                    destination_id=str(binding.raw.get("destinationId", "")),
                    vendor_message=reason,
                    request_id=request_id,
                ),
            )
        if status == 409:
            return CancelOutcome(
                CancelStatus.BLOCKED, detail=describe_sp_error(response), request_id=request_id
            )
        return CancelOutcome(CancelStatus.DONE, request_id=request_id)

    async def _delete_destination(self, binding: LiveBinding, audit: Mapping[str, Any]) -> CancelOutcome:
        response = await self._call(
            GRANTLESS,
            "DELETE",
            f"/notifications/v1/destinations/{_segment(binding.id)}",
            "deleteDestination",
            accept=(404, 409),
            audit=audit,
        )
        request_id = response.headers.get("x-amzn-RequestId")
        if response.status_code == 404:
            return CancelOutcome(CancelStatus.ALREADY_GONE, request_id=request_id)
        if response.status_code == 409:
            return CancelOutcome(
                CancelStatus.BLOCKED,
                detail=f"Amazon keeps destination {binding.name!r} while subscriptions deliver to it "
                f"({describe_sp_error(response)}); cancel those subscriptions first",
                request_id=request_id,
            )
        return CancelOutcome(CancelStatus.DONE, request_id=request_id)

    async def aclose(self) -> None:
        """The HTTP pools belong to the shared HttpFactory, which closes them."""
        return None


def _bind(step: Callable[..., Any], notification_type: str) -> Callable[[Callable[[LiveBinding], None]], Any]:
    async def run(add: Callable[[LiveBinding], None]) -> None:
        await step(notification_type, add)

    return run


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json_body(response)
    except ValueError:
        raise ProviderError(
            f"amazon-sp: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code} with a body that is not JSON",
            status=response.status_code,
            request_id=response.headers.get("x-amzn-RequestId"),
        ) from None
    return body if isinstance(body, dict) else {}


def _payload(response: httpx.Response) -> Mapping[str, Any]:
    payload = _json(response).get("payload")
    if not isinstance(payload, Mapping):
        raise ProviderError(
            f"amazon-sp: {response.request.url.path} answered without a payload object",
            status=response.status_code,
            request_id=response.headers.get("x-amzn-RequestId"),
        )
    return payload


def _notification_types(account: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_NOTIFICATION_TYPES
    if (
        isinstance(value, str)
        or not isinstance(value, (list, tuple))
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ConfigError(
            f"account {account!r}: options.notification_types must be a list of notification "
            "types such as [ORDER_CHANGE, ANY_OFFER_CHANGED]"
        )
    return tuple(dict.fromkeys(v.strip() for v in value))
