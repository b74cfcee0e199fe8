"""Third-party providers arrive through the ``tether.providers`` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from providers import registry

PLUGIN = EntryPoint(name="notebook", value="tests.plugin_example:NotebookProvider", group="tether.providers")


@pytest.fixture
def plugin_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [PLUGIN] if group == "tether.providers" else [])


def test_tether_providers_lists_builtins_and_plugins(plugin_installed: None) -> None:
    result = CliRunner().invoke(app, ["providers"])
    assert result.exit_code == 0, result.output
    lines = {line.split(":")[0]: line for line in result.output.splitlines()}
    assert {"shopify", "amazon-sp", "ebay", "stripe", "http", "manual", "notebook"} <= set(lines)
    assert "backup binding, orders, products" in lines["shopify"]
    assert "kinds app" in lines["notebook"]


def test_a_plugin_provider_plans_like_a_builtin(plugin_installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tether.yaml").write_text(
        "version: 1\n"
        "accounts:\n"
        "  notes:\n"
        "    provider: notebook\n"
        "    options: {entries: [{id: 1, name: old-erp}, {id: 2, name: keep}]}\n"
        "integrations:\n"
        "  keep: {account: notes, kind: app, match: {name: keep}, ensure: present}\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["plan"])
    assert result.exit_code == 0, result.output
    assert "keep" in result.output and "notes/app/1" in result.output


def test_an_unknown_provider_names_what_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Exception) as caught:
        registry.provider_class("nope")
    assert "installed providers" in str(caught.value) and "shopify" in str(caught.value)
