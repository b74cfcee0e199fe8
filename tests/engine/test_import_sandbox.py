"""``tether import`` against the sandbox over real HTTP on loopback: a Shopify shop whose live
bindings nobody declared, imported, validated, and kept by the next plan; and nothing changed at
the vendor on the way."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from providers.sandbox_server import SandboxServer
from providers.shopify import queries

pytestmark = pytest.mark.e2e

SCENARIO = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "e2e" / "scenario.yaml").read_text(encoding="utf-8")
)
TOKEN = "shpat_golden_admin"
READS = frozenset(m.group(1) for m in (re.match(r"query (\w+)", d) for d in queries.ALL_DOCUMENTS) if m)

CONFIG = """\
version: 1
accounts:
  shop:
    provider: shopify
    endpoint: {url}/shopify/golden-shop
    options: {{shop: golden-shop.myshopify.com, api_version: "2026-10"}}
    credentials: {{access_token: "${{env:IMPORT_SHOPIFY_TOKEN}}"}}
integrations:
  dpd-rates: {{account: shop, kind: carrier, match: {{name: "DPD Rates"}}, ensure: present}}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def shop(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    server.sandbox.load_scenario(SCENARIO)
    server.sandbox.clear_faults()
    server.sandbox.clear_requests()
    (tmp_path / "tether.yaml").write_text(CONFIG.format(url=server.url), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMPORT_SHOPIFY_TOKEN", TOKEN)
    return tmp_path


def tether(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def unmanaged(plan: dict[str, object]) -> dict[str, str]:
    actions = plan["actions"]
    assert isinstance(actions, list)
    return {a["address"]: a["live_id"] for a in actions if a["action"] == "unmanaged"}


def test_import_all_then_the_next_plan_keeps_every_imported_binding(shop: Path, server: SandboxServer) -> None:
    code, output = tether("plan", "--format", "json")
    before = unmanaged(json.loads(output))
    assert before, output  # the shop has bindings nobody declared

    code, output = tether("import", "--all")
    assert code == 0, output
    text = (shop / "tether.d" / "imported.yaml").read_text(encoding="utf-8")
    declared = yaml.safe_load(text)["integrations"]
    assert sorted(str(d["match"]["id"]) for d in declared.values()) == sorted(before.values())
    assert all(d["ensure"] == "present" and set(d["match"]) == {"id"} for d in declared.values())
    assert text.count("\n  # ") == len(declared)  # one comment per declaration, saying what it is

    assert tether("validate")[0] == 0
    code, output = tether("plan", "--format", "json")
    assert code == 0, output
    after = json.loads(output)
    assert unmanaged(after) == {}
    kept = {a["integration"]: a["action"] for a in after["actions"] if a["integration"] in declared}
    assert kept == {name: "keep" for name in declared}

    changes = [r for r in server.sandbox.requests() if r.get("operation") not in READS]
    assert changes == []  # plan and import are read-only at the vendor


def test_import_lists_what_it_declared_in_the_readers_language_with_vendor_text_shown_literally(
    shop: Path, server: SandboxServer
) -> None:
    """Each declared binding is listed in the reader's language with its owning app; a name the
    vendor sent is shown as it is, with rich markup and escape sequences inert."""
    scenario = copy.deepcopy(SCENARIO)
    scenario["shopify"]["golden-shop"]["carrier_services"].append(
        {"id": 1036894999, "name": "Evil [red]rates[/red]\x1b[2J", "active": True, "app": "legacy-erp"}
    )
    server.sandbox.load_scenario(scenario)
    code, output = tether("import", "--all", "--lang", "zh")
    assert code == 0, output
    assert output.startswith("已写入 ")
    items = [line for line in output.splitlines() if line.startswith("  + ")]
    assert items and all(" 上的" in line for line in items), items  # "on <account>", in Chinese word order
    assert any("归应用“" in line for line in items), items  # the owning app, where Shopify names it
    evil = next(line for line in items if "Evil" in line)
    assert "[red]rates[/red]" in evil and "\\u001b[2J" in evil and "\x1b" not in output
