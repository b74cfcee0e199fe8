"""Settling a cancel whose answer was lost, once, for every provider (SPEC section 5; issue 11).

A provider raises ``ResponseLostError`` when a cancel was sent but its answer never came back (a
timeout or a dropped connection after sending). Only the vendor knows whether it happened, so
apply asks it the only safe way: it re-reads the binding once (``Provider.fetch``). It never sends
the cancel again within the run; a binding still live fails, and the next apply retries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import TetherError
from engine.model import LiveBinding
from providers.sdk import Provider, ResponseLostError

__all__ = ["Settled", "settle_lost"]


@dataclass(frozen=True)
class Settled:
    status: str  # "gone" | "scheduled": it happened; "live": it did not; "unknown": re-read failed
    detail: str

    @property
    def happened(self) -> bool:
        return self.status in ("gone", "scheduled")


async def settle_lost(
    provider: Provider, binding: LiveBinding, side: str, lost: ResponseLostError, *, several_sides: bool
) -> Settled:
    """Whether the cancel of ``binding`` on ``side`` whose answer was lost took effect."""
    what = f"the answer to the cancel on {side} was lost ({lost})"
    try:
        after = await provider.fetch(binding)
    except TetherError as exc:
        return Settled(
            "unknown",
            f"{what}, and re-reading the binding failed too ({exc}). The cancel was not sent "
            "again; the next plan shows whether it took effect.",
        )
    if after is None:
        return Settled("gone", f"{what}; re-read: the binding is gone, so the cancel took effect")
    if after.pending_cancel:
        return Settled("scheduled", f"{what}; re-read: its cancel is scheduled")
    if several_sides and side not in after.sides:
        return Settled("gone", f"{what}; re-read: it is no longer live on {side}, so that cancel took effect")
    return Settled(
        "live",
        f"{what}; re-read: the binding is still live, so the cancel did not take effect. It was "
        "not sent again; run tether apply again to retry it safely.",
    )
