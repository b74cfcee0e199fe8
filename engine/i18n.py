"""Human output in English and Chinese. JSON output never goes through here: it stays neutral.

The language comes from ``--lang``, else ``TETHER_LANG``, else the locale (``LANG``/``LC_ALL``
starting with ``zh``), else English. A key missing from a catalog falls back to English, and a
test checks that both catalogs hold the same keys.
"""

from __future__ import annotations

import os
import re
from typing import Any

LANGS = ("en", "zh")

EN: dict[str, str] = {
    # actions, as labels in a plan
    "action.keep": "keep",
    "action.cancel": "cancel",
    "action.drift": "drift",
    "action.missing": "missing",
    "action.ambiguous": "ambiguous",
    "action.unmanaged": "unmanaged",
    "action.blocked": "blocked",
    "action.manual": "manual",
    # kinds
    "kind.carrier": "carrier",
    "kind.subscription": "subscription",
    "kind.app": "app",
    "kind.webhook": "webhook",
    # plan text
    "plan.header": "Refreshed {bindings} live binding(s) on {accounts} account(s). tether will do the following:",
    "audit.header": "Audited {bindings} live binding(s) on {accounts} account(s) against tether.yaml (read-only):",
    "audit.clean": "Clean: every live binding is declared and as expected.",
    "plan.no_changes": "No changes. The live integrations match tether.yaml and the state.",
    "plan.incomplete": "The plan is incomplete: {accounts} could not be listed fully, so nothing was decided there (see Problems).",
    "plan.summary": "Plan: {cancel} to cancel, {manual} manual, {blocked} blocked, {drift} drifted, {missing} missing, {ambiguous} ambiguous, {unmanaged} unmanaged, {keep} kept.",
    "plan.state_changes": "The state will record {count} change(s): {addresses}.",
    "plan.problems": "Problems:",
    "plan.notes": "Notes:",
    "plan.ignored": "{count} live binding(s) hidden by ignore rules.",
    "plan.reason": "reason",
    "plan.backup": "backup",
    "plan.rights": "rights",
    "plan.rights_none": "none needed",
    "plan.rights_ok": "held by this credential",
    "plan.rights_missing": "MISSING: {missing} (apply will refuse this binding)",
    "plan.rights_unknown": "the provider cannot say whether this credential holds them; it refuses the cancel if not",
    "plan.fee": "early-termination fee",
    "plan.steps": "steps",
    "plan.runbook": "runbook",
    "plan.support_message": "message to the vendor's support",
    "plan.pending": "pending since an earlier apply",
    "plan.on": "on",
    "plan.saved": "Saved the plan to {path}. Apply it with: tether apply {path}",
    "plan.next": "Run `tether apply` to carry this out.",
    # apply
    "apply.confirm": "Do you want to carry out these cancels? Only 'yes' will be accepted",
    "apply.cancelled_by_user": "Apply cancelled; nothing was changed.",
    "apply.no_tty": "apply needs confirmation: run it in a terminal, or pass --auto-approve (or a saved plan file) in CI.",
    "apply.nothing": "Nothing to apply. The state is up to date.",
    "apply.state_only": "Recorded {count} state change(s); nothing was cancelled.",
    "apply.preflight": "Checking {count} binding(s) on {account} against the plan...",
    "apply.backup": "{address}: backup {backup_id} written and verified ({datasets})",
    "apply.verified": "{address}: cancel verified",
    "apply.resume": "An earlier apply ({run_id}) stopped at {last_event} for {address}; re-reading it before acting.",
    "apply.result.cancelled": "cancelled and verified",
    "apply.result.scheduled": "cancel scheduled (ends at period end)",
    "apply.result.already-gone": "was already gone",
    "apply.result.manual-pending": "recorded as pending a manual step",
    "apply.result.blocked": "blocked",
    "apply.result.refused": "refused",
    "apply.result.skipped": "skipped",
    "apply.result.failed": "FAILED",
    "apply.blocked_skipped": "{address}: blocked, skipped ({reason})",
    "apply.complete": "Apply complete: {ok} done, {manual} waiting for a manual step, {failed} failed or refused, {blocked} blocked. Run id {run_id}.",
    "apply.audit": "Audit log: {path}",
    # misc
    "error": "Error",
    "state.empty": "The state records no bindings yet.",
    "backups.none": "No backups yet.",
    # phrases shared by the text and Markdown renderers
    "plan.describe": "{what}{name}{ident} on {account}",
    "plan.label": "{label}: ",
    "plan.side_paren": " ({side})",
    "plan.quoted": ' "{name}"',
    "plan.ident": " ({resource} {id})",
    "step.check-permission": "check-permission",
    "step.check-terms": "check-terms",
    "step.backup": "backup",
    "step.cancel": "cancel",
    "step.verify": "verify",
    "side.platform": "platform",
    "side.provider": "provider",
    "dataset.binding": "binding",
    "dataset.orders": "orders",
    "dataset.products": "products",
    "dataset.invoices": "invoices",
    "cancel_at.now": "now",
    "cancel_at.period_end": "at period end",
    # Markdown (pull-request comments, audit reports)
    "md.title.plan": "tether plan",
    "md.title.audit": "tether audit",
    "md.verdict.no_changes": "no changes; the live integrations match tether.yaml",
    "md.verdict.clean": "clean; every live binding matches tether.yaml",
    "md.verdict.incomplete": "incomplete: {accounts} could not be listed fully, so nothing is decided there",
    "md.part.cancel.one": "cancels 1 binding",
    "md.part.cancel.other": "cancels {count} bindings",
    "md.part.cancel_audit.one": "1 to cancel",
    "md.part.cancel_audit.other": "{count} to cancel",
    "md.part.blocked.one": "1 blocked",
    "md.part.blocked.other": "{count} blocked",
    "md.part.manual.one": "1 manual step",
    "md.part.manual.other": "{count} manual steps",
    "md.part.review.one": "1 to review",
    "md.part.review.other": "{count} to review",
    "md.part.state.one": "records 1 state change",
    "md.part.state.other": "records {count} state changes",
    "md.part.expired.one": "1 expired ignore rule",
    "md.part.expired.other": "{count} expired ignore rules",
    "md.part.problems.one": "1 problem",
    "md.part.problems.other": "{count} problems",
    "md.part.fees_none": "no fees",
    "md.part.nothing": "nothing to cancel",
    "md.part.fees": "fees {amount}",
    "md.part.fees_blocked": "fees {amount} blocked",
    "md.n_bindings.one": "1 live binding",
    "md.n_bindings.other": "{count} live bindings",
    "md.n_accounts.one": "1 account",
    "md.n_accounts.other": "{count} accounts",
    "md.meta.refreshed": "Listed {bindings} on {accounts}.",
    "md.meta.costs": "**Costs:** {text}.",
    "md.meta.costs_none": "no early-termination fee",
    "md.meta.costs_charged": "{amount} in early-termination fees, charged when apply cancels",
    "md.meta.costs_blocked": "{amount} blocked because it exceeds max_fee {max_fee}",
    "md.meta.accept_fees": "planned with --accept-fees",
    "md.meta.mass": "planned with --allow-mass-cancel",
    "md.meta.backups": "**Backups first:** every cancel starts with a checked backup of {what}.",
    "md.meta.backups_plus": "the binding itself, plus {datasets}",
    "md.meta.backups_binding": "the binding itself",
    "md.meta.dataset_count.one": "{dataset} (1 cancel)",
    "md.meta.dataset_count.other": "{dataset} ({count} cancels)",
    "md.meta.ignored.one": "**Ignore rules:** 1 live binding hidden by an active rule (counted here, not listed).",
    "md.meta.ignored.other": "**Ignore rules:** {count} live bindings hidden by active rules (counted here, not listed).",
    "md.meta.scope": "**Scope:** {scope}.",
    "md.meta.targets": "only {names}",
    "md.meta.excludes": "excluding {names}",
    "md.table.account": "account",
    "md.table.provider": "provider",
    "md.table.listed": "live",
    "md.table.total": "total",
    "md.table.partial": "partial",
    "md.section.problems": "Problems",
    "md.section.accounts": "By account",
    "md.section.cancel": "Will be cancelled",
    "md.section.cancel_audit": "Declared absent but still live",
    "md.section.blocked": "Blocked: apply skips these",
    "md.section.manual": "Manual steps: no API, follow the runbook",
    "md.section.fees": "Early-termination fees",
    "md.section.drift": "Drift: live values differ from expect",
    "md.section.review": "To review",
    "md.section.notes": "Expired ignore rules and notes",
    "md.details.steps": "Steps and rights of each cancel ({count})",
    "md.details.messages": "Messages for the vendors' support ({count})",
    "md.details.graph": "Graph: {accounts}, {bindings}",
    "md.n_nodes.one": "1 binding",
    "md.n_nodes.other": "{count} bindings",
    "md.details.kept": "Kept as declared ({count})",
    "md.details.state": "State changes apply will record ({count})",
    "md.verb.cancel": "Cancels",
    "md.verb.cancel_audit": "Would cancel",
    "md.verb.blocked": "Blocked",
    "md.verb.manual": "Manual",
    "md.verb.pending": "Waiting",
    "md.verb.drift": "Drifted",
    "md.verb.missing": "Missing",
    "md.verb.ambiguous": "Ambiguous",
    "md.verb.unmanaged": "Unmanaged",
    "md.subject": "{noun}{name} on **{account}**",
    "md.subject_declared": "{noun} declared as {name} on **{account}**",
    "md.label.why": "why",
    "md.label.backup": "backup",
    "md.label.fee": "fee",
    "md.label.ends": "ends {when}",
    "md.label.sides": "on the {sides} side",
    "md.label.runbook": "runbook",
    "md.label.contact": "contact",
    "md.label.rights_missing": "the credential lacks {rights}: apply will refuse it",
    "md.label.steps": "steps",
    "md.label.rights": "rights",
    "md.label.live": "live",
    "md.drift.binding": "binding",
    "md.drift.field": "field",
    "md.drift.expected": "tether.yaml expects",
    "md.drift.actual": "live value",
    "md.fees.binding": "binding",
    "md.fees.fee": "fee",
    "md.fees.commitment": "commitment ends",
    "md.fees.outcome": "outcome",
    "md.fees.charged": "charged when apply cancels",
    "md.fees.blocked": "blocked: over max_fee {max_fee}",
    "md.fees.total": "Charged if applied: {amount}.",
    "md.kept.binding": "binding",
    "md.kept.what": "what",
    "md.more.one": "… and 1 more not shown here (see {command})",
    "md.more.other": "… and {count} more not shown here (see {command})",
    "md.truncated": "**Truncated** to stay under GitHub's {limit}-character comment limit. Left out: {what}. See everything with {command}.",
    "md.truncated.items": "{hidden} of {total} entries of \"{section}\"",
    "md.truncated.section": "\"{section}\"",
    "md.truncated.tail": "the end of the report",
    "md.command.plan": "`tether show PLANFILE`",
    "md.command.audit": "`tether audit` (or `--format json`)",
    "md.footer": "tether {version} · {created} · config {config} · state serial {serial}",
    "md.graph.more": "… and {count} more",
}

ZH: dict[str, str] = {
    "action.keep": "保留",
    "action.cancel": "解除",
    "action.drift": "漂移",
    "action.missing": "缺失",
    "action.ambiguous": "不明确",
    "action.unmanaged": "未纳管",
    "action.blocked": "已阻止",
    "action.manual": "需人工",
    "kind.carrier": "物流渠道",
    "kind.subscription": "订阅服务",
    "kind.app": "应用",
    "kind.webhook": "数据推送",
    "plan.header": "已刷新 {accounts} 个账户上的 {bindings} 个在线绑定。tether 将执行以下操作：",
    "audit.header": "已按 tether.yaml 审计 {accounts} 个账户上的 {bindings} 个在线绑定（只读）：",
    "audit.clean": "一切正常：所有在线绑定均已声明且符合预期。",
    "plan.no_changes": "没有变更。在线集成与 tether.yaml 和状态文件一致。",
    "plan.incomplete": "计划不完整：{accounts} 未能完整列出，因此未对其做任何决定（见“问题”）。",
    "plan.summary": "计划：解除 {cancel} 个，人工处理 {manual} 个，阻止 {blocked} 个，漂移 {drift} 个，缺失 {missing} 个，不明确 {ambiguous} 个，未纳管 {unmanaged} 个，保留 {keep} 个。",
    "plan.state_changes": "状态文件将记录 {count} 处变更：{addresses}。",
    "plan.problems": "问题：",
    "plan.notes": "提示：",
    "plan.ignored": "有 {count} 个在线绑定被忽略规则隐藏。",
    "plan.reason": "原因",
    "plan.backup": "备份",
    "plan.rights": "权限",
    "plan.rights_none": "无需额外权限",
    "plan.rights_ok": "当前凭证已具备",
    "plan.rights_missing": "缺少：{missing}（apply 将拒绝处理此绑定）",
    "plan.rights_unknown": "服务商无法告知当前凭证是否具备这些权限；若不具备，服务商会拒绝解除",
    "plan.fee": "提前解约费",
    "plan.steps": "步骤",
    "plan.runbook": "操作手册",
    "plan.support_message": "发给服务商客服的消息",
    "plan.pending": "已在之前的 apply 中登记为待处理",
    "plan.on": "于",
    "plan.saved": "计划已保存到 {path}。执行：tether apply {path}",
    "plan.next": "运行 `tether apply` 执行此计划。",
    "apply.confirm": "确定要执行这些解除操作吗？只接受输入 'yes'",
    "apply.cancelled_by_user": "已取消 apply，未做任何更改。",
    "apply.no_tty": "apply 需要确认：请在终端中运行，或在 CI 中使用 --auto-approve（或已保存的计划文件）。",
    "apply.nothing": "没有需要执行的内容，状态已是最新。",
    "apply.state_only": "已记录 {count} 处状态变更；没有解除任何绑定。",
    "apply.preflight": "正在核对 {account} 上的 {count} 个绑定是否与计划一致……",
    "apply.backup": "{address}：备份 {backup_id} 已写入并校验（{datasets}）",
    "apply.verified": "{address}：解除已验证",
    "apply.resume": "之前的 apply（{run_id}）在 {address} 的 {last_event} 处中断；操作前先重新读取其在线状态。",
    "apply.result.cancelled": "已解除并验证",
    "apply.result.scheduled": "已安排在本期结束时解除",
    "apply.result.already-gone": "此前已不存在",
    "apply.result.manual-pending": "已登记，等待人工处理",
    "apply.result.blocked": "已阻止",
    "apply.result.refused": "已拒绝",
    "apply.result.skipped": "已跳过",
    "apply.result.failed": "失败",
    "apply.blocked_skipped": "{address}：已阻止，跳过（{reason}）",
    "apply.complete": "apply 完成：完成 {ok} 个，等待人工 {manual} 个，失败或拒绝 {failed} 个，阻止 {blocked} 个。运行编号 {run_id}。",
    "apply.audit": "审计日志：{path}",
    "error": "错误",
    "state.empty": "状态文件中还没有记录任何绑定。",
    "backups.none": "还没有备份。",
    "plan.describe": "{account} 上的{what}{name}{ident}",
    "plan.label": "{label}：",
    "plan.side_paren": "（{side}）",
    "plan.quoted": "“{name}”",
    "plan.ident": "（{resource} {id}）",
    "step.check-permission": "检查权限",
    "step.check-terms": "检查合同条款",
    "step.backup": "备份",
    "step.cancel": "解除",
    "step.verify": "验证",
    "side.platform": "平台侧",
    "side.provider": "服务商侧",
    "dataset.binding": "绑定本身",
    "dataset.orders": "订单",
    "dataset.products": "商品",
    "dataset.invoices": "发票",
    "cancel_at.now": "立即",
    "cancel_at.period_end": "本期末",
    "md.title.plan": "tether 计划",
    "md.title.audit": "tether 审计",
    "md.verdict.no_changes": "没有变更；在线集成与 tether.yaml 一致",
    "md.verdict.clean": "一切正常；每个在线绑定都与 tether.yaml 一致",
    "md.verdict.incomplete": "不完整：{accounts} 未能完整列出，因此未对其做任何决定",
    "md.part.cancel.one": "解除 1 个绑定",
    "md.part.cancel.other": "解除 {count} 个绑定",
    "md.part.cancel_audit.one": "应解除 1 个",
    "md.part.cancel_audit.other": "应解除 {count} 个",
    "md.part.blocked.one": "阻止 1 个",
    "md.part.blocked.other": "阻止 {count} 个",
    "md.part.manual.one": "人工处理 1 个",
    "md.part.manual.other": "人工处理 {count} 个",
    "md.part.review.one": "待核查 1 个",
    "md.part.review.other": "待核查 {count} 个",
    "md.part.state.one": "记录 1 处状态变更",
    "md.part.state.other": "记录 {count} 处状态变更",
    "md.part.expired.one": "1 条忽略规则已过期",
    "md.part.expired.other": "{count} 条忽略规则已过期",
    "md.part.problems.one": "1 个问题",
    "md.part.problems.other": "{count} 个问题",
    "md.part.fees_none": "无解约费",
    "md.part.nothing": "没有需要解除的绑定",
    "md.part.fees": "解约费 {amount}",
    "md.part.fees_blocked": "解约费 {amount} 已阻止",
    "md.n_bindings.one": "1 个在线绑定",
    "md.n_bindings.other": "{count} 个在线绑定",
    "md.n_accounts.one": "1 个账户",
    "md.n_accounts.other": "{count} 个账户",
    "md.meta.refreshed": "已列出 {accounts}上的 {bindings}。",
    "md.meta.costs": "**费用**：{text}。",
    "md.meta.costs_none": "没有提前解约费",
    "md.meta.costs_charged": "apply 解除时将产生 {amount} 提前解约费",
    "md.meta.costs_blocked": "{amount} 因超过 max_fee {max_fee} 被阻止",
    "md.meta.accept_fees": "计划使用了 --accept-fees",
    "md.meta.mass": "计划使用了 --allow-mass-cancel",
    "md.meta.backups": "**先备份**：每次解除前都会先备份并校验{what}。",
    "md.meta.backups_plus": "绑定本身，以及{datasets}",
    "md.meta.backups_binding": "绑定本身",
    "md.meta.dataset_count.one": "{dataset}（1 个解除）",
    "md.meta.dataset_count.other": "{dataset}（{count} 个解除）",
    "md.meta.ignored.one": "**忽略规则**：有 1 个在线绑定被有效的忽略规则隐藏（此处只计数，不列出）。",
    "md.meta.ignored.other": "**忽略规则**：有 {count} 个在线绑定被有效的忽略规则隐藏（此处只计数，不列出）。",
    "md.meta.scope": "**范围**：{scope}。",
    "md.meta.targets": "仅 {names}",
    "md.meta.excludes": "排除 {names}",
    "md.table.account": "账户",
    "md.table.provider": "服务商",
    "md.table.listed": "在线",
    "md.table.total": "合计",
    "md.table.partial": "不完整",
    "md.section.problems": "问题",
    "md.section.accounts": "按账户统计",
    "md.section.cancel": "将被解除",
    "md.section.cancel_audit": "已声明为 absent 但仍在线",
    "md.section.blocked": "已阻止：apply 会跳过",
    "md.section.manual": "需人工处理：没有 API，请按操作手册执行",
    "md.section.fees": "提前解约费",
    "md.section.drift": "漂移：在线值与 expect 不一致",
    "md.section.review": "待核查",
    "md.section.notes": "已过期的忽略规则与提示",
    "md.details.steps": "每个解除的步骤与权限（{count} 个）",
    "md.details.messages": "发给服务商客服的消息（{count} 条）",
    "md.details.graph": "关系图：{accounts}，{bindings}",
    "md.n_nodes.one": "1 个绑定",
    "md.n_nodes.other": "{count} 个绑定",
    "md.details.kept": "按声明保留（{count} 个）",
    "md.details.state": "apply 将记录的状态变更（{count} 处）",
    "md.verb.cancel": "解除",
    "md.verb.cancel_audit": "应解除",
    "md.verb.blocked": "已阻止",
    "md.verb.manual": "需人工",
    "md.verb.pending": "等待人工",
    "md.verb.drift": "漂移",
    "md.verb.missing": "缺失",
    "md.verb.ambiguous": "不明确",
    "md.verb.unmanaged": "未纳管",
    "md.subject": "**{account}** 上的{noun}{name}",
    "md.subject_declared": "**{account}** 上声明为 {name} 的{noun}",
    "md.label.why": "原因",
    "md.label.backup": "备份",
    "md.label.fee": "费用",
    "md.label.ends": "{when}终止",
    "md.label.sides": "在{sides}",
    "md.label.runbook": "操作路径",
    "md.label.contact": "联系方式",
    "md.label.rights_missing": "当前凭证缺少 {rights}：apply 将拒绝处理",
    "md.label.steps": "步骤",
    "md.label.rights": "权限",
    "md.label.live": "在线对象",
    "md.drift.binding": "绑定",
    "md.drift.field": "字段",
    "md.drift.expected": "tether.yaml 期望",
    "md.drift.actual": "在线值",
    "md.fees.binding": "绑定",
    "md.fees.fee": "费用",
    "md.fees.commitment": "合同期至",
    "md.fees.outcome": "结果",
    "md.fees.charged": "apply 解除时收取",
    "md.fees.blocked": "已阻止：超过 max_fee {max_fee}",
    "md.fees.total": "如执行将收取：{amount}。",
    "md.kept.binding": "绑定",
    "md.kept.what": "对象",
    "md.more.one": "……另有 1 项未在此列出（见 {command}）",
    "md.more.other": "……另有 {count} 项未在此列出（见 {command}）",
    "md.truncated": "**已截断**，以保持在 GitHub 评论 {limit} 字符的上限之内。省略了：{what}。查看完整内容：{command}。",
    "md.truncated.items": "“{section}”中的 {hidden} 项（共 {total} 项）",
    "md.truncated.section": "“{section}”",
    "md.truncated.tail": "报告的末尾",
    "md.command.plan": "`tether show PLANFILE`",
    "md.command.audit": "`tether audit`（或 `--format json`）",
    "md.footer": "tether {version} · {created} · 配置 {config} · 状态序号 {serial}",
    "md.graph.more": "……另有 {count} 个",
}

CATALOGS = {"en": EN, "zh": ZH}


def detect_lang(explicit: str | None = None) -> str:
    for candidate in (explicit, os.environ.get("TETHER_LANG")):
        if candidate:
            code = candidate.lower()[:2]
            if code in LANGS:
                return code
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def t(key: str, lang: str = "en", **fields: Any) -> str:
    template = CATALOGS.get(lang, EN).get(key) or EN.get(key, key)
    return template.format(**fields) if fields else template


def tn(key: str, count: int, lang: str = "en", **fields: Any) -> str:
    """A counted phrase: ``key.one`` for exactly one, ``key.other`` otherwise (both catalogs
    hold both forms; Chinese simply repeats itself)."""
    return t(f"{key}.{'one' if count == 1 else 'other'}", lang, count=f"{count:,}", **fields)


def word(group: str, value: str, lang: str = "en") -> str:
    """A translated identifier (a step, side or dataset name), or the identifier itself when
    the catalog does not know it: an unknown dataset is still shown, just untranslated."""
    key = f"{group}.{value}"
    return t(key, lang) if key in EN else value


# -- sentences the planner writes ----------------------------------------------------------------
#
# The planner records its reasons, problems and notes as English sentences (they are part of the
# saved plan, which stays language-neutral). Human output in another language translates the ones
# it recognises and shows any other sentence as it is, so a new planner message is never lost,
# only untranslated until a pattern is added here. tests/render checks that every sentence the
# golden cases produce is recognised.

_PATTERNS: list[tuple[re.Pattern[str], dict[str, str]]] = []


def _sentence(pattern: str, zh: str, nested: tuple[str, ...] = ()) -> None:
    _PATTERNS.append((re.compile(pattern + r"\Z", re.DOTALL), {"zh": zh, "nested": ",".join(nested)}))


_sentence(r"declared absent; finishing a cancel already done on (?P<sides>.+)", "已声明为 absent（应不存在）；继续完成已在 {sides} 侧完成的解除")
_sentence(r"declared absent", "已声明为 absent（应不存在）")
_sentence(r"not declared, and defaults\.undeclared is cancel; finishing a cancel already done on (?P<sides>.+)", "未声明，且 defaults.undeclared 为 cancel；继续完成已在 {sides} 侧完成的解除")
_sentence(r"not declared, and defaults\.undeclared is cancel", "未声明，且 defaults.undeclared 为 cancel")
_sentence(r"present as declared", "与声明一致")
_sentence(r"live, but no integration declares it", "在线存在，但没有任何集成声明它")
_sentence(r"live value differs from expect: (?P<fields>.+)", "在线值与 expect 不一致：{fields}")
_sentence(
    r"no live (?P<kind>\w+) on (?P<account>\S+) matches (?P<selector>.+) \(but the listing failed or was partial, so it may exist\)",
    "{account} 上没有匹配 {selector} 的在线{kind}（但列表获取失败或不完整，它可能存在）",
)
_sentence(r"no live (?P<kind>\w+) on (?P<account>\S+) matches (?P<selector>.+)", "{account} 上没有匹配 {selector} 的在线{kind}")
_sentence(
    r"(?P<count>\d+) live bindings match (?P<selector>.+) \((?P<ids>[^()]*)\); narrow the match, for example by id",
    "有 {count} 个在线绑定匹配 {selector}（{ids}）；请收窄 match，例如按 id 匹配",
)
_sentence(
    r"waiting for a human to remove it in the vendor's back office; confirm it there, then the next plan will see it gone",
    "等待有人在服务商后台删除它；请在后台确认，下一次 plan 会发现它已消失",
)
_sentence(r"no API can cancel this binding: follow the runbook", "没有可解除此绑定的 API：请按操作手册处理")
_sentence(r"no cancel decided: (?P<inner>.+)", "未做解除决定：{inner}", ("inner",))
_sentence(r"(?P<account>[a-z0-9][a-z0-9_-]*): no cancel decided because (?P<inner>.+)", "{account}：未做解除决定，因为{inner}", ("inner",))
_sentence(r"the listing was partial \((?P<problems>.*)\)", "列表不完整（{problems}）")
_sentence(
    r"the provider returned no bindings at all, but the state records some; this looks like an outage or a wrong credential",
    "服务商没有返回任何绑定，但状态文件中记录了一些；这像是服务中断或凭证有误",
)
_sentence(r"protected \(protect: true\)", "受保护（protect: true）")
_sentence(
    r"protected in the state; set protect: false on its integration and apply that first \(two steps, on purpose\)",
    "已在状态文件中受保护；请先在其集成上设置 protect: false 并 apply（有意分两步）",
)
_sentence(r"(?P<provider>\S+) cannot back up (?P<datasets>.+); it offers: the binding only", "{provider} 无法备份 {datasets}；它只能备份绑定本身")
_sentence(r"(?P<provider>\S+) cannot back up (?P<datasets>.+); it offers: (?P<offers>.+)", "{provider} 无法备份 {datasets}；它支持：{offers}")
_sentence(r"(?P<provider>\S+) cannot cancel on side (?P<sides>.+)", "{provider} 无法在 {sides} 侧解除")
_sentence(
    r"(?P<provider>\S+) cannot end this subscription at (?P<at>\S+) \(it can: (?P<can>.+)\); set cancel_at: (?P<set>.+) on the integration if that is acceptable",
    "{provider} 无法在 {at} 结束此订阅（它支持：{can}）；如可接受，请在该集成上设置 cancel_at: {set}",
)
_sentence(
    r"early-termination fee (?P<fee>.+) is in another currency than max_fee (?P<limit>.+); review it and run with --accept-fees",
    "提前解约费 {fee} 与 max_fee {limit} 币种不同；请核对后使用 --accept-fees 运行",
)
_sentence(
    r"early-termination fee (?P<fee>.+) exceeds max_fee (?P<limit>.+); review the contract and run with --accept-fees",
    "提前解约费 {fee} 超过 max_fee {limit}；请核对合同后使用 --accept-fees 运行",
)
_sentence(
    r"the plan would cancel (?P<count>\d+) bindings, more than max_cancels \((?P<limit>\d+)\); review it and run with --allow-mass-cancel",
    "计划将解除 {count} 个绑定，超过 max_cancels（{limit}）；请核对后使用 --allow-mass-cancel 运行",
)
_sentence(
    r"the plan would cancel every binding of (?P<account>\S+) \((?P<count>\d+)\); review it and run with --allow-mass-cancel",
    "计划将解除 {account} 的全部绑定（{count} 个）；请核对后使用 --allow-mass-cancel 运行",
)
_sentence(
    r"ignore rule #(?P<number>\d+) \((?P<reason>.*); owner (?P<owner>\S+)\) expired on (?P<date>\S+) and no longer hides (?P<what>\S+)",
    "忽略规则 #{number}（{reason}；负责人 {owner}）已于 {date} 过期，不再隐藏 {what}",
)


def known_sentence(text: str) -> bool:
    """Whether ``localize`` recognises this planner sentence (tests use it)."""
    return any(pattern.match(text) for pattern, _ in _PATTERNS)


def localize(text: str, lang: str = "en") -> str:
    """A planner sentence (reason, problem, note) in ``lang``; unknown sentences stay as written."""
    if lang == "en" or lang not in CATALOGS:
        return text
    for pattern, templates in _PATTERNS:
        found = pattern.match(text)
        if not found:
            continue
        template = templates.get(lang)
        if not template:
            return text
        fields = dict(found.groupdict())
        for name in filter(None, templates["nested"].split(",")):
            fields[name] = localize(fields[name], lang)
        if "kind" in fields:
            fields["kind"] = word("kind", fields["kind"], lang)
        return template.format(**fields)
    return text
