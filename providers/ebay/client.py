"""The eBay provider: fulfillment policies (carriers) and notification subscriptions (webhooks).

Account in tether.yaml::

    provider: ebay
    endpoint: http://127.0.0.1:8787/ebay          # optional; default https://api.ebay.com
    options:
      marketplaces: [EBAY_DE, EBAY_GB]            # needed to list fulfillment policies
      scopes: [sell.account, commerce.notification.subscription]   # optional, see granted()
      quotas: {sell.account: 25000, commerce.notification: 10000}  # optional daily quotas
      page_size: 100                              # optional, 10..100 subscriptions per page
    credentials: {access_token: "${env:EBAY_TOKEN}"}   # an OAuth user access token
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from providers.ebay import api
from providers.ebay.errors import describe_error, error_ids
from providers.ebay.quota import DailyQuota
from providers.http import ResponseLost, json_body
from providers.sdk import CancelOutcome, CancelRequest, CancelStatus, Capabilities, ProviderContext
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import CancelAt, Gap, GapReason, Kind, Listing, LiveBinding

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
    )

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.time) -> None:
        self._account = ctx.account.name
        options: Mapping[str, Any] = ctx.account.options or {}
        token = ctx.credentials.get("access_token", "")
        if not token:
            raise ConfigError(
                f"account {self._account}: provider ebay needs credentials.access_token "
                "(an OAuth user access token, sent as 'Authorization: Bearer ...')"
            )
        self._marketplaces = _marketplaces(self._account, options.get("marketplaces"))
        self._declared = _declared_scopes(self._account, options.get("scopes"))
        self._page_size = _page_size(self._account, options.get("page_size"))
        self.limiter = DailyQuota(
            _quotas(self._account, options.get("quotas")), account=self._account, clock=clock
        )
        self._http = ctx.http.client(
            ctx.account.endpoint or api.PUBLIC_BASE_URL,
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
        bindings: list[LiveBinding] = []
        problems: list[str] = []
        if Kind.CARRIER in kinds:
            await self._list_policies(bindings, problems)
        if Kind.WEBHOOK in kinds:
            await self._list_subscriptions(bindings, problems)
        return Listing(
            account=self._account,
            provider=self.name,
            bindings=tuple(bindings),
            gaps=tuple(Gap(kind=None, reason=GapReason.FAILED, detail=p) for p in problems),
            granted=self._declared if self._declared is not None else frozenset(self._proven) or None,
        )

    async def _list_policies(self, bindings: list[LiveBinding], problems: list[str]) -> None:
        if not self._marketplaces:
            problems.append(
                "fulfillment policies were not listed: eBay lists them per marketplace; set "
                "options.marketplaces on the account (for example [EBAY_DE, EBAY_GB])"
            )
            return
        seen: set[str] = set()
        for marketplace in self._marketplaces:
            response = await self._read(
                problems,
                f"fulfillment policies of {marketplace}",
                api.FULFILLMENT_POLICY_PATH,
                f"{api.API_SELL_ACCOUNT}/getFulfillmentPolicies",
                params={"marketplace_id": marketplace},
            )
            if response is None:
                continue
            policies = _json_list(response, "fulfillmentPolicies")
            if policies is None:
                problems.append(f"fulfillment policies of {marketplace}: the answer was not a policy list")
                continue
            for raw in policies:
                if not isinstance(raw, dict) or raw.get("fulfillmentPolicyId") in (None, ""):
                    problems.append(
                        f"fulfillment policies of {marketplace}: a policy without fulfillmentPolicyId"
                    )
                    continue
                policy_id = str(raw["fulfillmentPolicyId"])
                if policy_id in seen:
                    problems.append(f"fulfillment policy {policy_id} came back twice")
                    continue
                seen.add(policy_id)
                bindings.append(self._policy_binding(raw))

    async def _list_subscriptions(self, bindings: list[LiveBinding], problems: list[str]) -> None:
        seen_ids: set[str] = set()
        seen_tokens: set[str] = set()
        continuation: str | None = None
        for page in range(1, MAX_SUBSCRIPTION_PAGES + 1):
            params = {"limit": str(self._page_size)}
            if continuation is not None:
                params["continuation_token"] = continuation
            response = await self._read(
                problems,
                f"notification subscriptions (page {page})",
                api.SUBSCRIPTION_PATH,
                f"{api.API_COMMERCE_NOTIFICATION}/getSubscriptions",
                params=params,
            )
            if response is None:
                return
            subscriptions = _json_list(response, "subscriptions")
            if subscriptions is None:
                problems.append(
                    f"notification subscriptions (page {page}): the answer was not a subscription list"
                )
                return
            for raw in subscriptions:
                if not isinstance(raw, dict) or raw.get("subscriptionId") in (None, ""):
                    problems.append(
                        f"notification subscriptions (page {page}): a subscription without subscriptionId"
                    )
                    continue
                subscription_id = str(raw["subscriptionId"])
                if subscription_id in seen_ids:
                    problems.append(f"subscription {subscription_id} came back twice while paging")
                    continue
                seen_ids.add(subscription_id)
                bindings.append(self._subscription_binding(raw))
            next_url = json_body(response).get("next")
            if not next_url:
                return
            continuation = _continuation_token(str(next_url))
            if continuation is None:
                problems.append(
                    f"notification subscriptions (page {page}): 'next' carries no continuation_token"
                )
                return
            if continuation in seen_tokens:
                problems.append(
                    f"notification subscriptions (page {page}): eBay returned a continuation_token "
                    "it had already returned; paging stopped to avoid a loop"
                )
                return
            seen_tokens.add(continuation)
        problems.append(
            f"notification subscriptions: more than {MAX_SUBSCRIPTION_PAGES} pages; paging stopped"
        )

    async def _read(
        self,
        problems: list[str],
        what: str,
        path: str,
        operation: str,
        params: Mapping[str, str],
    ) -> httpx.Response | None:
        """One GET of a listing; a failure becomes a problem, except a refused token."""
        api_name = DailyQuota.api_of(operation)
        self._read_tried.add(api_name)
        try:
            response = await self._http.request("GET", path, operation=operation, params=dict(params))
        except AuthError as exc:
            if exc.status == 401:
                raise self._token_refused(exc) from None
            problems.append(f"{what}: {exc}. {self._scope_hint(api_name)}")
            return None
        except ProviderError as exc:
            problems.append(f"{what}: {exc}")
            return None
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
        ignored: list[str] = []
        await self._read(ignored, "rights probe", path, operation, params)

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
        try:
            response = await self._http.request(
                "DELETE",
                path,
                operation=operation,
                accept=(400, 404, 409),
                audit={"idempotency_key": request.idempotency_key},
            )
        except ResponseLost:
            return await self._settle(binding)
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

    async def _settle(self, binding: LiveBinding) -> CancelOutcome:
        """The delete's answer was lost: read the binding back rather than deleting again."""
        if await self.fetch(binding) is None:
            return CancelOutcome(
                CancelStatus.DONE, f"{binding.resource} {binding.id} is gone (verified after a lost response)"
            )
        raise ProviderError(
            f"ebay {self._account}: the answer to deleting {binding.resource} {binding.id} was lost "
            "and it still exists; run apply again to retry"
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
        )


# -- options -----------------------------------------------------------------------------------


def _json_list(response: httpx.Response, key: str) -> list[Any] | None:
    """The list under ``key``; eBay leaves the key out when there is nothing to list."""
    try:
        body = json_body(response)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    items = body.get(key, [])
    return items if isinstance(items, list) else None


def _continuation_token(next_url: str) -> str | None:
    values = parse_qs(urlsplit(next_url).query).get("continuation_token")
    return values[0] if values and values[0] else None


def _marketplaces(account: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"account {account}: options.marketplaces must be a list such as [EBAY_DE, EBAY_GB]"
        )
    bad = [v for v in value if not api.MARKETPLACE_ID.match(v)]
    if bad:
        raise ConfigError(
            f"account {account}: options.marketplaces has {', '.join(map(repr, bad))}; eBay "
            "marketplace ids look like EBAY_DE, EBAY_GB, EBAY_US"
        )
    return tuple(dict.fromkeys(value))


def _declared_scopes(account: str, value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"account {account}: options.scopes must be a list of OAuth scopes such as [sell.account]"
        )
    return frozenset(api.expand_scope(v) for v in value)


def _page_size(account: str, value: Any) -> int:
    if value is None:
        return api.SUBSCRIPTION_PAGE_MAX
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (api.SUBSCRIPTION_PAGE_MIN <= value <= api.SUBSCRIPTION_PAGE_MAX)
    ):
        raise ConfigError(
            f"account {account}: options.page_size must be a whole number from "
            f"{api.SUBSCRIPTION_PAGE_MIN} to {api.SUBSCRIPTION_PAGE_MAX}"
        )
    return value


def _quotas(account: str, value: Any) -> dict[str, int]:
    quotas = dict(api.DEFAULT_DAILY_QUOTAS)
    if value is None:
        return quotas
    if not isinstance(value, Mapping):
        raise ConfigError(f"account {account}: options.quotas must map an API name to its daily call quota")
    for key, number in value.items():
        if key not in quotas:
            raise ConfigError(
                f"account {account}: options.quotas.{key} is not an API this provider calls "
                f"(known: {', '.join(sorted(quotas))})"
            )
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ConfigError(f"account {account}: options.quotas.{key} must be a positive whole number")
        quotas[key] = number
    return quotas
