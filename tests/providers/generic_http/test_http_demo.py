"""The documented sandbox account against the built-in demo vendor, end to end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from engine.model import CancelAt, Kind
from providers.sdk import CancelRequest, CancelStatus

ROOT = Path(__file__).resolve().parents[3]


def demo_account() -> dict[str, Any]:
    text = (ROOT / "docs" / "http-provider.md").read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and "shipcloud-demo" in (data.get("accounts") or {}):
            return data["accounts"]["shipcloud-demo"]
    raise AssertionError("docs/http-provider.md lost its sandbox account")


def test_the_documented_account_lists_backs_up_cancels_and_verifies_on_the_demo(harness: Any) -> None:
    demo = yaml.safe_load((ROOT / "providers" / "generic_http" / "demo.yaml").read_text(encoding="utf-8"))
    harness.emulator.load(demo["http"])
    account = demo_account()
    assert account["endpoint"] == "http://127.0.0.1:8787/vendor/shipcloud"

    async def scenario(http: Any) -> Any:
        provider = harness.provider(http, account["options"], account="shipcloud-demo", endpoint=account["endpoint"])
        listing = await provider.list_bindings(frozenset(Kind))
        legacy = next(b for b in listing.bindings if b.name.startswith("Lumen Legacy"))
        shipments = [r async for r in provider.export(legacy, "orders")]
        outcome = await provider.cancel(
            CancelRequest(binding=legacy, side="provider", cancel_at=CancelAt.NOW, idempotency_key="k1")
        )
        return listing, shipments, outcome, await provider.fetch(legacy), await provider.list_bindings(frozenset(Kind))

    listing, shipments, outcome, fetched, after = harness.run(scenario)
    assert listing.complete
    assert [(b.name, b.status) for b in listing.bindings] == [
        ("Lumen EU (Shopify)", "active"),
        ("Lumen Legacy (old ERP bridge)", "active"),
    ]
    assert [s["reference"] for s in shipments] == ["ERP-877", "ERP-878", "ERP-879"]
    assert outcome.status is CancelStatus.DONE
    assert fetched is None
    assert [b.name for b in after.bindings] == ["Lumen EU (Shopify)"]
    assert 429 not in harness.statuses
