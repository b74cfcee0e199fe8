"""Stripe subscriptions as tether bindings: list, back up invoices, cancel now or at period end.

For the Stripe account that SELLS the subscriptions: a vendor or agency ending its own clients'
packages with its own key. A Stripe subscription lives in the seller-of-record's account; the
customer who pays for it (a store paying a vendor) has no key to that account and cannot list or
cancel it through Stripe's API. A store's own paid packages billed by a vendor are ended in the
vendor's customer portal (a ``manual`` account with its runbook) or through the vendor's own API
(an ``http`` account); see docs/vendors.md.

An account in tether.yaml::

    provider: stripe
    credentials: {api_key: ${env:STRIPE_KEY}}        # sk_... or rk_...
    options:
      api_version: "2025-03-31.basil"   # optional; a real Stripe-Version (else the account default)
      stripe_account: acct_...      # optional; a Connect account, sent as Stripe-Account
      invoice_now: false            # optional; cancel now: bill pending usage and prorations at once
      prorate: false                # optional; cancel now: credit the unused part of the period
      key_permissions: [...]        # restricted keys only; see StripeProvider
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx

from providers.http import ApiClient, Sleep, TokenBucket, json_body
from providers.sdk import (
    Account,
    Authority,
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    Page,
    PagingError,
    ProviderContext,
    collect,
    listing_gap,
    paginate,
)
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import CancelAt, Gap, Kind, Listing, LiveBinding
from providers.stripe.forms import encode_form
from providers.stripe.rights import ALL_RIGHTS, INVOICES_READ, SUBSCRIPTIONS_READ, SUBSCRIPTIONS_WRITE, normalize
from providers.stripe.versions import problem as version_problem

PUBLIC_API = "https://api.stripe.com"
PAGE_SIZE = 100
MAX_PAGES = 10_000
GONE_STATUSES = frozenset({"canceled", "incomplete_expired"})
WRITE_OPERATIONS = frozenset({"update_subscription", "cancel_subscription"})
PUBLIC_HOST = "api.stripe.com"
SRC_SUBSCRIPTIONS = "https://docs.stripe.com/api/subscriptions/cancel"
AUTHORITY = (
    Authority(
        resource="subscriptions",
        kind=Kind.SUBSCRIPTION,
        who_sees="the Stripe account that sells them (its secret key, or a restricted key with "
        "subscriptions read), or a Connect platform acting for that account (Stripe-Account)",
        who_cancels="that account (DELETE /v1/subscriptions/{id}, or cancel_at_period_end)",
        otherwise="the paying customer: the vendor's customer portal or back office (a manual "
        "runbook), or the vendor's own API through the http provider",
        source=SRC_SUBSCRIPTIONS,
    ),
)


class StripeRateLimiter:
    """Stripe's published per-account limits: reads and writes each have their own budget.

    100 requests per second of each in live mode, 25 in test mode. The buckets run at 90% of
    that so clock skew between us and Stripe does not turn a full bucket into a 429. A 429 that
    says ``rate_limit`` empties the bucket it came from; ``lock_timeout`` is contention on one
    object, not a rate, and leaves the budget alone.
    """

    HEADROOM = 0.9

    def __init__(self, *, livemode: bool, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        published = 100.0 if livemode else 25.0
        rate = published * self.HEADROOM
        self.read = TokenBucket(rate, published, clock=clock, sleep=sleep)
        self.write = TokenBucket(rate, published, clock=clock, sleep=sleep)

    def _bucket(self, operation: str) -> TokenBucket:
        return self.write if operation in WRITE_OPERATIONS else self.read

    async def acquire(self, operation: str) -> None:
        await self._bucket(operation).acquire(operation)

    def observe(self, operation: str, response: httpx.Response) -> None:
        if response.status_code == 429 and _error(response).get("code") != "lock_timeout":
            self._bucket(operation).observe(operation, response)


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json_body(response)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def describe_error(response: httpx.Response) -> str:
    """Stripe's error object as one line: message, then type/code/param, then the request id."""
    error = _error(response)
    if error.get("message") or error.get("type"):
        text = " ".join(str(error.get("message") or "no message").split())
        tags = [f"{name} {error[name]}" for name in ("type", "code", "param") if error.get(name)]
        if tags:
            text += f" ({', '.join(tags)})"
    else:
        text = " ".join(response.text.split())[:300] or "empty response"
    request_id = response.headers.get("request-id")
    return f"{text}; request {request_id}" if request_id else text


def subscription_name(sub: Mapping[str, Any]) -> str:
    """What a person calls the subscription: its metadata name, else what its first item sells."""
    metadata = sub.get("metadata") or {}
    for key in ("name", "plan"):
        if metadata.get(key):
            return str(metadata[key])
    items = (sub.get("items") or {}).get("data") or []
    if items:
        item = items[0]
        price, plan = item.get("price") or {}, item.get("plan") or {}
        for candidate in (price.get("nickname"), plan.get("nickname"), price.get("product"), plan.get("product")):
            if isinstance(candidate, Mapping):
                candidate = candidate.get("name") or candidate.get("id")
            if candidate:
                return str(candidate)
    return str(sub.get("id"))


def is_pending_cancel(sub: Mapping[str, Any]) -> bool:
    return sub.get("status") not in GONE_STATUSES and (bool(sub.get("cancel_at_period_end")) or sub.get("cancel_at") is not None)


class StripeProvider:
    """Subscriptions of one Stripe account (or one Connect account reached through it).

    Rights: Stripe never tells a key what it may do. A secret key (``sk_``) may do everything,
    so it holds every right. A restricted key (``rk_``) holds what ``options.key_permissions``
    declares, in tether's spelling (``subscriptions:write``) or the Dashboard's
    (``rak_subscription_write``); write implies read. Without that list, the reads are probed
    with one-object GETs, and no write right is assumed, so a plan shows the cancel as lacking
    ``subscriptions:write`` rather than promising it. Publishable keys (``pk_``) are refused.

    Cancels: ``now`` is ``DELETE /v1/subscriptions/{id}`` with explicit ``invoice_now`` and
    ``prorate`` (false unless the options say otherwise, which is also Stripe's default);
    ``period_end`` is ``POST cancel_at_period_end=true`` with the request's idempotency key,
    retried on 429/5xx with that same key, and ends SCHEDULED. A 5xx to ``now`` is not retried
    (unless Stripe says ``Stripe-Should-Retry: true``): it fails that cancel, and the next apply
    lists the subscription again. A subscription Stripe no longer has, or has already canceled, is
    ALREADY_GONE. A cancel whose response was lost raises ``ResponseLostError``: apply settles it
    by re-reading, never by resending.

    Whose subscriptions: the key's account is the one that SELLS them (a vendor or an agency
    ending its clients' packages). A store paying a vendor does not hold that key: its packages
    are a ``manual`` runbook (the vendor's customer portal) or the vendor's API through ``http``.
    """

    name = "stripe"
    capabilities = Capabilities(
        kinds=frozenset({Kind.SUBSCRIPTION}),
        datasets=frozenset({"invoices"}),
        sides=("platform",),
        verify=True,
        cancel_at=frozenset({CancelAt.NOW, CancelAt.PERIOD_END}),
        authority=AUTHORITY,
    )

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """Stripe's API host; a secret key goes nowhere else."""
        return (PUBLIC_HOST,)

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.account = ctx.account
        options = dict(ctx.account.options or {})
        self._key = self._api_key(ctx)
        self._options = self._check_options(options)
        headers = {"Authorization": f"Bearer {self._key}", "User-Agent": "tether (stripe provider)"}
        if self._options.get("api_version"):
            headers["Stripe-Version"] = self._options["api_version"]
        if self._options.get("stripe_account"):
            headers["Stripe-Account"] = self._options["stripe_account"]
        livemode = self._key.startswith(("sk_live_", "rk_live_"))
        self._api: ApiClient = ctx.http.client(
            ctx.account.endpoint or PUBLIC_API,
            provider=self.name,
            account=ctx.account.name,
            headers=headers,
            secrets=[self._key],
            limiter=StripeRateLimiter(livemode=livemode, clock=clock, sleep=ctx.http.sleep),
            describe_error=describe_error,
            request_id_header="request-id",
        )

    def _api_key(self, ctx: ProviderContext) -> str:
        key = str(ctx.credentials.get("api_key") or "").strip()
        if not key:
            raise ConfigError(f"account {ctx.account.name}: a stripe account needs credentials.api_key (a secret sk_ or restricted rk_ key)")
        if key.startswith("pk_"):
            raise ConfigError(
                f"account {ctx.account.name}: credentials.api_key is a publishable key (pk_), which cannot read subscriptions; "
                "use a secret (sk_) or restricted (rk_) key"
            )
        return key

    def _check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        where = f"account {self.account.name}: options"
        known = {"api_version", "stripe_account", "invoice_now", "prorate", "key_permissions"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown option(s) {', '.join(unknown)} for stripe (known: {', '.join(sorted(known))})")
        version = options.get("api_version")
        wrong = None if version is None else version_problem(str(version))
        if wrong:
            raise ConfigError(
                f"{where}.api_version {version!r} is not a Stripe API version: {wrong} (quote it in YAML; "
                "see https://docs.stripe.com/api-versions)"
            )
        account = options.get("stripe_account")
        if account is not None and not str(account).startswith("acct_"):
            raise ConfigError(f"{where}.stripe_account {account!r} is not a Stripe account id (acct_...)")
        for flag in ("invoice_now", "prorate"):
            if flag in options and not isinstance(options[flag], bool):
                raise ConfigError(f"{where}.{flag} must be true or false")
        permissions = options.get("key_permissions")
        if permissions is not None:
            if not isinstance(permissions, (list, tuple)):
                raise ConfigError(f"{where}.key_permissions must be a list such as [subscriptions:read, subscriptions:write]")
            try:
                normalize(permissions)
            except ValueError as exc:
                raise ConfigError(f"{where}.key_permissions: {exc}") from None
        return {**options, "api_version": str(version) if version is not None else None}

    # -- reading -------------------------------------------------------------------------------

    def _binding(self, sub: Mapping[str, Any]) -> LiveBinding:
        return LiveBinding(
            account=self.account.name,
            provider=self.name,
            kind=Kind.SUBSCRIPTION,
            id=str(sub["id"]),
            name=subscription_name(sub),
            status=str(sub.get("status") or "active"),
            resource="subscriptions",
            raw=sub,
            pending_cancel=is_pending_cancel(sub),
        )

    @staticmethod
    def _page(response: httpx.Response) -> tuple[list[dict[str, Any]], bool]:
        try:
            body = json_body(response)
        except ValueError:
            raise ProviderError("the list answer is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list) or not isinstance(body.get("has_more"), bool):
            raise ProviderError("the list answer has no data array or has_more flag")
        data = body["data"]
        if not all(isinstance(obj, dict) and obj.get("id") for obj in data):
            raise ProviderError("the list answer holds an object without an id")
        return data, body["has_more"]

    def _static_rights(self) -> frozenset[str] | None:
        if self._key.startswith("sk_"):
            return ALL_RIGHTS
        if self._key.startswith("rk_") and self._options.get("key_permissions") is not None:
            return normalize(self._options["key_permissions"])
        return None

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        if Kind.SUBSCRIPTION not in kinds:
            return Listing(self.account.name, self.name, (), granted=self._static_rights())
        gaps: list[Gap] = []
        subs: list[dict[str, Any]] = []
        try:
            subs = await collect(
                self._pages("/v1/subscriptions", "list_subscriptions", {"status": "all"}),
                what="Stripe subscriptions",
                identity=lambda sub: str(sub["id"]),
                max_pages=MAX_PAGES,
            )
        except ProviderError as exc:
            refused = isinstance(exc, AuthError)
            if refused and (exc.status == 401 or "rak_" not in str(exc)):  # the key or the account itself
                raise
            detail = str(exc) if refused or isinstance(exc, PagingError) else f"subscriptions: {exc}"
            gaps.append(listing_gap(Kind.SUBSCRIPTION, exc, detail, right="rak_subscription_read"))
        bindings = tuple(self._binding(sub) for sub in subs if sub.get("status") not in GONE_STATUSES)
        return Listing(self.account.name, self.name, bindings, gaps=tuple(gaps), granted=self._static_rights())

    def _pages(
        self, path: str, operation: str, params: Mapping[str, Any]
    ) -> Callable[[str | None], Awaitable[Page[dict[str, Any]]]]:
        """One page of a Stripe list; the next cursor is ``starting_after`` the last id."""

        async def page(cursor: str | None) -> Page[dict[str, Any]]:
            query = {**params, "limit": PAGE_SIZE, **({"starting_after": cursor} if cursor else {})}
            response = await self._api.request("GET", path, operation=operation, params=query)
            data, has_more = self._page(response)
            if has_more and not data:
                raise ProviderError(f"a page of {path} was empty but said has_more")
            return Page(data, str(data[-1]["id"]) if has_more else None)

        return page

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        response = await self._api.request(
            "GET", self._path(binding), operation="retrieve_subscription", accept=(404,)
        )
        if response.status_code == 404:
            return None
        sub = json_body(response)
        if sub.get("status") in GONE_STATUSES:
            return None
        return self._binding(sub)

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        if dataset != "invoices":
            raise ProviderError(f"stripe cannot back up {dataset!r}; its datasets are: invoices")
        pages = self._pages("/v1/invoices", "list_invoices", {"subscription": binding.id})
        try:
            async for invoice in paginate(pages, what=f"invoices of {binding.id}", identity=lambda i: str(i["id"])):
                yield invoice
        except PagingError as exc:
            raise ProviderError(f"stripe {self.account.name}: {exc}; the backup would not be trustworthy") from None

    # -- rights --------------------------------------------------------------------------------

    async def granted(self) -> frozenset[str]:
        static = self._static_rights()
        if static is not None:
            return static
        if not self._key.startswith("rk_"):
            return frozenset()
        found: set[str] = set()
        for path, operation, right in (
            ("/v1/subscriptions", "list_subscriptions", SUBSCRIPTIONS_READ),
            ("/v1/invoices", "list_invoices", INVOICES_READ),
        ):
            response = await self._api.request("GET", path, operation=operation, params={"limit": 1}, accept=(403,))
            if response.status_code == 200:
                found.add(right)
        return frozenset(found)

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        rights = [SUBSCRIPTIONS_WRITE]
        if "invoices" in datasets:
            rights.append(INVOICES_READ)
        return tuple(rights)

    # -- cancelling ----------------------------------------------------------------------------

    @staticmethod
    def _path(binding: LiveBinding) -> str:
        return "/v1/subscriptions/" + quote(binding.id, safe="")

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if binding.resource != "subscriptions":
            raise ProviderError(f"stripe cannot cancel a {binding.resource!r} binding; it cancels subscriptions")
        if request.side not in self.capabilities.sides:
            raise ProviderError(f"stripe cancels on the platform side only, not {request.side!r}")
        audit = {"idempotency_key": request.idempotency_key, "cancel_at": request.cancel_at.value}
        # A lost answer (ResponseLostError) propagates: apply settles it by reading back.
        if request.cancel_at == CancelAt.NOW:
            form = {"invoice_now": bool(self._options.get("invoice_now", False)), "prorate": bool(self._options.get("prorate", False))}
            response = await self._api.request(
                "DELETE", self._path(binding), operation="cancel_subscription", data=encode_form(form),
                idempotent=False, accept=(404,), audit=audit,
            )
        else:
            # The Idempotency-Key makes a resend safe: Stripe replays the first attempt's saved
            # result instead of acting twice, so a 429 or 5xx is retried with the same key
            # (Stripe-Should-Retry still has the last word). A lost response stays a
            # ResponseLostError because the call is mutating; apply settles it by reading back.
            response = await self._api.request(
                "POST", self._path(binding), operation="update_subscription",
                data=encode_form({"cancel_at_period_end": True}),
                headers={"Idempotency-Key": request.idempotency_key},
                idempotent=True, accept=(400, 404), audit=audit,
            )
        request_id = response.headers.get("request-id")
        if response.status_code == 404:
            return CancelOutcome(CancelStatus.ALREADY_GONE, f"Stripe has no live subscription {binding.id}", request_id)
        if response.status_code == 400:
            if await self.fetch(binding) is None:
                return CancelOutcome(CancelStatus.ALREADY_GONE, f"subscription {binding.id} is already canceled", request_id)
            raise ProviderError(
                f"stripe {self.account.name}: POST {self._path(binding)} answered 400: {describe_error(response)}",
                status=400,
                request_id=request_id,
            )
        sub = json_body(response)
        if request.cancel_at == CancelAt.NOW:
            return CancelOutcome(CancelStatus.DONE, f"subscription {binding.id} canceled (status {sub.get('status')})", request_id)
        if sub.get("status") in GONE_STATUSES:
            return CancelOutcome(CancelStatus.ALREADY_GONE, f"subscription {binding.id} is already {sub.get('status')}", request_id)
        return CancelOutcome(CancelStatus.SCHEDULED, f"subscription {binding.id} ends at period end{_when(sub.get('cancel_at'))}", request_id)

    async def aclose(self) -> None:
        return None


def _when(stamp: Any) -> str:
    if stamp is None:
        return ""
    try:
        return " (" + datetime.fromtimestamp(int(stamp), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC") + ")"
    except (TypeError, ValueError, OverflowError):
        return ""
