"""Golden plan cases: one folder per case, planned from listing values through the pure planner
(``make_plan``), rendered in every format and both languages, compared byte for byte.

A case folder holds ``tether.yaml``, optionally ``listings.yaml`` (what the providers returned,
format in ``values.py``; default: ../listings.yaml, the golden shop), ``state.json`` and
``args.json`` (plan options such as ``{"accept_fees": true}``; ``{"audit": true}`` plans and renders
as ``tether audit`` does; ``{"allow_endpoints": [...]}`` hosts allowed outside tether.yaml), and
the expected outputs: ``plan.txt`` (text, en), ``plan.zh.txt`` (text, zh), ``plan.json``, ``plan.md``
(Markdown, en) and ``plan.zh.md`` (Markdown, zh). No provider, emulator or network is involved:
an emulator change cannot churn these files; end-to-end runs over HTTP live in tests/e2e.

``make golden`` (``TETHER_REGENERATE_GOLDEN=1``) rewrites the expected files after a deliberate
change; read every one it touched before committing.
"""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from engine.config import load_config
from engine.plan import Plan, PlanOptions, make_plan
from engine.planfile import dumps, plan_from_json
from engine.render.markdown import render_markdown
from engine.render.text import render_plan
from states.codec import decode
from states.model import State
from tests.golden.values import load_values

HERE = Path(__file__).parent
CASES = sorted(p for p in (HERE / "cases").iterdir() if p.is_dir())
TODAY = date(2026, 11, 26)
NOW = "2026-11-26T05:00:00+00:00"
REGENERATE = os.environ.get("TETHER_REGENERATE_GOLDEN") == "1"


def plan_case(case: Path) -> tuple[Plan, State, bool, str]:
    """The case's plan, the state it was made against, whether it is an audit, and the config's
    sha256 (replaced in outputs, so a comment in tether.yaml does not churn them)."""
    args = json.loads((case / "args.json").read_text()) if (case / "args.json").exists() else {}
    config = load_config([case / "tether.yaml"], allowed_hosts=frozenset(args.get("allow_endpoints", ())))
    values = case / "listings.yaml"
    listings, catalog = load_values(values if values.exists() else HERE / "listings.yaml", config)
    state_file = case / "state.json"
    state = decode(state_file.read_bytes(), state_file) if state_file.exists() else State.empty()
    options = PlanOptions(
        today=TODAY,
        now=NOW,
        tether_version="golden",
        accept_fees=args.get("accept_fees", False),
        allow_mass_cancel=args.get("allow_mass_cancel", False),
        targets=tuple(args.get("targets", ())),
        excludes=tuple(args.get("excludes", ())),
        audit=args.get("audit", False),
    )
    plan = make_plan(config, listings, catalog, state, options)
    return plan, state, options.audit, config.sha256


def run_case(case: Path) -> dict[str, str]:
    plan, state, audit, sha256 = plan_case(case)
    changes = plan.state_changes(state)

    def markdown(lang: str) -> str:
        text = render_markdown(plan, lang, state_changes=changes, audit=audit)
        return text.replace(sha256.removeprefix("sha256:")[:12], "<config>")

    def text(lang: str) -> str:
        rendered = render_plan(plan, lang, state_changes=changes)
        # Without colours the CLI writes ``.plain`` itself: it must be exactly what rich would
        # have printed.
        printed = io.StringIO()
        Console(file=printed, soft_wrap=True, highlight=False, color_system=None).print(rendered, end="")
        assert printed.getvalue() == rendered.plain
        return rendered.plain

    return {
        "plan.txt": text("en"),
        "plan.zh.txt": text("zh"),
        "plan.json": dumps(plan).replace(sha256, "<config-sha256>"),
        "plan.md": markdown("en"),
        "plan.zh.md": markdown("zh"),
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_plan(case: Path) -> None:
    outputs = run_case(case)
    for name, actual in outputs.items():
        expected_file = case / name
        if REGENERATE or not expected_file.exists():
            expected_file.write_text(actual, encoding="utf-8")
            if not REGENERATE:
                pytest.fail(f"{expected_file} was missing and has been written; review and commit it")
        assert actual == expected_file.read_text(encoding="utf-8"), f"{case.name}/{name} differs (make golden to accept)"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_plan_json_is_valid_and_reads_back(case: Path) -> None:
    """Every golden plan passes the plan schema and reads back to the same plan, reasons and gaps
    included."""
    plan, _, _, _ = plan_case(case)
    assert plan_from_json(json.loads(dumps(plan)), case.name) == plan
