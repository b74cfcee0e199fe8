"""What the renderers read of a plan beyond its actions' plain fields, in one place: the reason of
an action, problem or note rendered in a language; the listing gaps; the credential hosts of
each account; scheduled cancels; and the summary of a long run of unmanaged bindings.

Both the text and the Markdown renderers use these, so both say the same things in the same
order, and a change to the plan's shape is met here once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from engine.i18n import render_reason, t
from engine.model import Action
from engine.plan import Plan, PlannedAction
from engine.reasons import Reason, ReasonCode

# A human plan lists at most this many unmanaged bindings (the first ones, in plan order) and
# counts the rest per account and kind; ``verbose`` lists them all.
UNMANAGED_SHOWN = 20

SCHEDULED = frozenset({ReasonCode.CANCEL_SCHEDULED, ReasonCode.CANCEL_SCHEDULED_UNDATED})


def text(reason: Reason, lang: str) -> str:
    """A reason, problem or note in ``lang``, rendered from its code, never parsed."""
    return render_reason(reason, lang)


def reason_text(action: PlannedAction, lang: str) -> str:
    return render_reason(action.why, lang)


@dataclass(frozen=True)
class GapLine:
    """One incomplete listing: the account, the kind ("" for the whole account), its text in
    the reader's language, and the vendor's own words (untranslated, may be empty)."""

    account: str
    kind: str
    text: str
    detail: str


def gaps(plan: Plan, lang: str) -> list[GapLine]:
    """The listings the plan withheld decisions for, per account and kind."""
    return [GapLine(g.account, g.kind or "", render_reason(g.reason, lang), g.detail) for g in plan.incomplete]


ACCOUNTS_NAMED = 5  # accounts named in a one-line verdict; the rest are counted


def account_names(items: Iterable[str], lang: str, shown: int = ACCOUNTS_NAMED, quote: Callable[[str], str] = str) -> str:
    """'a, b, c' or, past ``shown`` items, 'a, b, c, d, e and 12 more': a verdict line stays one
    line whatever the number of accounts."""
    listed = list(items)
    head = ", ".join(quote(item) for item in listed[:shown])
    if len(listed) <= shown:
        return head
    return t("list.more_accounts", lang, names=head, count=f"{len(listed) - shown:,}")


def expired(plan: Plan) -> list[Reason]:
    """Notes that are expired ignore rules (the verdict counts them)."""
    return [n for n in plan.notes if n.code is ReasonCode.IGNORE_EXPIRED]


def hosts(plan: Plan) -> Mapping[str, str]:
    """Account -> the host its credential goes to, sorted by account."""
    return dict(sorted(plan.hosts.items()))


def scheduled(plan: Plan) -> list[PlannedAction]:
    """Bindings declared absent whose cancel the vendor has already scheduled."""
    return [a for a in plan.actions if a.why.code in SCHEDULED]


def scheduled_date(action: PlannedAction) -> str:
    return str(action.why.params.get("date", ""))


@dataclass(frozen=True)
class Summary:
    """A long run of bindings told short: how many per (account, kind), and the first few."""

    total: int
    counts: tuple[tuple[str, str, int], ...]  # (account, kind, count), by account then kind
    shown: tuple[PlannedAction, ...]


def summarise(actions: Iterable[PlannedAction], *, verbose: bool, shown: int = UNMANAGED_SHOWN) -> Summary:
    everything = list(actions)
    counter: Counter[tuple[str, str]] = Counter((a.account, a.kind.value) for a in everything)
    counts = tuple((account, kind, n) for (account, kind), n in sorted(counter.items()))
    listed = everything if verbose else everything[:shown]
    return Summary(len(everything), counts, tuple(listed))


def is_summarised(action: PlannedAction) -> bool:
    """Actions a human plan may fold into counts: unmanaged bindings."""
    return action.action is Action.UNMANAGED
