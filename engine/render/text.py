"""Terraform-like text for humans: one symbol and one line per binding, details indented.

After the bindings come the findings a reader must not miss, each in its own section: what
this credential cannot verify (and how to see it), the problems and the incomplete listings
(per account and kind, naming the missing right), cancels the vendor already scheduled (with
their date), and the host each account's credential goes to. Every sentence is rendered from a
code (``engine.i18n``); a long run of unmanaged bindings is counted per account and kind, with
the first few listed (all of them with ``verbose``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache

from rich.cells import cell_len
from rich.control import STRIP_CONTROL_CODES
from rich.text import Span, Text

from engine.apply import ApplyResult, Outcome
from engine.i18n import render_reason, t, word
from engine.model import Action, Kind
from engine.plan import Plan, PlannedAction
from engine.render import facts

STYLES = {
    Action.KEEP: "dim",
    Action.CANCEL: "bold red",
    Action.DRIFT: "yellow",
    Action.MISSING: "yellow",
    Action.AMBIGUOUS: "bold yellow",
    Action.UNMANAGED: "cyan",
    Action.BLOCKED: "bold magenta",
    Action.MANUAL: "bold blue",
    Action.UNVERIFIABLE: "bold yellow",
}

OUTCOME_STYLES = {
    Outcome.CANCELLED: "green",
    Outcome.SCHEDULED: "green",
    Outcome.ALREADY_GONE: "green",
    Outcome.MANUAL_PENDING: "blue",
    Outcome.BLOCKED: "magenta",
    Outcome.REFUSED: "bold red",
    Outcome.SKIPPED: "yellow",
    Outcome.FAILED: "bold red",
}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# The control codes rich's Text.append strips. A regex finds them in one pass whatever the text;
# rich's own check (str.translate with a table) is slow on text that is not ASCII, Chinese plans.
_RICH_STRIPS = re.compile("[" + "".join(re.escape(chr(code)) for code in STRIP_CONTROL_CODES) + "]")

# What a vendor's text may not bring into a terminal: line breaks (a binding named
# "x\n  - cancel ..." would forge a plan line), escape sequences, other control characters.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` on one line with every control character shown as an escape (``\\n``,
    ``\\x1b``): what a vendor sent stays visible, and cannot move the cursor or start a line."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: json.dumps(m.group())[1:-1], text)


def describe(action: PlannedAction, lang: str) -> str:
    """Business-level words: 'webhook orders/create on shop-eu' (word order is the catalog's)."""
    what = _kind_word(action.kind, lang)
    name = t("plan.quoted", lang, name=action.name) if action.name else ""
    ident = t("plan.ident", lang, resource=action.resource, id=action.live_id) if action.live_id else ""
    return one_line(t("plan.describe", lang, what=what, name=name, ident=ident, account=action.account))


# The words that depend only on the language, looked up once per render, not once per action.


@cache
def _kind_word(kind: Kind, lang: str) -> str:
    return t(f"kind.{kind.value}", lang)


@cache
def _head(action: Action, lang: str) -> tuple[str, str]:
    """The symbol and the padded action word that start an action's line."""
    return f"  {action.symbol} ", _pad(t(f"action.{action.value}", lang))


@cache
def _label(key: str, lang: str) -> str:
    """'reason: ' in English, '原因：' in Chinese (a full-width colon carries its own space)."""
    return t("plan.label", lang, label=t(key, lang))


def _pad(label: str, width: int = 10) -> str:
    """Pad by terminal cells, not characters: a Chinese label is twice as wide as it is long."""
    return label + " " * max(1, width - cell_len(label))


def _datasets(action: PlannedAction, lang: str) -> str:
    return " + ".join(word("dataset", d, lang) for d in action.datasets)


def step_chain(action: PlannedAction, lang: str) -> str:
    """'check-permission -> ... -> cancel (platform) -> verify', in the reader's language."""
    parts = []
    for step in action.steps:
        name = word("step", step.type, lang)
        if step.type == "cancel":
            name += t("plan.side_paren", lang, side=word("side", str(step.detail["side"]), lang))
        parts.append(name)
    return " -> ".join(parts)


def _rights_line(action: PlannedAction, lang: str) -> str:
    step = action.step("check-permission")
    if step is None:
        return ""
    rights = step.detail.get("rights", [])
    if not rights:
        return t("plan.rights_none", lang)
    names = ", ".join(rights)
    granted = step.detail.get("granted")
    if granted is True:
        return t("plan.label", lang, label=names) + t("plan.rights_ok", lang)
    if granted is False:
        return t("plan.label", lang, label=names) + t("plan.rights_missing", lang, missing=", ".join(step.detail.get("missing", [])))
    return t("plan.label", lang, label=names) + t("plan.rights_unknown", lang)


class _Pieces:
    """Text and its styles gathered piece by piece, made into one rich ``Text`` at the end.

    ``Text.append`` checks every piece for control codes and adds its span on its own: for the
    plan of 500 shops (139,000 actions, 560,000 pieces) that was most of the rendering. Here the
    pieces are joined once and checked once; only text that holds a control code rich strips
    (a vendor's name with a carriage return, say) is appended piece by piece, as rich would.
    """

    def __init__(self) -> None:
        self.parts: list[tuple[str, str]] = []

    def append(self, text: str, style: str = "") -> None:
        self.parts.append((text, style))

    def text(self) -> Text:
        joined = "".join(text for text, _ in self.parts)
        if _RICH_STRIPS.search(joined) is not None:
            out = Text()
            for text, style in self.parts:
                out.append(text, style=style or None)
            return out
        spans, position = [], 0
        for text, style in self.parts:
            end = position + len(text)
            if style and end > position:
                spans.append(Span(position, end, style))
            position = end
        return Text(joined, spans=spans)


def action_lines(out: _Pieces, action: PlannedAction, lang: str, *, verbose: bool = False) -> None:
    """The lines of one action, added to ``out``."""
    symbol, label = _head(action.action, lang)
    style = STYLES[action.action]
    out.append(symbol, style=style)
    out.append(label, style=style)
    out.append(one_line(action.address), style="bold")
    out.append(f"  {describe(action, lang)}\n")
    if action.action is Action.KEEP and not verbose:
        return
    out.append(f"      {_label('plan.reason', lang)}{one_line(facts.reason_text(action, lang))}\n", style="dim" if action.action is Action.KEEP else "")
    if action.app:
        out.append(f"      {_label('plan.app', lang)}{one_line(action.app)}\n")
    if action.diff:
        for field, change in sorted(action.diff.items()):
            out.append(f"      ~ {one_line(field)}: ", style="yellow")
            out.append(f"{_json(change.get('expected'))} -> {_json(change.get('actual'))}\n")
    if action.action in (Action.CANCEL, Action.BLOCKED, Action.MANUAL):
        if action.datasets:
            out.append(f"      {_label('plan.backup', lang)}{_datasets(action, lang)}\n")
        rights = _rights_line(action, lang)
        if rights:
            out.append(f"      {_label('plan.rights', lang)}{rights}\n")
        if action.fee is not None:
            out.append(f"      {_label('plan.fee', lang)}{action.fee}\n")
        if action.action is Action.CANCEL:
            out.append(f"      {_label('plan.steps', lang)}{step_chain(action, lang)}\n", style="dim")
    if action.runbook is not None:
        if action.pending:
            out.append(f"      {t('plan.pending', lang)}\n", style="blue")
        out.append(f"      {_label('plan.runbook', lang)}{one_line(' > '.join(action.runbook.navigation))}\n")
        if action.runbook.contact:
            out.append(f"      {_label('md.label.contact', lang)}{one_line(action.runbook.contact)}\n")
        message = action.runbook.support_message.get(lang) or action.runbook.support_message.get("en", "")
        if message:
            out.append(f"      {_label('plan.support_message', lang).rstrip()}\n")
            for line in message.splitlines():
                out.append(f"        | {one_line(line)}\n", style="dim")


def render_plan(
    plan: Plan, lang: str = "en", *, state_changes: Iterable[str] = (), verbose: bool = False, audit: bool = False
) -> Text:
    """The plan for a person; with ``audit`` the same report read as findings, not intentions.
    ``verbose`` shows the reasons of kept bindings and lists every unmanaged binding."""
    out = _Pieces()
    changes = [] if audit else list(state_changes)
    header = "audit.header" if audit else "plan.header"
    out.append(t(header, lang, accounts=len(plan.refreshed), bindings=sum(plan.refreshed.values())) + "\n\n")
    unmanaged = [a for a in plan.actions if facts.is_summarised(a)]
    summary = facts.summarise(unmanaged, verbose=verbose)
    folded = len(unmanaged) > len(summary.shown)
    shown = {id(a) for a in summary.shown}
    unverifiable = []
    for action in plan.actions:
        if action.action is Action.UNVERIFIABLE:
            unverifiable.append(action)
        elif not folded or action.action is not Action.UNMANAGED or id(action) in shown:
            action_lines(out, action, lang, verbose=verbose)
    if folded:
        _unmanaged_summary(out, summary, lang)
    if unverifiable:
        out.append("\n" + t("plan.unverifiable", lang) + "\n", style="bold yellow")
        for action in unverifiable:
            action_lines(out, action, lang, verbose=verbose)
    _findings(out, plan, lang)
    out.append("\n")
    out.append(t("plan.summary", lang, **plan.summary) + "\n", style="bold")
    if changes:
        listed = ", ".join(changes[:5]) + (" ..." if len(changes) > 5 else "")
        out.append(t("plan.state_changes", lang, count=len(changes), addresses=listed) + "\n")
    if not plan.is_complete:
        accounts = facts.account_names(plan.incomplete_accounts, lang)
        out.append(t("plan.incomplete", lang, accounts=accounts) + "\n", style="bold red")
    elif audit and not plan.needs_attention():
        out.append(t("audit.clean", lang) + "\n", style="green")
    elif not audit and not any(a.actionable for a in plan.actions) and not changes:
        out.append(t("plan.no_changes", lang) + "\n", style="green")
    return out.text()


def _unmanaged_summary(out: _Pieces, summary: facts.Summary, lang: str) -> None:
    """The counts of unmanaged bindings per account and kind, and how many were not listed."""
    out.append("\n" + t("plan.unmanaged_summary", lang, count=f"{summary.total:,}") + "\n", style="cyan")
    for account, kind, count in summary.counts:
        line = t("plan.unmanaged_count", lang, account=account, kind=_kind_word(Kind(kind), lang), count=f"{count:,}")
        out.append(f"  {one_line(line)}\n")
    hidden = summary.total - len(summary.shown)
    out.append("  " + t("plan.unmanaged_more", lang, count=f"{hidden:,}") + "\n", style="dim")


def _findings(out: _Pieces, plan: Plan, lang: str) -> None:
    """Problems, incomplete listings, scheduled cancels, notes, hosts, ignored bindings."""
    if plan.problems:
        out.append("\n" + t("plan.problems", lang) + "\n", style="bold red")
        for problem in plan.problems:
            out.append(f"  ! {one_line(render_reason(problem, lang))}\n", style="red")
    gaps = facts.gaps(plan, lang)
    if gaps:
        out.append("\n" + t("plan.gaps", lang) + "\n", style="bold red")
        for gap in gaps:
            out.append(f"  ! {one_line(gap.text)}\n", style="red")
            if gap.detail:
                out.append(f"      {_label('plan.vendor_said', lang)}{one_line(gap.detail)}\n", style="dim")
    scheduled = facts.scheduled(plan)
    if scheduled:
        out.append("\n" + t("plan.scheduled", lang) + "\n", style="bold")
        for action in scheduled:
            date = facts.scheduled_date(action)
            when = t("plan.scheduled_on", lang, date=date) if date else t("plan.scheduled_undated", lang)
            line = t("plan.scheduled_line", lang, address=action.address, what=describe(action, lang), when=when)
            line = one_line(line)
            out.append(f"  - {line}\n")
    if plan.notes:
        out.append("\n" + t("plan.notes", lang) + "\n", style="bold")
        for note in plan.notes:
            out.append(f"  * {one_line(render_reason(note, lang))}\n")
    hosts = facts.hosts(plan)
    if hosts:
        out.append("\n" + t("plan.hosts", lang) + "\n", style="bold")
        for account, host in hosts.items():
            out.append("  " + one_line(t("plan.host_line", lang, account=account, host=host)) + "\n")
    if plan.ignored:
        out.append("\n" + t("plan.ignored", lang, count=plan.ignored) + "\n", style="dim")


def render_apply(result: ApplyResult, lang: str = "en") -> Text:
    out = Text("\n")
    for item in result.results:
        style = OUTCOME_STYLES[item.outcome]
        out.append(f"  {one_line(item.action.address)}: ", style="bold")
        out.append(t(f"apply.result.{item.outcome.value}", lang), style=style)
        if item.detail and item.outcome not in (Outcome.CANCELLED, Outcome.SCHEDULED):
            out.append(f" ({one_line(item.detail)})")
        if item.backup_id:
            out.append(f"  [backup {item.backup_id}]", style="dim")
        out.append("\n")
        if item.runbook is not None:
            out.append(f"      {_label('plan.runbook', lang)}{one_line(' > '.join(item.runbook.navigation))}\n")
    for action in result.blocked:
        line = t("apply.blocked_skipped", lang, address=action.address, reason=render_reason(action.why, lang))
        out.append(one_line(line) + "\n", style="magenta")
    counts = {
        "ok": sum(1 for r in result.results if r.outcome in (Outcome.CANCELLED, Outcome.SCHEDULED, Outcome.ALREADY_GONE)),
        "manual": sum(1 for r in result.results if r.outcome is Outcome.MANUAL_PENDING),
        "failed": sum(1 for r in result.results if not r.outcome.ok and r.outcome is not Outcome.BLOCKED),
        "blocked": len(result.blocked) + sum(1 for r in result.results if r.outcome is Outcome.BLOCKED),
    }
    out.append("\n" + t("apply.complete", lang, run_id=result.run_id, **counts) + "\n", style="bold green" if result.ok else "bold red")
    return out
