"""A vendor that accepts connections and never answers, over real loopback TCP: `tether plan
--timeout` ends in time, exits 1 and names the account."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CONFIG = """\
version: 1
accounts:
  silent-shop:
    provider: shopify
    endpoint: http://127.0.0.1:{port}/shopify/silent-shop
    options: {{shop: silent-shop.myshopify.com, api_version: "2026-10"}}
    credentials:
      access_token: "${{env:SHOPIFY_TOKEN}}"
integrations:
  old-hooks: {{account: silent-shop, kind: webhook, match: {{uri: "https://erp.example/*"}}, ensure: absent}}
"""


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback server that accepts every connection, reads, and never writes a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_plan_against_a_silent_vendor_ends_at_its_timeout_naming_the_account(tmp_path: Path, silent_port: int) -> None:
    (tmp_path / "tether.yaml").write_text(CONFIG.format(port=silent_port), encoding="utf-8")
    env = {**os.environ, "SHOPIFY_TOKEN": "shpat_silent", "TETHER_LANG": "en"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "plan", "--timeout", "3s"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    took = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert took < 30, f"the plan took {took:.1f} s with --timeout 3s"
    assert "silent-shop" in done.stdout
    assert not [line for line in done.stdout.splitlines() if "cancel " in line and "old-hooks" in line]
