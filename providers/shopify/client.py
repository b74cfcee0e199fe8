"""The Shopify provider: a shop's integrations through the GraphQL Admin API.

Every request is ``POST https://{shop}/admin/api/{version}/graphql.json`` with the app's token in
``X-Shopify-Access-Token`` (https://shopify.dev/docs/api/admin-graphql). One query per shop lists
the first page of every collection tether manages (``queries.listing_query``); a collection with
more pages is walked on its own with ``after`` cursors through ``providers.sdk.paging``.

Kinds and where they come from:

- ``webhook``: the calling app's webhook subscriptions (Shopify shows an app only its own; the
  listing carries a blind spot saying so, and how to see the others);
- ``carrier``: the shop's carrier services and fulfillment services;
- ``subscription``: the calling app's own app subscriptions (``currentAppInstallation``), ended
  ones left out; also a blind spot for other apps' charges;
- ``app``: the calling app's installation; cancelling it uninstalls the app (``appUninstall``),
  which kills the token at once, so it goes after everything else the app owns.

A collection the token may not read (``ACCESS_DENIED`` for a missing scope) becomes a gap of that
kind naming the scope; the other kinds are listed as usual. Calculated query cost is honoured:
the client waits for the bucket before a query that would not fit, and retries a ``THROTTLED``
answer after the restore time (``throttle.CostBudget``).

Cancels are mutations; a ``userErrors`` entry saying the object does not exist is
``ALREADY_GONE``. A lost answer to a mutation raises ``ResponseLostError``: apply settles it by
reading the binding back (``fetch``), never by sending the mutation again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar

from providers.sdk import (
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    Page,
    PagingError,
    ProviderContext,
    collect,
    paginate,
)
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import Account, CancelAt, Gap, GapReason, Kind, Listing, LiveBinding, Runbook
from providers.shopify import DEFAULT_API_VERSION, TOKEN_HEADER, mapping, queries
from providers.shopify.authority import AUTHORITY
from providers.shopify.queries import APP_RESOURCE, COLLECTIONS, MUTATIONS
from providers.shopify.throttle import CostBudget
from providers.shopify.transport import (
    AdminGraphQL,
    Answer,
    GraphQLError,
    describe_error,
    dig,
    is_gone,
    page_of,
)

_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Shopify releases a version each quarter (January, April, July, October) and an ``unstable`` one:
# https://shopify.dev/docs/api/usage/versioning
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")

# Where each collection sits in the listing's answer.
_PATHS: dict[str, tuple[str, ...]] = {
    "webhook_subscriptions": ("webhookSubscriptions",),
    "carrier_services": ("carrierServices",),
    "fulfillment_services": ("shop", "fulfillmentServices"),
    "app_subscriptions": ("currentAppInstallation", "allSubscriptions"),
}
# The access scope each cancel needs, as the mutation's reference page says:
# https://shopify.dev/docs/api/admin-graphql/latest/mutations/carrierServiceDelete (write_shipping),
# https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentServiceDelete (write_fulfillments).
# An app deletes its own webhook subscriptions, cancels its own charges and uninstalls itself
# with no further scope.
CANCEL_RIGHTS: dict[str, str] = {
    "carrier_services": "write_shipping",
    "fulfillment_services": "write_fulfillments",
}
# Backup datasets and the scope each needs (orders: read_orders; Shopify returns the last 60
# days of orders unless the app also holds read_all_orders).
DATASETS: dict[str, str] = {"orders": "read_orders"}


def implied_scopes(handles: Collection[str]) -> frozenset[str]:
    """The scopes held, plus ``read_X`` for every ``write_X`` (write access implies read)."""
    rights = set(handles)
    for handle in handles:
        if handle.startswith("write_"):
            rights.add("read_" + handle[len("write_") :])
        elif handle.startswith("unauthenticated_write_"):
            rights.add("unauthenticated_read_" + handle[len("unauthenticated_write_") :])
    return frozenset(rights)


class ShopifyProvider:
    name: ClassVar[str] = "shopify"
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({Kind.CARRIER, Kind.WEBHOOK, Kind.SUBSCRIPTION, Kind.APP}),
        datasets=frozenset(DATASETS),
        sides=("platform",),
        verify=True,
        # appSubscriptionCancel ends a charge at once; Shopify has no period-end cancel.
        cancel_at=frozenset({CancelAt.NOW}),
        # What the app owns goes before the app: uninstalling it kills the token at once.
        cancel_order=tuple(c.resource for c in COLLECTIONS),
        authority=AUTHORITY,
    )

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.monotonic) -> None:
        account = ctx.account
        self.account = account.name
        options: Mapping[str, Any] = account.options or {}
        self.shop = self._shop_host(options.get("shop"), account.endpoint is not None)
        version = str(options.get("api_version") or DEFAULT_API_VERSION)
        if not _VERSION.match(version):
            raise ConfigError(
                f"account {self.account}: options.api_version {version!r} is not a Shopify API "
                f'version such as "{DEFAULT_API_VERSION}" (Shopify releases one each January, April, '
                "July and October)"
            )
        self.api_version = version
        token = ctx.credentials.get("access_token")
        if not token:
            raise ConfigError(
                f"account {self.account}: credentials.access_token is required for provider shopify"
            )
        api = ctx.http.client(
            (account.endpoint or f"https://{self.shop}").rstrip("/"),
            provider=self.name,
            account=self.account,
            headers={TOKEN_HEADER: token, "Accept": "application/json"},
            secrets=[token],
            describe_error=describe_error,
            request_id_header="x-request-id",
        )
        self.budget = CostBudget(clock, ctx.http.sleep)
        self._gql = AdminGraphQL(api, account=self.account, shop=self.shop, api_version=version, budget=self.budget)
        self._graphql = self._gql.send
        # Carrier and fulfillment services this app created (names or ids): Shopify lists the
        # shop's whole list without saying who created each, and only the creator may delete one.
        own = options.get("own_services") or []
        if not isinstance(own, list) or not all(isinstance(x, (str, int)) for x in own):
            raise ConfigError(
                f"account {self.account}: options.own_services must be a list of the names or ids of "
                "the carrier and fulfillment services this app created"
            )
        self.own_services = frozenset(str(x) for x in own)
        self._own_app: str | None = None
        self._scopes: list[str] | None = None

    def _shop_host(self, shop: Any, has_endpoint: bool) -> str:
        if shop is None or shop == "":
            if has_endpoint:
                return "shop"
            raise ConfigError(
                f"account {self.account}: options.shop is required (e.g. demo-shop.myshopify.com)"
            )
        host = shop_host(shop)
        if host is None:
            raise ConfigError(
                f"account {self.account}: options.shop {shop!r} is not a shop domain such as "
                "demo-shop.myshopify.com"
            )
        return host

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """The token goes only to the account's own shop (``{shop}.myshopify.com``)."""
        host = shop_host((account.options or {}).get("shop"))
        return (host,) if host else ()

    @property
    def own_app(self) -> str:
        return self._own_app or "this app"

    # -- listing -----------------------------------------------------------------------------

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        wanted = [c for c in COLLECTIONS if c.kind in kinds]
        answer = await self._graphql(
            queries.listing_query(kinds), {"first": queries.FIRST_PAGE}
        )
        if not answer.data and any(e.path for e in answer.errors):
            answer = await self._listing_by_parts(kinds)
        whole = [e for e in answer.errors if not e.path]
        if whole and not answer.data:
            detail = "; ".join(e.message for e in whole)
            return Listing(
                account=self.account,
                provider=self.name,
                bindings=(),
                gaps=(Gap(kind=None, reason=GapReason.FAILED, detail=f"{self.shop} refused the listing query: {detail}"),),
            )
        installation = answer.data.get("currentAppInstallation")
        gaps: list[Gap] = []
        bindings: list[LiveBinding] = []
        granted: frozenset[str] | None = None
        if isinstance(installation, Mapping):
            app = mapping.app_binding(installation, account=self.account)
            self._own_app = app.name
            self._scopes = list(app.raw["accessScopes"])
            granted = implied_scopes(self._scopes)
            if Kind.APP in kinds:
                bindings.append(app)
        elif Kind.APP in kinds:
            gaps.append(self._gap(Kind.APP, answer.errors, ("currentAppInstallation",), "the app installation"))
        results = await asyncio.gather(*(self._walk(c, answer) for c in wanted))
        for found, gap in results:
            bindings.extend(found)
            if gap is not None:
                gaps.append(gap)
        return Listing(
            account=self.account,
            provider=self.name,
            bindings=tuple(bindings),
            gaps=tuple(_merge_gaps(gaps)),
            blind_spots=mapping.blind_spots(self.own_app, kinds),
            granted=granted,
        )

    async def _listing_by_parts(self, kinds: frozenset[Kind]) -> Answer:
        """The listing asked one collection at a time, merged into one answer."""
        parts = await asyncio.gather(
            *(
                self._graphql(document, {"first": queries.FIRST_PAGE} if "$first" in document else {})
                for document in queries.listing_parts(kinds)
            )
        )
        data: dict[str, Any] = {}
        errors: list[GraphQLError] = []
        for part in parts:
            data.update({key: value for key, value in part.data.items() if value is not None})
            errors.extend(part.errors)
        return Answer(data, tuple(errors), parts[0].request_id if parts else None)

    def _gap(self, kind: Kind, errors: Sequence[GraphQLError], path: Sequence[str], label: str) -> Gap:
        mine = [e for e in errors if tuple(e.path[: len(path)]) == tuple(path) or not e.path]
        denied = next((e for e in mine if e.code == "ACCESS_DENIED"), None)
        if denied is not None:
            right = denied.required or next(
                (c.right for c in COLLECTIONS if _PATHS[c.resource] == tuple(path) and c.right), ""
            )
            return Gap(kind=kind, reason=GapReason.REFUSED, params={"right": right}, detail=denied.message)
        detail = "; ".join(e.message for e in mine) or f"{label}: no answer"
        return Gap(kind=kind, reason=GapReason.FAILED, detail=f"{label} not listed: {detail}")

    async def _walk(self, collection: queries.Collection, answer: Answer) -> tuple[list[LiveBinding], Gap | None]:
        """Every node of one collection: the first page from the listing, the rest by cursor."""
        path = _PATHS[collection.resource]
        node = dig(answer.data, path)
        if node is None:
            return [], self._gap(collection.kind, answer.errors, path, collection.label)
        first: Page[Mapping[str, Any]]
        if collection.paged:
            first = page_of(node, collection.label)
        elif isinstance(node, list):
            first = Page([n for n in node if isinstance(n, Mapping)], None)
        else:
            return [], Gap(collection.kind, GapReason.FAILED, detail=f"{collection.label}: not a list")

        async def fetch(cursor: str | None) -> Page[Mapping[str, Any]]:
            if cursor is None:
                return first
            more = await self._graphql(
                queries.NEXT_PAGE[collection.resource],
                {"first": queries.page_size(collection.resource), "after": cursor},
            )
            following = dig(more.data, path)  # each page query answers in the listing's shape
            if following is None:
                gap = self._gap(collection.kind, more.errors, path, collection.label)
                raise _GapError(gap)
            return page_of(following, collection.label)

        try:
            nodes = await collect(fetch, what=collection.label, identity=lambda n: str(n.get("id")))
        except _GapError as exc:
            return [], exc.gap
        except PagingError as exc:
            return [], Gap(collection.kind, GapReason.CURSOR_LOOP, detail=str(exc))
        except AuthError:
            raise
        except ProviderError as exc:
            return [], Gap(collection.kind, GapReason.FAILED, detail=f"{collection.label} not fully listed: {exc}")
        found = []
        for item in nodes:
            if not item.get("id"):
                return [], Gap(collection.kind, GapReason.FAILED, detail=f"{collection.label}: an entry without an id")
            binding = mapping.binding_of(
                collection, item, account=self.account, own_app=self.own_app, own_services=self.own_services
            )
            if binding is not None:
                found.append(binding)
        return found, None

    # -- rights ------------------------------------------------------------------------------

    async def _installation(self) -> Mapping[str, Any] | None:
        answer = await self._graphql(queries.INSTALLATION, {})
        installation = answer.data.get("currentAppInstallation")
        return installation if isinstance(installation, Mapping) else None

    async def granted(self) -> frozenset[str] | None:
        """The token's access scopes: those the listing read, or one small query."""
        if self._scopes is None:
            installation = await self._installation()
            if installation is None:
                return None
            app = mapping.app_binding(installation, account=self.account)
            self._own_app = app.name
            self._scopes = list(app.raw["accessScopes"])
        return implied_scopes(self._scopes)

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        rights: list[str] = []
        if binding.resource in CANCEL_RIGHTS:
            rights.append(CANCEL_RIGHTS[binding.resource])
        for dataset in datasets:
            right = DATASETS.get(dataset)
            if right and right not in rights:
                rights.append(right)
        return tuple(rights)

    def runbook(self, binding: LiveBinding) -> Runbook:
        """The real way to end what this token cannot cancel: uninstall the owning app."""
        return mapping.runbook(binding, self.shop)

    # -- backup ------------------------------------------------------------------------------

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        if dataset not in DATASETS:
            raise ProviderError(
                f"shopify cannot export {dataset!r}; it can export: {', '.join(sorted(DATASETS))}"
            )

        async def fetch(cursor: str | None) -> Page[Mapping[str, Any]]:
            answer = await self._graphql(
                queries.ORDERS, {"first": queries.NEXT_PAGE_SIZE, "after": cursor}
            )
            node = answer.data.get("orders")
            if node is None:
                denied = next((e for e in answer.errors if e.code == "ACCESS_DENIED"), None)
                if denied is not None:
                    raise AuthError(
                        f"{self.shop} refused to export orders for {self.account}: {denied.message}",
                        status=403,
                    )
                raise ProviderError(
                    f"{self.shop}: orders not exported: {'; '.join(e.message for e in answer.errors) or 'no data'}"
                )
            return page_of(node, "orders")

        async for record in paginate(fetch, what="orders", identity=lambda n: str(n.get("id"))):
            yield record

    # -- cancel and verify -------------------------------------------------------------------

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if request.side != "platform":
            raise ProviderError(f"shopify cancels only on the platform side, not {request.side!r}")
        if not binding.cancellable:
            # Shopify would refuse it to this token: never sent (SPEC invariant 10).
            return CancelOutcome(
                CancelStatus.MANUAL,
                f"{binding.app or 'another app'} created it; this token cannot delete it",
                runbook=self.runbook(binding),
            )
        mutation = MUTATIONS.get(binding.resource)
        if mutation is None:
            raise ProviderError(f"{self.account}: shopify does not manage {binding.resource!r} bindings")
        variables: dict[str, Any] = {}
        if binding.resource != APP_RESOURCE:
            variables["id"] = mapping.gid(mapping.typename_of(binding.resource), str(binding.raw.get("id") or binding.id))
        try:
            answer = await self._graphql(
                mutation.document,
                variables,
                change=True,
                audit={"idempotency_key": request.idempotency_key, "live_id": binding.id, "mutation": mutation.payload},
            )
        except AuthError as exc:
            if binding.resource == APP_RESOURCE and exc.status == 401:
                return CancelOutcome(CancelStatus.ALREADY_GONE, "the app is already uninstalled (its token is refused)")
            raise
        return self._outcome(binding, mutation, answer)

    def _outcome(self, binding: LiveBinding, mutation: queries.Mutation, answer: Answer) -> CancelOutcome:
        payload = answer.data.get(mutation.payload)
        if not isinstance(payload, Mapping):
            denied = next((e for e in answer.errors if e.code == "ACCESS_DENIED"), None)
            if denied is not None:
                raise AuthError(
                    f"{self.shop} refused {mutation.payload} for {self.account}: {denied.message}",
                    status=403,
                    request_id=answer.request_id,
                )
            text = "; ".join(e.message for e in answer.errors) or "no payload in the answer"
            if is_gone(text):
                return CancelOutcome(CancelStatus.ALREADY_GONE, f"already gone: {text}", answer.request_id)
            raise ProviderError(f"{self.shop}: {mutation.payload} failed for {binding.id}: {text}",
                                request_id=answer.request_id)
        user_errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if user_errors:
            text = "; ".join(str(e.get("message") or "") for e in user_errors)
            if any(is_gone(str(e.get("message") or "")) or e.get("code") == "NOT_FOUND" for e in user_errors):
                return CancelOutcome(CancelStatus.ALREADY_GONE, f"already gone: {text}", answer.request_id)
            raise ProviderError(
                f"{self.shop} refused {mutation.payload} of {binding.resource} {binding.id}: {text}",
                request_id=answer.request_id,
            )
        if not payload.get(mutation.done_field):
            raise ProviderError(
                f"{self.shop}: {mutation.payload} answered without {mutation.done_field} and without errors",
                request_id=answer.request_id,
            )
        what = {
            "webhook_subscriptions": "webhook subscription deleted",
            "carrier_services": "carrier service deleted",
            "fulfillment_services": "fulfillment service deleted",
            "app_subscriptions": "app subscription cancelled",
            APP_RESOURCE: "app uninstalled",
        }[binding.resource]
        return CancelOutcome(CancelStatus.DONE, what, answer.request_id)

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        if binding.resource == APP_RESOURCE:
            try:
                installation = await self._installation()
            except AuthError as exc:
                if exc.status == 401:
                    return None  # an uninstalled app's token is refused
                raise
            return None if installation is None else mapping.app_binding(installation, account=self.account)
        collection = queries.BY_RESOURCE.get(binding.resource)
        if collection is None:
            raise ProviderError(f"{self.account}: shopify does not manage {binding.resource!r} bindings")
        ident = mapping.gid(collection.typename, str(binding.raw.get("id") or binding.id))
        answer = await self._graphql(queries.NODE[collection.resource], {"id": ident})
        node = answer.data.get("node")
        if node is None:
            if answer.errors and not all(is_gone(e.message) for e in answer.errors):
                raise ProviderError(
                    f"{self.shop}: {binding.resource} {binding.id} not read back: "
                    + "; ".join(e.message for e in answer.errors)
                )
            return None
        if not isinstance(node, Mapping) or node.get("__typename") != collection.typename:
            raise ProviderError(f"{self.shop}: {binding.resource} {binding.id} read back as something else")
        # The object as the listing gives it (the same fields), so its fingerprint compares.
        node = {key: value for key, value in node.items() if key != "__typename"}
        own = self._own_app or (binding.app if binding.kind in (Kind.WEBHOOK, Kind.SUBSCRIPTION) else None)
        return mapping.binding_of(
            collection, node, account=self.account, own_app=own or "this app", own_services=self.own_services
        )

    async def aclose(self) -> None:
        """The HTTP pool belongs to the run's HttpFactory, which closes it."""
        return None


class _GapError(Exception):
    def __init__(self, gap: Gap) -> None:
        super().__init__(gap.detail)
        self.gap = gap


def _merge_gaps(gaps: list[Gap]) -> list[Gap]:
    """One gap per kind and reason (carrier and fulfillment services are both ``carrier``)."""
    seen: dict[tuple[Kind | None, GapReason], Gap] = {}
    for gap in gaps:
        key = (gap.kind, gap.reason)
        if key not in seen:
            seen[key] = gap
        else:
            earlier = seen[key]
            seen[key] = Gap(gap.kind, gap.reason, {**earlier.params, **gap.params}, f"{earlier.detail}; {gap.detail}")
    return list(seen.values())


def shop_host(shop: Any) -> str | None:
    """``demo-shop`` or ``demo-shop.myshopify.com`` -> ``demo-shop.myshopify.com``; None if not one."""
    if shop is None or shop == "":
        return None
    text = str(shop).strip().lower()
    if _HANDLE.match(text):
        text += ".myshopify.com"
    return text if _SHOP.match(text) else None
