"""Both languages say everything: every catalog key, and every reason code the planner gives, has
English and Chinese text with the same placeholders; and the English is the planner's own."""

from __future__ import annotations

import string

import pytest

from engine import reasons
from engine.i18n import EN, ZH, detect_lang, render_english, render_reason, t
from engine.reasons import PARAMS, Reason, ReasonCode


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_hold_the_same_keys() -> None:
    assert set(EN) - set(ZH) == set()
    assert set(ZH) - set(EN) == set()


@pytest.mark.parametrize("key", sorted(EN))
def test_translations_use_the_same_placeholders(key: str) -> None:
    assert fields(EN[key]) == fields(ZH[key]), key
    assert ZH[key].strip(), key


@pytest.mark.parametrize("code", list(ReasonCode), ids=lambda c: c.value)
def test_every_reason_code_has_english_and_chinese_text(code: ReasonCode) -> None:
    key = f"reason.{code.value}"
    assert key in EN and key in ZH, f"add {key} to engine/i18n/en.py and zh.py"
    # a template may only name params the planner always fills in
    assert fields(EN[key]) <= set(PARAMS[code]), (code, fields(EN[key]) - set(PARAMS[code]))
    assert fields(ZH[key]) == fields(EN[key])
    assert EN[key] != ZH[key]


def test_the_catalog_holds_no_reason_the_planner_does_not_give() -> None:
    codes = {c.value for c in ReasonCode}
    for key in EN:
        if key.startswith("reason."):
            assert key.split(".")[1] in codes, key


def sample(code: ReasonCode, **override: str | int) -> Reason:
    params: dict[str, str | int] = {name: f"<{name}>" for name in PARAMS[code]}
    params.update({k: v for k, v in {"kind": "webhook", "count": 3, "sides_done": "platform, provider"}.items() if k in params})
    params.update(override)
    return Reason(code, params)


@pytest.mark.parametrize("code", list(ReasonCode), ids=lambda c: c.value)
def test_english_is_exactly_the_planners_english(code: ReasonCode) -> None:
    """Plan JSON's ``reason`` must not depend on which module rendered it."""
    reason = sample(code)
    assert render_english(reason) == reasons.english(reason)
    if code in reasons.GAP_CODES:  # a gap of the whole account
        bare = sample(code, kind="")
        assert render_english(bare) == reasons.english(bare), "kind"
    # a text for an empty param: the planner's English has the same variant, or (until it passes
    # "" for that param) none, and then the param is never empty
    for key in EN:
        if key.startswith(f"reason.{code.value}.without-"):
            param = key.split(".without-")[1]
            assert param in PARAMS[code], key
            if (code, param) in reasons._ENGLISH_EMPTY:
                bare = sample(code, **{param: ""})
                assert render_english(bare) == reasons.english(bare), param


def test_the_planner_fills_reason_with_this_catalog() -> None:
    reason = Reason(ReasonCode.MISSING, {"kind": "carrier", "account": "shop", "selector": "{name: 'UPS'}"})
    assert reason.english() == render_reason(reason, "en") == "no live carrier on shop matches {name: 'UPS'}"


@pytest.mark.parametrize("code", list(ReasonCode), ids=lambda c: c.value)
def test_chinese_is_rendered_from_the_code_not_from_english(code: ReasonCode) -> None:
    reason = sample(code)
    chinese = render_reason(reason, "zh")
    english = render_reason(reason, "en")
    assert chinese != english
    for name, value in reason.params.items():
        if name not in ("kind", "sides_done") and fields(EN[f"reason.{code.value}"]) >= {name}:
            assert str(value) in chinese, (name, chinese)


def test_identifiers_in_params_are_translated_item_by_item() -> None:
    resumed = Reason(ReasonCode.RESUME_CANCEL, {"sides_done": "platform, provider"})
    assert render_reason(resumed, "en") == "finishing a cancel already done on platform, provider"
    assert render_reason(resumed, "zh") == "继续完成已在 平台侧、服务商侧 完成的解除"
    cannot = Reason(ReasonCode.CANCEL_AT_UNSUPPORTED, {"provider": "stripe", "cancel_at": "now", "possible": "period_end"})
    assert "无法在立即结束此订阅（它支持：本期末）" in render_reason(cannot, "zh")
    whole = Reason(ReasonCode.LISTING_FAILED, {"account": "shop", "kind": ""})
    assert render_reason(whole, "en") == "shop: listing its bindings failed after retries"
    assert render_reason(whole, "zh") == "shop：多次重试后仍无法列出全部绑定"
    withheld = Reason(ReasonCode.WITHHELD, {"account": "shop", "kind": "webhook", "gap": "listing-refused"})
    assert render_reason(withheld, "zh") == "未做决定：shop 的数据推送列表不完整（服务商拒绝列出），无法知道其在线情况"


def test_an_empty_param_selects_the_variant_written_for_it() -> None:
    refused = Reason(ReasonCode.LISTING_REFUSED, {"account": "shop", "kind": "webhook", "right": "read_webhooks"})
    assert render_reason(refused, "zh") == "shop：服务商拒绝列出数据推送（缺少权限：read_webhooks）"
    unknown = Reason(ReasonCode.LISTING_REFUSED, {"account": "shop", "kind": "webhook", "right": ""})
    assert render_reason(unknown, "en") == "shop: the vendor refused to list webhook"
    assert render_reason(unknown, "zh") == "shop：服务商拒绝列出数据推送"


def test_a_param_the_planner_forgot_shows_instead_of_failing() -> None:
    assert render_reason(Reason(ReasonCode.DRIFT, {}), "zh") == "在线值与 expect 不一致：{fields}"


def test_language_comes_from_option_then_env_then_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TETHER_LANG", raising=False)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert detect_lang() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert detect_lang() == "zh"
    monkeypatch.setenv("TETHER_LANG", "en")
    assert detect_lang() == "en"
    assert detect_lang("zh") == "zh"
    assert detect_lang("fr") == "en"  # unknown: next source, here TETHER_LANG
    assert t("action.cancel", "zh") == "解除"


def test_an_unknown_key_in_one_catalog_falls_back_to_english() -> None:
    assert t("error", "xx") == "Error"
    assert t("no.such.key", "zh") == "no.such.key"
