"""End-to-end fixtures: the sandbox over real HTTP on loopback, a user's repository in a temp
folder, and a way to run the ``tether`` command in-process or as a real process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from providers.sandbox_server import SandboxServer

SCENARIO = yaml.safe_load((Path(__file__).parent.parent / "golden" / "scenario.yaml").read_text())
TOKEN = "shpat_golden_admin"

CONFIG = """\
version: 1
accounts:
  shop:
    provider: shopify
    endpoint: {url}/shopify/golden-shop
    options: {{shop: golden-shop.myshopify.com, api_version: "2024-01"}}
    credentials: {{access_token: "${{env:E2E_SHOPIFY_TOKEN}}"}}
defaults: {{undeclared: report, cancel_at: now, max_cancels: 20}}
integrations:
  dpd-rates: {{account: shop, kind: carrier, match: {{name: "DPD Rates"}}, ensure: present, expect: {{active: true}}}}
  nordhub: {{account: shop, kind: carrier, match: {{name: "Nordhub Fulfillment"}}, ensure: present}}
  hermes-rates: {{account: shop, kind: carrier, match: {{name: "Hermes Rates"}}, ensure: absent}}
  nordhub-hooks: {{account: shop, kind: webhook, match: {{address: "https://hooks.nordhub.example/*"}}, ensure: present}}
  legacy-erp-hooks: {{account: shop, kind: webhook, match: {{address: "https://erp.legacy-erp.example/*"}}, ensure: absent, backup: [orders]}}
  legacy-erp-connector: {{account: shop, kind: subscription, match: {{name: "LegacyERP Connector"}}, ensure: absent}}
  nordhub-standard: {{account: shop, kind: subscription, match: {{name: "Nordhub Standard"}}, ensure: present}}
ignore:
  - match: {{account: shop, kind: webhook, topic: "app/*"}}
    reason: "installed by the storefront theme"
    owner: ops@example.com
    expires: 2099-01-31
"""

CANCELLED_IDS = {"4759306", "4759307", "1036894961", "455696195"}


@pytest.fixture(scope="session")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@dataclass
class Repo:
    """A user's repository with tether.yaml, and the sandbox it talks to."""

    root: Path
    server: SandboxServer
    token: str

    def tether(self, *args: str, input: str | None = None) -> Any:
        result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
        return result

    def tether_process(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "E2E_SHOPIFY_TOKEN": self.token, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "engine.cli", *args],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    @property
    def live(self) -> dict[str, Any]:
        return self.server.sandbox.state()["shopify"]["golden-shop"]

    def live_ids(self) -> set[str]:
        shop = self.live
        ids = set()
        for collection in ("carrier_services", "fulfillment_services", "webhooks", "recurring_application_charges"):
            for item in shop.get(collection, []):
                if collection != "recurring_application_charges" or item.get("status") not in ("cancelled", "declined", "expired"):
                    ids.add(str(item["id"]))
        return ids

    def mutating_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.server.sandbox.requests() if r["method"] not in ("GET", "HEAD")]

    def snapshot(self) -> dict[str, str]:
        """Every file below the repo with its bytes' hash and mtime: proof that nothing changed."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                found[str(path.relative_to(self.root))] = f"{hashlib.sha256(path.read_bytes()).hexdigest()}:{stat.st_mtime_ns}"
        return found


@pytest.fixture
def repo(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    server.sandbox.load_scenario(SCENARIO)
    server.sandbox.clear_faults()
    server.sandbox.clear_requests()
    (tmp_path / "tether.yaml").write_text(CONFIG.format(url=server.url), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("E2E_SHOPIFY_TOKEN", TOKEN)
    return Repo(root=tmp_path, server=server, token=TOKEN)
