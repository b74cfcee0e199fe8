"""run_apply hands apply what tether.yaml and the command line say: the age recipients, the hosts
to pin, the allowances and the run's deadline."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pyrage import x25519

import engine.apply
from engine.apply import ApplyResult, ApplySettings
from engine.config import load_config
from engine.runner import run_apply
from states.memory import MemoryStateStore
from tests.trust.test_endpoints import HTTP_VENDOR


def test_run_apply_passes_recipients_pins_allowances_and_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = str(x25519.Identity.generate().to_public())
    text = HTTP_VENDOR.format(endpoint="https://api.erp.example/v1").replace(
        "integrations: {}", f'defaults: {{backups: {{encrypt_to: ["{key}"]}}}}\nintegrations: {{}}'
    )
    (tmp_path / "tether.yaml").write_text(text, encoding="utf-8")
    config = load_config(cwd=tmp_path, allowed_hosts=frozenset({"gateway.example"}))
    assert config.defaults.backup_recipients == (key,)
    seen: dict[str, Any] = {}

    class Recording:
        def __init__(self, plan: Any, store: Any, providers: Any, settings: ApplySettings, report: Any) -> None:
            seen["settings"] = settings

        async def run(self) -> ApplyResult:
            return ApplyResult(run_id="r", results=(), blocked=(), state=MemoryStateStore().read())

    monkeypatch.setattr(engine.apply, "Applier", Recording)
    plan: Any = type("EmptyPlan", (), {"actions": ()})()
    settings = ApplySettings("r", "0" * 64, datetime.now(timezone.utc), "cfg", tmp_path / "b", tmp_path / "j")
    before = time.monotonic()
    asyncio.run(run_apply(plan, config, MemoryStateStore(), settings, tmp_path / "audit.jsonl",
                          lambda e, f: None, timeout_s=120))
    got: ApplySettings = seen["settings"]
    assert got.encrypt_to == (key,)
    assert got.pin_hosts == {"erp": "api.erp.example"}
    assert got.allowed_hosts == frozenset({"gateway.example"})
    assert got.deadline is not None and before + 119 < got.deadline < time.monotonic() + 121
