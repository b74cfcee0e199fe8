"""Credentials go only to their vendor: foreign endpoints refused offline unless allowed outside
tether.yaml, an http vendor's host pinned by the first apply, the plan naming each host."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.apply import Applier, ApplySettings
from engine.cli import app
from engine.config import load_config
from engine.endpoints import HostVerdict, check_account_host, host_matches, require_pins
from engine.errors import ConfigError
from engine.model import Account, Kind, SecretRef
from engine.refresh import catalog, open_providers
from providers.http import HttpFactory
from states.memory import MemoryStateStore
from tests.engine.test_apply import NOW, TwoSided, make

SHOPIFY = """\
version: 1
accounts:
  shop-eu:
    provider: shopify
    endpoint: {endpoint}
    options: {{shop: demo-shop.myshopify.com, api_version: "2026-10"}}
    credentials:
      access_token: "${{env:SHOPIFY_TOKEN}}"
integrations: {{}}
"""

HTTP_VENDOR = """\
version: 1
accounts:
  erp:
    provider: http
    endpoint: {endpoint}
    credentials:
      token: "${{env:ERP_TOKEN}}"
    options:
      vendor: erp
      auth: {{header: Authorization, format: "Bearer {{token}}"}}
      resources:
        - kind: carrier
          name: connections
          list: {{path: /v1/connections, items: data}}
          fields: {{id: id, name: name, status: state}}
          get: {{path: "/v1/connections/{{id}}", item: data}}
          cancel: {{method: DELETE, path: "/v1/connections/{{id}}", ok: [204]}}
integrations: {{}}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "tether.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "tether.yaml"


def token(provider: str = "shopify", endpoint: str | None = None, **options: object) -> Account:
    return Account("acct", provider, endpoint, options, {"token": SecretRef("env", "T")})


# --- the rule ------------------------------------------------------------------------------------


def test_host_patterns_match_exact_names_and_strict_subdomains() -> None:
    assert host_matches("Demo-Shop.myshopify.com.", ["demo-shop.myshopify.com"])
    assert host_matches("a.b.amazon.com", ["*.amazon.com"])
    assert not host_matches("amazon.com", ["*.amazon.com"])
    assert not host_matches("evilamazon.com", ["*.amazon.com"])
    assert not host_matches("demo-shop.myshopify.com.evil.example", ["demo-shop.myshopify.com"])


@pytest.mark.parametrize(
    "endpoint,allowed,verdict",
    [
        (None, (), HostVerdict.VENDOR),
        ("https://demo-shop.myshopify.com", (), HostVerdict.VENDOR),
        ("http://127.0.0.1:8787/shopify/demo-shop", (), HostVerdict.LOOPBACK),
        ("http://[::1]:8787/shopify/demo-shop", (), HostVerdict.LOOPBACK),
        ("https://other-shop.myshopify.com", (), HostVerdict.REFUSED),
        ("https://gateway.example.com/shopify", (), HostVerdict.REFUSED),
        ("https://gateway.example.com/shopify", ("GATEWAY.example.com",), HostVerdict.ALLOWED),
        ("https://gateway.example.com:8443/x", ("gateway.example.com:8443",), HostVerdict.ALLOWED),
    ],
)
def test_a_credential_goes_to_its_vendor_loopback_or_an_allowed_host(
    endpoint: str | None, allowed: tuple[str, ...], verdict: HostVerdict
) -> None:
    check = check_account_host(token(endpoint=endpoint), ("demo-shop.myshopify.com",), allowed)
    assert check.verdict is verdict
    if verdict is HostVerdict.REFUSED:
        assert "--allow-endpoint" in check.hint and "TETHER_ALLOW_ENDPOINTS" in check.hint


def test_an_account_without_a_credential_sends_nothing_anywhere() -> None:
    account = Account("manual", "manual", "https://anywhere.example", {}, {})
    assert check_account_host(account, (), ()).verdict is HostVerdict.NO_CREDENTIAL


# --- validate, offline ---------------------------------------------------------------------------


def test_validate_refuses_a_shopify_credential_sent_to_a_foreign_host_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, SHOPIFY.format(endpoint="https://collector.evil.example/admin"))
    with pytest.raises(ConfigError) as refused:
        load_config(cwd=tmp_path)
    (diagnostic,) = refused.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("tether.yaml", 5)
    text = str(diagnostic)
    assert "collector.evil.example" in text and "demo-shop.myshopify.com" in text
    assert "--allow-endpoint collector.evil.example" in text and "TETHER_ALLOW_ENDPOINTS" in text
    allowed = load_config(cwd=tmp_path, allowed_hosts=frozenset({"collector.evil.example"}))
    assert allowed.accounts["shop-eu"].endpoint == "https://collector.evil.example/admin"


def test_the_cli_refuses_then_allows_by_flag_and_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, SHOPIFY.format(endpoint="https://proxy.corp.example/shopify"))
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", "--config", str(path)])
    assert refused.exit_code == 1
    assert "tether.yaml:5" in refused.output and "proxy.corp.example" in refused.output
    by_flag = runner.invoke(app, ["validate", "--config", str(path), "--allow-endpoint", "proxy.corp.example"])
    assert by_flag.exit_code == 0, by_flag.output
    monkeypatch.setenv("TETHER_ALLOW_ENDPOINTS", "other.example, proxy.corp.example")
    by_env = runner.invoke(app, ["validate", "--config", str(path)])
    assert by_env.exit_code == 0, by_env.output


def test_the_shops_own_host_and_the_sandbox_need_no_allowance(tmp_path: Path) -> None:
    for endpoint in ("https://demo-shop.myshopify.com", "http://127.0.0.1:8787/shopify/demo-shop"):
        write(tmp_path, SHOPIFY.format(endpoint=endpoint))
        assert load_config(cwd=tmp_path).accounts["shop-eu"].endpoint == endpoint


# --- an http vendor's host, pinned ---------------------------------------------------------------


def test_an_http_vendor_host_is_trusted_first_then_pinned(tmp_path: Path) -> None:
    write(tmp_path, HTTP_VENDOR.format(endpoint="https://api.erp.example/v1"))
    config = load_config(cwd=tmp_path)
    require_pins(config, {})  # first use: nothing pinned yet
    require_pins(config, {"erp": "api.erp.example"})
    with pytest.raises(ConfigError) as moved:
        require_pins(config, {"erp": "api.old-erp.example"})
    text = str(moved.value)
    assert "api.erp.example" in text and "pinned api.old-erp.example" in text and "--allow-endpoint" in text
    allowed = load_config(cwd=tmp_path, allowed_hosts=frozenset({"api.erp.example"}))
    require_pins(allowed, {"erp": "api.old-erp.example"})


def run_apply(tmp_path: Path, store: MemoryStateStore, **settings: object) -> None:
    provider = TwoSided(("old", Kind.CARRIER))
    plan = make(provider, store)
    applier = Applier(
        plan, store, {"shop": provider},
        ApplySettings(run_id="run-pin", plan_sha256="0" * 64, now=NOW, config_sha256="cfg",
                      backup_dir=tmp_path / "b", journal_dir=tmp_path / "j", **settings),  # type: ignore[arg-type]
        lambda event, fields: None,
    )
    asyncio.run(applier.run())


def test_the_first_apply_pins_the_host_and_a_moved_one_is_refused_unless_allowed(tmp_path: Path) -> None:
    store = MemoryStateStore()
    run_apply(tmp_path, store, pin_hosts={"erp": "api.erp.example"})
    assert store.read().hosts == {"erp": "api.erp.example"}
    before = store.read()
    with pytest.raises(ConfigError, match="pinned: api.erp.example"):
        run_apply(tmp_path, store, pin_hosts={"erp": "api.elsewhere.example"})
    assert store.read() == before
    run_apply(tmp_path, store, pin_hosts={"erp": "api.elsewhere.example"},
              allowed_hosts=frozenset({"api.elsewhere.example"}))
    assert store.read().hosts == {"erp": "api.elsewhere.example"}


# --- the plan shows where each credential goes ---------------------------------------------------


def test_the_catalog_names_the_host_each_credential_goes_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, SHOPIFY.format(endpoint="http://127.0.0.1:8787/shopify/demo-shop").replace(
        "    endpoint: http://127.0.0.1:8787/shopify/demo-shop\n", ""))
    config = load_config(cwd=tmp_path)
    monkeypatch.setenv("SHOPIFY_TOKEN", "shpat_test")

    async def build() -> dict[str, str]:
        http = HttpFactory()
        providers = open_providers(config, http)
        try:
            return {name: info.host for name, info in catalog(providers, config).items()}
        finally:
            await http.aclose()

    assert asyncio.run(build()) == {"shop-eu": "demo-shop.myshopify.com"}


def test_validate_refuses_a_moved_http_host_against_the_pinned_state(tmp_path: Path) -> None:
    from states.local import LocalStateStore

    path = write(tmp_path, HTTP_VENDOR.format(endpoint="https://api.new-erp.example/v1"))
    runner = CliRunner()
    assert runner.invoke(app, ["validate", "--config", str(path)]).exit_code == 0  # nothing pinned yet
    store = LocalStateStore(tmp_path / ".tether" / "state.json")
    (tmp_path / ".tether").mkdir()
    store.persist(store.read().with_hosts({"erp": "api.erp.example"}))
    refused = runner.invoke(app, ["validate", "--config", str(path)])
    assert refused.exit_code == 1 and "pinned api.erp.example" in refused.output, refused.output
    allowed = runner.invoke(app, ["validate", "--config", str(path), "--allow-endpoint", "api.new-erp.example"])
    assert allowed.exit_code == 0, allowed.output
