"""The bundled demo, every provider at once, run as a user runs it: ``tether`` processes with
debug logs in JSON against the sandbox over real HTTP.

Invariant 7 (no secret anywhere) is checked with canary credentials for every provider: the
Shopify token, Amazon's LWA client secret and refresh token (and every access token the emulator
issued for them during the run), the eBay token, the Stripe key and the http vendor's token. None
may appear, plain or percent-encoded, in stdout, stderr, any file under the repository (plan,
state, backups, journal, audit log) or the sandbox's request log.

Invariant 6 and 1 on the whole demo: plan, apply the saved plan, the next plan has no changes
(``--detailed-exitcode`` exits 0), every cancel has a verified backup, and the audit log holds
every mutating call with the plan's hash and the backup's sha256.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from engine.backup import list_backups, verify_backup
from engine.scaffold import DEMO_ENV
from providers.sandbox import demo_scenario
from providers.sandbox_server import SandboxServer
from tests.e2e.conftest import is_mutating

pytestmark = pytest.mark.e2e

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "engine" / "examples" / "demo.yaml"
DEMO_SANDBOX = "http://127.0.0.1:8787"

CANARIES = {
    "DEMO_SHOPIFY_TOKEN": "shpat_CANARY_shopify_91c2e7d4",
    "DEMO_LWA_CLIENT_SECRET": "amzn1.oa2-cs.v1.CANARY_lwa_secret_5d8a",
    "DEMO_LWA_REFRESH_TOKEN": "Atzr|CANARY_refresh_token_3f0b/+=",
    "DEMO_EBAY_TOKEN": "v^1.1#i^1#CANARY_ebay_token_7a44",
    "DEMO_STRIPE_KEY": "sk_test_CANARY_stripe_c0ffee42",
    "DEMO_SHIPCLOUD_TOKEN": "CANARY_shipcloud_token_e19d",
}


def canary_scenario() -> dict[str, Any]:
    """The built-in demo, with the canaries as the only credentials that have write rights."""
    scenario = copy.deepcopy(demo_scenario())
    for shop_app in scenario["shopify"]["demo-shop"]["apps"].values():  # a token belongs to an app
        shop_app["tokens"] = {
            CANARIES["DEMO_SHOPIFY_TOKEN"] if token == DEMO_ENV["DEMO_SHOPIFY_TOKEN"] else token: scopes
            for token, scopes in shop_app["tokens"].items()
        }
    partner = scenario["amazon-sp"]["A2EUQ1WTGCTBG2"]
    for lwa in partner.get("applications", {}).values() or [partner.get("lwa", {})]:
        if lwa.get("client_id") == DEMO_ENV["DEMO_LWA_CLIENT_ID"]:
            lwa["client_secret"] = CANARIES["DEMO_LWA_CLIENT_SECRET"]
            lwa["refresh_token"] = CANARIES["DEMO_LWA_REFRESH_TOKEN"]
    seller = scenario["ebay"]["demo-seller"]
    for application in seller.get("applications", {}).values() or [seller]:
        application["tokens"] = {
            CANARIES["DEMO_EBAY_TOKEN"] if token == DEMO_ENV["DEMO_EBAY_TOKEN"] else token: scopes
            for token, scopes in application["tokens"].items()
        }
    scenario["stripe"]["acct_demo"]["api_keys"] = [CANARIES["DEMO_STRIPE_KEY"]]
    scenario["http"]["shipcloud"]["auth"]["tokens"] = [CANARIES["DEMO_SHIPCLOUD_TOKEN"]]
    return scenario


def forms(secret: str) -> set[str]:
    """A secret as it could leak: plain, in a URL path or query, or in a form body."""
    return {secret, quote(secret, safe=""), quote_plus(secret)}


@dataclass
class Step:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class DemoRun:
    root: Path
    server: SandboxServer
    steps: dict[str, Step] = field(default_factory=dict)
    issued_tokens: set[str] = field(default_factory=set)

    def tether(self, name: str, *args: str) -> Step:
        env = {**os.environ, **DEMO_ENV, **CANARIES, "TETHER_LANG": "en"}
        done = subprocess.run(
            [sys.executable, "-m", "engine.cli", "--log-level", "debug", "--log-format", "json", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        step = Step(args, done.returncode, done.stdout, done.stderr)
        self.steps[name] = step
        return step

    def secrets(self) -> set[str]:
        found: set[str] = set()
        for value in [*CANARIES.values(), *self.issued_tokens]:
            found |= forms(value)
        return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    root = tmp_path_factory.mktemp("demo-repo")
    with SandboxServer(scenario=canary_scenario()) as server:
        config = DEMO_CONFIG.read_text(encoding="utf-8")
        assert config.count(DEMO_SANDBOX) >= 5, "the demo no longer points every account at the sandbox"
        (root / "tether.yaml").write_text(config.replace(DEMO_SANDBOX, server.url), encoding="utf-8")
        run = DemoRun(root, server)
        run.tether("plan", "plan", "--out", "demo.plan", "--detailed-exitcode")
        run.tether("show-plan", "show", "demo.plan", "--format", "json")
        run.tether("apply", "apply", "demo.plan")
        run.tether("replan", "plan", "--detailed-exitcode")
        run.tether("audit", "audit")
        run.tether("show-state", "show")
        run.tether("verify", "backups", "verify")
        amazon = server.sandbox.emulators["amazon-sp"]
        run.issued_tokens = set(getattr(amazon, "_grants", {}))
        yield run


def test_the_whole_demo_plans_applies_and_then_has_no_changes(demo: DemoRun) -> None:
    plan, apply, replan = demo.steps["plan"], demo.steps["apply"], demo.steps["replan"]
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert "0 failed or refused" in apply.stdout
    assert replan.returncode == 0, replan.stdout + replan.stderr
    assert "No changes" in replan.stdout
    assert demo.steps["audit"].returncode == 2  # unmanaged and manual-pending remain to look at
    assert demo.steps["show-state"].returncode == 0
    providers = {a["provider"] for a in json.loads(demo.steps["show-plan"].stdout)["actions"] if a["action"] == "cancel"}
    assert providers == {"shopify", "amazon-sp", "ebay", "stripe", "http"}


def test_every_cancel_has_a_verified_backup(demo: DemoRun) -> None:
    saved = json.loads((demo.root / "demo.plan").read_text(encoding="utf-8"))
    cancelled = {(a["account"], a["live_id"]) for a in saved["actions"] if a["action"] in ("cancel", "manual")}
    assert len(cancelled) >= 9  # six cancels and three manual steps in the demo
    backups = demo.root / ".tether" / "backups"
    verified = {
        (m.binding["account"], m.binding["live_id"])
        for m in list_backups(backups)
        if m.complete and verify_backup(backups, m.backup_id) == []
    }
    assert cancelled <= verified
    assert demo.steps["verify"].returncode == 0, demo.steps["verify"].stdout + demo.steps["verify"].stderr
    for directory in [backups, *backups.iterdir()]:
        assert directory.stat().st_mode & 0o077 == 0, f"{directory} is readable by others"


def test_the_audit_log_holds_every_mutating_call(demo: DemoRun) -> None:
    plan_sha = hashlib.sha256((demo.root / "demo.plan").read_bytes()).hexdigest()
    logs = list((demo.root / ".tether" / "audit").glob("*.jsonl"))
    assert len(logs) == 1
    entries = [json.loads(line) for line in logs[0].read_text(encoding="utf-8").splitlines()]
    backups = demo.root / ".tether" / "backups"
    shas = {m.sha256 for m in list_backups(backups)}
    sandbox_calls = sorted(
        (r["method"], r["path"])
        for r in demo.server.sandbox.requests()
        if is_mutating(r) and not r["path"].endswith(("/auth/o2/token", "/shipping/v2/carrierAccounts"))
    )
    assert any(path.endswith("/graphql.json") for _, path in sandbox_calls), "no Shopify mutation was audited"
    assert sorted((e["method"], e["path"]) for e in entries) == sandbox_calls
    for entry in entries:
        assert entry["plan_sha256"] == plan_sha
        assert entry["backup_sha256"] in shas
        assert entry["idempotency_key"].startswith("tether-")
        assert 200 <= entry["status"] < 300
        assert {"run_id", "time", "provider", "account", "address", "request_id"} <= set(entry)


def test_no_canary_in_any_output_file_or_request_log(demo: DemoRun) -> None:
    assert demo.issued_tokens, "the Amazon emulator issued no access token: the canary check would prove nothing"
    secrets = demo.secrets()
    for name, step in demo.steps.items():
        for secret in secrets:
            assert secret not in step.stdout, f"{name}: stdout holds a secret"
            assert secret not in step.stderr, f"{name}: stderr holds a secret"
    debug = [json.loads(line) for line in demo.steps["apply"].stderr.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "http.response" for e in debug), "debug logs were not on: the check is empty"
    files = [p for p in demo.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" and "audit" in p.parts for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{path.relative_to(demo.root)} holds a secret"
    requests = json.dumps(demo.server.sandbox.requests())
    assert "/stripe/v1/subscriptions" in requests
    for secret in secrets:
        assert secret not in requests
