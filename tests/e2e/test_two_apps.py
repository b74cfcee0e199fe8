"""Two apps on one Shopify shop, over real HTTP against the sandbox (issue 12).

The seller's app "Golden Ops" holds the token tether uses; "LegacyERP Connector" is another app on
the same shop. An absent selector matches webhooks of both, and LegacyERP's carrier service is
declared absent. Shopify shows an app only its own webhook subscriptions and lets only the creator
of a carrier service delete it, so: Golden Ops' own webhooks are cancelled, the rest is
unverifiable (with the way to see it), the foreign carrier service is a manual step, nothing of
LegacyERP is touched, and ``tether audit`` exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LEGACY_TOKEN, Repo, plain_id

pytestmark = pytest.mark.e2e

CONFIG = """\
version: 1
accounts:
  shop:
    provider: shopify
    endpoint: {url}/shopify/golden-shop
    options: {{shop: golden-shop.myshopify.com, api_version: "2026-10", own_services: [DPD Rates, Hermes Rates]}}
    credentials: {{access_token: "${{env:E2E_SHOPIFY_TOKEN}}"}}
defaults: {{undeclared: ignore, cancel_at: now, max_cancels: 20}}
integrations:
  legacy-erp-hooks:
    account: shop
    kind: webhook
    match: {{uri: "https://erp.legacy-erp.example/*"}}
    ensure: absent
  legacy-freight:
    account: shop
    kind: carrier
    match: {{name: "LegacyERP Freight"}}
    ensure: absent
"""

OWN_HOOKS = {"4759306", "4759307"}  # Golden Ops' webhooks to LegacyERP's host
FOREIGN = {"4759310", "1036894962", "455696197"}  # LegacyERP's webhook, carrier service, charge


def legacy_objects(repo: Repo) -> dict[str, Any]:
    """Every object of the shop that LegacyERP Connector owns, as the sandbox holds it."""
    shop = repo.live
    return {
        plain_id(item["id"]): item
        for collection in ("carrier_services", "webhook_subscriptions", "app_subscriptions")
        for item in shop.get(collection) or []
        if item.get("app") == "legacy-erp"
    }


@pytest.fixture
def two_apps(repo: Repo) -> Repo:
    (repo.root / "tether.yaml").write_text(CONFIG.format(url=repo.server.url), encoding="utf-8")
    return repo


def actions(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["address"]: a for a in plan["actions"]}


def test_own_webhooks_cancelled_the_rest_unverifiable_the_foreign_carrier_manual(two_apps: Repo) -> None:
    repo = two_apps
    before = legacy_objects(repo)
    assert set(before) == FOREIGN

    planned = repo.tether("plan", "--format", "json", "--out", "two.plan")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(Path("two.plan").read_text(encoding="utf-8"))
    by_address = actions(plan)
    cancels = {a["live_id"] for a in plan["actions"] if a["action"] == "cancel"}
    assert cancels == OWN_HOOKS
    assert all(by_address[f"legacy-erp-hooks[{i}]"]["app"] == "Golden Ops" for i in OWN_HOOKS)
    unverifiable = [a for a in plan["actions"] if a["action"] == "unverifiable"]
    assert [a["integration"] for a in unverifiable] == ["legacy-erp-hooks"]
    assert "token as another account" in unverifiable[0]["reason"]
    freight = by_address["legacy-freight"]
    assert freight["action"] == "manual" and freight["live_id"] == "1036894962"
    assert "Apps and sales channels" in " > ".join(freight["runbook"]["navigation"])
    assert "4759310" not in {a.get("live_id") for a in plan["actions"]}  # invisible to Golden Ops

    applied = repo.tether("apply", "two.plan")
    assert applied.exit_code == 0, applied.output
    assert not (repo.live_ids() & OWN_HOOKS)
    assert legacy_objects(repo) == before  # nothing of the other app touched
    mutations = [r for r in repo.mutating_requests()]
    assert len(mutations) == len(OWN_HOOKS), mutations  # never a delete Shopify would refuse

    shopify = {(r["method"], r["path"]) for r in repo.server.sandbox.requests() if r["path"].startswith("/shopify/")}
    assert shopify == {("POST", "/shopify/golden-shop/admin/api/2026-10/graphql.json")}  # GraphQL only, no REST

    audit = repo.tether("audit")
    assert audit.exit_code == 2, audit.output
    assert "unverifiable" in audit.output.lower() and "legacy-freight" in audit.output


def test_the_other_apps_token_as_another_account_sees_and_cancels_its_own(two_apps: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The way out the plan names: LegacyERP's own token lists its webhooks in full."""
    repo = two_apps
    config = CONFIG.replace("own_services: [DPD Rates, Hermes Rates]", "own_services: [LegacyERP Freight]")
    (repo.root / "tether.yaml").write_text(config.format(url=repo.server.url), encoding="utf-8")
    monkeypatch.setenv("E2E_SHOPIFY_TOKEN", LEGACY_TOKEN)
    planned = repo.tether("plan", "--format", "json", "--out", "legacy.plan")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(Path("legacy.plan").read_text(encoding="utf-8"))
    cancels = {a["live_id"] for a in plan["actions"] if a["action"] == "cancel"}
    assert cancels == {"4759310", "1036894962"}
    assert all(a["app"] == "LegacyERP Connector" for a in plan["actions"] if a["action"] == "cancel")
    applied = repo.tether("apply", "legacy.plan")
    assert applied.exit_code == 0, applied.output
    assert not (repo.live_ids() & {"4759310", "1036894962"})
    assert repo.live_ids() >= OWN_HOOKS  # Golden Ops' webhooks are not LegacyERP's to touch
