"""Both languages say everything: a key missing in one catalog would silently fall back."""

from __future__ import annotations

import string

import pytest

from engine.i18n import EN, ZH, detect_lang, t


def test_catalogs_hold_the_same_keys() -> None:
    assert set(EN) == set(ZH)


@pytest.mark.parametrize("key", sorted(EN))
def test_translations_use_the_same_placeholders(key: str) -> None:
    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    assert fields(EN[key]) == fields(ZH[key])


def test_language_comes_from_option_then_env_then_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TETHER_LANG", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert detect_lang() == "zh"
    monkeypatch.setenv("TETHER_LANG", "en")
    assert detect_lang() == "en"
    assert detect_lang("zh") == "zh"
    assert t("action.cancel", "zh") == "解除"
