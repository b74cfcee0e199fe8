"""Human output in English and Chinese, rendered from keys and codes, never from English text.

Every line a person reads is a catalog entry (``engine/i18n/en.py``, ``engine/i18n/zh.py``) filled
with parameters. The planner's reasons, problems and notes are codes with params
(``engine.reasons.Reason``); ``render_reason`` turns one into a sentence, the planner itself uses
it to fill the English ``reason`` of plan JSON, and every other language renders from the same
code. Nothing here parses a sentence.

The language comes from ``--lang``, else ``TETHER_LANG``, else the locale (``LANG``/``LC_ALL``
starting with ``zh``), else English. A key missing from a catalog falls back to English, and a
test checks that both catalogs hold the same keys with the same placeholders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from engine.i18n.en import EN
from engine.i18n.zh import ZH
from engine.reasons import Param, Reason, ReasonCode, set_english

__all__ = [
    "CATALOGS",
    "EN",
    "LANGS",
    "ZH",
    "detect_lang",
    "format_param",
    "render_english",
    "render_reason",
    "t",
    "tn",
    "word",
]

LANGS = ("en", "zh")
CATALOGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


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


def t(key: str, lang: str = "en", **fields: object) -> str:
    template = CATALOGS.get(lang, EN).get(key) or EN.get(key, key)
    return template.format(**fields) if fields else template


def tn(key: str, count: int, lang: str = "en", **fields: object) -> str:
    """A counted phrase: ``key.one`` for exactly one, ``key.other`` otherwise (both catalogs
    hold both forms; Chinese simply repeats itself)."""
    return t(f"{key}.{'one' if count == 1 else 'other'}", lang, count=f"{count:,}", **fields)


def word(group: str, value: str, lang: str = "en") -> str:
    """A translated identifier (a kind, step, side or dataset name), or the identifier itself
    when the catalog does not know it: an unknown dataset is still shown, just untranslated."""
    key = f"{group}.{value}"
    return t(key, lang) if key in EN else value


# Params whose values are identifiers the catalog translates, by the param's name, each to its
# word group: ``{"kind": "webhook"}`` reads "数据推送" in Chinese. English words are the
# identifiers themselves, so English text is exactly engine.reasons.ENGLISH.
_WORD_GROUPS = {
    "kind": "kind",
    "sides": "side",
    "sides_done": "side",
    "datasets": "dataset",
    "offered": "dataset",
    "cancel_at": "cancelat",
    "possible": "cancelat",
    "gap": "gapcode",
    "blind": "blind",
}
# A param that is a list arrives joined ("platform, provider"; "now or period_end"): each item
# is translated and the joins are kept, in Chinese punctuation.
_LIST_JOIN = re.compile(r"(, | or )")
_ZH_JOINS = {", ": "、", " or ": " 或 "}
_VARIANT = re.compile(r"reason\.(?P<code>[a-z-]+)\.without-(?P<param>\w+)")


def format_param(name: str, value: Param, lang: str = "en") -> str:
    """One param as it appears in a sentence: identifiers translated item by item, an empty
    kind as the whole account, anything else as its text."""
    text = str(value)
    group = _WORD_GROUPS.get(name)
    if group is None:
        return text
    if group == "kind" and not text:
        return t("kind.all", lang)
    parts = _LIST_JOIN.split(text)
    for index, part in enumerate(parts):
        if index % 2:
            parts[index] = _ZH_JOINS.get(part, part) if lang == "zh" else part
        else:
            parts[index] = word(group, part, lang)
    return "".join(parts)


def _variants() -> dict[str, tuple[str, ...]]:
    """Code -> the params that have a ``.without-<param>`` text, in catalog order."""
    found: dict[str, list[str]] = {}
    for key in EN:
        match = _VARIANT.fullmatch(key)
        if match:
            found.setdefault(match["code"], []).append(match["param"])
    return {code: tuple(params) for code, params in found.items()}


_WITHOUT = _variants()


def render_reason(reason: Reason, lang: str = "en") -> str:
    """The sentence for a reason code and its params, in ``lang``: the catalog's
    ``reason.<code>``, or its ``reason.<code>.without-<param>`` when that param is empty. A
    param the template names but the reason lacks shows as ``{name}`` rather than failing (a
    planner bug shows up in the output; it does not stop a plan)."""
    if not reason.params:  # most reasons of a large plan ("undeclared", "present"): one lookup
        cached = _PLAIN.get((reason.code, lang))
        if cached is None:
            cached = _PLAIN[(reason.code, lang)] = _render(reason, lang)
        return cached
    return _render(reason, lang)


_PLAIN: dict[tuple[ReasonCode, str], str] = {}


def _render(reason: Reason, lang: str) -> str:
    code = reason.code.value
    key = f"reason.{code}"
    for param in _WITHOUT.get(code, ()):
        if not reason.params.get(param):
            key = f"{key}.without-{param}"
            break
    template = CATALOGS.get(lang, EN).get(key) or EN.get(key)
    if template is None:
        return code
    return template.format_map(_Fields(reason.params, lang))


class _Fields(dict[str, str]):
    """The params of one reason, formatted on demand for ``str.format_map``."""

    def __init__(self, params: Mapping[str, Param], lang: str) -> None:
        super().__init__()
        self._params = params
        self._lang = lang

    def __missing__(self, name: str) -> str:
        if name not in self._params:
            return "{" + name + "}"
        text = format_param(name, self._params[name], self._lang)
        self[name] = text
        return text


def render_english(reason: Reason) -> str:
    return render_reason(reason, "en")


# The planner fills ``reason`` in plan JSON through engine.reasons; from here on it is this
# catalog's English (a test keeps it identical to engine.reasons.ENGLISH, so the JSON does not
# depend on whether this module was imported).
set_english(render_english)
