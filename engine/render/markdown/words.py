"""Words and small facts the Markdown sections share: business nouns for a binding, counts,
separators, fees and rights read from a planned action's steps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from engine.i18n import t, word
from engine.model import Action, Money
from engine.plan import Plan, PlannedAction
from engine.render.markdown.escaping import code, esc

# The summary table's columns, in the order a reviewer cares about them.
COLUMNS = (
    Action.CANCEL,
    Action.BLOCKED,
    Action.MANUAL,
    Action.DRIFT,
    Action.MISSING,
    Action.AMBIGUOUS,
    Action.UNVERIFIABLE,
    Action.UNMANAGED,
    Action.KEEP,
)
REVIEW = (Action.MISSING, Action.AMBIGUOUS, Action.UNMANAGED)


def humanize(resource: str) -> str:
    """'carrier_services' -> 'carrier service', 'carrierAccounts' -> 'carrier account'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", resource).replace("_", " ").replace("-", " ")
    words = spaced.lower().split()
    if not words:
        return ""
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        last = last[:-1]
    return " ".join(words[:-1] + [last])


def noun(action: PlannedAction, lang: str) -> str:
    """What the binding is, in business words: the provider's collection where it says more
    than the kind ('carrier service'), else the kind ('webhook (destination)')."""
    kind = t(f"kind.{action.kind.value}", lang)
    resource = humanize(action.resource)
    if not resource or resource in ("binding", action.kind.value):
        return kind
    if lang == "en" and action.kind.value in resource.split():
        return esc(resource)
    return f"{kind} ({esc(resource)})" if lang == "en" else f"{kind}（{esc(resource)}）"


def subject(action: PlannedAction, lang: str) -> str:
    what = noun(action, lang)
    account = esc(action.account)
    if action.name:
        return t("md.subject", lang, noun=what, name=f" **{esc(action.name)}**", account=account)
    if action.integration:
        return t("md.subject_declared", lang, noun=what, name=code(action.integration), account=account)
    return t("md.subject", lang, noun=what, name="", account=account)


def count(count: int, lang: str) -> str:
    """' (12)' after a heading; full-width brackets in Chinese."""
    return f"（{count:,}）" if lang == "zh" else f" ({count:,})"


def sep(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def datasets(datasets: Iterable[str], lang: str) -> str:
    return " + ".join(esc(word("dataset", d, lang)) for d in datasets)


def money_total(fees: Iterable[Money]) -> str:
    totals: dict[str, Decimal] = {}
    for fee in fees:
        totals[fee.currency] = totals.get(fee.currency, Decimal("0")) + fee.amount
    return " + ".join(f"{amount:.2f} {currency}" for currency, amount in sorted(totals.items()))


def max_fee(plan: Plan) -> str:
    for action in plan.actions:
        terms = action.step("check-terms")
        if terms is not None and terms.detail.get("max_fee"):
            limit = terms.detail["max_fee"]
            return f"{limit.get('amount')} {limit.get('currency')}"
    return ""


def missing_rights(action: PlannedAction) -> list[str]:
    step = action.step("check-permission")
    if step is None or step.detail.get("granted") is not False:
        return []
    return [str(r) for r in step.detail.get("missing", [])]


def cancel_at(action: PlannedAction) -> str | None:
    for step in action.steps:
        if step.type == "cancel" and "cancel_at" in step.detail:
            return str(step.detail["cancel_at"])
    return None


def fee_charged(action: PlannedAction) -> bool:
    return action.fee is not None and action.fee.amount > 0 and action.action in (Action.CANCEL, Action.MANUAL)


def fee_blocked(action: PlannedAction) -> bool:
    return action.fee is not None and action.fee.amount > 0 and action.action is Action.BLOCKED



def count_cell(count: int, action: Action) -> str:
    if not count:
        return "·"
    if action in (Action.CANCEL, Action.BLOCKED):
        return f"**{count:,}**"
    return f"{count:,}"

