"""The Markdown report: verdict first, sticky marker, sections, escaping, truncation, graph.

Structure is checked by parsing the output with markdown-it (CommonMark plus GFM tables, the
rules GitHub's renderer follows), not by string matching alone: a broken table or an injected
tag shows up as tokens, whatever the text looks like.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from markdown_it import MarkdownIt

from engine.model import Action, Kind
from engine.reasons import PlanGap, Reason, ReasonCode
from engine.render.markdown import COMMENT_LIMIT, MARKER_AUDIT, MARKER_PLAN, code, esc, mermaid, render_markdown
from tests.render.builders import PRESENT, UNDECLARED, action, demo_like, failed, fee, plan, steps

# The only raw HTML the renderer writes itself; everything else must come out as text.
OWN_HTML = re.compile(r"^(<!-- tether:(plan|audit) -->|<details>|</details>|<summary>[^<>]*</summary>|<sub>|</sub>)$")


def parse(text: str) -> list:
    return MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)


def html_tokens(text: str) -> list[str]:
    found = []
    for token in parse(text):
        if token.type == "html_block":
            found.extend(line for line in token.content.splitlines() if line.strip())
        for child in token.children or []:
            if child.type == "html_inline":
                found.append(child.content)
    return found


def tables(text: str) -> list[list[int]]:
    """Cells per row, for every table."""
    found: list[list[int]] = []
    cells = 0
    for token in parse(text):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            found[-1].append(cells)
    return found


def unescaped_pipes(line: str) -> int:
    count, backslashes = 0, 0
    for char in line:
        if char == "|" and backslashes % 2 == 0:
            count += 1
        backslashes = backslashes + 1 if char == "\\" else 0
    return count


def render(p, **kw) -> str:  # type: ignore[no-untyped-def]
    return render_markdown(p, kw.pop("lang", "en"), **kw)


# -- marker and verdict ---------------------------------------------------------------------------


def test_the_sticky_marker_is_the_first_line_and_appears_once() -> None:
    p = demo_like()
    text = render(p)
    assert text.splitlines()[0] == MARKER_PLAN == "<!-- tether:plan -->"
    assert text.count("<!-- tether:") == 1
    audit = render(p, audit=True)
    assert audit.splitlines()[0] == MARKER_AUDIT == "<!-- tether:audit -->"
    assert MARKER_PLAN not in audit
    zh = render(p, lang="zh")
    assert zh.splitlines()[0] == MARKER_PLAN  # the marker never depends on the language


def test_the_verdict_is_the_first_thing_a_reader_sees() -> None:
    verdict = render(demo_like()).splitlines()[1]
    assert verdict == "### 🛑 tether plan: cancels 2 bindings · 1 blocked · 1 manual step · 3 to review · 1 expired ignore rule · fees 49.00 EUR"


@pytest.mark.parametrize(
    ("actions", "audit", "verdict"),
    [
        ((), False, "### ✅ tether plan: no changes; the live integrations match tether.yaml"),
        ((), True, "### ✅ tether audit: clean; every live binding matches tether.yaml"),
        ((action(Action.KEEP, "dpd-rates", why=PRESENT),), True, "### ✅ tether audit: clean; every live binding matches tether.yaml"),
        ((action(Action.CANCEL, "hermes-rates"),), False, "### ⚠️ tether plan: cancels 1 binding · no fees"),
        ((action(Action.CANCEL, "hermes-rates"),), True, "### ⚠️ tether audit: 1 to cancel · no fees"),
        ((action(Action.BLOCKED, "x", fee=fee("29.00"), why=Reason(ReasonCode.FEE_OVER_LIMIT, {"fee": "29.00 EUR", "max_fee": "0.00 EUR"})),), False, "### 🛑 tether plan: 1 blocked · fees 29.00 EUR blocked"),
    ],
)
def test_verdicts(actions: tuple, audit: bool, verdict: str) -> None:
    assert render(plan(*actions), audit=audit).splitlines()[1] == verdict


def test_an_incomplete_refresh_says_so_first() -> None:
    p = plan(action(Action.KEEP, "dpd-rates", why=PRESENT), incomplete=(failed(),))
    text = render(p, audit=True)
    assert text.splitlines()[1].startswith("### ❌ tether audit: incomplete: part of shop-eu could not be listed")
    assert "⚠️ partial" in text
    assert "#### ❗ Problems" in text
    assert "- shop-eu: listing its bindings failed after retries (the vendor said: `page 2: HTTP 503`)" in text


# -- what a reviewer needs, above the details ------------------------------------------------------


def _above_details(text: str) -> str:
    return text.split("<details>")[0]


def test_cancels_say_what_why_backup_and_cost_before_any_details() -> None:
    top = _above_details(render(demo_like()))
    assert "- **Cancels** carrier service **Hermes Rates** on **shop-eu** — declared absent · backup: binding + orders · `hermes-rates`" in top
    assert "- **Cancels** subscription **LegacyERP Cloud** on **stripe-eu** — declared absent · backup: binding + invoices · fee: **49.00 EUR** · ends at period end · `legacy-erp-cloud`" in top
    assert "**Costs:** 49.00 EUR in early-termination fees, charged when apply cancels." in top
    assert "**Backups first:** every cancel starts with a checked backup of the binding itself, plus invoices (1 cancel), orders (1 cancel)." in top
    assert "- **Blocked** subscription **Analytics Pro** on **stripe-eu** — protected (protect: true)" in top
    assert "_runbook_: Settings › Shipping settings › Hermes template › Delete" in top
    # the order a reviewer reads in: cancels, blocked, manual, then the table and the rest
    order = [top.index(h) for h in ("Will be cancelled", "Blocked: apply skips", "Manual steps", "By account", "Early-termination fees", "Drift:", "To review", "Expired ignore rules")]
    assert order == sorted(order)


def test_summary_table_counts_by_account_and_action() -> None:
    text = render(demo_like())
    block = text[text.index("#### 📊 By account"):]
    rows = [line for line in block.splitlines() if line.startswith("| ")][:5]
    assert rows[0] == "| account | provider | live | cancel | blocked | manual | drift | missing | unmanaged | keep |"
    assert rows[2] == "| **shop-eu** | shopify | 4 | **1** | · | · | 1 | 1 | 1 | 1 |"
    assert rows[3] == "| **stripe-eu** | shopify | 2 | **1** | **1** | · | · | · | · | · |"
    assert rows[4] == "| **temu** | shopify | 1 | · | · | 1 | · | · | · | · |"
    assert "| **total** |  | **7** | **2** | **1** | **1** | **1** | **1** | **1** | **1** |" in text


def test_drift_is_shown_field_by_field() -> None:
    p = plan(action(Action.DRIFT, "hermes-rates", diff={
        "active": {"expected": True, "actual": False},
        "callback_url": {"expected": "https://rates.hermes.example/*", "actual": "https://legacy.example/quote"},
    }))
    text = render(p)
    assert "| `hermes-rates` (shop-eu) | `active` | `true` | `false` |" in text
    assert '| ″ | `callback_url` | `"https://rates.hermes.example/*"` | `"https://legacy.example/quote"` |' in text


def test_ignored_bindings_are_counted_and_expired_rules_are_reported() -> None:
    text = render(demo_like(), audit=True)
    assert "**Ignore rules:** 2 live bindings hidden by active rules (counted here, not listed)." in text
    assert "#### ⏰ Expired ignore rules and notes (1)" in text
    assert "expired on 2026-10-31 and no longer hides shop-eu/webhook/4759309" in text.replace("\\", "")
    assert "1 expired ignore rule" in text.splitlines()[1]


def test_audit_wording_never_claims_apply_will_act() -> None:
    text = render(demo_like(), audit=True)
    assert "**Would cancel**" in text and "**Cancels**" not in text
    assert "State changes apply will record" not in text


def test_undeclared_bindings_show_the_address_an_ignore_rule_needs() -> None:
    assert "app/uninstalled** on **shop-eu** — live, but no integration declares it · `shop-eu/webhook/4759309`" in render(demo_like())


def test_missing_rights_are_flagged_on_the_cancel_line() -> None:
    p = plan(action(Action.CANCEL, "hermes-rates", steps=steps(granted=False)))
    assert "⚠️ the credential lacks `write_shipping`: apply will refuse it" in _above_details(render(p))


# -- purity and escaping ---------------------------------------------------------------------------


def test_deterministic_and_independent_of_mapping_order() -> None:
    p = demo_like()
    shuffled = replace(p, refreshed=dict(reversed(list(p.refreshed.items()))))
    assert render(p) == render(p) == render(shuffled)
    assert render(p, lang="zh") == render(shuffled, lang="zh")


HOSTILE = [
    "a | b || c",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "--> <!-- tether:plan -->",
    "</details></summary><details open>",
    "```\nfenced\n```",
    "`tick` `` double ``",
    "line1\nline2\r\n| x | y |",
    "[click](javascript:alert(1))",
    "![img](https://evil.example/x.png)",
    "**bold** _em_ ~~strike~~ # heading",
    "@octocat please look",
    "&lt;escaped&gt; &amp;",
    '"]; click b1 call alert() ; x["',
    "\\| backslash pipe \\",
    "end",
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("audit", [False, True])
def test_hostile_names_and_reasons_cannot_break_out(lang: str, audit: bool) -> None:
    actions = []
    problems, notes, gaps = [], [], []
    for i, bad in enumerate(HOSTILE):
        owner = Reason(ReasonCode.FOREIGN_OWNER, {"app": bad, "provider": bad})
        drifted = Reason(ReasonCode.DRIFT, {"fields": bad, "count": 1})
        actions.append(action(Action.CANCEL, f"c{i}[{bad}]", name=bad, why=owner, live_id=bad, account="shop-eu", app=bad,
                              resource=bad, fee=fee("1.00"), steps=steps(datasets=("binding", bad), rights=(bad,), granted=False)))
        actions.append(action(Action.DRIFT, f"d{i}", name=bad, why=drifted, diff={bad: {"expected": bad, "actual": bad}}))
        actions.append(action(Action.UNMANAGED, f"shop-eu/webhook/{bad}", name=bad, why=UNDECLARED, live_id=bad, integration=None))
        actions.append(action(Action.UNVERIFIABLE, f"u{i}", name=bad, live_id=None, why=Reason(
            ReasonCode.NOT_VISIBLE, {"kind": bad, "account": bad, "blind": bad, "visible_apps": bad, "resource": bad, "how_to_see": bad})))
        actions.append(action(Action.KEEP, f"k{i}", name=bad, why=Reason(ReasonCode.CANCEL_SCHEDULED, {"date": bad})))
        problems.append(Reason(ReasonCode.EMPTY_LISTING, {"account": bad, "recorded": bad}))
        notes.append(Reason(ReasonCode.IGNORE_EXPIRED, {"number": 1, "rule_reason": bad, "owner": bad, "expires": bad, "binding": bad}))
        gaps.append(PlanGap(bad, bad, Reason(ReasonCode.LISTING_REFUSED, {"account": bad, "kind": bad, "right": bad}), bad))
    p = plan(*actions, problems=tuple(problems), notes=tuple(notes), incomplete=tuple(gaps), targets=("t|x",),
             hosts={"shop-eu": HOSTILE[1], HOSTILE[0]: HOSTILE[3]})
    text = render(p, lang=lang, audit=audit)

    # no HTML but the renderer's own
    for fragment in html_tokens(text):
        assert OWN_HTML.match(fragment.strip()), fragment
    assert text.count("<!-- tether:") == 1
    # every table keeps its shape: each row has as many cells as its header (a parser drops
    # excess cells silently, so the source is checked too: no unescaped pipe inside a cell)
    for rows in tables(text):
        assert len(set(rows)) == 1, rows
    width = 0
    for line in text.splitlines():
        if not line.startswith("|"):
            width = 0
            continue
        pipes = unescaped_pipes(line)
        width = width or pipes
        assert pipes == width, line
    # the rendered HTML holds no active content
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    for needle in ("<script", "<img", 'href="javascript', "<details open"):
        assert needle not in html
    # no line starts a block the renderer did not mean: every line is one of its own shapes
    for line in text.splitlines():
        assert not line.startswith(("<script", "<img", "```\nfenced", "# ", "fenced", "line2")), line
    # Mermaid: every statement has the renderer's shape, whatever the labels held
    graph = text[text.index("```mermaid") + 11 : text.index("```", text.index("```mermaid") + 11)]
    label = r'"(?:[^"`<>]|<br/>|</?small>)*"'
    shapes = re.compile(
        rf"^(flowchart LR|  (acc|more)_\w+(\(\[{label}\]\)|\[{label}\])|  b\d+\[{label}\]"
        r"|  \w+ (==>|-\.->|---|-\.-) \w+|  class \w+ \w+|  classDef \w+ [^\"`]*)$"
    )
    for line in graph.splitlines():
        assert shapes.match(line), line


def test_inline_escaping_keeps_text_as_written() -> None:
    rendered = MarkdownIt("commonmark").enable("table").renderInline(esc("a|b <b>x</b> *y* `z` [l](u) @me"))
    assert rendered == "a|b &lt;b&gt;x&lt;/b&gt; *y* `z` [l](u) @\u2060me"
    assert MarkdownIt("commonmark").renderInline(code("a ``b`` c")) == "<code>a ``b`` c</code>"
    assert MarkdownIt("commonmark").renderInline(code("`x`")) == "<code>`x`</code>"


def test_no_secret_can_appear_because_only_plan_fields_are_read() -> None:
    """The renderer reads nothing but the plan: a secret in the environment or the process
    cannot reach the comment. Rendering the same plan under a different environment is equal."""
    import os

    p = demo_like()
    before = render(p)
    os.environ["TETHER_TEST_SECRET"] = "shpat_should_never_appear"
    try:
        assert render(p) == before
        assert "shpat_" not in render(p)
    finally:
        del os.environ["TETHER_TEST_SECRET"]


# -- GitHub's size limit ---------------------------------------------------------------------------


def big_plan(count: int = 5000) -> object:
    kinds = [Action.CANCEL, Action.CANCEL, Action.KEEP, Action.DRIFT, Action.UNMANAGED]
    actions = []
    for i in range(count):
        which = kinds[i % len(kinds)]
        extra = {"diff": {"active": {"expected": True, "actual": False}}} if which is Action.DRIFT else {}
        actions.append(action(which, f"integration-{i:05d}", account=f"shop-{i % 7}", name=f"Carrier service number {i}",
                              live_id=str(1_000_000 + i), integration=None if which is Action.UNMANAGED else "",
                              why=UNDECLARED if which is Action.UNMANAGED else Reason(ReasonCode.DECLARED_ABSENT),
                              **extra))
    return plan(*actions)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_plan_of_5000_actions_fits_in_one_github_comment(lang: str) -> None:
    p = big_plan()
    started = time.perf_counter()
    text = render(p, lang=lang)
    elapsed = time.perf_counter() - started
    assert len(text) <= COMMENT_LIMIT == 65_536
    assert elapsed < 3.0, elapsed
    lines = text.splitlines()
    assert lines[0] == MARKER_PLAN
    if lang == "en":
        assert lines[1] == "### ⚠️ tether plan: cancels 2,000 bindings · 2,000 to review · no fees"
        note = next(line for line in lines if line.startswith("> ⚠️ **Truncated**"))
        assert "65,536-character comment limit" in note and "`tether show PLANFILE`" in note
        # detail sections went first, whole; then entries of the longest list
        for dropped in ('"Steps and rights of each cancel (2,000)"', '"Graph: 7 accounts, 5,000 bindings"', '"Kept as declared (1,000)"'):
            assert dropped in note
        assert re.search(r'[\d,]+ of 2,000 entries of "Will be cancelled"', note)
        assert "… and " in text and "more not shown here (see `tether show PLANFILE`)" in text
    else:
        assert "**已截断**" in text and "`tether show PLANFILE`" in text
    assert "<details>" not in text  # no half-dropped detail block
    assert text.endswith("</sub>\n")  # the footer survives


def test_truncation_keeps_every_limit_including_the_note() -> None:
    p = big_plan(600)
    for limit in (2_000, 5_000, 9_999, 20_000, 65_536):
        text = render_markdown(p, "en", limit=limit)
        assert len(text) <= limit, limit
        assert text.startswith(MARKER_PLAN + "\n### ")
    tiny = render_markdown(p, "en", limit=600)
    assert len(tiny) <= 600 and "Truncated" in tiny
    for absurd in (0, 1, 80):
        assert len(render_markdown(p, "en", limit=absurd)) <= absurd


def test_nothing_is_cut_or_noted_when_it_fits() -> None:
    text = render(demo_like())
    assert "Truncated" not in text and "more not shown" not in text
    assert text.count("<details>") == 4


def test_the_audit_note_points_at_the_audit_command() -> None:
    text = render_markdown(big_plan(), "en", audit=True)
    assert "`tether audit` (or `--format json`)" in text and len(text) <= COMMENT_LIMIT


# -- the graph -------------------------------------------------------------------------------------


def test_graph_has_a_node_per_account_and_binding_with_cancels_marked() -> None:
    lines = mermaid(demo_like(), "en")
    assert lines[0] == "flowchart LR"
    accounts = [line for line in lines if re.match(r"  acc_\w+\(\[", line)]
    assert len(accounts) == 3
    assert '  b1["✂ Hermes Rates<br/><small>carrier · cancel</small>"]' in lines
    assert "  acc_shop_eu ==> b1" in lines and "  class b1 cancel" in lines
    assert "  class b3 blocked" in lines and "  acc_stripe_eu -.-> b3" in lines
    assert any(line.startswith("  classDef cancel ") and "#cf222e" in line for line in lines)
    assert any(line.startswith("  classDef blocked ") and "#bf3989" in line for line in lines)


def test_graph_is_capped_with_and_n_more_nodes() -> None:
    lines = mermaid(big_plan(500), "en", cap=60)
    nodes = [line for line in lines if re.match(r"  b\d+\[", line)]
    assert len(nodes) == 60
    assert all("cancel" in line for line in nodes)  # what matters is drawn first
    more = [line for line in lines if line.startswith("  more_")and "[" in line]
    assert len(more) == 7
    hidden = sum(int(re.search(r"and (\d+) more", line).group(1)) for line in more)  # type: ignore[union-attr]
    assert hidden == 440


def test_graph_ids_are_sanitised_and_unique() -> None:
    p = plan(action(Action.KEEP, "a", account="shop-eu"), action(Action.KEEP, "b", account="shop_eu"), action(Action.KEEP, "c", account="end"))
    ids = [m.group(1) for line in mermaid(p, "en") if (m := re.match(r"  (acc_\w+)\(\[", line))]
    assert ids == ["acc_end", "acc_shop_eu", "acc_shop_eu_2"]


def test_kinds_without_a_provider_noun_fall_back_to_the_kind() -> None:
    p = plan(action(Action.CANCEL, "x", kind=Kind.WEBHOOK, resource="subscriptions", name="ORDER_CHANGE"))
    assert "**Cancels** webhook (subscription) **ORDER\\_CHANGE**" in render(p)
