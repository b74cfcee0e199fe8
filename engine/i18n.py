"""Human output in English and Chinese. JSON output never goes through here: it stays neutral.

The language comes from ``--lang``, else ``TETHER_LANG``, else the locale (``LANG``/``LC_ALL``
starting with ``zh``), else English. A key missing from a catalog falls back to English, and a
test checks that both catalogs hold the same keys.
"""

from __future__ import annotations

import os
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
