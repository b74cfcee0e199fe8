"""A human plan with thousands of unmanaged bindings stays readable: counts per account and kind
and the first few listed; ``verbose`` lists every one (issue 14, hostile vendors)."""

from __future__ import annotations

import time

from engine.render.facts import UNMANAGED_SHOWN
from engine.render.text import render_plan
from tests.render.builders import unmanaged_plan


def test_thousands_of_unmanaged_bindings_are_counted_not_listed() -> None:
    p = unmanaged_plan(3000)
    out = render_plan(p, "en").plain
    listed = [line for line in out.splitlines() if line.startswith("  + unmanaged")]
    assert len(listed) == UNMANAGED_SHOWN == 20
    assert listed[0].startswith("  + unmanaged shop-0/webhook/1000  ")  # the first ones, in plan order
    assert "3,000 unmanaged binding(s), by account and kind:" in out
    assert "  shop-0 webhook: 1,000\n  shop-1 webhook: 1,000\n  shop-2 webhook: 1,000\n" in out
    assert "... and 2,980 more unmanaged binding(s) not listed; run with --verbose" in out
    assert "3000 unmanaged" in out.replace(",", "")  # the summary line counts them all
    assert "  - cancel    hermes-rates" in out  # what apply does is never folded away
    assert len(out.splitlines()) < 80


def test_verbose_lists_every_unmanaged_binding() -> None:
    p = unmanaged_plan(3000)
    out = render_plan(p, "en", verbose=True).plain
    assert sum(1 for line in out.splitlines() if line.startswith("  + unmanaged")) == 3000
    assert "more unmanaged binding(s) not listed" not in out


def test_a_few_unmanaged_bindings_are_listed_as_usual() -> None:
    out = render_plan(unmanaged_plan(UNMANAGED_SHOWN), "en").plain
    assert sum(1 for line in out.splitlines() if line.startswith("  + unmanaged")) == UNMANAGED_SHOWN
    assert "by account and kind" not in out


def test_the_summary_in_chinese() -> None:
    out = render_plan(unmanaged_plan(50, accounts=2), "zh").plain
    assert "未纳管的绑定共 50 个，按账户和类型统计：" in out
    assert "  shop-0 数据推送：25\n  shop-1 数据推送：25\n" in out
    assert "另有 30 个未纳管的绑定未列出；使用 --verbose 列出全部" in out


def test_a_huge_plan_renders_quickly() -> None:
    p = unmanaged_plan(100_000, accounts=50)
    started = time.perf_counter()
    out = render_plan(p, "en").plain
    assert time.perf_counter() - started < 5.0
    assert len(out.splitlines()) < 150
