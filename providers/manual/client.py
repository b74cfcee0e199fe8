"""``provider: manual``: bindings that no API can list or cancel, declared by hand.

Some back offices (a marketplace's seller center, an old ERP bridge) have no API for what binds
them to the store. The account's options declare the inventory, and every cancel is a runbook:
the click path and a ready-to-send support message. A human confirms removals by listing the ids
under ``done``; the next plan then sees those bindings gone, which is how a manual cancel is
verified. Nothing is called over the network, and no right is needed or held.

This is also where a store's own paid packages billed by a vendor belong when that vendor has no
API for its customers: the runbook's navigation is the vendor's customer portal (Stripe sells a
subscription from the vendor's account, so the store's own Stripe key cannot end it; see
docs/vendors.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from providers.manual.options import ManualOptions, parse_options
from providers.manual.runbook import runbook_for
from providers.sdk import Authority, CancelOutcome, CancelRequest, CancelStatus, Capabilities, ProviderContext
from providers.sdk.errors import ProviderError
from providers.sdk.model import Account, CancelAt, Kind, Listing, LiveBinding, Runbook

SIDES = ("platform",)

AUTHORITY = tuple(
    Authority(
        resource="bindings",
        kind=kind,
        who_sees="nobody by API: the account's options declare the inventory",
        who_cancels="nobody by API: a person, following the runbook",
        otherwise="the navigation and support message in the options; confirm by listing the id under done",
        source="docs/vendors.md",
    )
    for kind in Kind
)


class ManualProvider:
    """Declared bindings with runbooks; see the module docstring."""

    name: ClassVar[str] = "manual"
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset(Kind),
        sides=SIDES,
        verify=True,
        cancel_at=frozenset({CancelAt.NOW}),
        manual_only=True,
        authority=AUTHORITY,
    )

    @staticmethod
    def credential_hosts(account: Account) -> tuple[str, ...]:
        """None: a manual account sends nothing anywhere."""
        return ()

    def __init__(self, ctx: ProviderContext) -> None:
        self.account = ctx.account.name
        self.options: ManualOptions = parse_options(ctx.account)

    @classmethod
    def validate_account(cls, account: Account) -> None:
        """Check an account's options offline (``tether validate``); ConfigError if bad."""
        parse_options(account)

    def _declared(self, binding_id: str) -> Mapping[str, Any] | None:
        for declared in self.options.bindings:
            if str(declared["id"]) == binding_id:
                return declared
        return None

    def _binding(self, declared: Mapping[str, Any]) -> LiveBinding:
        return LiveBinding(
            account=self.account,
            provider=self.name,
            kind=Kind(declared["kind"]),
            id=str(declared["id"]),
            name=str(declared["name"]),
            status=str(declared.get("status", "active")),
            resource="bindings",
            raw=declared,
            sides=SIDES,
        )

    def runbook(self, binding: LiveBinding) -> Runbook:
        """The runbook for a binding of this account (what ``cancel`` returns)."""
        return runbook_for(binding, self.options.vendor, self.options.contact, shop=self.options.shop)

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        bindings = tuple(
            self._binding(declared)
            for declared in self.options.bindings
            if str(declared["id"]) not in self.options.done and Kind(declared["kind"]) in kinds
        )
        return Listing(account=self.account, provider=self.name, bindings=bindings, granted=frozenset())

    async def granted(self) -> frozenset[str]:
        return frozenset()

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        return ()

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        raise ProviderError(
            f"manual {self.account}: no dataset {dataset!r}; a manual account has no API to export "
            "from (its backup is the declared binding itself)"
        )
        yield {}  # pragma: no cover - makes this an async generator

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        binding = request.binding
        if binding.id in self.options.done:
            return CancelOutcome(CancelStatus.ALREADY_GONE, detail="confirmed removed (listed under done)")
        return CancelOutcome(
            CancelStatus.MANUAL,
            detail=(
                f"no API: follow the runbook, then add {binding.id!r} to "
                f"accounts.{self.account}.options.done once {self.options.vendor} confirms the removal"
            ),
            runbook=self.runbook(binding),
        )

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        if binding.id in self.options.done:
            return None
        declared = self._declared(binding.id)
        return None if declared is None else self._binding(declared)

    async def aclose(self) -> None:
        return None
