"""The lists a reviewer must read: problems, cancels, blocked, manual steps, fees, drift, the rest
to review, notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.i18n import t
from engine.model import Action
from engine.plan import PlannedAction
from engine.render import facts
from engine.render.markdown.escaping import code, esc, json_text
from engine.render.markdown.fitting import Block
from engine.render.markdown.words import REVIEW, count, fee_charged, max_fee, money_total, sep, subject

if TYPE_CHECKING:
    from engine.render.markdown.report import Report



def problems(ctx: Report) -> Block | None:
    """What stopped decisions (guards, an empty listing), then each incomplete listing by
    account and kind, naming the missing right where the vendor refused."""
    lang = ctx.lang
    lines = [f"- {esc(facts.text(p, lang))}" for p in ctx.plan.problems]
    for gap in facts.gaps(ctx.plan, lang):
        line = f"- {esc(gap.text)}"
        if gap.detail:
            line += t("md.label.vendor_said", lang, detail=code(gap.detail))
        lines.append(line)
    if not lines:
        return None
    title = t("md.section.problems", ctx.lang)
    return Block(title=title, head=f"#### ❗ {title}\n\n", items=lines, more_command=ctx.command)


def cancels(ctx: Report) -> Block | None:
    actions = ctx.by_action[Action.CANCEL]
    verb = t("md.verb.cancel_audit" if ctx.audit else "md.verb.cancel", ctx.lang)
    key = "md.section.cancel_audit" if ctx.audit else "md.section.cancel"
    return ctx.list_block(key, "✂️", len(actions), ctx.upto_limit(actions, lambda a: ctx.line(a, verb)))


def blocked(ctx: Report) -> Block | None:
    actions = ctx.by_action[Action.BLOCKED]
    verb = t("md.verb.blocked", ctx.lang)
    return ctx.list_block("md.section.blocked", "🛑", len(actions), ctx.upto_limit(actions, lambda a: ctx.line(a, verb)))


def manual(ctx: Report) -> Block | None:
    lang = ctx.lang
    actions = ctx.by_action[Action.MANUAL]
    lines = []
    for action in actions:
        verb = t("md.verb.pending" if action.pending else "md.verb.manual", lang)
        line = ctx.line(action, verb)
        if action.runbook is not None:
            path = " › ".join(esc(step) for step in action.runbook.navigation)
            line += f"  \n  _{t('md.label.runbook', lang)}_{sep(lang)}{path}"
            if action.runbook.contact:
                line += f" · _{t('md.label.contact', lang)}_{sep(lang)}{esc(action.runbook.contact)}"
        lines.append(line)
    return ctx.list_block("md.section.manual", "🧰", len(actions), lines)


def fees(ctx: Report) -> Block | None:
    lang = ctx.lang
    actions = [a for a in ctx.plan.actions if a.fee is not None and a.fee.amount > 0]
    if not actions:
        return None
    title, head = ctx.table_head(
        "md.section.fees", "💶", len(actions),
        ("md.fees.binding", "md.fees.fee", "md.fees.commitment", "md.fees.outcome"), "| :-- | --: | :-- | :-- |",
    )
    rows = []
    limit = max_fee(ctx.plan)
    for action in actions:
        terms = action.step("check-terms")
        until = str(terms.detail.get("commitment_end") or "") if terms else ""
        outcome = (
            t("md.fees.blocked", lang, max_fee=esc(limit))
            if action.action is Action.BLOCKED
            else t("md.fees.charged", lang)
        )
        rows.append(
            "| " + " | ".join([code(action.address, table=True), f"**{esc(action.fee)}**", esc(until), outcome]) + " |"
        )
    charged = [a.fee for a in actions if fee_charged(a) and a.fee is not None]
    close = "\n" + t("md.fees.total", lang, amount=money_total(charged)) + "\n" if charged else ""
    return Block(title=title, head=head, items=rows, close=close, more_command=ctx.command)


def drift(ctx: Report) -> Block | None:
    lang = ctx.lang
    actions = ctx.by_action[Action.DRIFT]
    if not actions:
        return None
    title, head = ctx.table_head(
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
                    [where, code(name, table=True), code(json_text(expected), table=True), code(json_text(actual), table=True)]
                )
                + " |"
            )
            where = "″"
        if not action.diff:
            rows.append(f"| {where} |  | {esc(facts.reason_text(action, lang))} |  |")
    return Block(title=title, head=head, items=rows, more_command=ctx.command)


def review(ctx: Report) -> Block | None:
    actions = [a for a in ctx.plan.actions if a.action in REVIEW]
    lines = ctx.upto_limit(actions, lambda a: ctx.line(a, t(f"md.verb.{a.action.value}", ctx.lang), fee=False))
    return ctx.list_block("md.section.review", "👀", len(actions), lines)


def notes(ctx: Report) -> Block | None:
    lines = [f"- {esc(facts.text(n, ctx.lang))}" for n in ctx.plan.notes]
    if not lines:
        return None
    title = t("md.section.notes", ctx.lang)
    return Block(title=title, head=f"#### ⏰ {title}{count(len(lines), ctx.lang)}\n\n", items=lines, more_command=ctx.command)



def unverifiable(ctx: Report) -> Block | None:
    """Absent declarations this credential cannot verify: what it cannot see, why, and how to
    see it (the reason says all three)."""
    lang = ctx.lang
    actions = ctx.by_action[Action.UNVERIFIABLE]
    verb = t("md.verb.unverifiable", lang)
    lines = ctx.upto_limit(actions, lambda a: ctx.line(a, verb, fee=False))
    return ctx.list_block("md.section.unverifiable", "🙈", len(actions), lines)


def scheduled(ctx: Report) -> Block | None:
    """Bindings declared absent that the vendor already ends, with the date where it says."""
    lang = ctx.lang
    actions = facts.scheduled(ctx.plan)

    def line(action: PlannedAction) -> str:
        date = facts.scheduled_date(action)
        when = t("md.scheduled.on", lang, date=esc(date)) if date else t("md.scheduled.undated", lang)
        return f"- {subject(action, lang)} — {when} · {code(action.address)}"

    return ctx.list_block("md.section.scheduled", "📅", len(actions), ctx.upto_limit(actions, line))
