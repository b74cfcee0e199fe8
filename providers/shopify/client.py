"""The Shopify provider: a shop's integrations through the Admin REST API (2024-01).

Kinds and where they come from:

- ``carrier``: carrier services (``carrier_services.json``, one unpaginated list) and the app's
  fulfillment services (``fulfillment_services.json?scope=current_client``);
- ``webhook``: the app's webhook subscriptions (``webhooks.json``, Link-header pages);
- ``subscription``: recurring application charges that still bind the shop (cancelled, declined
  and expired ones are history and are left out);
- ``app``: the installation itself, one binding ``api_permissions/current`` whose raw object is
  the token's access scopes. Cancelling it uninstalls the app, which kills the token at once, so
  the engine orders it after everything else the app owns.

Rights: ``granted()`` is the token's access scopes, plus ``read_X`` for every ``write_X``
(Shopify grants read access with write access to the same resource). Deleting carrier services
needs ``write_shipping``, fulfillment services ``write_fulfillments``; an app may always delete
its own webhooks and charges and uninstall itself. Backups of ``orders`` and ``products`` need
``read_orders`` and ``read_products``.

Charges end immediately when deleted; Shopify has no period-end cancel, so ``cancel_at`` is
ignored and every cancel reports DONE.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from providers.http import ResponseLost, json_body
from providers.sdk import (
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    ProviderContext,
)
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import CancelAt, Gap, GapReason, Kind, Listing, LiveBinding
from providers.shopify import DEFAULT_API_VERSION, ENDED_CHARGE_STATUSES, TOKEN_HEADER
from providers.shopify.limiter import bucket_for

_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([A-Za-z]+)"?')
PAGE_SIZE = 250
APP_RESOURCE = "api_permissions"
APP_ID = "current"


@dataclass(frozen=True)
class Resource:
    """One collection tether manages: where it lives and how its objects become bindings."""

    name: str  # the API collection, also LiveBinding.resource
    singular: str
    kind: Kind
    label: str  # for messages
    query: tuple[tuple[str, str], ...] = ()
    paginated: bool = False
    cancel_right: str | None = None


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource("carrier_services", "carrier_service", Kind.CARRIER, "carrier services",
                 cancel_right="write_shipping"),
        Resource("fulfillment_services", "fulfillment_service", Kind.CARRIER, "fulfillment services",
                 query=(("scope", "current_client"),), cancel_right="write_fulfillments"),
        Resource("webhooks", "webhook", Kind.WEBHOOK, "webhooks",
                 query=(("limit", str(PAGE_SIZE)),), paginated=True),
        Resource("recurring_application_charges", "recurring_application_charge", Kind.SUBSCRIPTION,
                 "recurring application charges"),
    )
}

DATASETS: dict[str, tuple[str, tuple[tuple[str, str], ...], str]] = {
    # dataset -> (collection, first-page query, right needed)
    "orders": ("orders", (("status", "any"), ("limit", str(PAGE_SIZE))), "read_orders"),
    "products": ("products", (("limit", str(PAGE_SIZE)),), "read_products"),
}


class PaginationError(ProviderError):
    """The server's pages cannot be trusted to be complete (a cursor looped, a foreign link)."""


def describe_error(response: httpx.Response) -> str:
    """Shopify's ``{"errors": "..."}`` or ``{"errors": {"field": ["..."]}}`` as one line."""
    try:
        body = json_body(response)
    except ValueError:
        text = " ".join(response.text.split())
        return text[:200] or f"HTTP {response.status_code}"
    errors: Any = body.get("errors", body.get("error")) if isinstance(body, dict) else body
    if isinstance(errors, dict):
        parts = []
        for field, messages in errors.items():
            items = messages if isinstance(messages, list) else [messages]
            for message in items:
                parts.append(str(message) if field == "base" else f"{field} {message}")
        text = "; ".join(parts)
    elif isinstance(errors, list):
        text = "; ".join(str(e) for e in errors)
    elif errors is None:
        text = response.text
    else:
        text = str(errors)
    return " ".join(text.split())[:300] or f"HTTP {response.status_code}"


def quote_id(ident: str) -> str:
    """An id as one path segment: every reserved character escaped, dots too, so an id can
    never climb out of its collection (``../``) or become a dot segment a client would fold."""
    return quote(str(ident), safe="").replace(".", "%2E")


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for url, rel in _LINK.findall(header):
        if rel.lower() == "next":
            return url
    return None


def implied_scopes(handles: Collection[str]) -> frozenset[str]:
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
        cancel_at=frozenset({CancelAt.NOW}),
    )
    # granted() reads the token's scopes, whatever list_bindings saw: a refresh may ask both at
    # once (engine.refresh), which saves a round trip per shop.
    granted_independent: ClassVar[bool] = True

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.monotonic) -> None:
        account = ctx.account
        self.account = account.name
        options: Mapping[str, Any] = account.options or {}
        self.shop = self._shop_host(options.get("shop"), account.endpoint is not None)
        version = str(options.get("api_version") or DEFAULT_API_VERSION)
        if not _VERSION.match(version):
            raise ConfigError(
                f"account {self.account}: options.api_version {version!r} is not a Shopify API "
                'version such as "2024-01"'
            )
        self.api_version = version
        self.app_name = str(options.get("app_name") or "this app")
        token = ctx.credentials.get("access_token")
        if not token:
            raise ConfigError(
                f"account {self.account}: credentials.access_token is required for provider shopify"
            )
        base = (account.endpoint or f"https://{self.shop}").rstrip("/")
        self._base = base
        self._api = ctx.http.client(
            base,
            provider=self.name,
            account=self.account,
            headers={TOKEN_HEADER: token, "Accept": "application/json"},
            secrets=[token],
            limiter=bucket_for(ctx.http, base, clock=clock),
            describe_error=describe_error,
            request_id_header="x-request-id",
        )

    def _shop_host(self, shop: Any, has_endpoint: bool) -> str:
        if shop is None or shop == "":
            if has_endpoint:
                return "shop"
            raise ConfigError(
                f"account {self.account}: options.shop is required (e.g. demo-shop.myshopify.com)"
            )
        text = str(shop).strip().lower()
        if _HANDLE.match(text):
            text += ".myshopify.com"
        if not _SHOP.match(text):
            raise ConfigError(
                f"account {self.account}: options.shop {shop!r} is not a shop domain such as "
                "demo-shop.myshopify.com"
            )
        return text

    def _path(self, tail: str) -> str:
        return f"/admin/api/{self.api_version}/{tail}"

    # -- HTTP --------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Any = None,
        accept: Collection[int] = (),
        idempotent: bool | None = None,
        audit: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        response = await self._api.request(
            method,
            path,
            operation=operation,
            params=params,
            accept={*accept, 401, 403},
            idempotent=idempotent,
            audit=audit,
        )
        status = response.status_code
        if status in (401, 403) and status not in accept:
            request_id = response.headers.get("x-request-id")
            if status == 401:
                raise AuthError(
                    f"the access token for {self.account} was refused by {self.shop} (401): "
                    "check credentials.access_token; an uninstalled app's token stops working",
                    status=401,
                    request_id=request_id,
                )
            raise AuthError(
                f"{self.shop} refused {method} {operation or path} for {self.account} (403): "
                f"{describe_error(response)}",
                status=403,
                request_id=request_id,
            )
        return response

    @staticmethod
    def _body(response: httpx.Response, key: str) -> Any:
        try:
            body = json_body(response)
        except ValueError:
            raise ProviderError(
                f"{response.request.method} {response.request.url.path} answered {response.status_code} "
                "with a body that is not JSON",
                status=response.status_code,
            ) from None
        if not isinstance(body, dict) or key not in body:
            raise ProviderError(
                f"{response.request.method} {response.request.url.path} answered without {key!r}",
                status=response.status_code,
            )
        return body[key]

    async def _pages(
        self, collection: str, query: tuple[tuple[str, str], ...], *, operation: str
    ) -> AsyncIterator[list[Any]]:
        """Every page of a Link-paginated list; the next URL must stay on this shop."""
        url: str = self._path(f"{collection}.json")
        params: Any = list(query)
        seen: set[str] = set()
        while True:
            response = await self._call("GET", url, operation=operation, params=params)
            items = self._body(response, collection)
            if not isinstance(items, list):
                raise ProviderError(f"{collection}: the list is not a JSON array")
            yield items
            following = _next_link(response.headers.get("link"))
            if following is None:
                return
            if not following.startswith(self._base + "/"):
                raise PaginationError(
                    f"{collection}: the next page link leaves {self._base}; not followed"
                )
            cursor = parse_qs(urlsplit(following).query).get("page_info", [""])[0]
            if not cursor or cursor in seen:
                raise PaginationError(f"{collection}: the page cursor repeated; the listing may be incomplete")
            seen.add(cursor)
            url, params = following, None

    # -- listing -----------------------------------------------------------------------------

    def _binding(self, resource: Resource, obj: Mapping[str, Any]) -> LiveBinding:
        return self._binding_maker(resource)(obj, str(obj.get("id")))

    def _binding_maker(self, resource: Resource) -> Callable[[Mapping[str, Any], str], LiveBinding]:
        """``(object, id) -> LiveBinding`` for one collection, with what depends only on the
        collection decided once: a listing turns up to 250 objects a page into bindings."""
        name_field = "topic" if resource.name == "webhooks" else "name"
        status_of: Callable[[Mapping[str, Any]], str]
        if resource.name == "carrier_services":
            status_of = lambda obj: "active" if obj.get("active") else "inactive"  # noqa: E731
        elif resource.name == "recurring_application_charges":
            status_of = lambda obj: str(obj.get("status") or "")  # noqa: E731
        else:
            status_of = lambda obj: "active"  # noqa: E731
        account, provider, kind, name = self.account, self.name, resource.kind, resource.name

        def make(obj: Mapping[str, Any], ident: str) -> LiveBinding:
            # Positional, in LiveBinding's field order: a third cheaper than keywords, per binding.
            return LiveBinding(account, provider, kind, ident, str(obj.get(name_field) or ""), status_of(obj), name, obj)

        return make

    def _app_binding(self, handles: list[str]) -> LiveBinding:
        return LiveBinding(
            account=self.account,
            provider=self.name,
            kind=Kind.APP,
            id=APP_ID,
            name=self.app_name,
            status="active",
            resource=APP_RESOURCE,
            raw={"access_scopes": list(handles)},
        )

    async def _scopes(self, *, accept: Collection[int] = ()) -> list[str] | None:
        response = await self._call(
            "GET", "/admin/oauth/access_scopes.json", operation="access_scopes", accept=accept
        )
        if response.status_code in accept and not 200 <= response.status_code < 300:
            return None
        scopes = self._body(response, "access_scopes")
        if not isinstance(scopes, list):
            raise ProviderError("access_scopes: the list is not a JSON array")
        return [str(s.get("handle")) for s in scopes if isinstance(s, dict) and s.get("handle")]

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        """Every collection at once: they are independent, so the refresh of a shop takes as
        long as its longest chain of pages, not the sum of its requests. Bindings and problems
        keep the collections' order whatever order the answers came in."""
        wanted = [r for r in RESOURCES.values() if r.kind in kinds]
        # Paginated collections have the longest chains: their first page goes first.
        started = sorted(wanted, key=lambda r: not r.paginated)
        calls: list[Awaitable[Any]] = [self._list_resource(r) for r in started]
        if Kind.APP in kinds:
            calls.append(self._scopes())
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        by_resource = dict(zip((r.name for r in started), outcomes))
        ordered: list[Any] = [by_resource[r.name] for r in wanted]
        scopes_outcome: Any = outcomes[-1] if Kind.APP in kinds else None
        for outcome in [*ordered, scopes_outcome]:
            if isinstance(outcome, AuthError):
                raise outcome  # the first in the collections' order, as a sequential listing would
        for outcome in [*ordered, scopes_outcome]:
            if isinstance(outcome, BaseException) and not isinstance(outcome, ProviderError):
                raise outcome
        bindings: list[LiveBinding] = []
        problems: list[str] = []
        for found, trouble in ordered:
            bindings.extend(found)
            problems.extend(trouble)
        granted: frozenset[str] | None = None
        if Kind.APP in kinds:
            if isinstance(scopes_outcome, ProviderError):
                problems.append(f"app installation not read: {scopes_outcome}")
            else:
                handles = scopes_outcome or []
                granted = implied_scopes(handles)
                bindings.append(self._app_binding(handles))
        return Listing(
            account=self.account,
            provider=self.name,
            bindings=tuple(bindings),
            gaps=tuple(Gap(kind=None, reason=GapReason.FAILED, detail=p) for p in problems),
            granted=granted,
        )

    async def _list_resource(self, resource: Resource) -> tuple[list[LiveBinding], list[str]]:
        """One collection, all pages: its bindings and what went wrong (AuthError propagates)."""
        bindings: list[LiveBinding] = []
        problems: list[str] = []
        seen: set[str] = set()
        try:
            if resource.paginated:
                pages = self._pages(resource.name, resource.query, operation=resource.name)
                async for page in pages:
                    if self._collect(resource, page, seen, bindings, problems) == 0 and page:
                        # Fresh cursors over old ids would page forever: stop here.
                        raise PaginationError(f"{resource.name}: a page held only ids already seen")
            else:
                response = await self._call(
                    "GET",
                    self._path(f"{resource.name}.json"),
                    operation=resource.name,
                    params=list(resource.query) or None,
                )
                page = self._body(response, resource.name)
                if not isinstance(page, list):
                    raise ProviderError(f"{resource.name}: the list is not a JSON array")
                self._collect(resource, page, seen, bindings, problems)
        except AuthError:
            raise
        except ProviderError as exc:
            problems.append(f"{resource.label} not fully listed: {exc}")
        return bindings, problems

    def _collect(
        self,
        resource: Resource,
        page: list[Any],
        seen: set[str],
        bindings: list[LiveBinding],
        problems: list[str],
    ) -> int:
        """Add the page's bindings; returns how many ids were new."""
        fresh = 0
        make = self._binding_maker(resource)
        charges = resource.name == "recurring_application_charges"
        for obj in page:
            if not isinstance(obj, dict) or obj.get("id") is None:
                problems.append(f"{resource.label}: an entry without an id was skipped")
                continue
            ident = str(obj["id"])
            if ident in seen:
                problems.append(f"{resource.label}: id {ident} came back twice; the listing may be incomplete")
                continue
            seen.add(ident)
            fresh += 1
            if charges and obj.get("status") in ENDED_CHARGE_STATUSES:
                continue
            bindings.append(make(obj, ident))
        return fresh

    # -- rights ------------------------------------------------------------------------------

    async def granted(self) -> frozenset[str]:
        return implied_scopes(await self._scopes() or [])

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        rights: list[str] = []
        resource = RESOURCES.get(binding.resource)
        if resource is not None and resource.cancel_right:
            rights.append(resource.cancel_right)
        for dataset in datasets:
            if dataset in DATASETS and DATASETS[dataset][2] not in rights:
                rights.append(DATASETS[dataset][2])
        return tuple(rights)

    # -- backup ------------------------------------------------------------------------------

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        if dataset not in DATASETS:
            raise ProviderError(
                f"shopify cannot export {dataset!r}; it can export: {', '.join(sorted(DATASETS))}"
            )
        collection, query, _ = DATASETS[dataset]
        seen: set[Any] = set()
        async for page in self._pages(collection, query, operation=collection):
            for record in page:
                ident = record.get("id") if isinstance(record, dict) else None
                if ident is None:
                    raise ProviderError(f"{dataset}: a record without an id came back; backup stopped")
                if ident in seen:
                    raise PaginationError(f"{dataset}: record {ident} came back twice; backup stopped")
                seen.add(ident)
                yield record

    # -- cancel and verify -------------------------------------------------------------------

    def _object_path(self, binding: LiveBinding) -> str:
        if binding.resource not in RESOURCES:
            raise ProviderError(
                f"{self.account}: shopify does not manage {binding.resource!r} bindings"
            )
        return self._path(f"{binding.resource}/{quote_id(binding.id)}.json")

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if request.side != "platform":
            raise ProviderError(f"shopify cancels only on the platform side, not {request.side!r}")
        first = await self._delete(request)
        if isinstance(first, CancelOutcome):
            return first
        why = f"the cancel answered {first.status}"
        if await self.fetch(binding) is None:
            return CancelOutcome(CancelStatus.DONE, f"{why}; reading it back shows it is gone")
        # The 5xx came with a response and the binding is still live, so that DELETE changed
        # nothing: sending it once more cannot cancel anything twice. Deleting one object by id
        # is idempotent in effect (if it is gone by now, the answer is a 404), and the resend is
        # again idempotent=False, so a lost response to it is still settled by reading back.
        second = await self._delete(request, after=first)
        if isinstance(second, CancelOutcome):
            return second
        return await self._settle(binding, f"{why}, and {second.status} when sent again", second)

    async def _delete(
        self, request: CancelRequest, *, after: ProviderError | None = None
    ) -> CancelOutcome | ProviderError:
        """Send the cancel's DELETE once. Returns the outcome, or the 5xx error it answered
        (the caller decides whether to read back and send again); other errors propagate.
        ``after`` is the 5xx of an earlier DELETE of the same binding, which was still live
        when read back after it."""
        binding = request.binding
        app = binding.resource == APP_RESOURCE
        path = "/admin/api_permissions/current.json" if app else self._object_path(binding)
        accept = (404, 401) if app else (404,)
        try:
            response = await self._call(
                "DELETE",
                path,
                operation="uninstall" if app else binding.resource,
                accept=accept,
                # Not repeated blindly: a lost answer is settled by reading the binding back,
                # so a cancel that did happen is reported DONE, not ALREADY_GONE.
                idempotent=False,
                audit={"idempotency_key": request.idempotency_key, "live_id": binding.id},
            )
        except ResponseLost:
            return await self._settle(binding, "the response to the cancel was lost")
        except AuthError:
            raise
        except ProviderError as exc:
            if exc.status is not None and exc.status >= 500:
                return exc
            raise
        request_id = response.headers.get("x-request-id")
        status = response.status_code
        if after is not None and status in accept:
            # It was live when read back after the first DELETE's 5xx and is gone now: most
            # likely that DELETE took effect late, so tether did cancel it.
            return CancelOutcome(
                CancelStatus.DONE,
                f"the cancel answered {after.status}; it was still there when read back, and the "
                f"DELETE sent again found it gone ({status})",
                request_id,
            )
        if status == 404:
            return CancelOutcome(CancelStatus.ALREADY_GONE, "already deleted (404)", request_id)
        if status == 401:
            return CancelOutcome(
                CancelStatus.ALREADY_GONE, "the app is already uninstalled (its token is refused)", request_id
            )
        if app:
            what = "app uninstalled"
        elif binding.resource == "recurring_application_charges":
            what = "charge cancelled"
        else:
            what = f"{RESOURCES[binding.resource].singular.replace('_', ' ')} deleted"
        if after is not None:
            what += f" (the first DELETE answered {after.status}; sent again)"
        return CancelOutcome(CancelStatus.DONE, what, request_id)

    async def _settle(
        self, binding: LiveBinding, why: str, error: ProviderError | None = None
    ) -> CancelOutcome:
        if await self.fetch(binding) is None:
            return CancelOutcome(CancelStatus.DONE, f"{why}; reading it back shows it is gone")
        raise ProviderError(
            f"{self.account}: {why}, and {binding.resource}/{binding.id} is still there; "
            "run apply again to retry",
            status=error.status if error else None,
        )

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        if binding.resource == APP_RESOURCE:
            handles = await self._scopes(accept=(401,))
            return None if handles is None else self._app_binding(handles)
        resource = RESOURCES.get(binding.resource)
        path = self._object_path(binding)
        assert resource is not None
        response = await self._call("GET", path, operation=binding.resource, accept=(404,))
        if response.status_code == 404:
            return None
        obj = self._body(response, resource.singular)
        if not isinstance(obj, dict):
            raise ProviderError(f"{resource.label}: {binding.id} is not a JSON object")
        if resource.name == "recurring_application_charges" and obj.get("status") in ENDED_CHARGE_STATUSES:
            return None
        return self._binding(resource, obj)

    async def aclose(self) -> None:
        """The HTTP pool belongs to the run's HttpFactory, which closes it."""
        return None
