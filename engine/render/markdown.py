"""Markdown for pull-request comments and scheduled audits: read in ten seconds, and trusted.

``render_markdown`` is a pure function of the plan, the language, the state changes and whether
it is an audit: no clock, no environment, no I/O. The same plan always gives the same bytes, so a
golden file can pin it and CI can tell whether a sticky comment needs updating at all.

Layout, most important first, because a reviewer reads from the top and may stop anywhere:

1. a hidden marker (``<!-- tether:plan -->`` or ``<!-- tether:audit -->``) a CI step searches for
   to update one comment instead of adding a new one on every push;
2. a one-line verdict, then what it costs and what is backed up;
3. a table by account and action;
4. one business-level line per binding that needs a human: cancels (why, backup, fee), blocked
   (the reason), manual runbooks, fees, drift field by field, the rest to review, expired ignore
   rules;
5. ``<details>`` blocks: steps and rights, support messages, a Mermaid graph, kept bindings.

Every string taken from a plan (names, reasons, ids, drift values) comes from a provider or from
tether.yaml, and GitHub renders the comment as HTML, so each goes through ``esc`` (inline text),
``code`` (a code span) or ``_mermaid_label``: none can open a tag, end a table cell or close a
fence. Nothing else is read, so nothing a plan does not hold (credentials) can appear.

GitHub refuses comments over 65,536 characters. ``fit`` keeps the output under ``limit``,
the truncation note included: detail sections go first, then entries of the longest section, and
the note says what was left out and how to see everything.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from engine.i18n import localize, t, tn, word
from engine.model import Action, Money
from engine.plan import Plan, PlannedAction

T = TypeVar("T")

MARKER_PLAN = "<!-- tether:plan -->"
MARKER_AUDIT = "<!-- tether:audit -->"
COMMENT_LIMIT = 65_536  # GitHub's limit for an issue or pull-request comment body
GRAPH_CAP = 60  # binding nodes in the Mermaid graph; the rest become "and N more" nodes

# The summary table's columns, in the order a reviewer cares about them.
COLUMNS = (
    Action.CANCEL,
    Action.BLOCKED,
    Action.MANUAL,
    Action.DRIFT,
    Action.MISSING,
    Action.AMBIGUOUS,
    Action.UNMANAGED,
    Action.KEEP,
)
REVIEW = (Action.MISSING, Action.AMBIGUOUS, Action.UNMANAGED)

# -- escaping ------------------------------------------------------------------------------------

_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\u0085\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_MD_SPECIAL = str.maketrans({**{c: "\\" + c for c in "\\`*_[]~!#|$"}, "<": "&lt;", ">": "&gt;", "&": "&amp;"})
_MENTION = re.compile(r"(?<![\w.+-])@(?=[\w-])")


def _flat(text: object) -> str:
    """One line, no control characters: a newline in a name must not start a new block."""
    return _CONTROL.sub("", _BREAKS.sub(" ", str(text)))


def esc(text: object) -> str:
    """Inline Markdown text that renders exactly as written, in a paragraph or a table cell.

    Markdown punctuation is backslash-escaped (``\\|`` also keeps a table cell closed), ``<``,
    ``>`` and ``&`` become entities so no HTML tag or comment can start, and an @-mention gets a
    word joiner so a provider's name cannot ping anyone.
    """
    escaped = _flat(text).translate(_MD_SPECIAL)
    return _MENTION.sub("@\u2060", escaped)


def code(text: object, *, table: bool = False) -> str:
    """A code span holding ``text`` verbatim, whatever backticks it contains.

    Inside a GFM table a ``|`` would still split the cell, even in a code span, so it is escaped
    there (the table parser removes the backslash; backslashes right before a pipe show doubled,
    the price of never splitting a cell); outside a table it must not be.
    """
    body = _flat(text)
    if "<!--" in body or "-->" in body:
        # a code span shows it literally, but the raw comment body would then hold something
        # that looks like a CI marker; plain escaped text renders the same characters
        return esc(body)
    if table:
        # a pipe ends a cell unless an odd number of backslashes precedes it, even here
        body = re.sub(r"(\\*)\|", lambda m: m.group(1) * 2 + "\\|", body)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body[:1] in ("`", " ") or body[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _html(text: object) -> str:
    """Text inside raw HTML (a ``<summary>``), where Markdown is not parsed."""
    return html.escape(_flat(text), quote=True)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# -- words ---------------------------------------------------------------------------------------


def _humanize(resource: str) -> str:
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


def _noun(action: PlannedAction, lang: str) -> str:
    """What the binding is, in business words: the provider's collection where it says more
    than the kind ('carrier service'), else the kind ('webhook (destination)')."""
    kind = t(f"kind.{action.kind.value}", lang)
    resource = _humanize(action.resource)
    if not resource or resource in ("binding", action.kind.value):
        return kind
    if lang == "en" and action.kind.value in resource.split():
        return esc(resource)
    return f"{kind} ({esc(resource)})" if lang == "en" else f"{kind}（{esc(resource)}）"


def _subject(action: PlannedAction, lang: str) -> str:
    noun = _noun(action, lang)
    account = esc(action.account)
    if action.name:
        return t("md.subject", lang, noun=noun, name=f" **{esc(action.name)}**", account=account)
    if action.integration:
        return t("md.subject_declared", lang, noun=noun, name=code(action.integration), account=account)
    return t("md.subject", lang, noun=noun, name="", account=account)


def _count(count: int, lang: str) -> str:
    """' (12)' after a heading; full-width brackets in Chinese."""
    return f"（{count:,}）" if lang == "zh" else f" ({count:,})"


def _sep(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _datasets(datasets: Iterable[str], lang: str) -> str:
    return " + ".join(esc(word("dataset", d, lang)) for d in datasets)


def _money_total(fees: Iterable[Money]) -> str:
    totals: dict[str, Decimal] = {}
    for fee in fees:
        totals[fee.currency] = totals.get(fee.currency, Decimal("0")) + fee.amount
    return " + ".join(f"{amount:.2f} {currency}" for currency, amount in sorted(totals.items()))


def _max_fee(plan: Plan) -> str:
    for action in plan.actions:
        terms = action.step("check-terms")
        if terms is not None and terms.detail.get("max_fee"):
            limit = terms.detail["max_fee"]
            return f"{limit.get('amount')} {limit.get('currency')}"
    return ""


def _missing_rights(action: PlannedAction) -> list[str]:
    step = action.step("check-permission")
    if step is None or step.detail.get("granted") is not False:
        return []
    return [str(r) for r in step.detail.get("missing", [])]


def _cancel_at(action: PlannedAction) -> str | None:
    for step in action.steps:
        if step.type == "cancel" and "cancel_at" in step.detail:
            return str(step.detail["cancel_at"])
    return None


def _fee_charged(action: PlannedAction) -> bool:
    return action.fee is not None and action.fee.amount > 0 and action.action in (Action.CANCEL, Action.MANUAL)


def _fee_blocked(action: PlannedAction) -> bool:
    return action.fee is not None and action.fee.amount > 0 and action.action is Action.BLOCKED


# -- blocks and fitting --------------------------------------------------------------------------


@dataclass
class Block:
    """One section of the comment: ``head``, ``items`` (cut from the end when space runs out),
    ``tail`` (a table's total row), the "and N more" line if items were cut, then ``close``.
    A ``detail`` block (a ``<details>``) is dropped whole before any list is cut."""

    title: str
    head: str = ""
    items: list[str] = field(default_factory=list)
    tail: str = ""
    close: str = ""
    detail: bool = False
    more_command: str = ""
    kept: int = -1
    dropped: bool = False
    count: int = -1  # the entries the list stands for, when only the first are written out
    _prefix: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.count < 0:
            self.count = len(self.items)
        if self.kept < 0:
            self.kept = len(self.items)
        total = 0
        self._prefix = [0]
        for item in self.items:
            total += len(item) + 1  # each item ends its line
            self._prefix.append(total)

    def more_line(self, lang: str, kept: int | None = None) -> str:
        hidden = self.count - (self.kept if kept is None else kept)
        if hidden <= 0:
            return ""
        return "\n" + tn("md.more", hidden, lang, command=self.more_command) + "\n"

    def render(self, lang: str) -> str:
        if self.dropped:
            return ""
        body = "".join(item + "\n" for item in self.items[: self.kept])
        return self.head + body + self.tail + self.more_line(lang) + self.close

    def size(self, lang: str, kept: int | None = None) -> int:
        """Characters it renders to, with ``kept`` items (default: as it stands)."""
        if self.dropped:
            return 0
        kept = self.kept if kept is None else kept
        return len(self.head) + self._prefix[kept] + len(self.tail) + len(self.more_line(lang, kept)) + len(self.close)

    def keep_within(self, cap: int, lang: str) -> None:
        """Keep as many items as fit in ``cap`` characters (by bisection: the size grows with
        the items kept), at least none."""
        low, high = 0, len(self.items)
        while low < high:
            middle = (low + high + 1) // 2
            if self.size(lang, middle) <= cap:
                low = middle
            else:
                high = middle - 1
        self.kept = low


def _note(blocks: list[Block], lang: str, limit: int, command: str) -> str:
    left_out = []
    for block in blocks:
        if block.dropped:
            left_out.append(t("md.truncated.section", lang, section=block.title))
        elif block.kept < block.count:
            left_out.append(
                t(
                    "md.truncated.items",
                    lang,
                    hidden=f"{block.count - block.kept:,}",
                    total=f"{block.count:,}",
                    section=block.title,
                )
            )
    if not left_out:
        return ""
    what = ("、" if lang == "zh" else "; ").join(left_out)
    return "> ⚠️ " + t("md.truncated", lang, limit=f"{limit:,}", what=what, command=command) + "\n"


def _join(blocks: list[Block], note: str, lang: str) -> str:
    """Marker and verdict block first, then the truncation note, then the rest."""
    parts = [blocks[0].render(lang)]
    if note:
        parts.append(note)
    parts.extend(b.render(lang) for b in blocks[1:])
    return "\n".join(p for p in parts if p)


def fit(blocks: list[Block], lang: str, limit: int, command: str) -> str:
    """Everything, or as much as fits in ``limit`` characters with a note saying what is left
    out: detail blocks are dropped from the last one up, then the longest lists lose entries
    from their ends, down to the largest common size at which the whole fits."""

    def total() -> int:
        shown = [b for b in blocks if not b.dropped and b.size(lang)]
        joins = len(shown) + (1 if note else 0) - 1
        return sum(b.size(lang) for b in shown) + len(note) + max(joins, 0)

    note = ""
    if total() <= limit:
        return _join(blocks, note, lang)
    for block in reversed(blocks[1:]):
        if total() <= limit:
            break
        if block.detail:
            block.dropped = True
            note = _note(blocks, lang, limit, command)
    if total() > limit:
        # Cutting the longest list by one entry until everything fits levels the longest lists
        # down to one size, the largest that fits. That size is found by bisection: cut every
        # list to at most ``cap`` characters, see whether the whole fits. One entry at a time
        # was a loop of tens of thousands of rounds for a plan of 100,000 actions.
        lists = [b for b in blocks[1:] if not b.dropped and b.items]

        def fits(cap: int) -> bool:
            nonlocal note
            for block in lists:
                block.keep_within(cap, lang)
            note = _note(blocks, lang, limit, command)
            return total() <= limit

        low, high = 0, max((b.size(lang, len(b.items)) for b in lists), default=0)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(middle):
                low = middle
            else:
                high = middle - 1
        fits(low)
    text = _join(blocks, note, lang)
    if len(text) > limit:  # only a header larger than the limit itself gets here
        cut = "\n\n> ⚠️ " + t("md.truncated", lang, limit=f"{limit:,}", what=t("md.truncated.tail", lang), command=command) + "\n"
        keep = max(0, limit - len(cut))
        head = text[:keep]
        head = head[: head.rfind("\n") + 1] if "\n" in head else ""
        text = (head + cut)[:limit]  # a limit smaller than the note itself still holds
    return text


# -- the sections --------------------------------------------------------------------------------


class _Report:
    """Builds the blocks of one comment; each method returns one ``Block`` (or None if empty)."""

    def __init__(self, plan: Plan, lang: str, state_changes: list[str], audit: bool, limit: int) -> None:
        self.plan = plan
        self.lang = lang
        self.limit = limit
        self.state_changes = state_changes
        self.audit = audit
        self.command = t("md.command.audit" if audit else "md.command.plan", lang)
        self.by_action: dict[Action, list[PlannedAction]] = {a: [] for a in Action}
        for action in plan.actions:
            self.by_action[action.action].append(action)
        self.expired = [n for n in plan.notes if n.startswith("ignore rule #")]

    # verdict, costs, backups, table -------------------------------------------------------------

    def verdict(self) -> str:
        """One line: an icon (❌ incomplete, 🛑 blocked or a problem, ⚠️ changes or something
        to review, ✅ nothing), then what apply would do, what needs a look, and the fees."""
        plan, lang, count = self.plan, self.lang, self.by_action
        title = t("md.title.audit" if self.audit else "md.title.plan", lang)
        cancels = len(count[Action.CANCEL])
        blocked = len(count[Action.BLOCKED])
        # a plan counts the manual steps apply would record; an audit also the ones still waiting
        manual = sum(1 for a in count[Action.MANUAL] if self.audit or not a.pending)
        review = sum(len(count[a]) for a in (Action.DRIFT, *REVIEW))
        problems = [p for p in plan.problems if not any(p.startswith(f"{a}: ") for a in plan.incomplete)]
        parts: list[str] = []
        if plan.incomplete:
            parts.append(t("md.verdict.incomplete", lang, accounts=", ".join(esc(a) for a in plan.incomplete)))
        if cancels:
            parts.append(tn("md.part.cancel_audit" if self.audit else "md.part.cancel", cancels, lang))
        if blocked:
            parts.append(tn("md.part.blocked", blocked, lang))
        if manual:
            parts.append(tn("md.part.manual", manual, lang))
        if review:
            parts.append(tn("md.part.review", review, lang))
        if self.expired:
            parts.append(tn("md.part.expired", len(self.expired), lang))
        if problems and not blocked:
            parts.append(tn("md.part.problems", len(problems), lang))
        if cancels or blocked or manual:
            charged = [a.fee for a in plan.actions if _fee_charged(a) and a.fee is not None]
            over = [a.fee for a in plan.actions if _fee_blocked(a) and a.fee is not None]
            if charged:
                parts.append(t("md.part.fees", lang, amount=_money_total(charged)))
            elif over:
                parts.append(t("md.part.fees_blocked", lang, amount=_money_total(over)))
            else:
                parts.append(t("md.part.fees_none", lang))
        if not self.audit and not cancels and not manual and self.state_changes and not plan.incomplete:
            if not parts:
                parts.append(t("md.part.nothing", lang))
            parts.append(tn("md.part.state", len(self.state_changes), lang))
        if not parts:
            parts.append(t("md.verdict.clean" if self.audit else "md.verdict.no_changes", lang))
        if plan.incomplete:
            icon = "❌"
        elif blocked or plan.problems:
            icon = "🛑"
        elif cancels or manual or review or self.expired:
            icon = "⚠️"
        else:
            icon = "✅"
        return f"### {icon} {title}{_sep(lang)}{' · '.join(parts)}"

    def meta(self) -> list[str]:
        plan, lang = self.plan, self.lang
        lines = []
        accounts = sorted(set(plan.refreshed) | {a.account for a in plan.actions})
        lines.append(
            t(
                "md.meta.refreshed",
                lang,
                bindings=tn("md.n_bindings", sum(plan.refreshed.values()), lang),
                accounts=tn("md.n_accounts", len(accounts), lang),
            )
        )
        acting = [a for a in plan.actions if a.action in (Action.CANCEL, Action.BLOCKED, Action.MANUAL)]
        if acting:
            charged = [a.fee for a in acting if _fee_charged(a) and a.fee is not None]
            blocked = [a.fee for a in acting if _fee_blocked(a) and a.fee is not None]
            pieces = []
            if charged:
                pieces.append(t("md.meta.costs_charged", lang, amount=_money_total(charged)))
            if blocked:
                pieces.append(t("md.meta.costs_blocked", lang, amount=_money_total(blocked), max_fee=esc(_max_fee(plan))))
            if not pieces:
                pieces.append(t("md.meta.costs_none", lang))
            if plan.accept_fees:
                pieces.append(t("md.meta.accept_fees", lang))
            lines.append(t("md.meta.costs", lang, text=("；" if lang == "zh" else "; ").join(pieces)))
        backed_up = [a for a in acting if a.actionable]
        if backed_up:
            counts = Counter(d for a in backed_up for d in a.datasets if d != "binding")
            if counts:
                listed = ("、" if lang == "zh" else ", ").join(
                    tn("md.meta.dataset_count", n, lang, dataset=esc(word("dataset", d, lang)))
                    for d, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                )
                what = t("md.meta.backups_plus", lang, datasets=listed)
            else:
                what = t("md.meta.backups_binding", lang)
            lines.append(t("md.meta.backups", lang, what=what))
        if plan.ignored:
            lines.append(tn("md.meta.ignored", plan.ignored, lang))
        scope = []
        if plan.targets:
            scope.append(t("md.meta.targets", lang, names=", ".join(code(n) for n in plan.targets)))
        if plan.excludes:
            scope.append(t("md.meta.excludes", lang, names=", ".join(code(n) for n in plan.excludes)))
        if plan.allow_mass_cancel:
            scope.append(t("md.meta.mass", lang))
        if scope:
            lines.append(t("md.meta.scope", lang, scope="; ".join(scope)))
        return lines

    def header(self) -> Block:
        marker = MARKER_AUDIT if self.audit else MARKER_PLAN
        head = marker + "\n" + self.verdict() + "\n\n" + "  \n".join(self.meta()) + "\n"
        return Block(title="", head=head)

    def table(self) -> Block:
        plan, lang = self.plan, self.lang
        columns = [a for a in COLUMNS if self.by_action[a]]
        accounts = sorted(set(plan.refreshed) | {a.account for a in plan.actions})
        providers: dict[str, str] = {}
        for action in plan.actions:
            providers.setdefault(action.account, action.provider)
        labels = [t("md.table.account", lang), t("md.table.provider", lang), t("md.table.listed", lang)]
        labels += [t(f"action.{a.value}", lang) for a in columns]
        title = t("md.section.accounts", lang)
        head = f"#### 📊 {title}\n\n| " + " | ".join(labels) + " |\n"
        head += "| :-- | :-- | --: |" + " --: |" * len(columns) + "\n"
        rows = []
        totals = Counter(a.action for a in plan.actions)
        by_account: dict[str, Counter[Action]] = {}
        for action in plan.actions:  # one pass, not one per account
            mine = by_account.get(action.account)
            if mine is None:
                mine = by_account[action.account] = Counter()
            mine[action.action] += 1
        for account in accounts:
            mine = by_account.get(account, Counter())
            listed = f"{plan.refreshed.get(account, 0):,}"
            if account in plan.incomplete:
                listed += " ⚠️ " + t("md.table.partial", lang)
            cells = [f"**{esc(account)}**", esc(providers.get(account, "")), listed]
            cells += [_count_cell(mine[a], a) for a in columns]
            rows.append("| " + " | ".join(cells) + " |")
        total = [f"**{t('md.table.total', lang)}**", "", f"**{sum(plan.refreshed.values()):,}**"]
        total += [f"**{totals[a]:,}**" for a in columns]
        tail = "| " + " | ".join(total) + " |\n" if len(accounts) > 1 else ""
        return Block(title=title, head=head, items=rows, tail=tail, more_command=self.command)

    # the lines a reviewer must read --------------------------------------------------------------

    def _line(self, action: PlannedAction, verb: str, *, fee: bool = True) -> str:
        """'**Cancels** carrier service **DPD Rates** on **shop-eu** — declared absent · backup:
        binding + orders · `dpd-rates`': what, where, why, what is saved, what it costs, and the
        integration that decided it (its full address is in the steps details)."""
        lang = self.lang
        extras = [esc(localize(action.reason, lang))]
        if action.datasets:
            extras.append(f"{t('md.label.backup', lang)}{_sep(lang)}{_datasets(action.datasets, lang)}")
        if fee and action.fee is not None and action.fee.amount > 0:
            extras.append(f"{t('md.label.fee', lang)}{_sep(lang)}**{esc(action.fee)}**")
        when = _cancel_at(action)
        if when and action.action in (Action.CANCEL, Action.BLOCKED):
            extras.append(t("md.label.ends", lang, when=t(f"cancel_at.{when}", lang)))
        sides = list(action.sides)
        if sides and sides != ["platform"]:
            extras.append(t("md.label.sides", lang, sides=" + ".join(esc(word("side", s, lang)) for s in sides)))
        missing = _missing_rights(action)
        if missing and action.action is Action.CANCEL:
            extras.append("⚠️ " + t("md.label.rights_missing", lang, rights=", ".join(code(r) for r in missing)))
        if action.integration is None:
            extras.append(code(action.address))  # what an ignore rule or a declaration needs
        elif action.name:
            extras.append(code(action.integration))
        return f"- **{verb}** {_subject(action, lang)} — " + " · ".join(extras)

    def _upto_limit(self, things: Sequence[T], line: Callable[[T], str]) -> list[str]:
        """The lines of ``things``, written out only as far as a comment could ever show: once
        they fill the character limit the rest would be cut anyway (the block's ``count`` still
        says how many there are). A plan of 100,000 unmanaged bindings is not formatted whole
        for the first few hundred lines a pull request can hold."""
        lines: list[str] = []
        length = 0
        for thing in things:
            if length > self.limit:
                break
            text = line(thing)
            lines.append(text)
            length += len(text) + 1
        return lines

    def _list(self, key: str, icon: str, actions: list[PlannedAction], lines: list[str]) -> Block | None:
        if not lines:
            return None
        title = t(key, self.lang)
        head = f"#### {icon} {title}{_count(len(actions), self.lang)}\n\n"
        return Block(title=title, head=head, items=lines, more_command=self.command, count=len(actions))

    def _table_head(self, key: str, icon: str, count: int, columns: tuple[str, ...], aligns: str) -> tuple[str, str]:
        """A section's title and its heading plus table header (``aligns``: the separator row)."""
        title = t(key, self.lang)
        head = f"#### {icon} {title}{_count(count, self.lang)}\n\n"
        head += "| " + " | ".join(t(k, self.lang) for k in columns) + f" |\n{aligns}\n"
        return title, head

    def problems(self) -> Block | None:
        lines = [f"- {esc(localize(p, self.lang))}" for p in self.plan.problems]
        if not lines:
            return None
        title = t("md.section.problems", self.lang)
        return Block(title=title, head=f"#### ❗ {title}\n\n", items=lines, more_command=self.command)

    def cancels(self) -> Block | None:
        actions = self.by_action[Action.CANCEL]
        verb = t("md.verb.cancel_audit" if self.audit else "md.verb.cancel", self.lang)
        key = "md.section.cancel_audit" if self.audit else "md.section.cancel"
        return self._list(key, "✂️", actions, self._upto_limit(actions, lambda a: self._line(a, verb)))

    def blocked(self) -> Block | None:
        actions = self.by_action[Action.BLOCKED]
        verb = t("md.verb.blocked", self.lang)
        return self._list("md.section.blocked", "🛑", actions, self._upto_limit(actions, lambda a: self._line(a, verb)))

    def manual(self) -> Block | None:
        lang = self.lang
        actions = self.by_action[Action.MANUAL]
        lines = []
        for action in actions:
            verb = t("md.verb.pending" if action.pending else "md.verb.manual", lang)
            line = self._line(action, verb)
            if action.runbook is not None:
                path = " › ".join(esc(step) for step in action.runbook.navigation)
                line += f"  \n  _{t('md.label.runbook', lang)}_{_sep(lang)}{path}"
                if action.runbook.contact:
                    line += f" · _{t('md.label.contact', lang)}_{_sep(lang)}{esc(action.runbook.contact)}"
            lines.append(line)
        return self._list("md.section.manual", "🧰", actions, lines)

    def fees(self) -> Block | None:
        lang = self.lang
        actions = [a for a in self.plan.actions if a.fee is not None and a.fee.amount > 0]
        if not actions:
            return None
        title, head = self._table_head(
            "md.section.fees", "💶", len(actions),
            ("md.fees.binding", "md.fees.fee", "md.fees.commitment", "md.fees.outcome"), "| :-- | --: | :-- | :-- |",
        )
        rows = []
        max_fee = _max_fee(self.plan)
        for action in actions:
            terms = action.step("check-terms")
            until = str(terms.detail.get("commitment_end") or "") if terms else ""
            outcome = (
                t("md.fees.blocked", lang, max_fee=esc(max_fee))
                if action.action is Action.BLOCKED
                else t("md.fees.charged", lang)
            )
            rows.append(
                "| " + " | ".join([code(action.address, table=True), f"**{esc(action.fee)}**", esc(until), outcome]) + " |"
            )
        charged = [a.fee for a in actions if _fee_charged(a) and a.fee is not None]
        close = "\n" + t("md.fees.total", lang, amount=_money_total(charged)) + "\n" if charged else ""
        return Block(title=title, head=head, items=rows, close=close, more_command=self.command)

    def drift(self) -> Block | None:
        lang = self.lang
        actions = self.by_action[Action.DRIFT]
        if not actions:
            return None
        title, head = self._table_head(
            "md.section.drift", "🔀", len(actions),
            ("md.drift.binding", "md.drift.field", "md.drift.expected", "md.drift.actual"), "| :-- | :-- | :-- | :-- |",
        )
        rows = []
        for action in actions:
            where = f"{code(action.address, table=True)} ({esc(action.account)})"
            for name, change in sorted((action.diff or {}).items()):
                expected = change.get("expected") if isinstance(change, dict) else None
                actual = change.get("actual") if isinstance(change, dict) else change
                rows.append(
                    "| "
                    + " | ".join(
                        [where, code(name, table=True), code(_json(expected), table=True), code(_json(actual), table=True)]
                    )
                    + " |"
                )
                where = "″"
            if not action.diff:
                rows.append(f"| {where} |  | {esc(localize(action.reason, lang))} |  |")
        return Block(title=title, head=head, items=rows, more_command=self.command)

    def review(self) -> Block | None:
        actions = [a for a in self.plan.actions if a.action in REVIEW]
        lines = self._upto_limit(actions, lambda a: self._line(a, t(f"md.verb.{a.action.value}", self.lang), fee=False))
        return self._list("md.section.review", "👀", actions, lines)

    def notes(self) -> Block | None:
        lines = [f"- {esc(localize(n, self.lang))}" for n in self.plan.notes]
        if not lines:
            return None
        title = t("md.section.notes", self.lang)
        return Block(title=title, head=f"#### ⏰ {title}{_count(len(lines), self.lang)}\n\n", items=lines, more_command=self.command)

    # details ------------------------------------------------------------------------------------

    def _details(self, summary: str, body_head: str, items: list[str], body_tail: str = "", count: int = -1) -> Block:
        head = f"<details>\n<summary>{_html(summary)}</summary>\n\n{body_head}"
        return Block(
            title=summary,
            head=head,
            items=items,
            tail=body_tail,
            close="\n</details>\n",
            detail=True,
            more_command=self.command,
            count=count,
        )

    def steps(self) -> Block | None:
        lang = self.lang
        actions = [a for a in self.plan.actions if a.steps]
        if not actions:
            return None
        lines = []
        for action in actions:
            chain = " → ".join(
                esc(word("step", s.type, lang))
                + (t("plan.side_paren", lang, side=esc(word("side", str(s.detail["side"]), lang))) if s.type == "cancel" else "")
                for s in action.steps
            )
            check = action.step("check-permission")
            rights = ", ".join(code(r) for r in check.detail.get("rights", [])) if check else ""
            granted = check.detail.get("granted") if check else None
            flag = {True: "✅", False: "❌", None: "❔"}[granted] if rights else ""
            live = f"{esc(action.resource)} {code(action.live_id)}" if action.live_id else ""
            line = f"- {code(action.address)} · _{t('md.label.steps', lang)}_{_sep(lang)}{chain}"
            if rights:
                line += f" · _{t('md.label.rights', lang)}_{_sep(lang)}{rights} {flag}"
            if live:
                line += f" · _{t('md.label.live', lang)}_{_sep(lang)}{live}"
            lines.append(line)
        return self._details(t("md.details.steps", lang, count=f"{len(actions):,}"), "", lines)

    def messages(self) -> Block | None:
        lang = self.lang
        actions = [a for a in self.by_action[Action.MANUAL] if a.runbook is not None]
        items = []
        for action in actions:
            assert action.runbook is not None
            message = action.runbook.support_message.get(lang) or action.runbook.support_message.get("en", "")
            if not message:
                continue
            longest = max((len(run) for run in re.findall(r"`{3,}|~{3,}", message)), default=0)
            fence = "`" * max(3, longest + 1)
            body = _CONTROL.sub("", message.replace("\r\n", "\n").replace("\r", "\n"))
            body = body.replace("<!--", "<\u200b!--")  # never a second CI marker in the raw body
            items.append(f"{code(action.address)}\n\n{fence}text\n{body}\n{fence}\n")
        if not items:
            return None
        return self._details(t("md.details.messages", lang, count=f"{len(items):,}"), "", items)

    def graph(self) -> Block | None:
        lines = mermaid(self.plan, self.lang)
        if not lines:
            return None
        accounts = tn("md.n_accounts", len({a.account for a in self.plan.actions}), self.lang)
        bindings = tn("md.n_nodes", len(self.plan.actions), self.lang)
        summary = t("md.details.graph", self.lang, accounts=accounts, bindings=bindings)
        return self._details(summary, "```mermaid\n", lines, "```\n")

    def kept(self) -> Block | None:
        lang = self.lang
        actions = self.by_action[Action.KEEP]
        if not actions:
            return None
        head = f"| {t('md.kept.binding', lang)} | {t('md.kept.what', lang)} |\n| :-- | :-- |\n"
        rows = self._upto_limit(actions, lambda a: f"| {code(a.address, table=True)} | {_subject(a, lang)} |")
        return self._details(t("md.details.kept", lang, count=f"{len(actions):,}"), head, rows, count=len(actions))

    def state(self) -> Block | None:
        if self.audit or not self.state_changes:
            return None
        lines = self._upto_limit(self.state_changes, lambda address: f"- {code(address)}")
        count = len(self.state_changes)
        return self._details(t("md.details.state", self.lang, count=f"{count:,}"), "", lines, count=count)

    def footer(self) -> Block:
        plan = self.plan
        text = t(
            "md.footer",
            self.lang,
            version=esc(plan.tether_version),
            created=esc(plan.created_at),
            config=esc(plan.config_sha256.removeprefix("sha256:")[:12] or "-"),
            serial=plan.serial,
        )
        return Block(title="", head=f"<sub>{text}</sub>\n")

    def blocks(self) -> list[Block]:
        ordered = [
            self.header(),
            self.problems(),
            self.cancels(),
            self.blocked(),
            self.manual(),
            self.table(),
            self.fees(),
            self.drift(),
            self.review(),
            self.notes(),
            # details, in the order they are dropped last-first when space runs out
            self.messages(),
            self.steps(),
            self.graph(),
            self.state(),
            self.kept(),
        ]
        blocks = [b for b in ordered if b is not None]
        return blocks + [self.footer()]


def _count_cell(count: int, action: Action) -> str:
    if not count:
        return "·"
    if action in (Action.CANCEL, Action.BLOCKED):
        return f"**{count:,}**"
    return f"{count:,}"


# -- Mermaid -------------------------------------------------------------------------------------

# Mermaid reads these as syntax even inside a quoted label; each becomes a Mermaid entity code.
_MERMAID_CHARS = str.maketrans(
    {
        "#": "#35;",
        '"': "#quot;",
        ";": "#59;",
        "<": "#lt;",
        ">": "#gt;",
        "`": "#96;",
        "&": "#38;",
        "\\": "#92;",
        "|": "#124;",
        "{": "#123;",
        "}": "#125;",
        "[": "#91;",
        "]": "#93;",
    }
)
_GRAPH_PRIORITY = {a: i for i, a in enumerate(COLUMNS)}
_CLASSES = {
    Action.CANCEL: "cancel",
    Action.BLOCKED: "blocked",
    Action.MANUAL: "manual",
    Action.DRIFT: "review",
    Action.MISSING: "review",
    Action.AMBIGUOUS: "review",
    Action.UNMANAGED: "review",
    Action.KEEP: "keep",
}
_CLASS_DEFS = (
    "classDef account fill:#ffffff,stroke:#1f2328,stroke-width:2px,color:#1f2328",
    "classDef cancel fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#82071e",
    "classDef blocked fill:#ffeff7,stroke:#bf3989,stroke-width:3px,color:#772057",
    "classDef manual fill:#ddf4ff,stroke:#0969da,stroke-width:2px,color:#0a3069",
    "classDef review fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#4d2d00",
    "classDef keep fill:#f6f8fa,stroke:#d0d7de,color:#57606a",
    "classDef more fill:#ffffff,stroke:#d0d7de,stroke-dasharray:4 3,color:#57606a",
)


def _mermaid_label(text: object, width: int = 40) -> str:
    """A label that stays inside its quotes: every character Mermaid or HTML could read as
    syntax becomes a Mermaid entity code."""
    flat = _flat(text)
    if len(flat) > width:
        flat = flat[: width - 1] + "…"
    return flat.translate(_MERMAID_CHARS)


def _mermaid_id(prefix: str, name: str, used: set[str]) -> str:
    base = prefix + re.sub(r"[^A-Za-z0-9]", "_", name)[:40]
    ident, n = base, 2
    while ident in used:
        ident, n = f"{base}_{n}", n + 1
    used.add(ident)
    return ident


def mermaid(plan: Plan, lang: str, cap: int = GRAPH_CAP) -> list[str]:
    """``flowchart LR`` lines: one node per account, one per binding (at most ``cap``, the
    actionable ones first), cancels red, blocked magenta; the rest of an account folds into an
    "and N more" node."""
    if not plan.actions:
        return []
    used: set[str] = set()
    lines = ["flowchart LR"]
    providers: dict[str, str] = {}
    for action in plan.actions:  # each account's provider in one pass, not a scan per account
        providers.setdefault(action.account, action.provider)
    accounts = sorted(providers)
    account_ids = {}
    for account in accounts:
        ident = _mermaid_id("acc_", account, used)
        account_ids[account] = ident
        provider = providers[account]
        lines.append(f'  {ident}(["{_mermaid_label(account)}<br/><small>{_mermaid_label(provider)}</small>"])')
        lines.append(f"  class {ident} account")
    ranked = sorted(enumerate(plan.actions), key=lambda p: (_GRAPH_PRIORITY[p[1].action], p[0]))
    shown = {index for index, _ in ranked[:cap]}
    hidden: Counter[str] = Counter()
    for index, action in enumerate(plan.actions):
        if index not in shown:
            hidden[action.account] += 1
            continue
        ident = f"b{index + 1}"
        mark = {"cancel": "✂ ", "blocked": "⛔ "}.get(_CLASSES[action.action], "")
        label = _mermaid_label(action.name or action.integration or action.live_id or action.address)
        kind = _mermaid_label(f"{t(f'kind.{action.kind.value}', lang)} · {t(f'action.{action.action.value}', lang)}")
        lines.append(f'  {ident}["{mark}{label}<br/><small>{kind}</small>"]')
        arrow = "==>" if action.action is Action.CANCEL else "-.->" if action.action is Action.BLOCKED else "---"
        lines.append(f"  {account_ids[action.account]} {arrow} {ident}")
        lines.append(f"  class {ident} {_CLASSES[action.action]}")
    for account, count in sorted(hidden.items()):
        ident = _mermaid_id("more_", account, used)
        lines.append(f'  {ident}["{_mermaid_label(t("md.graph.more", lang, count=f"{count:,}"))}"]')
        lines.append(f"  {account_ids[account]} -.- {ident}")
        lines.append(f"  class {ident} more")
    lines.extend("  " + c for c in _CLASS_DEFS)
    return lines


# -- entry point ---------------------------------------------------------------------------------


def render_markdown(
    plan: Plan,
    lang: str = "en",
    *,
    state_changes: Iterable[str] = (),
    audit: bool = False,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The comment for a pull request (``audit=False``) or a scheduled audit (``audit=True``).

    Deterministic for a given plan; never longer than ``limit`` characters."""
    report = _Report(plan, lang, list(state_changes), audit, limit)
    return fit(report.blocks(), lang, limit, report.command)
