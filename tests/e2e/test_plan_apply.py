"""plan and apply end to end over real HTTP against the sandbox: SPEC section 9, invariants
1, 2, 3, 4, 6, 7 and 8, each with a case that fails if the invariant breaks."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from states.local import LocalStateStore
from tests.e2e.conftest import CANCELLED_IDS, KEPT_IDS, SCENARIO, Repo, fail_operation, graphql_error, plain_id

pytestmark = pytest.mark.e2e


def test_plan_then_apply_then_no_changes(repo: Repo) -> None:
    plan = repo.tether("plan", "--out", "tether.plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "legacy-erp-hooks[4759306]" in plan.output and "cancel" in plan.output
    assert repo.live_ids() >= CANCELLED_IDS  # plan changed nothing

    applied = repo.tether("apply", "tether.plan")
    assert applied.exit_code == 0, applied.output
    assert "cancelled and verified" in applied.output
    assert not (repo.live_ids() & CANCELLED_IDS)
    assert repo.live_ids() >= KEPT_IDS

    again = repo.tether("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # invariant 6
    assert "No changes" in again.output


def test_every_cancel_has_a_verified_backup_written_first(repo: Repo) -> None:
    assert repo.tether("apply", "--auto-approve").exit_code == 0
    manifests = [json.loads(p.read_text()) for p in (repo.root / ".tether" / "backups").glob("*/manifest.json")]
    backed_up = {m["binding"]["live_id"] for m in manifests}
    assert backed_up == CANCELLED_IDS
    orders = next(m for m in manifests if m["binding"]["live_id"] == "4759306")
    names = {f["name"]: f for f in orders["files"]}
    assert names["orders.jsonl"]["records"] == 2 and "binding.json" in names
    assert repo.tether("backups", "verify").exit_code == 0

    # the journal shows, for each binding, the backup verified before the cancel was sent
    journal = next((repo.root / ".tether" / "journal").glob("*.jsonl"))
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    for live_id in CANCELLED_IDS:
        mine = [e["event"] for e in events if e.get("identity", "").endswith(f"/{live_id}")]
        assert mine.index("backup-ok") < mine.index("intent-cancel") < mine.index("verified") < mine.index("committed")


def test_no_cancel_when_the_backup_cannot_be_made(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    # orders cannot be exported: the hooks that need them must not be cancelled (invariant 1)
    refused = fail_operation(
        repo.server, monkeypatch, "TetherOrders",
        lambda: graphql_error("ACCESS_DENIED", "Access denied for orders field. Required access: `read_orders` access scope."),
    )
    result = repo.tether("apply", "--auto-approve")
    assert result.exit_code == 1
    assert refused, "the orders export was never asked for"
    assert "backup failed, nothing cancelled" in result.output
    assert {"4759306", "4759307"} <= repo.live_ids()
    mutations = [r.get("operation") for r in repo.mutating_requests()]
    assert "TetherWebhookDelete" not in mutations
    assert "1036894961" not in repo.live_ids()  # the others went on


def test_read_only_commands_change_nothing(repo: Repo) -> None:
    assert repo.tether("apply", "--auto-approve").exit_code == 0
    repo.tether("plan", "--out", "saved.plan")
    repo.server.sandbox.load_scenario(SCENARIO)
    repo.server.sandbox.clear_requests()
    before_files, before_live = repo.snapshot(), repo.server.sandbox.state()
    for args in (["plan"], ["plan", "--format", "json"], ["audit"], ["show"], ["show", "saved.plan"], ["validate"],
                 ["state", "list"], ["backups", "list"]):
        result = repo.tether(*args)
        assert result.exit_code in (0, 2), (args, result.output)
    assert repo.snapshot() == before_files
    assert repo.server.sandbox.state() == before_live
    assert repo.mutating_requests() == []


def test_plan_works_with_a_read_only_credential_and_apply_refuses_before_any_backup(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = copy.deepcopy(SCENARIO["shopify"]["golden-shop"])
    shop["apps"]["golden-ops"]["tokens"]["shpat_readonly"] = ["read_shipping", "read_fulfillments", "read_orders"]
    repo.server.sandbox.load_scenario({"shopify": {"golden-shop": shop}})
    monkeypatch.setenv("E2E_SHOPIFY_TOKEN", "shpat_readonly")
    plan = repo.tether("plan")
    assert plan.exit_code == 0
    assert "MISSING: write_shipping" in plan.output
    applied = repo.tether("apply", "--auto-approve")
    assert applied.exit_code == 1
    assert "lacks write_shipping" in applied.output
    assert "1036894961" in repo.live_ids()
    backups = repo.root / ".tether" / "backups"
    hermes = [p for p in backups.glob("*/manifest.json") if '"1036894961"' in p.read_text()]
    assert hermes == []  # refused before any backup


def test_stale_plan_is_refused_when_a_binding_changed_live(repo: Repo) -> None:
    assert repo.tether("plan", "--out", "tether.plan").exit_code == 0
    shop = repo.server.sandbox.state()["shopify"]["golden-shop"]
    for hook in shop["webhook_subscriptions"]:
        if plain_id(hook["id"]) == "4759306":
            hook["uri"] = "https://erp.legacy-erp.example/hooks/orders-v2"
    repo.server.sandbox.load_scenario({"shopify": {"golden-shop": shop}})
    repo.server.sandbox.clear_requests()
    before = repo.snapshot()
    result = repo.tether("apply", "tether.plan")
    assert result.exit_code == 1
    assert "changed since the plan was made" in result.output and "Nothing was changed" in result.output
    assert repo.mutating_requests() == []
    assert {k: v for k, v in repo.snapshot().items() if not k.startswith(".tether/")} == {
        k: v for k, v in before.items() if not k.startswith(".tether/")
    }
    assert not list((repo.root / ".tether" / "backups").glob("*/manifest.json")) if (repo.root / ".tether" / "backups").exists() else True


def test_stale_plan_is_refused_when_the_state_moved(repo: Repo) -> None:
    assert repo.tether("plan", "--out", "old.plan").exit_code == 0
    assert repo.tether("apply", "--auto-approve").exit_code == 0
    repo.server.sandbox.clear_requests()
    result = repo.tether("apply", "old.plan")
    assert result.exit_code == 1
    assert "state was changed by another operation" in result.output
    assert repo.mutating_requests() == []


def test_plan_older_than_max_plan_age_is_refused(repo: Repo) -> None:
    assert repo.tether("plan", "--out", "tether.plan").exit_code == 0
    data = json.loads(Path("tether.plan").read_text())
    data["created_at"] = "2020-01-01T00:00:00+00:00"
    Path("tether.plan").write_text(json.dumps(data))
    result = repo.tether("apply", "tether.plan")
    assert result.exit_code == 1 and "older than --max-plan-age" in result.output
    assert repo.live_ids() >= CANCELLED_IDS


def test_second_apply_is_told_who_holds_the_lock(repo: Repo) -> None:
    store = LocalStateStore(repo.root / ".tether" / "state.json")
    (repo.root / ".tether").mkdir(exist_ok=True)
    with store.lock("apply"):
        result = repo.tether_process("apply", "--auto-approve")
    assert result.returncode == 1
    assert f"pid {os.getpid()}" in result.stderr and "force-unlock" in result.stderr
    assert repo.live_ids() >= CANCELLED_IDS


def test_apply_without_terminal_or_auto_approve_refuses(repo: Repo) -> None:
    result = repo.tether_process("apply")
    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    assert repo.live_ids() >= CANCELLED_IDS


def test_apply_asks_and_only_yes_proceeds(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.cli.common.interactive", lambda: True)
    no = repo.tether("apply", input="y\n")
    assert no.exit_code == 1 and "nothing was changed" in no.output.lower()
    assert repo.live_ids() >= CANCELLED_IDS
    yes = repo.tether("apply", input="yes\n")
    assert yes.exit_code == 0, yes.output
    assert not (repo.live_ids() & CANCELLED_IDS)


CANARY = "shpat_CANARY_7f3a9c1e5b"


def test_no_secret_in_any_output_file_or_log(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = copy.deepcopy(SCENARIO["shopify"]["golden-shop"])
    ops = shop["apps"]["golden-ops"]
    ops["tokens"] = {CANARY: ops["tokens"]["shpat_golden_admin"]}
    repo.server.sandbox.load_scenario({"shopify": {"golden-shop": shop}})
    repo.token = CANARY
    outputs = []
    for args in (["--log-level", "debug", "plan", "--out", "p.plan"], ["--log-level", "debug", "--log-format", "json", "apply", "p.plan"],
                 ["plan", "--format", "json"], ["plan", "--format", "markdown"], ["audit"], ["show"], ["state", "list"]):
        result = repo.tether_process(*args)
        outputs.append(result.stdout + result.stderr)
    assert "cancelled and verified" in outputs[1]
    for text in outputs:
        assert CANARY not in text
    for path in repo.root.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
    assert CANARY not in json.dumps(repo.server.sandbox.requests())


def test_bad_yaml_gets_one_clear_message_and_changes_nothing(repo: Repo) -> None:
    Path("tether.yaml").write_text(Path("tether.yaml").read_text().replace("kind: carrier,", "kind: carier,", 1))
    before = repo.snapshot()
    result = repo.tether("plan")
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1
    assert "tether.yaml:10" in result.output and '"carier" is not one of' in result.output
    assert repo.snapshot() == before
    Path("tether.yaml").write_text("version: 1\naccounts: {a: [\n")
    before = repo.snapshot()
    result = repo.tether("apply", "--auto-approve")
    assert result.exit_code == 1 and "tether.yaml:" in result.output
    assert repo.snapshot() == before
    assert repo.mutating_requests() == []


def test_corrupt_plan_and_state_files_are_refused(repo: Repo) -> None:
    Path("broken.plan").write_text('{"format_version": "1", "actions": [')
    result = repo.tether("apply", "broken.plan")
    assert result.exit_code == 1 and "broken.plan" in result.output and "not valid JSON" in result.output
    Path("wrong.plan").write_text(json.dumps({"format_version": "2"}))
    result = repo.tether("apply", "wrong.plan")
    assert result.exit_code == 1 and "not a valid tether plan" in result.output
    (repo.root / ".tether").mkdir(exist_ok=True)
    (repo.root / ".tether" / "state.json").write_text('{"lineage": "x",\n  "serial": oops}\n')
    result = repo.tether("plan")
    assert result.exit_code == 1 and "state.json:2" in result.output
    assert repo.mutating_requests() == []
    assert repo.live_ids() >= CANCELLED_IDS
