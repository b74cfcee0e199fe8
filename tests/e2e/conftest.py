"""End-to-end fixtures: the sandbox over real HTTP on loopback, a user's repository in a temp
folder, and a way to run the ``tether`` command in-process or as a real process."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from providers.sandbox_server import SandboxServer
from providers.shopify import queries

SCENARIO = yaml.safe_load((Path(__file__).parent / "scenario.yaml").read_text(encoding="utf-8"))
TOKEN = "shpat_golden_admin"  # Golden Ops, the seller's own app
LEGACY_TOKEN = "shpat_golden_legacy"  # LegacyERP Connector, another app on the same shop

CONFIG = """\
version: 1
accounts:
  shop:
    provider: shopify
    endpoint: {url}/shopify/golden-shop
    options: {{shop: golden-shop.myshopify.com, api_version: "2026-10", own_services: [DPD Rates, Hermes Rates, Nordhub Fulfillment]}}
    credentials: {{access_token: "${{env:E2E_SHOPIFY_TOKEN}}"}}
defaults: {{undeclared: report, cancel_at: now, max_cancels: 20}}
integrations:
  dpd-rates: {{account: shop, kind: carrier, match: {{name: "DPD Rates"}}, ensure: present, expect: {{active: true}}}}
  nordhub: {{account: shop, kind: carrier, match: {{name: "Nordhub Fulfillment"}}, ensure: present}}
  hermes-rates: {{account: shop, kind: carrier, match: {{name: "Hermes Rates"}}, ensure: absent}}
  nordhub-hooks: {{account: shop, kind: webhook, match: {{app: Golden Ops, uri: "https://hooks.nordhub.example/*"}}, ensure: present}}
  legacy-erp-hooks: {{account: shop, kind: webhook, match: {{app: Golden Ops, uri: "https://erp.legacy-erp.example/*"}}, ensure: absent, backup: [orders]}}
  ops-pro: {{account: shop, kind: subscription, match: {{app: Golden Ops, name: "Golden Ops Pro"}}, ensure: absent}}
  ops-standard: {{account: shop, kind: subscription, match: {{app: Golden Ops, name: "Golden Ops Standard"}}, ensure: present}}
  legacy-freight: {{account: shop, kind: carrier, match: {{name: "LegacyERP Freight"}}, ensure: present}}
ignore:
  - match: {{account: shop, kind: webhook, topic: "APP_*"}}
    reason: "the app's own uninstall notice"
    owner: ops@example.com
    expires: 2099-01-31
"""

CANCELLED_IDS = {"4759306", "4759307", "1036894961", "455696195"}
KEPT_IDS = {"1036894960", "611870435", "4759308", "455696196"}
ENDED = frozenset({"CANCELLED", "DECLINED", "EXPIRED"})
SHOPIFY_COLLECTIONS = ("carrier_services", "fulfillment_services", "webhook_subscriptions", "app_subscriptions")


def plain_id(value: Any) -> str:
    """``gid://shopify/Type/123`` or ``123`` -> ``"123"``."""
    return str(value).rsplit("/", 1)[-1]


def shop_live_ids(shop: dict[str, Any]) -> set[str]:
    """Ids of every binding a Shopify shop in the sandbox still holds live, whatever app owns it."""
    ids = set()
    for collection in SHOPIFY_COLLECTIONS:
        for item in shop.get(collection) or []:
            if collection != "app_subscriptions" or str(item.get("status", "ACTIVE")).upper() not in ENDED:
                ids.add(plain_id(item["id"]))
    return ids


READS = frozenset(
    match.group(1) for match in (re.match(r"query (\w+)", doc) for doc in queries.ALL_DOCUMENTS) if match
)


def is_mutating(request: dict[str, Any]) -> bool:
    """A GraphQL request counts as a change unless the log names it as one of tether's queries
    (so a log without operation names fails closed)."""
    if str(request["path"]).endswith("/graphql.json"):
        return request.get("operation") not in READS
    return request["method"] not in ("GET", "HEAD")


def graphql_error(code: str, message: str) -> httpx.Response:
    """A GraphQL answer with one top-level error and no data, as Shopify gives a refused field."""
    return httpx.Response(200, json={"data": None, "errors": [{"message": message, "extensions": {"code": code}}]})


def fail_operation(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch, operation: str, answer: Callable[[], httpx.Response]
) -> list[str]:
    """Answer every Shopify GraphQL request named ``operation`` with ``answer()`` instead of the
    emulator (for the length of the test); returns the list the refused operations are noted in."""
    emulator = server.sandbox.emulators["shopify"]
    original = emulator.handle
    refused: list[str] = []

    def handle(request: httpx.Request, path: str) -> httpx.Response:
        try:
            name = json.loads(request.content or b"{}").get("operationName")
        except ValueError:
            name = None
        if name == operation:
            refused.append(name)
            return answer()
        return original(request, path)

    monkeypatch.setattr(emulator, "handle", handle)
    return refused


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
        shop: dict[str, Any] = self.server.sandbox.state()["shopify"]["golden-shop"]
        return shop

    def live_ids(self) -> set[str]:
        return shop_live_ids(self.live)

    def mutating_requests(self) -> list[dict[str, Any]]:
        """What the sandbox received that could change something: GraphQL mutations (named by
        their operation in the request log) and any other method than GET or HEAD."""
        return [r for r in self.server.sandbox.requests() if is_mutating(r)]

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
