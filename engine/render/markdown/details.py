"""The folded ``<details>`` blocks: steps and rights, support messages, the graph, kept bindings,
state changes. They are dropped first when a comment runs out of room."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.i18n import t, tn, word
from engine.model import Action
from engine.render.markdown.escaping import CONTROL, code, esc
from engine.render.markdown.fitting import Block
from engine.render.markdown.mermaid import mermaid
from engine.render.markdown.words import sep, subject

if TYPE_CHECKING:
    from engine.render.markdown.report import Report



def steps(ctx: Report) -> Block | None:
    lang = ctx.lang
    actions = [a for a in ctx.plan.actions if a.steps]
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
        line = f"- {code(action.address)} · _{t('md.label.steps', lang)}_{sep(lang)}{chain}"
        if rights:
            line += f" · _{t('md.label.rights', lang)}_{sep(lang)}{rights} {flag}"
        if live:
            line += f" · _{t('md.label.live', lang)}_{sep(lang)}{live}"
        lines.append(line)
    return ctx.details(t("md.details.steps", lang, count=f"{len(actions):,}"), "", lines)


def messages(ctx: Report) -> Block | None:
    lang = ctx.lang
    actions = [a for a in ctx.by_action[Action.MANUAL] if a.runbook is not None]
    items = []
    for action in actions:
        assert action.runbook is not None
        message = action.runbook.support_message.get(lang) or action.runbook.support_message.get("en", "")
        if not message:
            continue
        longest = max((len(run) for run in re.findall(r"`{3,}|~{3,}", message)), default=0)
        fence = "`" * max(3, longest + 1)
        body = CONTROL.sub("", message.replace("\r\n", "\n").replace("\r", "\n"))
        body = body.replace("<!--", "<\u200b!--")  # never a second CI marker in the raw body
        items.append(f"{code(action.address)}\n\n{fence}text\n{body}\n{fence}\n")
    if not items:
        return None
    return ctx.details(t("md.details.messages", lang, count=f"{len(items):,}"), "", items)


def graph(ctx: Report) -> Block | None:
    lines = mermaid(ctx.plan, ctx.lang)
    if not lines:
        return None
    accounts = tn("md.n_accounts", len({a.account for a in ctx.plan.actions}), ctx.lang)
    bindings = tn("md.n_nodes", len(ctx.plan.actions), ctx.lang)
    summary = t("md.details.graph", ctx.lang, accounts=accounts, bindings=bindings)
    return ctx.details(summary, "```mermaid\n", lines, "```\n")


def kept(ctx: Report) -> Block | None:
    lang = ctx.lang
    actions = ctx.by_action[Action.KEEP]
    if not actions:
        return None
    head = f"| {t('md.kept.binding', lang)} | {t('md.kept.what', lang)} |\n| :-- | :-- |\n"
    rows = ctx.upto_limit(actions, lambda a: f"| {code(a.address, table=True)} | {subject(a, lang)} |")
    return ctx.details(t("md.details.kept", lang, count=f"{len(actions):,}"), head, rows, count=len(actions))


def state(ctx: Report) -> Block | None:
    if ctx.audit or not ctx.state_changes:
        return None
    lines = ctx.upto_limit(ctx.state_changes, lambda address: f"- {code(address)}")
    count = len(ctx.state_changes)
    return ctx.details(t("md.details.state", ctx.lang, count=f"{count:,}"), "", lines, count=count)
