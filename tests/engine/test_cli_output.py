"""What the CLI prints holds data tether did not write; rich must print it as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from states.local import LocalStateStore
from states.model import Record, RecordStatus, State

ADDRESSES = [
    "legacy-erp-cloud[sub_1LegacyERP]",  # a Stripe id in brackets: rich read it as a style tag
    "amazon-legacy-erp-feed[dest-legacy]",
    "hooks[bold]",
    "vendor-name :fire: [link=https://evil.example]x[/link]",
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "tether.yaml").write_text(
        "version: 1\naccounts:\n  shop: {provider: manual, options: {vendor: v}}\n", encoding="utf-8"
    )
    records = [
        Record(
            address=address,
            account="shop",
            provider="manual",
            kind="carrier",
            live_id=str(number),
            name=address,
            integration=None,
            status=RecordStatus.LIVE,
        )
        for number, address in enumerate(ADDRESSES)
    ]
    LocalStateStore(tmp_path / ".tether" / "state.json").persist(State.empty().with_records(records))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_state_list_prints_every_address_as_it_is(repo: Path) -> None:
    listed = CliRunner().invoke(app, ["state", "list"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == sorted(ADDRESSES)


def test_state_rm_names_the_address_it_removed_as_it_is(repo: Path) -> None:
    removed = CliRunner().invoke(app, ["state", "rm", ADDRESSES[0]], catch_exceptions=False)
    assert removed.exit_code == 0, removed.output
    assert f"Removed {ADDRESSES[0]} from the state." in removed.output


def test_the_recorded_state_and_its_changes_speak_the_readers_language(repo: Path) -> None:
    shown = CliRunner().invoke(app, ["show", "--lang", "zh"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("状态序号 ")
    assert len(lines) == 1 + len(ADDRESSES) and all(" 上的物流渠道“" in line for line in lines[1:])
    assert any("[link=https://evil.example]x[/link]" in line for line in lines)  # as it is
    removed = CliRunner().invoke(app, ["state", "rm", ADDRESSES[2], "--lang", "zh"], catch_exceptions=False)
    assert removed.exit_code == 0 and f"已从状态中移除 {ADDRESSES[2]}。" in removed.output
    missing = CliRunner().invoke(app, ["state", "rm", ADDRESSES[2], "--lang", "zh"], catch_exceptions=False)
    assert missing.exit_code == 1 and "状态中没有" in missing.output


# -- a saved plan shown in either language, from its codes ------------------------------------------


@pytest.fixture
def saved(repo: Path) -> Path:
    from engine.planfile import dumps
    from tests.render.builders import owners_plan, unmanaged_plan

    (repo / "owners.json").write_text(dumps(owners_plan()), encoding="utf-8")
    (repo / "many.json").write_text(dumps(unmanaged_plan(300)), encoding="utf-8")
    return repo


def show(*args: str) -> str:
    shown = CliRunner().invoke(app, ["show", *args], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_show_renders_a_saved_plans_codes_in_chinese(saved: Path) -> None:
    zh = show("owners.json", "--lang", "zh")
    assert "原因：归 LegacyERP Connector 所有：shopify 不允许当前凭证解除它；请按操作手册处理" in zh
    assert "当前凭证无法核实：" in zh
    assert "stripe-eu：服务商拒绝列出数据推送（缺少权限：read_webhook_endpoints）" in zh
    assert "将于 2026-12-31 终止" in zh
    assert "shop-eu：lumen.myshopify.com" in zh
    assert "owned by" not in zh and "declared absent" not in zh


def test_show_in_english_and_as_markdown(saved: Path) -> None:
    en = show("owners.json", "--lang", "en")
    assert "reason: owned by LegacyERP Connector: shopify does not let this credential cancel it" in en
    assert "Credentials go to:" in en
    md = show("owners.json", "--lang", "en", "--format", "markdown")
    assert "#### 🙈 Cannot be verified: this credential does not see everything (1)" in md
    assert "| **shop-eu** | shopify | `lumen.myshopify.com` |" in md


def test_show_summarises_unmanaged_bindings_unless_verbose(saved: Path) -> None:
    short = show("many.json", "--lang", "en")
    assert "300 unmanaged binding(s), by account and kind:" in short
    assert sum(1 for line in short.splitlines() if line.startswith("  + unmanaged")) == 20
    full = show("many.json", "--lang", "en", "--verbose")
    assert sum(1 for line in full.splitlines() if line.startswith("  + unmanaged")) == 300
