"""What a listing could not show, and which decisions that withholds (SPEC section 4).

A gap of one kind withholds decisions for that account and kind only; a gap without a kind, the
whole account. A complete but empty listing of an account the state records bindings for is not
trusted either (an outage or a wrong credential is likelier than everything gone)."""

from __future__ import annotations

from collections.abc import Mapping

from engine.model import Kind, Listing
from engine.reasons import PlanGap, Reason, ReasonCode
from states.model import State


def plan_gaps(listings: Mapping[str, Listing]) -> list[PlanGap]:
    """Every gap of every listing as the plan names it, sorted by account and kind."""
    found = []
    for account, listing in listings.items():
        for gap in listing.gaps:
            kind = gap.kind.value if gap.kind is not None else None
            params: dict[str, str | int] = {"account": account, "kind": kind or ""}
            params.update(gap.params)
            if gap.reason.value == ReasonCode.LISTING_REFUSED.value:
                params.setdefault("right", "")
            found.append(PlanGap(account, kind, Reason(ReasonCode(gap.reason.value), params), gap.detail))
    return sorted(found, key=lambda g: (g.account, g.kind or ""))


class Withholding:
    """Answers, per account and kind, whether the plan may decide there and if not, why."""

    def __init__(self, listings: Mapping[str, Listing], accounts: Mapping[str, object], state: State) -> None:
        self.gaps = plan_gaps(listings)
        # (account, kind text or None) -> the first gap there; a None kind covers the account.
        self.gap_at: dict[tuple[str, str | None], PlanGap] = {}
        for gap in self.gaps:
            self.gap_at.setdefault((gap.account, gap.kind), gap)
        recorded: dict[str, int] = {}
        for record in state.records.values():
            recorded[record.account] = recorded.get(record.account, 0) + 1
        # Accounts listed complete and empty though the state records bindings there.
        self.empty = {
            account: recorded[account]
            for account, listing in listings.items()
            if account in accounts and listing.complete and not listing.bindings and account in recorded
        }

    def gap(self, account: str, kind: str) -> PlanGap | None:
        """The gap that withholds decisions for this account and kind (its text), if any."""
        if not self.gap_at:
            return None
        return self.gap_at.get((account, None)) or self.gap_at.get((account, kind))

    def untrusted(self, account: str, kind: str) -> bool:
        return account in self.empty or self.gap(account, kind) is not None

    def reason(self, account: str, kind: Kind) -> Reason | None:
        """Why no cancel may be decided for this account and kind, or None."""
        gap = self.gap(account, kind.value)
        if gap is not None:
            return Reason(ReasonCode.WITHHELD, {"account": account, "kind": kind.value, "gap": gap.reason.code.value})
        if account in self.empty:
            return Reason(ReasonCode.EMPTY_LISTING, {"account": account, "recorded": self.empty[account]})
        return None

    def problems(self) -> list[Reason]:
        return [
            Reason(ReasonCode.EMPTY_LISTING, {"account": account, "recorded": recorded})
            for account, recorded in sorted(self.empty.items())
        ]
