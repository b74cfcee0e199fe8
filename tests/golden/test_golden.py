"""Golden plan cases: one folder per case, run through the real Shopify provider against its
emulator (mounted in-process), rendered in every format and both languages, compared byte for byte.

A case folder holds ``tether.yaml``, optionally ``scenario.yaml`` (default: ../scenario.yaml),
``state.json`` and ``args.json`` (plan options such as ``{"accept_fees": true}``; ``{"audit": true}``
plans and renders as ``tether audit`` does), and the expected outputs: ``plan.txt`` (text, en),
``plan.zh.txt`` (text, zh), ``plan.json``, ``plan.md`` (Markdown, en) and ``plan.zh.md`` (Markdown,
zh). ``make golden`` rewrites the expected files after a deliberate change; read every one it
touched before committing.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from engine.config import load_config
from engine.planfile import dumps
from engine.render.markdown import render_markdown
from engine.render.text import render_plan
from engine.runner import PlanRequest, build_plan
from providers.sandbox import Sandbox
from states.codec import decode
from states.model import State

HERE = Path(__file__).parent
CASES = sorted(p for p in (HERE / "cases").iterdir() if p.is_dir())
NOW = datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc)
REGENERATE = os.environ.get("TETHER_REGENERATE_GOLDEN") == "1"


def run_case(case: Path) -> dict[str, str]:
    scenario_file = case / "scenario.yaml"
    scenario = yaml.safe_load((scenario_file if scenario_file.exists() else HERE / "scenario.yaml").read_text())
    sandbox = Sandbox()
    sandbox.load_scenario(scenario)
    config = load_config([case / "tether.yaml"])
    state_file = case / "state.json"
    state = decode(state_file.read_bytes(), state_file) if state_file.exists() else State.empty()
    args = json.loads((case / "args.json").read_text()) if (case / "args.json").exists() else {}
    request = PlanRequest(
        accept_fees=args.get("accept_fees", False),
        allow_mass_cancel=args.get("allow_mass_cancel", False),
        targets=tuple(args.get("targets", ())),
        excludes=tuple(args.get("excludes", ())),
        audit=args.get("audit", False),
    )
    plan = asyncio.run(build_plan(config, state, request, now=NOW, transport=sandbox.transport()))
    changes = plan.state_changes(state)
    audit = request.audit

    def markdown(lang: str) -> str:
        text = render_markdown(plan, lang, state_changes=changes, audit=audit)
        return text.replace(config.sha256.removeprefix("sha256:")[:12], "<config>")

    def text(lang: str) -> str:
        rendered = render_plan(plan, lang, state_changes=changes)
        # Without colours the CLI writes ``.plain`` itself (engine.cli._print_text): it must be
        # exactly what rich would have printed.
        printed = io.StringIO()
        Console(file=printed, soft_wrap=True, highlight=False, color_system=None).print(rendered, end="")
        assert printed.getvalue() == rendered.plain
        return rendered.plain

    return {
        "plan.txt": text("en"),
        "plan.zh.txt": text("zh"),
        "plan.json": dumps(plan).replace(config.sha256, "<config-sha256>"),
        "plan.md": markdown("en"),
        "plan.zh.md": markdown("zh"),
    }


@pytest.fixture(autouse=True)
def _golden_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDEN_SHOPIFY_TOKEN", "shpat_golden_admin")


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
