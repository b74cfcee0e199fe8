"""The CLI's flows end to end, in-process, against a plug-in provider that needs no network
(tests.plugin_example.LedgerProvider): honest partial plans, import, the schema link, prune."""

from __future__ import annotations

import json
import os
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from providers import registry
from tests.plugin_example import LedgerProvider

LEDGER = EntryPoint(name="ledger", value="tests.plugin_example:LedgerProvider", group="tether.providers")

CONFIG = """\
version: 1
accounts:
  books:
    provider: ledger
    options:
      refuse: [webhook]
      entries:
        - {id: 1, name: "Old ERP", kind: app}
        - {id: 2, name: "Keep me", kind: app}
        - {id: 3, name: "Stray tool", kind: app}
        - {id: 9, name: "orders/create", kind: webhook}
integrations:
  old-erp: {account: books, kind: app, match: {name: "Old ERP"}, ensure: absent}
  keep-me: {account: books, kind: app, match: {name: "Keep me"}, ensure: present}
  old-hooks: {account: books, kind: webhook, match: {name: "orders/*"}, ensure: absent}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(registry, "entry_points", lambda group: [LEDGER] if group == "tether.providers" else [])
    LedgerProvider.CANCELLED.clear()
    (tmp_path / "tether.yaml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def tether(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_an_incomplete_plan_is_printed_and_exits_1_without_calling_anything_up_to_date(repo: Path) -> None:
    code, output = tether("plan")
    assert code == 1, output
    assert "old-erp" in output and "cancel" in output  # the app kind was decided
    assert "read_webhooks" in output  # the refusal is named, with the missing right
    assert "up to date" not in output.lower() and "no changes" not in output.lower()
    code, output = tether("plan", "--detailed-exitcode")
    assert code == 1  # incomplete outranks "would change"


def test_apply_carries_out_what_was_decided_reports_the_gap_and_exits_1(repo: Path) -> None:
    code, output = tether("apply", "--auto-approve")
    assert code == 1, output
    assert ("books", "1") in LedgerProvider.CANCELLED  # the decided cancel was carried out
    assert ("books", "9") not in LedgerProvider.CANCELLED  # nothing decided where listing was refused
    assert "incomplete" in output.lower() and "books" in output
    assert "up to date" not in output.lower()
    code, output = tether("apply", "--auto-approve")  # nothing left that was decided
    assert code == 1, output
    assert "up to date" not in output.lower()
    assert "incomplete" in output.lower()


def test_a_complete_plan_that_changes_nothing_says_so_and_exits_0(repo: Path) -> None:
    (repo / "tether.yaml").write_text(CONFIG.replace("refuse: [webhook]", "refuse: []"), encoding="utf-8")
    assert tether("apply", "--auto-approve")[0] == 0
    code, output = tether("apply", "--auto-approve")
    assert code == 0, output
    assert "up to date" in output.lower()


def test_import_all_declares_the_unmanaged_binding_and_the_next_plan_keeps_it(repo: Path) -> None:
    code, output = tether("plan")
    assert "books/app/3" in output  # unmanaged before
    code, output = tether("import", "--all")
    assert code == 0, output  # what was listed is declared...
    assert "listing was incomplete (books/webhook)" in output  # ...and what was not is named
    written = repo / "tether.d" / "imported.yaml"
    text = written.read_text(encoding="utf-8")
    assert '# app "Stray tool" (apps 3) on books' in text
    data = yaml.safe_load(text)
    assert data["integrations"] == {
        "app-stray-tool": {"account": "books", "kind": "app", "match": {"id": "3"}, "ensure": "present"}
    }
    assert tether("validate")[0] == 0
    code, output = tether("plan", "--format", "json")
    plan = json.loads(output)
    kept = {a["address"]: a["action"] for a in plan["actions"]}
    assert kept["app-stray-tool"] == "keep"
    assert "books/app/3" not in kept


def test_import_never_writes_over_a_file_without_force_and_regenerates_with_it(repo: Path) -> None:
    tether("import", "--all")
    written = repo / "tether.d" / "imported.yaml"
    before = written.read_text(encoding="utf-8")
    code, output = tether("import", "--all")
    assert code == 1 and "--force" in output
    assert written.read_text(encoding="utf-8") == before
    code, output = tether("import", "--all", "--force")  # the file's own declarations come back
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["integrations"].keys() == {"app-stray-tool"}


def test_import_by_address_and_an_unknown_address(repo: Path) -> None:
    code, output = tether("import", "books/app/42")
    assert code == 1 and "books/app/3" in output  # names what can be imported
    assert not (repo / "tether.d" / "imported.yaml").exists()
    code, output = tether("import", "books/app/3", "--out", "tether.d/stray.yaml")
    assert (repo / "tether.d" / "stray.yaml").is_file(), output
    code, output = tether("import")
    assert code == 1 and "--all" in output


def test_import_names_are_unique_and_valid_and_hostile_names_stay_inert(repo: Path) -> None:
    from engine.model import Kind
    from engine.operations.importing import declarations, render_file
    from engine.plan import PlannedAction
    from engine.reasons import Reason, ReasonCode

    def unmanaged(live_id: str, name: str) -> PlannedAction:
        return PlannedAction(
            address=f"books/app/{live_id}",
            account="books",
            provider="ledger",
            kind=Kind.APP,
            action=__import__("engine.model", fromlist=["Action"]).Action.UNMANAGED,
            why=Reason(ReasonCode.UNDECLARED),
            live_id=live_id,
            name=name,
            resource="apps",
        )

    hostile = 'x"\n  evil: {account: books}\n# \u2028'
    found = [unmanaged("1", "Same"), unmanaged("2", "Same"), unmanaged("3", "Same"), unmanaged("4", hostile),
             unmanaged("5", "日本語"), unmanaged("6", "Same")]
    made = declarations(found, taken=["app-same"])
    names = [d.name for d in made]
    assert len(set(names)) == len(names)
    assert all(__import__("re").fullmatch(r"[a-z0-9][a-z0-9_-]*", n) for n in names)
    assert "app-same" not in names  # already declared
    assert names[:3] == ["app-same-1", "app-same-2", "app-same-3"]  # then the id tells them apart
    text = render_file(made, today=__import__("datetime").date(2026, 12, 6))
    data = yaml.safe_load(text)
    assert set(data) == {"integrations"}
    assert set(data["integrations"]) == set(names)
    assert all(set(v) == {"account", "kind", "match", "ensure"} for v in data["integrations"].values())
    assert "\u2028" not in text


def test_init_links_the_schema_relatively_and_refreshes_it(tmp_path: Path) -> None:
    code, output = tether("init", "--dir", str(tmp_path))
    assert code == 0, output
    first = (tmp_path / "tether.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=.tether/config.schema.json"
    schema = tmp_path / ".tether" / "config.schema.json"
    shipped = (Path(__file__).resolve().parents[2] / "schemas" / "config.schema.json").read_text(encoding="utf-8")
    assert schema.read_text(encoding="utf-8") == shipped
    assert "!config.schema.json" in (tmp_path / ".tether" / ".gitignore").read_text(encoding="utf-8")
    # an old absolute link, and a stale copy, are both fixed by --schema-only
    body = (tmp_path / "tether.yaml").read_text(encoding="utf-8").split("\n", 1)[1]
    (tmp_path / "tether.yaml").write_text("# yaml-language-server: $schema=/home/someone/x.json\n" + body)
    schema.write_text("{}", encoding="utf-8")
    code, output = tether("init", "--dir", str(tmp_path), "--schema-only")
    assert code == 0, output
    assert (tmp_path / "tether.yaml").read_text(encoding="utf-8").splitlines()[0] == first
    assert schema.read_text(encoding="utf-8") == shipped
    assert not os.path.isabs(first.split("$schema=", 1)[1])
    # an older .gitignore (before the schema was kept in git) gains the line and keeps the rest
    ignore = tmp_path / ".tether" / ".gitignore"
    ignore.write_text("# mine\n*\n!.gitignore\n!state.json", encoding="utf-8")
    assert tether("init", "--dir", str(tmp_path), "--schema-only")[0] == 0
    assert ignore.read_text(encoding="utf-8") == "# mine\n*\n!.gitignore\n!state.json\n!config.schema.json\n"


def test_imported_file_links_the_schema_from_tether_d(repo: Path) -> None:
    tether("init", "--schema-only")
    tether("import", "--all")
    first = (repo / "tether.d" / "imported.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../.tether/config.schema.json"


def test_backups_prune_dry_run_yes_and_no_terminal(repo: Path) -> None:
    import time

    (repo / "tether.yaml").write_text(CONFIG.replace("refuse: [webhook]", "refuse: []"), encoding="utf-8")
    assert tether("apply", "--auto-approve")[0] == 0
    backups = repo / ".tether" / "backups"
    made = sorted(p.name for p in backups.iterdir())
    assert len(made) == 2  # old-erp and old-hooks
    time.sleep(0.05)
    code, output = tether("backups", "prune", "--older-than", "90d", "--dry-run")
    assert code == 0 and "No backup to remove" in output
    code, output = tether("backups", "prune", "--older-than", "0.001s")  # no terminal, no --yes
    assert code == 1 and "--yes" in output
    assert sorted(p.name for p in backups.iterdir()) == made
    code, output = tether("backups", "prune", "--older-than", "0.001s", "--dry-run")
    assert code == 0 and all(f"would remove  {name}" in output for name in made)
    assert sorted(p.name for p in backups.iterdir()) == made
    code, output = tether("backups", "prune", "--older-than", "0.001s", "--yes")
    assert code == 0 and "Removed 2 backup(s)" in output
    assert list(backups.iterdir()) == []
    code, output = tether("backups", "prune")
    assert code == 2 and "--unfinished" in output


def test_timeout_and_allowed_endpoints_reach_the_engine(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.operations.loading as loading
    import engine.runner as runner

    seen: dict[str, object] = {}
    real_refresh, real_load = runner.refresh_for_plan, loading.load_config

    def refresh_for_plan(config, state, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen["timeout_s"] = request.timeout_s
        return real_refresh(config, state, request, *args, **kwargs)

    def load_config(paths, **kwargs):  # type: ignore[no-untyped-def]
        seen["hosts"] = kwargs["allowed_hosts"]
        return real_load(paths, **kwargs)

    monkeypatch.setattr(runner, "refresh_for_plan", refresh_for_plan)
    monkeypatch.setattr(loading, "load_config", load_config)
    monkeypatch.setenv("TETHER_ALLOW_ENDPOINTS", "gw.example.com, Proxy.Example.org")
    tether("plan", "--timeout", "20s", "--allow-endpoint", "mock.example.net")
    assert seen == {"timeout_s": 20.0, "hosts": frozenset({"gw.example.com", "proxy.example.org", "mock.example.net"})}
    tether("audit", "--timeout", "2m")
    assert seen["timeout_s"] == 120.0
    monkeypatch.delenv("TETHER_ALLOW_ENDPOINTS")
    tether("plan")
    assert seen == {"timeout_s": 15 * 60.0, "hosts": frozenset()}
    code, output = tether("plan", "--timeout", "soon")
    assert code == 2 and "duration" in output
    assert tether("validate", "--allow-endpoint", "x.example")[0] == 0
    assert seen["hosts"] == frozenset({"x.example"})


def test_apply_timeout_is_the_deadline_of_planning_and_applying_together(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import engine.operations.applying as applying
    import engine.runner as runner

    seen: dict[str, float] = {}
    real_refresh, real_apply = runner.refresh_for_plan, applying.run_apply

    async def slow_refresh(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # planning takes its share of the deadline
        return await real_refresh(*args, **kwargs)

    def run_apply(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["timeout_s"] = kwargs["timeout_s"]
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(runner, "refresh_for_plan", slow_refresh)
    monkeypatch.setattr(applying, "run_apply", run_apply)
    tether("apply", "--auto-approve", "--timeout", "60s")
    assert 50.0 < seen["timeout_s"] <= 60.0 - 0.3


def test_an_encrypted_backup_is_read_back_with_the_identity_by_reference(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyrage = pytest.importorskip("pyrage")
    identity = pyrage.x25519.Identity.generate()
    config = CONFIG.replace("refuse: [webhook]", "refuse: []") + (
        f"defaults:\n  backups:\n    encrypt_to: [{identity.to_public()}]\n"
    )
    (repo / "tether.yaml").write_text(config, encoding="utf-8")
    assert tether("apply", "--auto-approve")[0] == 0
    backup = next(p for p in (repo / ".tether" / "backups").iterdir() if (p / "binding.json.age").is_file())
    assert not (backup / "binding.json").exists()  # nothing in the clear
    code, output = tether("backups", "cat", backup.name, "binding.json")
    assert code == 1 and "--identity" in output
    monkeypatch.setenv("BACKUP_KEY", str(identity))
    code, output = tether("backups", "cat", backup.name, "binding.json", "--identity", "${env:BACKUP_KEY}")
    assert code == 0, output
    assert json.loads(output)["name"] in {"Old ERP", "orders/create"}
    assert str(identity) not in output
    code, output = tether("backups", "cat", backup.name, "binding.json", "--identity", str(identity))
    assert code == 1 and "reference" in output and str(identity) not in output  # a literal key is refused
    assert tether("backups", "verify")[0] == 0  # no key needed
