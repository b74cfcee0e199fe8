"""Amazon Selling Partner API: Shipping v2 carrier accounts and Notifications as bindings."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from providers.http import is_loopback
from providers.sdk import (
    Account,
    BlindSpot,
    CancelOutcome,
    CancelRequest,
    Capabilities,
    Page,
    PagingError,
    ProviderContext,
    Runbook,
    collect,
    listing_gap,
)
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import Gap, Kind, Listing, LiveBinding

from . import cancels, runbooks
from .lwa import GRANTLESS, SELLER, LwaError, LwaSession, describe_lwa_error
from .operations import (
    ALL_ROLES,
    DEFAULT_BUSINESS_ID,
    LWA_TOKEN_ENDPOINT,
    NOTIFICATIONS_ROLE,
    OPERATIONS,
    REGIONS,
    SHIPPING_ROLE,
)
from .ratelimit import SpApiRateLimiter
from .responses import describe_sp_error, json_object, notification_types, payload, token_rejected

CARRIER_ACCOUNTS = "carrierAccounts"
SUBSCRIPTIONS = "subscriptions"
DESTINATIONS = "destinations"

_PAGE_SIZE = 100  # getSubscriptions accepts 30..100; the largest page costs the fewest 1/s calls


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
    ``options.marketplace`` is accepted but not needed by these operations;
    ``options.application`` names the application the credentials belong to (default: its LWA
    client id), the ``app`` of its notification bindings. Credentials: ``client_id``,
    ``client_secret``, ``refresh_token``.

    Who sees what (docs/vendors.md): carrier accounts are the selling partner's, seen and
    unlinked by any application it authorized with the shipping role; notification destinations
    and subscriptions belong to the application that created them, and SP-API shows and deletes
    only those of the calling application. So the listing carries a blind spot on webhooks
    (``OWN_APP_ONLY``): another application's subscriptions cannot be seen with this credential.

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
        authority=runbooks.AUTHORITY,
    )

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """The SP-API regional hosts and Login with Amazon (api.amazon.com), where the app's
        LWA credentials and tokens go; a loopback endpoint is the sandbox, allowed by the engine."""
        hosts = [urlsplit(url).hostname or "" for url in REGIONS.values()]
        return (*hosts, urlsplit(LWA_TOKEN_ENDPOINT).hostname or "api.amazon.com")

    def runbook(self, binding: LiveBinding) -> Runbook:
        """The seller's way to end what this application cannot: remove the owning application's
        authorization (Seller Central > Apps and Services > Manage Your Apps)."""
        owner = binding.app or "the application"
        what = f"{binding.resource} {binding.id} ({binding.name}) of {owner}"
        return runbooks.remove_authorization(account=self._account, region=self.region, what=what)

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
        # The application this credential belongs to, by the name the user knows it by.
        self.application = str(options.get("application") or creds["client_id"])
        self.notification_types = notification_types(account.name, options.get("notification_types"))

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
        self.lwa = LwaSession(
            lwa_api,
            clock=clock,
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            refresh_token=creds["refresh_token"],
        )
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
            if attempt == 1 and token_rejected(response):
                self.lwa.invalidate(kind, token)
                continue
            break
        status = response.status_code
        if status in (401, 403) and status not in accepted:
            hint = ""
            if status == 403 and not token_rejected(response):
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
        self, kind: Kind, resource: str, ident: str, name: str, raw: Mapping[str, Any], app: str | None = None
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
            app=app,
        )

    def _carrier(self, raw: Mapping[str, Any]) -> LiveBinding:
        name = raw.get("carrierName") or raw.get("carrierId") or raw.get("accountId")
        return self._binding(Kind.CARRIER, CARRIER_ACCOUNTS, str(raw["accountId"]), str(name), raw)

    def _subscription(self, notification_type: str, raw: Mapping[str, Any]) -> LiveBinding:
        ident = str(raw["subscriptionId"])
        return self._binding(Kind.WEBHOOK, SUBSCRIPTIONS, ident, notification_type, raw, self.application)

    def _destination(self, raw: Mapping[str, Any]) -> LiveBinding:
        name = raw.get("name") or raw["destinationId"]
        return self._binding(
            Kind.WEBHOOK, DESTINATIONS, str(raw["destinationId"]), str(name), raw, self.application
        )

    # -- listing ---------------------------------------------------------------------------

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        """Each kind is listed on its own: a refused or failed kind becomes a Gap of that kind
        and the others are listed as usual. Notification subscriptions and destinations are
        only this application's (SP-API shows no other), which the listing's blind spot says."""
        found: list[LiveBinding] = []
        gaps: list[Gap] = []
        steps: list[tuple[Kind, str, Callable[[], Awaitable[list[LiveBinding]]]]] = []
        if Kind.CARRIER in kinds:
            steps.append((Kind.CARRIER, "carrier accounts", self._list_carriers))
        if Kind.WEBHOOK in kinds:
            steps.append((Kind.WEBHOOK, "notification destinations", self._list_destinations))
            for notification_type in self.notification_types:
                steps.append((Kind.WEBHOOK, f"{notification_type} subscriptions", partial(self._list_subscriptions, notification_type)))
        for kind, label, step in steps:
            try:
                found.extend(await step())
            except LwaError as exc:
                if not exc.scope_refused:
                    raise
                self._denied.add(NOTIFICATIONS_ROLE)
                gaps.append(listing_gap(kind, exc, f"{label}: {exc}", right=NOTIFICATIONS_ROLE))
            except ProviderError as exc:
                if isinstance(exc, AuthError) and exc.status == 401:
                    raise
                role = SHIPPING_ROLE if kind is Kind.CARRIER else NOTIFICATIONS_ROLE
                gaps.append(listing_gap(kind, exc, f"{label}: {exc}", right=role))
        blind: tuple[BlindSpot, ...] = ()
        if Kind.WEBHOOK in kinds:
            blind = (
                BlindSpot.own_app_only(Kind.WEBHOOK, self.application, SUBSCRIPTIONS, runbooks.how_to_see(self.application)),
            )
        return Listing(
            account=self._account,
            provider=self.name,
            bindings=tuple(found),  # what a failed kind returned is shown; its decisions are withheld
            gaps=tuple(gaps),
            blind_spots=blind,
            granted=ALL_ROLES - frozenset(self._denied),
        )

    async def _carrier_accounts(self) -> list[Mapping[str, Any]]:
        response = await self._call(
            SELLER, "PUT", "/shipping/v2/carrierAccounts", "getCarrierAccounts", json={}, shipping=True,
            mutating=False,  # a read, sent as PUT: not for the audit log
        )
        accounts = json_object(response).get("activeAccounts")
        if not isinstance(accounts, list) or not all(
            isinstance(a, Mapping) and a.get("accountId") for a in accounts
        ):
            raise _PageFailed("getCarrierAccounts answered without a list of activeAccounts with accountId")
        return accounts

    async def _list_carriers(self) -> list[LiveBinding]:
        return _unique([self._carrier(raw) for raw in await self._carrier_accounts()])

    async def _list_destinations(self) -> list[LiveBinding]:
        response = await self._call(GRANTLESS, "GET", "/notifications/v1/destinations", "getDestinations")
        items = json_object(response).get("payload")
        if not isinstance(items, list):
            raise _PageFailed("getDestinations answered without a payload list")
        if not all(isinstance(raw, Mapping) and raw.get("destinationId") for raw in items):
            raise _PageFailed("getDestinations returned a destination without destinationId")
        return _unique([self._destination(raw) for raw in items])

    async def _list_subscriptions(self, notification_type: str) -> list[LiveBinding]:
        """All pages of getSubscriptions for one type (``providers.sdk.paging``); a 404 on the
        first page means the paged list is not there, so the single getSubscription decides."""
        single: list[LiveBinding] = []

        async def page(cursor: str | None) -> Page[Mapping[str, Any]]:
            params: dict[str, Any] = {"notificationTypes": notification_type, "pageSize": _PAGE_SIZE}
            if cursor:
                params["nextToken"] = cursor
            response = await self._call(
                SELLER, "GET", "/notifications/v1/subscriptions", "getSubscriptions", params=params, accept=(404,)
            )
            if response.status_code == 404:
                if cursor is not None:
                    raise _PageFailed(f"a later page answered 404 ({describe_sp_error(response)})")
                single.extend(await self._single_subscription(notification_type))
                return Page((), None)
            body = json_object(response).get("payload") or {}
            items = body.get("subscriptions") if isinstance(body, Mapping) else None
            if not isinstance(items, list) or not all(
                isinstance(raw, Mapping) and raw.get("subscriptionId") for raw in items
            ):
                raise _PageFailed("a page of getSubscriptions has no list of subscriptions with subscriptionId")
            return Page(items, body.get("nextToken") or None)

        raws = await collect(
            page, what=f"{notification_type} subscriptions", identity=lambda raw: str(raw["subscriptionId"])
        )
        return single + [self._subscription(notification_type, raw) for raw in raws]

    async def _single_subscription(self, notification_type: str) -> list[LiveBinding]:
        response = await self._call(
            SELLER,
            "GET",
            f"/notifications/v1/subscriptions/{_segment(notification_type)}",
            "getSubscription",
            accept=(404,),
        )
        if response.status_code == 404:
            return []
        raw = json_object(response).get("payload")
        if not isinstance(raw, Mapping) or not raw.get("subscriptionId"):
            raise _PageFailed("getSubscription answered without a subscription payload")
        return [self._subscription(notification_type, raw)]

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
            return self._subscription(binding.name, payload(response))
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
            return self._destination(payload(response))
        raise ProviderError(f"{self.name} {self._account}: unknown resource {binding.resource!r}")

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if request.side != "platform":
            raise ProviderError(f"{self.name} cancels only on the platform side, not {request.side!r}")
        audit = {"idempotency_key": request.idempotency_key}
        # A lost answer (ResponseLostError) propagates: apply settles it by reading back.
        if binding.resource == CARRIER_ACCOUNTS:
            return await self._unlink(binding, audit)
        if binding.resource == SUBSCRIPTIONS:
            return await self._delete_subscription(binding, audit)
        if binding.resource == DESTINATIONS:
            return await self._delete_destination(binding, audit)
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
        return cancels.unlinked(response, account=self._account, binding=binding)

    async def _delete_subscription(self, binding: LiveBinding, audit: Mapping[str, Any]) -> CancelOutcome:
        response = await self._call(
            GRANTLESS,
            "DELETE",
            f"/notifications/v1/subscriptions/{_segment(binding.name)}/{_segment(binding.id)}",
            "deleteSubscriptionById",
            accept=(403, 404, 409),
            audit=audit,
        )
        return cancels.subscription_deleted(response, account=self._account, region=self.region, binding=binding)

    async def _delete_destination(self, binding: LiveBinding, audit: Mapping[str, Any]) -> CancelOutcome:
        response = await self._call(
            GRANTLESS,
            "DELETE",
            f"/notifications/v1/destinations/{_segment(binding.id)}",
            "deleteDestination",
            accept=(404, 409),
            audit=audit,
        )
        return cancels.destination_deleted(response, binding=binding)

    async def aclose(self) -> None:
        """The HTTP pools belong to the shared HttpFactory, which closes them."""
        return None


def _unique(bindings: list[LiveBinding]) -> list[LiveBinding]:
    seen: set[str] = set()
    for binding in bindings:
        if binding.id in seen:
            raise PagingError(f"{binding.resource} id {binding.id} came back twice")
        seen.add(binding.id)
    return bindings
