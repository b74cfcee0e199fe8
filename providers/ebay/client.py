"""The eBay provider: fulfillment policies (carriers) and notification subscriptions (webhooks).

Account in tether.yaml::

    provider: ebay
    endpoint: http://127.0.0.1:8787/ebay          # optional; default https://api.ebay.com
    options:
      marketplaces: [EBAY_DE, EBAY_GB]            # needed to list fulfillment policies
      scopes: [sell.account, commerce.notification.subscription]   # optional, see granted()
      quotas: {sell.account: 25000, commerce.notification: 10000}  # optional daily quotas
      page_size: 100                              # optional, 10..100 subscriptions per page
      application: lumen-ops                      # optional: the eBay application the token is of
      sandbox: false                              # true: eBay's Sandbox, https://api.sandbox.ebay.com
    credentials: {access_token: "${env:EBAY_TOKEN}"}   # an OAuth user access token

Fulfillment policies are the seller's (any application the seller authorized with ``sell.account``
lists and deletes them); notification subscriptions belong to the eBay application that created
them, so the listing carries a blind spot for the others (docs/vendors.md).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from providers.ebay import api, authority
from providers.ebay.errors import describe_error, error_ids
from providers.ebay.options import (
    continuation_token,
    declared_scopes,
    json_list,
    marketplaces,
    page_size,
    quotas,
)
from providers.ebay.quota import DailyQuota
from providers.http import json_body
from providers.sdk import (
    Account,
    BlindSpot,
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    Page,
    PagingError,
    ProviderContext,
    Runbook,
    collect,
    listing_gap,
)
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import CancelAt, Gap, Kind, Listing, LiveBinding

MAX_SUBSCRIPTION_PAGES = 1_000
REQUEST_ID_HEADER = "x-ebay-request-id"

# The right each kind needs to cancel, and the weaker right a successful read proves.
_WRITE_SCOPE = {Kind.CARRIER: api.SCOPE_SELL_ACCOUNT, Kind.WEBHOOK: api.SCOPE_NOTIFICATION}
_READ_SCOPE = {
    api.API_SELL_ACCOUNT: api.SCOPE_SELL_ACCOUNT_READONLY,
    api.API_COMMERCE_NOTIFICATION: api.SCOPE_NOTIFICATION_READONLY,
}


class EbayProvider:
    """Sell Account fulfillment policies and Commerce Notification subscriptions of one seller.

    Rights: eBay has no call that tells which scopes a user access token carries. ``granted()``
    therefore returns ``options.scopes`` when the account declares them (the scopes the token was
    minted with), and otherwise a sound lower bound learnt from calls: a read that succeeded
    proves the read-only scope of that API (``sell.account.readonly``,
    ``commerce.notification.subscription.readonly``; the full scope would also pass, so the read
    cannot prove more), a delete that succeeded proves the full scope, and a 403 with errorId
    1100 proves nothing is held. A token that may cancel but declares no scopes is thus shown as
    lacking the right until ``options.scopes`` says otherwise.

    Quotas: eBay limits calls per API per day (``DailyQuota``); this run's calls are counted per
    account, while eBay counts per application, so accounts sharing one application should split
    ``options.quotas`` between them.
    """

    name: ClassVar[str] = "ebay"
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({Kind.CARRIER, Kind.WEBHOOK}),
        datasets=frozenset(),
        sides=("platform",),
        verify=True,
        cancel_at=frozenset({CancelAt.NOW}),
        authority=authority.AUTHORITY,
    )

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """api.ebay.com, and api.sandbox.ebay.com for an account on eBay's Sandbox."""
        if (account.options or {}).get("sandbox") is True:
            return (api.PRODUCTION_HOST, api.SANDBOX_HOST)
        return (api.PRODUCTION_HOST,)

    def runbook(self, binding: LiveBinding) -> Runbook:
        return authority.runbook(binding, account=self._account)

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.time) -> None:
        self._account = ctx.account.name
        options: Mapping[str, Any] = ctx.account.options or {}
        token = ctx.credentials.get("access_token", "")
        if not token:
            raise ConfigError(
                f"account {self._account}: provider ebay needs credentials.access_token "
                "(an OAuth user access token, sent as 'Authorization: Bearer ...')"
            )
        self._marketplaces = marketplaces(self._account, options.get("marketplaces"))
        self._declared = declared_scopes(self._account, options.get("scopes"))
        self._page_size = page_size(self._account, options.get("page_size"))
        self.application = str(options.get("application") or "this application")
        self.limiter = DailyQuota(quotas(self._account, options.get("quotas")), account=self._account, clock=clock)
        base = api.SANDBOX_BASE_URL if options.get("sandbox") is True else api.PUBLIC_BASE_URL
        self._http = ctx.http.client(
            ctx.account.endpoint or base,
            provider=self.name,
            account=self._account,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            secrets=[token],
            limiter=self.limiter,
            describe_error=describe_error,
            request_id_header=REQUEST_ID_HEADER,
        )
        self._proven: set[str] = set()
        self._read_tried: set[str] = set()

    # -- listing ---------------------------------------------------------------------------------

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        """Each kind apart: a refused read is a Gap naming the scope, a failed one a FAILED gap,
        a cursor loop a CURSOR_LOOP gap; the other kind is listed as usual."""
        bindings: list[LiveBinding] = []
        gaps: list[Gap] = []
        steps = [(Kind.CARRIER, self._list_policies), (Kind.WEBHOOK, self._list_subscriptions)]
        for kind, step in steps:
            if kind not in kinds:
                continue
            try:
                bindings.extend(await step())
            except ProviderError as exc:
                if isinstance(exc, AuthError) and exc.status == 401:
                    raise self._token_refused(exc) from None
                right = api.SCOPE_SELL_ACCOUNT_READONLY if kind is Kind.CARRIER else api.SCOPE_NOTIFICATION_READONLY
                gaps.append(listing_gap(kind, exc, str(exc), right=right))
        blind: tuple[BlindSpot, ...] = ()
        if Kind.WEBHOOK in kinds:
            blind = (
                BlindSpot.own_app_only(
                    Kind.WEBHOOK, self.application, api.RESOURCE_SUBSCRIPTION, authority.how_to_see(self.application)
                ),
            )
        return Listing(
            account=self._account,
            provider=self.name,
            bindings=tuple(bindings),
            gaps=tuple(gaps),
            blind_spots=blind,
            granted=self._declared if self._declared is not None else frozenset(self._proven) or None,
        )

    async def _list_policies(self) -> list[LiveBinding]:
        if not self._marketplaces:
            raise ProviderError(
                "fulfillment policies were not listed: eBay lists them per marketplace; set "
                "options.marketplaces on the account (for example [EBAY_DE, EBAY_GB])"
            )
        found: list[LiveBinding] = []
        seen: set[str] = set()
        for marketplace in self._marketplaces:
            response = await self._read(
                f"fulfillment policies of {marketplace}",
                api.FULFILLMENT_POLICY_PATH,
                f"{api.API_SELL_ACCOUNT}/getFulfillmentPolicies",
                params={"marketplace_id": marketplace},
            )
            policies = json_list(response, "fulfillmentPolicies")
            if policies is None or not all(
                isinstance(raw, dict) and raw.get("fulfillmentPolicyId") not in (None, "") for raw in policies
            ):
                raise ProviderError(
                    f"fulfillment policies of {marketplace}: the answer was not a list of policies "
                    "with fulfillmentPolicyId"
                )
            for raw in policies:
                policy_id = str(raw["fulfillmentPolicyId"])
                if policy_id in seen:
                    raise PagingError(f"fulfillment policy {policy_id} came back twice")
                seen.add(policy_id)
                found.append(self._policy_binding(raw))
        return found

    async def _list_subscriptions(self) -> list[LiveBinding]:
        async def page(cursor: str | None) -> Page[Mapping[str, Any]]:
            params = {"limit": str(self._page_size)}
            if cursor is not None:
                params["continuation_token"] = cursor
            response = await self._read(
                "notification subscriptions",
                api.SUBSCRIPTION_PATH,
                f"{api.API_COMMERCE_NOTIFICATION}/getSubscriptions",
                params=params,
            )
            items = json_list(response, "subscriptions")
            if items is None or not all(
                isinstance(raw, dict) and raw.get("subscriptionId") not in (None, "") for raw in items
            ):
                raise ProviderError(
                    "notification subscriptions: the answer was not a list of subscriptions with subscriptionId"
                )
            next_url = json_body(response).get("next")
            if not next_url:
                return Page(items, None)
            token = continuation_token(str(next_url))
            if token is None:
                raise ProviderError("notification subscriptions: 'next' carries no continuation_token")
            return Page(items, token)

        raws = await collect(
            page,
            what="eBay notification subscriptions",
            identity=lambda raw: str(raw["subscriptionId"]),
            max_pages=MAX_SUBSCRIPTION_PAGES,
        )
        return [self._subscription_binding(raw) for raw in raws]

    async def _read(self, what: str, path: str, operation: str, params: Mapping[str, str]) -> httpx.Response:
        """One GET of a listing; a refusal says which scope reading needs."""
        api_name = DailyQuota.api_of(operation)
        self._read_tried.add(api_name)
        try:
            response = await self._http.request("GET", path, operation=operation, params=dict(params))
        except AuthError as exc:
            if exc.status == 401:
                raise
            raise AuthError(
                f"{what}: {exc}. {self._scope_hint(api_name)}", status=exc.status, request_id=exc.request_id
            ) from None
        self._proven.add(_READ_SCOPE[api_name])
        return response

    # -- rights ----------------------------------------------------------------------------------

    async def granted(self) -> frozenset[str] | None:
        """The declared scopes (``options.scopes``), else None: eBay cannot say what a user token
        holds, and a read proves only the read-only scope, so guessing would report a write
        scope missing that the token may well hold. The plan then shows the rights as unknown,
        and eBay itself refuses (403, errorId 1100) a cancel the token has no scope for."""
        if self._declared is not None:
            return self._declared
        return None

    async def proven_scopes(self) -> frozenset[str]:
        """A sound lower bound: the scopes that calls made so far (or a read probe) proved."""
        for api_name in set(_READ_SCOPE) - self._read_tried:
            await self._probe(api_name)
        return frozenset(self._proven)

    async def _probe(self, api_name: str) -> None:
        """A read that lists nothing for the engine but shows whether the token may read."""
        if api_name == api.API_SELL_ACCOUNT:
            if not self._marketplaces:
                return
            path, params = api.FULFILLMENT_POLICY_PATH, {"marketplace_id": self._marketplaces[0]}
            operation = f"{api_name}/getFulfillmentPolicies"
        else:
            path, params = api.SUBSCRIPTION_PATH, {"limit": str(api.SUBSCRIPTION_PAGE_MIN)}
            operation = f"{api_name}/getSubscriptions"
        try:
            await self._read("rights probe", path, operation, params)
        except AuthError as exc:
            if exc.status == 401:
                raise self._token_refused(exc) from None
        except ProviderError:
            pass

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        scope = _WRITE_SCOPE.get(binding.kind)
        return (scope,) if scope else ()

    # -- backup ----------------------------------------------------------------------------------

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        """eBay holds nothing worth a backup beside the binding itself."""
        if dataset != "binding":
            raise ProviderError(
                f"ebay {self._account}: no backup dataset {dataset!r}; eBay bindings have only "
                "'binding' (the policy or subscription itself)"
            )
        yield dict(binding.raw)

    # -- cancel and verify -----------------------------------------------------------------------

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if request.side != "platform":
            raise ProviderError(
                f"ebay {self._account}: eBay bindings are cancelled on the platform side only, not {request.side!r}"
            )
        path, operation = self._item(binding)
        try:  # a lost answer (ResponseLostError) propagates: apply settles it by reading back
            response = await self._http.request(
                "DELETE",
                path,
                operation=operation,
                accept=(400, 404, 409),
                audit={"idempotency_key": request.idempotency_key},
            )
        except AuthError as exc:
            if exc.status == 401:
                raise self._token_refused(exc) from None
            raise AuthError(
                f"{exc}. Deleting a {binding.resource} needs the scope {_WRITE_SCOPE[binding.kind]}",
                status=exc.status,
                request_id=exc.request_id,
            ) from None
        request_id = response.headers.get(REQUEST_ID_HEADER)
        status = response.status_code
        if 200 <= status < 300:
            self._proven.add(_WRITE_SCOPE[binding.kind])
            return CancelOutcome(CancelStatus.DONE, f"deleted {binding.resource} {binding.id}", request_id)
        if self._is_gone(response):
            return CancelOutcome(
                CancelStatus.ALREADY_GONE, f"{binding.resource} {binding.id} no longer exists", request_id
            )
        if status == 409:
            return CancelOutcome(
                CancelStatus.BLOCKED,
                f"eBay refuses to delete {binding.resource} {binding.name!r} ({binding.id}): {describe_error(response)}",
                request_id,
            )
        raise ProviderError(
            f"ebay {self._account}: DELETE {path} answered {status}: {describe_error(response)}",
            status=status,
            request_id=request_id,
        )

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        path, _ = self._item(binding)
        api_name = (
            api.API_SELL_ACCOUNT
            if binding.resource == api.RESOURCE_FULFILLMENT_POLICY
            else api.API_COMMERCE_NOTIFICATION
        )
        operation = "getFulfillmentPolicy" if api_name == api.API_SELL_ACCOUNT else "getSubscription"
        try:
            response = await self._http.request(
                "GET", path, operation=f"{api_name}/{operation}", accept=(400, 404)
            )
        except AuthError as exc:
            if exc.status == 401:
                raise self._token_refused(exc) from None
            raise
        if self._is_gone(response):
            return None
        if response.status_code >= 400:
            raise ProviderError(
                f"ebay {self._account}: GET {path} answered {response.status_code}: {describe_error(response)}",
                status=response.status_code,
                request_id=response.headers.get(REQUEST_ID_HEADER),
            )
        try:
            raw = json_body(response)
        except ValueError:
            raw = None
        key = (
            "fulfillmentPolicyId" if binding.resource == api.RESOURCE_FULFILLMENT_POLICY else "subscriptionId"
        )
        if not isinstance(raw, dict) or raw.get(key) in (None, ""):
            raise ProviderError(f"ebay {self._account}: GET {path} did not answer with a {binding.resource}")
        if binding.resource == api.RESOURCE_FULFILLMENT_POLICY:
            return self._policy_binding(raw)
        return self._subscription_binding(raw)

    async def aclose(self) -> None:
        return None

    # -- helpers ---------------------------------------------------------------------------------

    def _item(self, binding: LiveBinding) -> tuple[str, str]:
        item = quote(binding.id, safe="")
        if binding.resource == api.RESOURCE_FULFILLMENT_POLICY:
            return f"{api.FULFILLMENT_POLICY_PATH}/{item}", f"{api.API_SELL_ACCOUNT}/deleteFulfillmentPolicy"
        if binding.resource == api.RESOURCE_SUBSCRIPTION:
            return f"{api.SUBSCRIPTION_PATH}/{item}", f"{api.API_COMMERCE_NOTIFICATION}/deleteSubscription"
        raise ProviderError(
            f"ebay {self._account}: unknown resource {binding.resource!r} for binding {binding.id}"
        )

    @staticmethod
    def _is_gone(response: httpx.Response) -> bool:
        """404, or the Sell Account API's 400 "{fieldName} not found." (errorId 20404)."""
        if response.status_code == 404:
            return True
        return response.status_code == 400 and api.ERROR_NOT_FOUND in error_ids(response)

    def _token_refused(self, exc: AuthError) -> AuthError:
        return AuthError(
            f"{exc}. eBay user access tokens expire after about two hours: mint a new one from the "
            "refresh token and update credentials.access_token",
            status=exc.status,
            request_id=exc.request_id,
        )

    @staticmethod
    def _scope_hint(api_name: str) -> str:
        full = api.SCOPE_SELL_ACCOUNT if api_name == api.API_SELL_ACCOUNT else api.SCOPE_NOTIFICATION
        return f"Reading needs the scope {_READ_SCOPE[api_name]} (or {full})"

    def _policy_binding(self, raw: Mapping[str, Any]) -> LiveBinding:
        return LiveBinding(
            account=self._account,
            provider=self.name,
            kind=Kind.CARRIER,
            id=str(raw["fulfillmentPolicyId"]),
            name=str(raw.get("name") or ""),
            status="active",
            resource=api.RESOURCE_FULFILLMENT_POLICY,
            raw=raw,
        )

    def _subscription_binding(self, raw: Mapping[str, Any]) -> LiveBinding:
        return LiveBinding(
            account=self._account,
            provider=self.name,
            kind=Kind.WEBHOOK,
            id=str(raw["subscriptionId"]),
            name=str(raw.get("topicId") or ""),
            status=str(raw.get("status") or "unknown"),
            resource=api.RESOURCE_SUBSCRIPTION,
            raw=raw,
            app=self.application,
        )
