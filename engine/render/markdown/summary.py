"""The top of a comment: the verdict line, costs and backups, the table by account, the footer."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from engine.i18n import t, tn, word
from engine.model import Action
from engine.render import facts
from engine.render.markdown.escaping import code, esc
from engine.render.markdown.fitting import Block
from engine.render.markdown.words import (
    COLUMNS,
    REVIEW,
    count_cell,
    fee_blocked,
    fee_charged,
    max_fee,
    money_total,
    sep,
)

if TYPE_CHECKING:
    from engine.render.markdown.report import Report

MARKER_PLAN = "<!-- tether:plan -->"
MARKER_AUDIT = "<!-- tether:audit -->"



def verdict(ctx: Report) -> str:
    """One line: an icon (❌ incomplete, 🛑 blocked or a problem, ⚠️ changes or something
    to review, ✅ nothing), then what apply would do, what needs a look, and the fees."""
    plan, lang, count = ctx.plan, ctx.lang, ctx.by_action
    title = t("md.title.audit" if ctx.audit else "md.title.plan", lang)
    cancels = len(count[Action.CANCEL])
    blocked = len(count[Action.BLOCKED])
    # a plan counts the manual steps apply would record; an audit also the ones still waiting
    manual = sum(1 for a in count[Action.MANUAL] if ctx.audit or not a.pending)
    review = sum(len(count[a]) for a in (Action.DRIFT, *REVIEW))
    unverifiable = len(count[Action.UNVERIFIABLE])
    incomplete = plan.incomplete_accounts
    problems = plan.problems
    parts: list[str] = []
    if incomplete:
        parts.append(t("md.verdict.incomplete", lang, accounts=facts.account_names(incomplete, lang, quote=esc)))
    if cancels:
        parts.append(tn("md.part.cancel_audit" if ctx.audit else "md.part.cancel", cancels, lang))
    if blocked:
        parts.append(tn("md.part.blocked", blocked, lang))
    if manual:
        parts.append(tn("md.part.manual", manual, lang))
    if unverifiable:
        parts.append(tn("md.part.unverifiable", unverifiable, lang))
    if review:
        parts.append(tn("md.part.review", review, lang))
    if ctx.expired:
        parts.append(tn("md.part.expired", len(ctx.expired), lang))
    if problems and not blocked:
        parts.append(tn("md.part.problems", len(problems), lang))
    if cancels or blocked or manual:
        charged = [a.fee for a in plan.actions if fee_charged(a) and a.fee is not None]
        over = [a.fee for a in plan.actions if fee_blocked(a) and a.fee is not None]
        if charged:
            parts.append(t("md.part.fees", lang, amount=money_total(charged)))
        elif over:
            parts.append(t("md.part.fees_blocked", lang, amount=money_total(over)))
        else:
            parts.append(t("md.part.fees_none", lang))
    if not ctx.audit and not cancels and not manual and ctx.state_changes and not incomplete:
        if not parts:
            parts.append(t("md.part.nothing", lang))
        parts.append(tn("md.part.state", len(ctx.state_changes), lang))
    if not parts:
        parts.append(t("md.verdict.clean" if ctx.audit else "md.verdict.no_changes", lang))
    if incomplete:
        icon = "❌"
    elif blocked or plan.problems:
        icon = "🛑"
    elif cancels or manual or review or unverifiable or ctx.expired:
        icon = "⚠️"
    else:
        icon = "✅"
    return f"### {icon} {title}{sep(lang)}{' · '.join(parts)}"


def meta(ctx: Report) -> list[str]:
    plan, lang = ctx.plan, ctx.lang
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
        charged = [a.fee for a in acting if fee_charged(a) and a.fee is not None]
        blocked = [a.fee for a in acting if fee_blocked(a) and a.fee is not None]
        pieces = []
        if charged:
            pieces.append(t("md.meta.costs_charged", lang, amount=money_total(charged)))
        if blocked:
            pieces.append(t("md.meta.costs_blocked", lang, amount=money_total(blocked), max_fee=esc(max_fee(plan))))
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


def header(ctx: Report) -> Block:
    marker = MARKER_AUDIT if ctx.audit else MARKER_PLAN
    head = marker + "\n" + verdict(ctx) + "\n\n" + "  \n".join(meta(ctx)) + "\n"
    return Block(title="", head=head)


def table(ctx: Report) -> Block:
    plan, lang = ctx.plan, ctx.lang
    columns = [a for a in COLUMNS if ctx.by_action[a]]
    accounts = sorted(set(plan.refreshed) | {a.account for a in plan.actions})
    providers: dict[str, str] = {}
    for action in plan.actions:
        providers.setdefault(action.account, action.provider)
    hosts = facts.hosts(plan)
    labels = [t("md.table.account", lang), t("md.table.provider", lang)]
    if hosts:  # where each credential goes, so a reviewer sees a change of host
        labels.append(t("md.table.host", lang))
    labels.append(t("md.table.listed", lang))
    labels += [t(f"action.{a.value}", lang) for a in columns]
    title = t("md.section.accounts", lang)
    head = f"#### 📊 {title}\n\n| " + " | ".join(labels) + " |\n"
    head += "| :-- | :-- |" + (" :-- |" if hosts else "") + " --: |" + " --: |" * len(columns) + "\n"
    incomplete = set(plan.incomplete_accounts)
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
        if account in incomplete:
            listed += " ⚠️ " + t("md.table.partial", lang)
        cells = [f"**{esc(account)}**", esc(providers.get(account, ""))]
        if hosts:
            cells.append(code(hosts[account], table=True) if hosts.get(account) else "·")
        cells.append(listed)
        cells += [count_cell(mine[a], a) for a in columns]
        rows.append("| " + " | ".join(cells) + " |")
    total = [f"**{t('md.table.total', lang)}**", ""] + ([""] if hosts else []) + [f"**{sum(plan.refreshed.values()):,}**"]
    total += [f"**{totals[a]:,}**" for a in columns]
    tail = "| " + " | ".join(total) + " |\n" if len(accounts) > 1 else ""
    return Block(title=title, head=head, items=rows, tail=tail, more_command=ctx.command)


def footer(ctx: Report) -> Block:
    plan = ctx.plan
    text = t(
        "md.footer",
        ctx.lang,
        version=esc(plan.tether_version),
        created=esc(plan.created_at),
        config=esc(plan.config_sha256.removeprefix("sha256:")[:12] or "-"),
        serial=plan.serial,
    )
    return Block(title="", head=f"<sub>{text}</sub>\n")

