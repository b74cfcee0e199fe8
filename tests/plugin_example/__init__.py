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
