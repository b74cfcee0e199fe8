"""Fixtures for the Shopify tests (helpers live in shopify_support)."""

from __future__ import annotations

import pytest

from providers.shopify.emulator import ShopifyEmulator
from shopify_support import FakeClock, Wire, demo_section


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> ShopifyEmulator:
    emu = ShopifyEmulator(clock=clock)
    emu.load(demo_section())
    return emu


@pytest.fixture
def wire(emulator: ShopifyEmulator) -> Wire:
    return Wire(emulator)
