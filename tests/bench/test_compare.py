"""The comparison's own logic (``make bench-compare``): its cases, the command each side runs,
and how rounds become one line per case. Running two benches is left to ``make bench-compare``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.compare import Case, Side, summarize, table


def line(wall: float, runs: list[float], speedup: float, requests: int) -> dict[str, object]:
    return {"case": "shopify-500", "wall_s": wall, "wall_runs_s": runs, "speedup": speedup, "requests": requests}


def test_cases_are_shops_at_latency() -> None:
    assert Case.parse("500@50") == Case(500, 50.0) and Case.parse("200@25").name == "shopify-200@25ms"
    assert Case.parse("10") == Case(10, 50.0)
    with pytest.raises(SystemExit, match="SHOPS@LATENCY_MS"):
        Case.parse("many@fast")


def test_each_side_runs_only_the_case_asked_for() -> None:
    old = Side("before", "v1", Path("/b"), Path("/b/python"), has_wide=False)
    new = Side("after", "this tree", Path("/a"), Path("/a/python"), has_wide=True)
    for side in (old, new):
        command = side.command(Case(200, 25.0), 3, Path("/out"))
        assert command[:3] == [str(side.python), "-m", "tests.bench.run"]
        flags = dict(zip(command[3::2], command[4::2]))
        assert flags["--shops"] == "200" and flags["--latency-ms"] == "25" and flags["--repeat"] == "3"
        assert flags["--sellers"] == flags["--cpu-bindings"] == flags["--rps-requests"] == "0"
        assert ("--wide-shops" in flags) is side.has_wide  # an old bench without the flag is not given it


def test_rounds_become_one_line_with_the_fastest_of_each_side() -> None:
    before = [line(5.7, [5.9, 5.7, 6.0], 28.3, 3000), line(5.4, [5.4, 5.5, 5.6], 29.8, 3000)]
    after = [line(5.6, [5.6, 6.1, 5.8], 11.0, 1000), line(5.8, [5.8, 6.0, 5.9], 10.8, 1000)]
    row = summarize(Case(500, 50.0), before, after)
    assert row["before_wall_s"] == 5.4 and row["after_wall_s"] == 5.6
    assert row["after_over_before"] == round(5.6 / 5.4, 3)
    assert row["before_walls"] == [5.9, 5.7, 6.0, 5.4, 5.5, 5.6] and len(row["after_walls"]) == 6
    assert (row["before_speedup"], row["after_speedup"]) == (29.8, 11.0)
    assert (row["before_requests"], row["after_requests"]) == (3000, 1000)
    shown = table([row], "v1 (abc)")
    assert "| shopify-500@50ms | 5.4 | 5.6 | 1.037 | 29.8x -> 11.0x | 3000 -> 1000 |" in shown
