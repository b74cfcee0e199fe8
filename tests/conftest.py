"""Every test starts with a clean environment and a private home, and never leaves loopback."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.startswith(("TETHER_", "SHOPIFY_", "STRIPE_", "EBAY_", "AMAZON_", "LWA_")):
            monkeypatch.delenv(name, raising=False)
        # A proxy set on the machine running the tests must not change what they test (the tests
        # that need one set it themselves).
        if name.upper() in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("TETHER_LANG", "en")


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs() -> None:
    """Library calls in tests log like the CLI does by default: warnings and worse only."""
    from engine.logs import configure

    configure("warning", "console")
