"""Markdown for pull-request comments and scheduled audits: read in ten seconds, and trusted.

``render_markdown`` is a pure function of the plan, the language, the state changes and whether
it is an audit: no clock, no environment, no I/O. The same plan always gives the same bytes, so a
golden file can pin it and CI can tell whether a sticky comment needs updating at all.

Layout, most important first, because a reviewer reads from the top and may stop anywhere:

1. a hidden marker (``<!-- tether:plan -->`` or ``<!-- tether:audit -->``) a CI step searches for
   to update one comment instead of adding a new one on every push;
2. a one-line verdict, then what it costs and what is backed up;
3. a table by account and action;
4. one business-level line per binding that needs a human: cancels (why, backup, fee), blocked
   (the reason), manual runbooks (with the owning app), what cannot be verified (what is not
   visible, why, how to see it), fees, drift field by field, cancels the vendor already
   scheduled (with their date), the rest to review, expired ignore rules;
5. ``<details>`` blocks: steps and rights, support messages, a Mermaid graph, kept bindings.

Problems come first of all, with each incomplete listing named by account and kind (and, for a
refusal, the missing right); the table by account shows the host each account's credential goes
to, so a reviewer sees a change of host.

The package is split by concern: ``escaping`` (nothing from a plan can break out), ``fitting``
(GitHub's size limit), ``mermaid`` (the graph), ``summary`` (verdict, costs, table, footer),
``sections`` (the lists), ``details`` (the folded blocks), ``report`` (what they share).

Every string taken from a plan (names, reasons, ids, drift values) comes from a provider or from
tether.yaml, and GitHub renders the comment as HTML, so each goes through ``esc`` (inline text),
``code`` (a code span) or the Mermaid label escaping: none can open a tag, end a table cell or close a
fence. Nothing else is read, so nothing a plan does not hold (credentials) can appear.

GitHub refuses comments over 65,536 characters. ``fit`` keeps the output under ``limit``,
the truncation note included: detail sections go first, then entries of the longest section, and
the note says what was left out and how to see everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.plan import Plan
from engine.render.markdown.escaping import code, esc
from engine.render.markdown.fitting import Block, fit
from engine.render.markdown.mermaid import GRAPH_CAP, mermaid
from engine.render.markdown.report import Report
from engine.render.markdown.summary import MARKER_AUDIT, MARKER_PLAN

__all__ = [
    "COMMENT_LIMIT",
    "GRAPH_CAP",
    "MARKER_AUDIT",
    "MARKER_PLAN",
    "Block",
    "code",
    "esc",
    "fit",
    "mermaid",
    "render_markdown",
]

COMMENT_LIMIT = 65_536  # GitHub's limit for an issue or pull-request comment body


def render_markdown(
    plan: Plan,
    lang: str = "en",
    *,
    state_changes: Iterable[str] = (),
    audit: bool = False,
    limit: int = COMMENT_LIMIT,
    verbose: bool = False,
) -> str:
    """The comment for a pull request (``audit=False``) or a scheduled audit (``audit=True``).

    Deterministic for a given plan; never longer than ``limit`` characters. ``verbose`` is
    accepted for symmetry with the text renderer: a comment is always fitted, whatever it holds."""
    report = Report(plan, lang, list(state_changes), audit, limit, verbose)
    return fit(report.blocks(), lang, limit, report.command)
