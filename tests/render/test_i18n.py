"""Both catalogs say the same things, and every sentence the planner writes is translated."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from engine.i18n import EN, ZH, detect_lang, known_sentence, localize, t, tn

GOLDEN = Path(__file__).parent.parent / "golden" / "cases"


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogs_hold_the_same_keys_with_the_same_fields() -> None:
    assert set(EN) == set(ZH)
    for key in EN:
        assert fields(EN[key]) == fields(ZH[key]), key


def test_counted_phrases_have_both_forms() -> None:
    bases = {k.rsplit(".", 1)[0] for k in EN if k.endswith((".one", ".other"))}
    for base in bases:
        assert f"{base}.one" in EN and f"{base}.other" in EN, base
    assert tn("md.part.cancel", 1) == "cancels 1 binding"
    assert tn("md.part.cancel", 1200) == "cancels 1,200 bindings"
    assert tn("md.part.cancel", 3, "zh") == "解除 3 个绑定"


def planner_sentences() -> list[str]:
    found: list[str] = []
    for case in sorted(GOLDEN.iterdir()):
        document = json.loads((case / "plan.json").read_text(encoding="utf-8"))
        found += [a["reason"] for a in document["actions"]]
        found += document["problems"] + document["notes"]
    return sorted(set(found))


def test_the_golden_cases_produce_sentences_to_translate() -> None:
    assert len(planner_sentences()) >= 10


@pytest.mark.parametrize("sentence", planner_sentences())
def test_every_planner_sentence_of_the_golden_cases_is_translated(sentence: str) -> None:
    assert known_sentence(sentence), f"add a pattern for this planner sentence to engine/i18n.py: {sentence}"
    translated = localize(sentence, "zh")
    assert translated != sentence
    assert localize(sentence, "en") == sentence


@pytest.mark.parametrize(
    ("sentence", "zh"),
    [
        ("declared absent", "已声明为 absent（应不存在）"),
        (
            "shop: no cancel decided because the listing was partial (page 2: HTTP 503)",
            "shop：未做解除决定，因为列表不完整（page 2: HTTP 503）",
        ),
        (
            "no cancel decided: the provider returned no bindings at all, but the state records some; this looks like an outage or a wrong credential",
            "未做解除决定：服务商没有返回任何绑定，但状态文件中记录了一些；这像是服务中断或凭证有误",
        ),
        ("stripe cannot back up orders; it offers: the binding only", "stripe 无法备份 orders；它只能备份绑定本身"),
        ("no live webhook on shop matches {topic: 'x'}", "shop 上没有匹配 {topic: 'x'} 的在线数据推送"),
    ],
)
def test_sentences_the_golden_cases_do_not_reach(sentence: str, zh: str) -> None:
    assert localize(sentence, "zh") == zh


def test_an_unknown_sentence_is_shown_as_written() -> None:
    assert localize("a provider said something new", "zh") == "a provider said something new"
    assert not known_sentence("a provider said something new")


def test_language_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_an_unknown_key_in_one_catalog_falls_back_to_english() -> None:
    assert t("error", "xx") == "Error"
    assert t("no.such.key", "zh") == "no.such.key"
