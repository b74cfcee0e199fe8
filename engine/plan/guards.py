"""Why a cancel must not happen (yet): each rule gives a ``Reason`` or None, and the plan-wide
guards (max_cancels, every binding of an account) turn cancels into blocked actions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from msgspec.structs import replace

from engine.model import Action, CancelAt, Defaults, Integration, Kind, LiveBinding, Money
from engine.plan.types import PlannedAction
from engine.reasons import Reason, ReasonCode
from providers.sdk import Capabilities


def blocked_by_rules(
    binding: LiveBinding,
    integration: Integration | None,
    protected_in_state: bool,
    caps: Capabilities,
    sides: tuple[str, ...],
    datasets: tuple[str, ...],
    cancel_at: CancelAt,
    fee: Money | None,
    defaults: Defaults,
    accept_fees: bool,
) -> Reason | None:
    """The first rule that blocks this cancel, in the order a user should fix them."""
    if integration is not None and integration.protect:
        return Reason(ReasonCode.PROTECTED)
    if protected_in_state:
        return Reason(ReasonCode.PROTECTED_IN_STATE)
    unsupported = [d for d in datasets[1:] if d not in caps.datasets]
    if unsupported:
        return Reason(
            ReasonCode.DATASET_UNSUPPORTED,
            {
                "provider": binding.provider,
                "datasets": ", ".join(unsupported),
                "offered": ", ".join(sorted(caps.datasets)),
            },
        )
    bad_sides = [s for s in sides if s not in caps.sides]
    if bad_sides:
        return Reason(ReasonCode.SIDE_UNSUPPORTED, {"provider": binding.provider, "sides": ", ".join(bad_sides)})
    if binding.kind is Kind.SUBSCRIPTION and cancel_at not in caps.cancel_at:
        possible = " or ".join(sorted(c.value for c in caps.cancel_at))
        return Reason(
            ReasonCode.CANCEL_AT_UNSUPPORTED,
            {"provider": binding.provider, "cancel_at": cancel_at.value, "possible": possible},
        )
    if fee is not None and fee.amount > 0 and not accept_fees:
        limit = defaults.max_fee
        if fee.currency != limit.currency:
            return Reason(ReasonCode.FEE_CURRENCY, {"fee": str(fee), "max_fee": str(limit)})
        if fee.amount > limit.amount:
            return Reason(ReasonCode.FEE_OVER_LIMIT, {"fee": str(fee), "max_fee": str(limit)})
    return None


def mass_cancel_guards(
    actions: list[PlannedAction], max_cancels: int, listed: Mapping[str, int]
) -> tuple[list[PlannedAction], list[Reason]]:
    """Block every cancel when the plan cancels more than ``max_cancels``, and every cancel of an
    account when it would cancel all its ``listed`` bindings. Returns the actions and problems."""
    cancels = [a for a in actions if a.action is Action.CANCEL]
    problems: list[Reason] = []
    reasons: dict[str, Reason] = {}
    if len(cancels) > max_cancels:
        problem = Reason(ReasonCode.MASS_CANCEL, {"count": len(cancels), "limit": max_cancels})
        problems.append(problem)
        for action in cancels:
            reasons[action.address] = problem
    by_account: dict[str, list[PlannedAction]] = {}
    for action in cancels:
        by_account.setdefault(action.account, []).append(action)
    for account, mine in by_account.items():
        count = len(mine)
        if count >= listed[account] and count > 0:
            problem = Reason(ReasonCode.MASS_CANCEL_ACCOUNT, {"account": account, "count": count})
            problems.append(problem)
            for action in mine:
                reasons.setdefault(action.address, problem)
    if not reasons:
        return actions, problems
    guarded = [
        replace(a, action=Action.BLOCKED, why=reasons[a.address])
        if a.action is Action.CANCEL and a.address in reasons
        else a
        for a in actions
    ]
    return guarded, problems


def cancel_at_for(integration: Integration | None, defaults: Defaults) -> CancelAt:
    if integration is not None and integration.cancel_at is not None:
        return integration.cancel_at
    return defaults.cancel_at


def fee_due(integration: Integration | None, today: date) -> Money | None:
    """The early-termination fee a cancel today would cost: none after the commitment ends."""
    if integration is None or integration.terms is None:
        return None
    terms = integration.terms
    if terms.commitment_end is not None and terms.commitment_end < today:
        return None
    return terms.early_termination_fee


def terms_detail(
    integration: Integration | None, fee: Money | None, defaults: Defaults, accept_fees: bool
) -> dict[str, Any]:
    """The ``check-terms`` step: the fee, the limit, and whether fees were accepted."""
    detail: dict[str, Any] = {"max_fee": defaults.max_fee.to_json(), "accept_fees": accept_fees}
    if integration is not None and integration.terms is not None and integration.terms.commitment_end:
        detail["commitment_end"] = integration.terms.commitment_end.isoformat()
    detail["fee"] = fee.to_json() if fee else None
    return detail
