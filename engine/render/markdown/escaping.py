"""Escaping for GitHub-flavoured Markdown: every string a plan holds came from a provider or from
tether.yaml, and GitHub renders a comment as HTML, so each goes through ``esc`` (inline text),
``code`` (a code span), ``html_text`` (inside a raw HTML tag) or the Mermaid label escaping: none
can open a tag, end a table cell, close a fence or ping anyone."""

from __future__ import annotations

import html
import json
import re
from typing import Any

_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\u0085\u2028\u2029]")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_MD_SPECIAL = str.maketrans({**{c: "\\" + c for c in "\\`*_[]~!#|$"}, "<": "&lt;", ">": "&gt;", "&": "&amp;"})
_MENTION = re.compile(r"(?<![\w.+-])@(?=[\w-])")


def flat(text: object) -> str:
    """One line, no control characters: a newline in a name must not start a new block."""
    return CONTROL.sub("", _BREAKS.sub(" ", str(text)))


def esc(text: object) -> str:
    """Inline Markdown text that renders exactly as written, in a paragraph or a table cell.

    Markdown punctuation is backslash-escaped (``\\|`` also keeps a table cell closed), ``<``,
    ``>`` and ``&`` become entities so no HTML tag or comment can start, and an @-mention gets a
    word joiner so a provider's name cannot ping anyone.
    """
    escaped = flat(text).translate(_MD_SPECIAL)
    return _MENTION.sub("@\u2060", escaped)


def code(text: object, *, table: bool = False) -> str:
    """A code span holding ``text`` verbatim, whatever backticks it contains.

    Inside a GFM table a ``|`` would still split the cell, even in a code span, so it is escaped
    there (the table parser removes the backslash; backslashes right before a pipe show doubled,
    the price of never splitting a cell); outside a table it must not be.
    """
    body = flat(text)
    if "<!--" in body or "-->" in body:
        # a code span shows it literally, but the raw comment body would then hold something
        # that looks like a CI marker; plain escaped text renders the same characters
        return esc(body)
    if table:
        # a pipe ends a cell unless an odd number of backslashes precedes it, even here
        body = re.sub(r"(\\*)\|", lambda m: m.group(1) * 2 + "\\|", body)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body[:1] in ("`", " ") or body[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def html_text(text: object) -> str:
    """Text inside raw HTML (a ``<summary>``), where Markdown is not parsed."""
    return html.escape(flat(text), quote=True)


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

