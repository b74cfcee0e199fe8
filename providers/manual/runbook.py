"""The runbook a human follows where no API can cancel: where to click, what to send.

The support message is meant to be pasted as is into a vendor's support chat or mail, so it
names everything support needs to find the binding (vendor, shop, binding name and id, where it
is in the back office) and asks for written confirmation, which is what a seller later needs to
mark the binding done. It is written in English and in Simplified Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.sdk.model import Kind, LiveBinding, Runbook


@dataclass(frozen=True)
class _Words:
    noun_en: str
    imperative_en: str
    participle_en: str
    noun_zh: str
    verb_zh: str  # what is asked for, before the noun: 申请{verb}...的{noun}
    request_zh: str  # the closing request: 烦请帮忙{request}


_WORDS: dict[Kind, _Words] = {
    Kind.CARRIER: _Words("shipping integration", "remove", "removed", "物流服务绑定", "解除", "删除或解除该绑定"),
    Kind.SUBSCRIPTION: _Words("paid subscription", "cancel", "cancelled", "付费订阅", "取消", "取消该订阅"),
    Kind.APP: _Words("connected third-party app", "disconnect", "disconnected", "第三方应用授权", "解除", "解除该授权"),
    Kind.WEBHOOK: _Words("data-sync webhook", "remove", "removed", "数据推送（Webhook）", "删除", "删除该推送"),
}
_FALLBACK = _Words("integration", "remove", "removed", "绑定服务", "解除", "删除或解除该绑定")


def _beside_cjk(text: str) -> str:
    """A space after Latin text that runs into Chinese, as Chinese typography does."""
    return f"{text} " if text and text[-1].isascii() and text[-1].isalnum() else text


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _facts(binding: LiveBinding | Mapping[str, Any]) -> tuple[str, str, Kind | None, str, Mapping[str, Any], str]:
    """(id, name, kind, status, raw, account) of a live binding or a declared one."""
    if isinstance(binding, LiveBinding):
        return binding.id, binding.name, binding.kind, binding.status, binding.raw, binding.account
    raw = binding
    kind_value = raw.get("kind")
    try:
        kind = Kind(kind_value) if kind_value is not None else None
    except ValueError:
        kind = None
    return _text(raw.get("id")), _text(raw.get("name")), kind, _text(raw.get("status")), raw, ""


def _english(w: _Words, vendor: str, shop: str, name: str, ident: str, status: str, nav: str) -> str:
    if shop:
        subject = f'Subject: Request to {w.imperative_en} {w.noun_en} "{name}" (ID {ident}) for shop "{shop}"'
        opening = f'I manage the shop "{shop}" on {vendor} and would like the following {w.noun_en} {w.participle_en}:'
        closing = f"Kind regards,\n{shop}"
    else:
        subject = f'Subject: Request to {w.imperative_en} {w.noun_en} "{name}" (ID {ident})'
        opening = f"I manage a shop on {vendor} and would like the following {w.noun_en} {w.participle_en}:"
        closing = "Kind regards"
    details = [f"  Name: {name}", f"  ID: {ident}"]
    if status:
        details.append(f"  Current status: {status}")
    parts = [subject, f"Hello {vendor} support team,", opening, "\n".join(details)]
    if nav:
        parts.append(f"For reference, it is found in the back office under: {nav}")
    parts += [
        f"Please {w.imperative_en} it, and once that is done, confirm in writing (a reply to this "
        "message is enough), ideally with the date it was done. If you need anything from me to "
        "verify that I am authorised to make this request, please let me know.",
        "Thank you for your help.",
        closing,
    ]
    return "\n\n".join(parts)


def _chinese(w: _Words, vendor: str, shop: str, name: str, ident: str, status: str, nav: str) -> str:
    if shop:
        subject = f"主题：申请{w.verb_zh}店铺“{shop}”的{w.noun_zh}“{name}”（ID：{ident}）"
        opening = f"我是店铺“{shop}”的负责人，现申请{w.verb_zh}该店铺的以下{w.noun_zh}："
    else:
        subject = f"主题：申请{w.verb_zh}{w.noun_zh}“{name}”（ID：{ident}）"
        opening = f"我是贵平台的一名卖家，现申请{w.verb_zh}我店铺的以下{w.noun_zh}："
    details = [f"  名称：{name}", f"  ID：{ident}"]
    if status:
        details.append(f"  当前状态：{status}")
    parts = [subject, f"{_beside_cjk(vendor)}客服团队，您好！", opening, "\n".join(details)]
    if nav:
        parts.append(f"供参考，它在后台的位置是：{nav}")
    parts += [
        f"烦请帮忙{w.request_zh}。处理完成后，请以书面形式回复确认（直接回复本消息即可），"
        "并尽量注明处理日期。如需我方提供材料以核实申请人身份，请随时告知。",
        "非常感谢您的帮助！",
    ]
    if shop:
        parts.append(f"{_beside_cjk(shop)}敬上")
    return "\n\n".join(parts)


def runbook_for(
    binding: LiveBinding | Mapping[str, Any],
    vendor: str,
    contact: str = "",
    *,
    navigation: Sequence[str] | None = None,
    shop: str | None = None,
) -> Runbook:
    """The runbook for one binding; pure, so the planner can show it before anything is applied.

    ``binding`` is a LiveBinding or a declared binding mapping. ``navigation`` defaults to the
    binding's own ``navigation`` field; ``shop`` to its ``shop`` field, then to the account name.
    """
    ident, name, kind, status, raw, account = _facts(binding)
    if navigation is None:
        declared = raw.get("navigation") if isinstance(raw, Mapping) else None
        navigation = [str(step) for step in declared] if isinstance(declared, (list, tuple)) else []
    steps = tuple(_text(step) for step in navigation if _text(step))
    shop_name = _text(shop) or _text(raw.get("shop") if isinstance(raw, Mapping) else None) or account
    words = _WORDS.get(kind, _FALLBACK) if kind is not None else _FALLBACK
    nav = " > ".join(steps)
    vendor_name = _text(vendor) or "vendor"
    name = name or ident
    return Runbook(
        navigation=steps,
        support_message={
            "en": _english(words, vendor_name, shop_name, name, ident, status, nav),
            "zh": _chinese(words, vendor_name, shop_name, name, ident, status, nav),
        },
        contact=_text(contact),
    )
