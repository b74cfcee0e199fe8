"""``tether audit`` end to end against the sandbox over real HTTP: exit codes, ignore-rule
expiry, the sticky marker, languages, and that it changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from providers.sandbox_server import SandboxServer

# One shop whose bindings all belong to the app holding tether's token, in the GraphQL Admin
# API's field names (SPEC section 8): it sees and may cancel every one of them.
SCENARIO = yaml.safe_load("""
shopify:
  golden-shop:
    apps:
      golden-ops:
        title: Golden Ops
        tokens:
          shpat_golden_admin: [read_shipping, write_shipping, read_fulfillments, write_fulfillments, read_orders]
    carrier_services:
      - {id: 1036894960, name: DPD Rates, active: true, callbackUrl: "https://rates.dpd.example/shopify", app: golden-ops}
      - {id: 1036894961, name: Hermes Rates, active: true, callbackUrl: "https://rates.hermes.example/quote", app: golden-ops}
    fulfillment_services:
      - {id: 611870435, serviceName: Nordhub Fulfillment, handle: nordhub-fulfillment, app: golden-ops}
    webhook_subscriptions:
      - {id: 4759306, topic: ORDERS_CREATE, uri: "https://erp.legacy-erp.example/hooks/orders", app: golden-ops}
      - {id: 4759307, topic: PRODUCTS_UPDATE, uri: "https://erp.legacy-erp.example/hooks/products", app: golden-ops}
      - {id: 4759308, topic: ORDERS_CREATE, uri: "https://hooks.nordhub.example/shopify/orders", app: golden-ops}
      - {id: 4759309, topic: APP_UNINSTALLED, uri: "https://theme.lumen.example/uninstalled", app: golden-ops}
    app_subscriptions:
      - {id: 455696195, name: Golden Ops Pro, status: ACTIVE, price: "29.00 EUR", interval: EVERY_30_DAYS, app: golden-ops}
      - {id: 455696196, name: Golden Ops Standard, status: ACTIVE, price: "9.00 EUR", interval: EVERY_30_DAYS, app: golden-ops}
""")

# Every live binding of the golden shop declared as it is, but the theme's webhook.
CONFIG = """\
version: 1
accounts:
  shop:
    provider: shopify
    endpoint: {url}/shopify/golden-shop
    options: {{shop: golden-shop.myshopify.com, api_version: "2026-10", own_services: [DPD Rates, Hermes Rates, Nordhub Fulfillment]}}
    credentials: {{access_token: "${{env:AUDIT_SHOPIFY_TOKEN}}"}}
defaults: {{undeclared: {undeclared}}}
integrations:
  dpd-rates: {{account: shop, kind: carrier, match: {{name: "DPD Rates"}}, ensure: present, expect: {{active: true}}}}
  hermes-rates: {{account: shop, kind: carrier, match: {{name: "Hermes Rates"}}, ensure: present}}
  nordhub: {{account: shop, kind: carrier, match: {{name: "Nordhub Fulfillment"}}, ensure: present}}
  erp-orders: {{account: shop, kind: webhook, match: {{topic: ORDERS_CREATE, uri: "https://erp.legacy-erp.example/*"}}, ensure: present}}
  erp-products: {{account: shop, kind: webhook, match: {{topic: PRODUCTS_UPDATE}}, ensure: present}}
  nordhub-hooks: {{account: shop, kind: webhook, match: {{uri: "https://hooks.nordhub.example/*"}}, ensure: present}}
  pro: {{account: shop, kind: subscription, match: {{name: "Golden Ops Pro"}}, ensure: present}}
  standard: {{account: shop, kind: subscription, match: {{name: "Golden Ops Standard"}}, ensure: present}}
ignore:
  - match: {{account: shop, kind: webhook, topic: "APP_*"}}
    reason: "installed by the storefront theme"
    owner: ops@example.com
    expires: {expires}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def workdir(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    server.sandbox.load_scenario(SCENARIO)
    server.sandbox.clear_faults()
    server.sandbox.clear_requests()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDIT_SHOPIFY_TOKEN", "shpat_golden_admin")
    return tmp_path


def write(workdir: Path, server: SandboxServer, *, expires: str = "2099-12-31", undeclared: str = "report") -> None:
    (workdir / "tether.yaml").write_text(CONFIG.format(url=server.url, expires=expires, undeclared=undeclared), encoding="utf-8")


def audit(*args: str) -> Any:
    return CliRunner().invoke(app, ["audit", *args], catch_exceptions=False)


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_clean_audit_exits_0_and_counts_what_ignore_rules_hide(workdir: Path, server: SandboxServer) -> None:
    write(workdir, server)
    result = audit()
    assert result.exit_code == 0, result.output
    assert "1 live binding(s) hidden by ignore rules." in result.output
    markdown = audit("--format", "markdown")
    assert markdown.exit_code == 0
    lines = markdown.output.splitlines()
    assert lines[0] == "<!-- tether:audit -->"
    assert lines[1] == "### ✅ tether audit: clean; every live binding matches tether.yaml"
    assert "1 live binding hidden by an active rule (counted here, not listed)" in markdown.output


def test_an_expired_ignore_rule_stops_hiding_and_the_audit_says_so(workdir: Path, server: SandboxServer) -> None:
    write(workdir, server, expires="2000-01-31")
    result = audit()
    assert result.exit_code == 2, result.output
    assert "ignore rule #1 (installed by the storefront theme; owner ops@example.com) expired on 2000-01-31 and no longer hides shop/webhook/4759309" in result.output
    assert "shop/webhook/4759309" in result.output.split("Notes:")[0]  # listed, no longer hidden
    assert "hidden by ignore rules" not in result.output
    markdown = audit("--format", "markdown")
    assert markdown.exit_code == 2
    assert markdown.output.splitlines()[1] == "### ⚠️ tether audit: 1 to review · 1 expired ignore rule"
    assert "`shop/webhook/4759309`" in markdown.output
    zh = audit("--format", "markdown", "--lang", "zh")
    assert zh.exit_code == 2
    assert "忽略规则 #1（installed by the storefront theme；负责人 ops@example.com）已于 2000-01-31 过期" in zh.output.replace("\\#", "#")
    text_zh = audit("--lang", "zh")
    assert "ignore rule" not in text_zh.output and "忽略规则 #1" in text_zh.output


def test_audit_reports_undeclared_bindings_even_when_plans_ignore_them(workdir: Path, server: SandboxServer) -> None:
    write(workdir, server, undeclared="ignore")
    (workdir / "tether.yaml").write_text((workdir / "tether.yaml").read_text().replace("  standard: ", "  # standard: "))
    planned = CliRunner().invoke(app, ["plan", "--format", "json"])
    assert [a for a in json.loads(planned.output)["actions"] if a["action"] != "keep"] == []  # the plan leaves it out
    result = audit("--format", "json")
    assert result.exit_code == 2
    unmanaged = [a["address"] for a in json.loads(result.output)["actions"] if a["action"] == "unmanaged"]
    assert unmanaged == ["shop/subscription/455696196"]


def test_audit_exits_1_on_bad_input_with_one_message_in_the_chosen_language(workdir: Path, server: SandboxServer) -> None:
    (workdir / "tether.yaml").write_text("version: 1\naccounts: [\n")
    result = audit()
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    zh = audit("--lang", "zh")
    assert zh.exit_code == 1 and zh.output.startswith("错误：")


def test_audit_exits_1_when_a_listing_fails(workdir: Path, server: SandboxServer) -> None:
    write(workdir, server)
    server.sandbox.set_faults(rules=[{"path": "/shopify/golden-shop/admin/api/2026-10/graphql.json", "status": 404}])
    result = audit("--format", "markdown")
    assert result.exit_code == 1, result.output
    report = result.output[result.output.index("<!-- tether:audit -->") :]  # after any log line
    assert report.splitlines()[1].startswith("### ❌ tether audit: incomplete: part of shop could not be listed")
    assert "- shop: listing its bindings failed after retries (the vendor said: " in report
    assert "#### ❗ Problems" in result.output


def test_audit_changes_nothing_and_json_is_language_neutral(workdir: Path, server: SandboxServer) -> None:
    write(workdir, server, expires="2000-01-31")
    before = snapshot(workdir)
    live_before = json.dumps(server.sandbox.state(), sort_keys=True, default=str)
    outputs = {lang: audit("--format", "json", "--lang", lang) for lang in ("en", "zh")}
    assert {r.exit_code for r in outputs.values()} == {2}
    documents = [json.loads(r.output) for r in outputs.values()]
    for document in documents:
        document.pop("created_at")
    assert documents[0] == documents[1]
    assert snapshot(workdir) == before
    # GraphQL reads are POSTs too: what counts is that nothing live changed, and that every
    # request was a read (no mutation document named by the client)
    assert json.dumps(server.sandbox.state(), sort_keys=True, default=str) == live_before
    operations = {str(r.get("operation") or "") for r in server.sandbox.requests()}
    assert operations and not any("delete" in o.lower() or "cancel" in o.lower() for o in operations), operations


def test_saved_plan_renders_as_markdown_with_the_plan_marker(workdir: Path, server: SandboxServer) -> None:
    write(workdir, server)
    (workdir / "tether.yaml").write_text((workdir / "tether.yaml").read_text().replace(
        "  hermes-rates: {account: shop, kind: carrier, match: {name: \"Hermes Rates\"}, ensure: present}",
        "  hermes-rates: {account: shop, kind: carrier, match: {name: \"Hermes Rates\"}, ensure: absent}",
    ))
    saved = CliRunner().invoke(app, ["plan", "--out", "tfplan", "--format", "markdown"])
    assert saved.exit_code == 0, saved.output
    shown = CliRunner().invoke(app, ["show", "tfplan", "--format", "markdown"])
    assert shown.exit_code == 0
    assert shown.output == saved.output
    assert shown.output.startswith("<!-- tether:plan -->\n### ⚠️ tether plan: cancels 1 binding · no fees\n")
    assert "- **Cancels** carrier service **Hermes Rates** on **shop** — declared absent · app: Golden Ops · backup: binding · `hermes-rates`" in shown.output
    assert "| **shop** | shopify | `127.0.0.1` |" in shown.output  # where the credential goes
