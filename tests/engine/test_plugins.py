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
    for name in ("shopify", "notebook"):
        caps = registry.provider_class(name).capabilities
        assert f"kinds {', '.join(sorted(k.value for k in caps.kinds))};" in lines[name]
        assert f"backup {', '.join(['binding', *sorted(caps.datasets)])};" in lines[name]
    assert "kinds app;" in lines["notebook"]
    assert "who sees it" not in result.output  # only with --detail


def test_providers_detail_prints_every_authority_row_with_its_source(plugin_installed: None) -> None:
    result = CliRunner().invoke(app, ["providers", "--detail"])
    assert result.exit_code == 0, result.output
    rows = 0
    for name in registry.names():
        for row in registry.provider_class(name).capabilities.authority:
            rows += 1
            assert f"  {row.resource} ({row.kind.value})\n" in result.output
            assert f"    who sees it:     {row.who_sees}\n" in result.output
            assert f"    source:          {row.source}\n" in result.output
    assert rows >= 2  # the plug-in's own row, and the built-in providers' rows
    notebook = result.output.split("notebook:", 1)[1]
    assert "entries (app)" in notebook and "cross the entry out by hand" in notebook


def test_providers_detail_as_markdown_and_json(plugin_installed: None) -> None:
    import json

    md = CliRunner().invoke(app, ["providers", "--detail", "--format", "markdown"])
    assert md.exit_code == 0, md.output
    assert "| provider | resource | kind | who sees it | who can cancel it by API | otherwise | source |" in md.output
    assert (
        "| notebook | entries | app | whoever holds the notebook | whoever holds the notebook | "
        "cross the entry out by hand | <https://notebook.example/docs/entries> |"
    ) in md.output
    data = json.loads(CliRunner().invoke(app, ["providers", "--detail", "--format", "json"]).output)
    notebook = next(p for p in data if p["provider"] == "notebook")
    assert notebook["authority"][0]["source"] == "https://notebook.example/docs/entries"
    plain = json.loads(CliRunner().invoke(app, ["providers", "--format", "json"]).output)
    assert all("authority" not in p for p in plain)


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
