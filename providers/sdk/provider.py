"""The contract between the engine and a provider: the Provider and Emulator protocols and the
request/response values they exchange.

A provider is created per account (``factory(ProviderContext) -> Provider``) and speaks that
vendor's real API through ``providers.http.ApiClient``. Every method is async because a refresh
across hundreds of accounts runs concurrently. The engine never sees HTTP: it sees ``Listing``,
``LiveBinding``, rights as strings, and cancel outcomes.

An emulator is the other half: a stateful, synchronous ``handle(httpx.Request) -> httpx.Response``
for one provider's API, mounted by ``providers.sandbox`` over real HTTP or in-process through
``httpx.MockTransport``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import httpx

from providers.sdk.model import Account, CancelAt, Kind, Listing, LiveBinding, Runbook

if TYPE_CHECKING:
    from providers.http import HttpFactory


@dataclass(frozen=True)
class Authority:
    """One row of the vendor-truth table (docs/vendors.md, ``tether providers --detail``): for one
    resource, who can list it, who can cancel it by API, and the real way otherwise, with the
    vendor's documentation page that says so."""

    resource: str  # the provider's collection, e.g. "webhook_subscriptions"
    kind: Kind
    who_sees: str  # e.g. "only the app that created them"
    who_cancels: str  # e.g. "that app"
    otherwise: str  # e.g. "uninstall the owning app: Settings > Apps and sales channels"
    source: str  # the vendor documentation URL


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; ``tether providers`` prints this and the planner relies on it."""

    kinds: frozenset[Kind]
    datasets: frozenset[str] = frozenset()  # backup datasets beyond "binding"
    sides: tuple[str, ...] = ("platform",)  # where it can revoke, in the order it revokes
    verify: bool = True  # can re-read a binding after a cancel
    cancel_at: frozenset[CancelAt] = frozenset({CancelAt.NOW})
    manual_only: bool = False  # no API: every cancel is a runbook
    # Resources that must go before others of the same account (a subscription before the
    # destination it delivers to): listed first, cancelled first. Unlisted ones go after.
    cancel_order: tuple[str, ...] = ()
    # Who can see and cancel each resource, as the vendor documents it.
    authority: tuple[Authority, ...] = ()


class CancelStatus(str, Enum):
    DONE = "done"  # the API accepted the cancel
    SCHEDULED = "scheduled"  # ends later (period end); counts as done
    ALREADY_GONE = "already-gone"  # 404 on cancel, or gone when re-read
    MANUAL = "manual"  # the API refused for a reason only a human can clear: see runbook
    BLOCKED = "blocked"  # the vendor refuses on purpose (a default policy): see detail


@dataclass(frozen=True)
class CancelRequest:
    binding: LiveBinding
    side: str
    cancel_at: CancelAt
    idempotency_key: str  # stable per (plan, binding, side): a retried cancel reuses it


@dataclass(frozen=True)
class CancelOutcome:
    status: CancelStatus
    detail: str = ""
    request_id: str | None = None
    runbook: Runbook | None = None


@dataclass(frozen=True)
class ProviderContext:
    """What a provider instance gets: its account, the resolved secrets, and the HTTP factory."""

    account: Account
    credentials: Mapping[str, str]  # resolved secret values; never log them
    http: HttpFactory


@runtime_checkable
class Provider(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        """Every live binding of these kinds on the account, all pages; never raises for a
        failed page: returns ``complete=False`` with the problem instead."""

    async def granted(self) -> frozenset[str] | None:
        """The rights (scopes, roles) this credential holds; None when the API cannot tell
        (the plan then says so, and the vendor's own 403 is the last word at apply)."""

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        """The rights needed to back up ``datasets`` of this binding and cancel it on ``side``."""

    def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        """Records of a backup dataset (``orders``, ``products``, ``invoices`` ...) for a binding."""

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        """Cancel one binding on one side. A 404 is ``ALREADY_GONE``, not an error. A lost
        response raises ``ResponseLostError``; apply settles it by re-reading the binding
        (``fetch``), never by sending the cancel again."""

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        """Re-read one binding: None when it is gone. Used to verify and to settle."""

    async def aclose(self) -> None: ...

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """The hosts this account's credential may be sent to, as the vendor documents them:
        exact names (``demo.myshopify.com``) or ``*.`` suffixes. Known offline, without the
        credential, so ``validate`` can refuse an endpoint elsewhere (SPEC section 3)."""

    # Optional: ``def runbook(self, binding: LiveBinding) -> Runbook`` — the real way to end a
    # binding this credential may see but not cancel (``LiveBinding.cancellable`` false, or a
    # ``manual_only`` provider): the admin path, the owning app, the vendor's side.


ProviderFactory = Callable[[ProviderContext], Provider]


class Emulator(Protocol):
    """A stateful stand-in for one provider's API, in that API's own paths and JSON shapes."""

    name: ClassVar[str]  # provider name, e.g. "shopify"
    prefix: ClassVar[str]  # mount point in the sandbox, e.g. "/shopify"

    def load(self, section: Mapping[str, Any]) -> None:
        """Replace all tenants with the scenario's section for this provider (SPEC section 8)."""

    def dump(self) -> dict[str, Any]:
        """Every live object, in the scenario's layout (``GET /_sandbox/state``)."""

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        """Answer one request; ``path`` is the URL path with the mount prefix removed."""
