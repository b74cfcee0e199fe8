"""A third-party provider as a plug-in would ship it, for the entry-point tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from providers.sdk import (
    Authority,
    CancelOutcome,
    CancelRequest,
    CancelStatus,
    Capabilities,
    Gap,
    GapReason,
    Kind,
    Listing,
    LiveBinding,
    ProviderContext,
)


class NotebookProvider:
    """Bindings kept in the account's options: enough to plan against, nothing to call."""

    name: ClassVar[str] = "notebook"
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({Kind.APP}),
        authority=(
            Authority(
                resource="entries",
                kind=Kind.APP,
                who_sees="whoever holds the notebook",
                who_cancels="whoever holds the notebook",
                otherwise="cross the entry out by hand",
                source="https://notebook.example/docs/entries",
            ),
        ),
    )

    def __init__(self, ctx: ProviderContext) -> None:
        self.account = ctx.account.name
        self.entries = list(ctx.account.options.get("entries", []))

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        bindings = tuple(
            LiveBinding(self.account, self.name, Kind.APP, str(e["id"]), e["name"], "active", "entries", e)
            for e in self.entries
        )
        return Listing(self.account, self.name, bindings)

    async def granted(self) -> frozenset[str] | None:
        return None

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        return ()

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        if False:  # pragma: no cover - no datasets
            yield {}

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        return CancelOutcome(CancelStatus.DONE)

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        return binding

    async def aclose(self) -> None:
        return None


class LedgerProvider:
    """Apps and webhooks kept in the account's options, for the CLI's own tests: ``refuse`` names
    kinds whose listing the "vendor" refuses (a missing right), and cancels are remembered for the
    life of the process in ``CANCELLED``, so apply can verify them."""

    name: ClassVar[str] = "ledger"
    capabilities: ClassVar[Capabilities] = Capabilities(kinds=frozenset({Kind.APP, Kind.WEBHOOK}))
    CANCELLED: ClassVar[set[tuple[str, str]]] = set()

    def __init__(self, ctx: ProviderContext) -> None:
        self.account = ctx.account.name
        self.entries = list(ctx.account.options.get("entries", []))
        self.refused = {Kind(k) for k in ctx.account.options.get("refuse", [])}

    def _binding(self, entry: Mapping[str, Any]) -> LiveBinding:
        kind = Kind(entry.get("kind", "app"))
        return LiveBinding(self.account, self.name, kind, str(entry["id"]), entry["name"], "active", kind.value + "s", entry)

    async def list_bindings(self, kinds: frozenset[Kind]) -> Listing:
        bindings = tuple(
            binding
            for binding in map(self._binding, self.entries)
            if binding.kind in kinds
            and binding.kind not in self.refused
            and (self.account, binding.id) not in self.CANCELLED
        )
        gaps = tuple(
            Gap(kind, GapReason.REFUSED, {"right": f"read_{kind.value}s"}, "403 Forbidden")
            for kind in sorted(self.refused & kinds, key=lambda k: k.value)
        )
        return Listing(self.account, self.name, bindings, gaps)

    async def granted(self) -> frozenset[str] | None:
        return None

    def required(self, binding: LiveBinding, side: str, datasets: tuple[str, ...]) -> tuple[str, ...]:
        return ()

    async def export(self, binding: LiveBinding, dataset: str) -> AsyncIterator[Mapping[str, Any]]:
        if False:  # pragma: no cover - no datasets
            yield {}

    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        self.CANCELLED.add((self.account, request.binding.id))
        return CancelOutcome(CancelStatus.DONE)

    async def fetch(self, binding: LiveBinding) -> LiveBinding | None:
        return None if (self.account, binding.id) in self.CANCELLED else binding

    async def aclose(self) -> None:
        return None
