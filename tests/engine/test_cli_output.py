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
