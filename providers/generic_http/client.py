"""``provider: http``: any vendor with a REST back office, described in the account's options.

The long tail of logistics and ERP vendors each expose some list endpoint of "shop integrations"
or "connections" and some way to remove one. Rather than one package per vendor, the account's
``options`` say where the collection is, how it pages, which fields are the id, name and status,
how to cancel one and how a cancelled one looks (see docs/http-provider.md and ``options.py``).

Rights: a generic REST vendor publishes no scope model, so nothing can be said about what a
credential may do before it tries. ``granted()`` returns ``{"*"}`` once a list call with the
credential succeeded (and nothing when the vendor refuses the credential), and ``required()``
returns ``()``: the plan shows no right to check, and a cancel the credential may not make fails
at apply with the vendor's own message.

Sides: the binding lives in the vendor's back office, so this provider cancels on the
``provider`` side only.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar

import httpx

from providers.generic_http.options import (
    Endpoint,
    Resource,
    VendorOptions,
    dataset_names,
    kinds,
    parse_options,
)
from providers.generic_http.paging import PagingError, walk
from providers.generic_http.templates import MISSING, MissingValue, dotted, render_path, render_value
from providers.http import ApiClient, TokenBucket, json_body
from providers.manual.runbook import runbook_for
from providers.sdk import (
    Authority,
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    ProviderContext,
    Runbook,
    listing_gap,
)
from providers.sdk.errors import AuthError, ConfigError, ProviderError
from providers.sdk.model import Account, CancelAt, Gap, GapReason, Kind, Listing, LiveBinding

AUTHORITY = tuple(
    Authority(
        resource="(options.resources)",
        kind=kind,
        who_sees="what the vendor's list endpoint returns to this credential, as the account's "
        "options describe it; the vendor's own documentation says whose that is",
        who_cancels="the vendor's cancel endpoint in the options, for this credential",
        otherwise="the runbook in the options (navigation, contact): the vendor's back office",
        source="docs/http-provider.md",
    )
    for kind in Kind
)

SIDES = ("provider",)
_ERROR_LIMIT = 300


def _first_text(value: Any) -> str | None:
    """A vendor's message out of a string, ``{"message": ...}``, or a list of either."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping):
        for key in ("message", "detail", "description", "title"):
            found = _first_text(value.get(key))
            if found:
                return found
        parts = []
        for key, inner in value.items():
            text = _first_text(inner)
            if text:
                parts.append(f"{key}: {text}")
        return "; ".join(parts) or None
    if isinstance(value, list) and value:
        return _first_text(value[0])
    return None


def describe_error(response: httpx.Response) -> str:
    """The vendor's own message: ``message``, ``error``, ``errors[0].message``, else the text."""
    text: str | None = None
    try:
        body = json_body(response)
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        text = _first_text(body.get("message"))
        if text is None and "error" in body:
            text = _first_text(body["error"])
            description = _first_text(body.get("error_description"))
            if text and description:
                text = f"{text}: {description}"
        if text is None and "errors" in body:
            text = _first_text(body["errors"])
    elif isinstance(body, str):
        text = body
    if text is None:
        text = response.text.strip() or response.reason_phrase or f"HTTP {response.status_code}"
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 1] + "…"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class HttpVendorProvider:
    """A REST vendor described by options; see the module docstring for rights and sides."""

    name: ClassVar[str] = "http"
    # The class-level view covers every kind; each instance narrows it to its configured resources.
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset(Kind), sides=SIDES, verify=True, cancel_at=frozenset({CancelAt.NOW}), authority=AUTHORITY
    )

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """The endpoint's own host: an http vendor has no official host but the one configured,
        which the first apply pins in the state (a later change needs an outside allowance)."""
        host = httpx.URL(account.endpoint).host if account.endpoint else ""
        return (host,) if host else ()

    def runbook(self, binding: LiveBinding) -> Runbook:
        outcome = self._runbook_outcome(self._resource(binding), binding, "")
        assert outcome.runbook is not None
        return outcome.runbook

    def __init__(self, ctx: ProviderContext, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx = ctx
        self._clock = clock
        self.account = ctx.account.name
        names = set(ctx.credentials) | set(ctx.account.credentials)
        self.options: VendorOptions = parse_options(ctx.account, names)
        self.capabilities = Capabilities(  # type: ignore[misc]
            kinds=kinds(self.options),
            datasets=dataset_names(self.options),
            sides=SIDES,
            verify=True,
            cancel_at=frozenset({CancelAt.NOW}),
            authority=AUTHORITY,
        )
        self._api: ApiClient | None = None
        self._auth_params: dict[str, str] = {}
        self._granted: frozenset[str] | None = None

    @classmethod
    def validate_account(cls, account: Account) -> None:
        """Check an account's endpoint and options offline (``tether validate``); ConfigError if bad."""
        parse_options(account, set(account.credentials))

    # -- plumbing ---------------------------------------------------------------------------

    def _fill(self, template: str, where: str) -> str:
        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in self._ctx.credentials or not self._ctx.credentials[key]:
                raise ConfigError(
                    f"accounts.{self.account}.credentials.{key}: not set, but options.{where} needs it"
                )
            return self._ctx.credentials[key]

        return re.sub(r"\{([^{}]*)\}", value, template)

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            headers = dict(self.options.headers)
            secrets = [v for v in self._ctx.credentials.values() if v]
            for index, auth in enumerate(self.options.auth):
                where = f"auth[{index}]" if len(self.options.auth) > 1 else "auth"
                if auth.basic is not None:
                    pair = self._fill(auth.basic, where)
                    token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
                    secrets.append(token)
                    headers["Authorization"] = f"Basic {token}"
                elif auth.header:
                    headers[auth.header] = self._fill(auth.format, where)
                elif auth.query:
                    self._auth_params[auth.query] = self._fill(auth.format, where)
            limiter = None
            if self.options.rate is not None:
                limiter = TokenBucket(
                    self.options.rate,
                    self.options.burst or 1.0,
                    clock=self._clock,
                    sleep=self._ctx.http.sleep,
                )
            self._api = self._ctx.http.client(
                self._ctx.account.endpoint or "",  # parse_options refused an account without one
                provider=self.name,
                account=self.account,
                headers=headers,
                secrets=secrets,
                limiter=limiter,
                describe_error=describe_error,
                request_id_header=self.options.request_id_header,
            )
        return self._api

    def _fetcher(self, operation: str) -> Any:
        api = self.api

        async def fetch(target: str, params: Any) -> httpx.Response:
            query = httpx.QueryParams(params).merge(self._auth_params)
            return await api.request("GET", target, operation=operation, params=query)

        return fetch

    def _resource(self, binding: LiveBinding) -> Resource:
        resource = self.options.resource(binding.resource)
        if resource is None:
            known = ", ".join(r.name for r in self.options.resources)
            raise ProviderError(
                f"http {self.account}: binding {binding.id} came from resource {binding.resource!r}, "
                f"which options.resources no longer defines (defined: {known})"
            )
        return resource

    def _binding(self, resource: Resource, item: Mapping[str, Any], binding_id: str) -> LiveBinding:
        fields = resource.fields
        name = dotted(item, fields.name) if fields.name else MISSING
        status = dotted(item, fields.status) if fields.status else MISSING
        pending = dotted(item, fields.pending_cancel) if fields.pending_cancel else MISSING
        return LiveBinding(
            account=self.account,
            provider=self.name,
            kind=resource.kind,
            id=binding_id,
            name=binding_id if name is MISSING or name is None else _as_text(name),
            status="active" if status is MISSING or status is None else _as_text(status),
            resource=resource.name,
            raw=item,
            pending_cancel=pending is not MISSING and bool(pending),
            sides=SIDES,
        )

    def _auth_failure(self, exc: AuthError) -> AuthError:
        return AuthError(
            f"{exc} (check accounts.{self.account}.credentials and options.auth)",
            status=exc.status,
            request_id=exc.request_id,
        )

    def _items(self, endpoint: Endpoint, operation: str, path: str, params: Mapping[str, Any]) -> AsyncIterator[Any]:
        return walk(self._fetcher(operation), endpoint, path=path, params=params, base_url=self.api.base_url)

    # -- listing ----------------------------------------------------------------------------

    async def _list_resource(self, resource: Resource, found: list[LiveBinding], gaps: list[Gap]) -> None:
        """Append one resource's live bindings; a resource that cannot be listed in full becomes
        a gap of its kind (refused, failed, or a paging loop), and the other resources go on."""
        seen: set[str] = set()
        without_id = 0
        where = f"{resource.name} (GET {resource.list.path})"
        try:
            async for item in self._items(resource.list, f"list:{resource.name}", resource.list.path, resource.list.params):
                self._granted = frozenset({"*"})
                raw_id = dotted(item, resource.fields.id) if isinstance(item, Mapping) else MISSING
                if raw_id is MISSING or raw_id is None or isinstance(raw_id, (Mapping, list)):
                    without_id += 1
                    continue
                binding_id = _as_text(raw_id)
                if binding_id in seen:
                    raise PagingError(
                        f"id {binding_id} came back more than once across pages; the vendor's paging "
                        "shifted while it was read"
                    )
                seen.add(binding_id)
                if not resource.gone.matches(item):
                    found.append(self._binding(resource, item, binding_id))
        except ProviderError as exc:
            if isinstance(exc, AuthError) and exc.status != 403:
                raise self._auth_failure(exc) from None
            partial = "" if isinstance(exc, (AuthError, PagingError)) else "; the listing is partial"
            # A generic vendor publishes no scope names: the right is the call itself.
            gaps.append(listing_gap(resource.kind, exc, f"{where}: {exc}{partial}", right=f"GET {resource.list.path}"))
            return
        if without_id:
            gaps.append(
                Gap(
                    resource.kind,
                    GapReason.FAILED,
                    detail=f"{resource.name}: {without_id} item(s) without an id at {resource.fields.id!r} "
                    "(fields.id); they could not be listed",
                )
            )

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        found: list[LiveBinding] = []
        gaps: list[Gap] = []
        for resource in self.options.resources:
            if resource.kind in kinds:
                await self._list_resource(resource, found, gaps)
        return Listing(
            account=self.account,
            provider=self.name,
            bindings=tuple(found),
            gaps=tuple(gaps),
            granted=self._granted,
        )

    # -- rights -----------------------------------------------------------------------------

    async def granted(self) -> frozenset[str]:
        if self._granted is not None:
            return self._granted
        resource = self.options.resources[0]
        try:
            await self._fetcher(f"list:{resource.name}")(resource.list.path, resource.list.params)
        except AuthError:
            return frozenset()
        self._granted = frozenset({"*"})
        return self._granted

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        return ()

    # -- backup -----------------------------------------------------------------------------

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        resource = self._resource(binding)
        endpoint = resource.datasets.get(dataset)
        if endpoint is None:
            known = ", ".join(sorted(resource.datasets)) or "none"
            raise ProviderError(
                f"http {self.account}: resource {resource.name} has no dataset {dataset!r} "
                f"(options.resources[].datasets defines: {known})"
            )
        try:
            path = render_path(endpoint.path, binding.id, binding.raw)
            params = render_value(endpoint.params, binding.id, binding.raw)
        except MissingValue as exc:
            raise ProviderError(f"http {self.account}: dataset {dataset}: {exc}") from None
        async for item in self._items(endpoint, f"export:{dataset}", path, params):
            yield item

    # -- cancel and verify ------------------------------------------------------------------

    def _runbook_outcome(self, resource: Resource, binding: LiveBinding, detail: str) -> CancelOutcome:
        steps = []
        for step in resource.navigation:
            try:
                steps.append(str(render_value(step, binding.id, binding.raw)))
            except MissingValue:
                steps.append(step)
        runbook = runbook_for(
            binding,
            self.options.vendor,
            resource.contact or self.options.contact,
            navigation=steps,
        )
        return CancelOutcome(CancelStatus.MANUAL, detail=detail, runbook=runbook)

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        resource = self._resource(binding)
        if request.side not in SIDES:
            raise ProviderError(
                f"http {self.account}: cannot cancel on side {request.side!r}; "
                f"this provider cancels on: {', '.join(SIDES)}"
            )
        spec = resource.cancel
        if spec is None:
            return self._runbook_outcome(
                resource, binding, f"resource {resource.name} has no cancel endpoint in the options; follow the runbook"
            )
        try:
            path = render_path(spec.path, binding.id, binding.raw)
            params = render_value(spec.params, binding.id, binding.raw)
            body = render_value(spec.body, binding.id, binding.raw) if spec.body is not None else None
        except MissingValue as exc:
            raise ProviderError(f"http {self.account}: cancel: {exc}") from None
        headers: dict[str, str] = {}
        if spec.idempotency_header:
            headers[spec.idempotency_header] = request.idempotency_key
        accept = set(spec.ok) | set(resource.gone.status) | set(spec.blocked) | set(spec.manual)
        # A lost answer (ResponseLostError) propagates: apply settles it by reading back.
        response = await self.api.request(
            spec.method,
            path,
            operation=f"cancel:{resource.name}",
            params={**params, **self._auth_params},
            json=body,
            headers=headers,
            idempotent=True if spec.idempotency_header else None,
            accept=accept,
            audit={"idempotency_key": request.idempotency_key, "live_id": binding.id},
        )
        status = response.status_code
        request_id = response.headers.get(self.options.request_id_header)
        if status in spec.ok or (not spec.ok and 200 <= status < 300):
            return CancelOutcome(CancelStatus.DONE, detail=f"{spec.method} answered {status}", request_id=request_id)
        if status in resource.gone.status:
            return CancelOutcome(CancelStatus.ALREADY_GONE, detail=f"the vendor answered {status}", request_id=request_id)
        if status in spec.blocked:
            return CancelOutcome(CancelStatus.BLOCKED, detail=describe_error(response), request_id=request_id)
        if status in spec.manual:
            outcome = self._runbook_outcome(resource, binding, describe_error(response))
            return CancelOutcome(outcome.status, outcome.detail, request_id, outcome.runbook)
        raise ProviderError(
            f"http {self.account}: {spec.method} {path} answered {status}, which cancel.ok "
            f"({', '.join(map(str, spec.ok))}) does not list: {describe_error(response)}",
            status=status,
            request_id=request_id,
        )

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        resource = self._resource(binding)
        if resource.get is None:
            return await self._find_in_list(resource, binding.id)
        spec = resource.get
        try:
            path = render_path(spec.path, binding.id, binding.raw)
            params = render_value(spec.params, binding.id, binding.raw)
        except MissingValue as exc:
            raise ProviderError(f"http {self.account}: get: {exc}") from None
        try:
            response = await self.api.request(
                "GET",
                path,
                operation=f"get:{resource.name}",
                params={**params, **self._auth_params},
                accept=resource.gone.status,
            )
        except AuthError as exc:
            raise self._auth_failure(exc) from None
        if response.status_code in resource.gone.status:
            return None
        try:
            body = json_body(response)
        except ValueError:
            raise ProviderError(f"http {self.account}: GET {path} did not answer JSON") from None
        item = dotted(body, spec.item) if spec.item else body
        if not isinstance(item, Mapping):
            raise ProviderError(
                f"http {self.account}: GET {path} has no object at {spec.item or 'the top level'} (check get.item)"
            )
        if resource.gone.matches(item):
            return None
        return self._binding(resource, item, binding.id)

    async def _find_in_list(self, resource: Resource, binding_id: str) -> LiveBinding | None:
        """Without a ``get`` endpoint, read the whole list; only a complete one proves absence."""
        try:
            async for item in self._items(resource.list, f"list:{resource.name}", resource.list.path, resource.list.params):
                raw_id = dotted(item, resource.fields.id) if isinstance(item, Mapping) else MISSING
                if raw_id is not MISSING and raw_id is not None and _as_text(raw_id) == binding_id:
                    return None if resource.gone.matches(item) else self._binding(resource, item, binding_id)
        except AuthError as exc:
            raise self._auth_failure(exc) from None
        except PagingError as exc:
            raise ProviderError(f"http {self.account}: cannot tell whether {binding_id} is gone: {exc}") from None
        return None

    async def aclose(self) -> None:
        """The HTTP pools belong to the shared factory, which closes them."""
        return None


__all__ = ["HttpVendorProvider", "describe_error"]
