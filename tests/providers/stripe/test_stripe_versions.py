"""Stripe-Version: only versions in Stripe's format that can exist are accepted, by the emulator
(Stripe's own 400) and by the provider's configuration check."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from stripe_harness import FakeTime, demo_section

from providers.sdk import Account
from providers.stripe.client import StripeProvider
from providers.stripe.emulator import StripeEmulator
from providers.stripe.versions import problem, release_of

TODAY = date(2025, 10, 9)  # FakeTime's wall clock


@pytest.mark.parametrize("version", ["2023-08-16", "2024-09-30.acacia", "2025-03-31.basil", "2025-09-30.clover"])
def test_real_versions_are_accepted(version: str) -> None:
    assert problem(version, today=TODAY) is None


@pytest.mark.parametrize(
    ("version", "why"),
    [
        ("2099-01-01", "after today"),
        ("2025-02-30", "calendar date"),
        ("2025-03-31", "basil"),  # a named release's version without its name
        ("2025-03-31.acacia", "basil"),  # the wrong release for the date
        ("2023-08-16.basil", "no release name"),
        ("latest", "date such as"),
        ("2025-3-31.basil", "date such as"),
    ],
)
def test_impossible_versions_are_refused(version: str, why: str) -> None:
    found = problem(version, today=TODAY)
    assert found is not None and why in found


def test_release_names_follow_the_dates() -> None:
    assert release_of("2024-09-29") is None
    assert release_of("2025-03-30") == "acacia"
    assert release_of("2026-03-25") == "dahlia"
    assert release_of("2026-10-01") == "endive"


def _get(version: str) -> Any:
    clock = FakeTime()
    emulator = StripeEmulator(clock=clock.monotonic, wall_clock=clock.time)
    emulator.load(demo_section())
    request = __import__("httpx").Request(
        "GET",
        "http://sandbox/stripe/v1/subscriptions",
        headers={"Authorization": "Bearer sk_test_demo", "Stripe-Version": version},
    )
    return emulator.handle(request, "/v1/subscriptions")


def test_the_emulator_answers_an_invalid_version_as_stripe_does() -> None:
    bad = _get("2099-01-01")
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == "Invalid Stripe API version: 2099-01-01"
    good = _get("2025-03-31.basil")
    assert good.status_code == 200 and good.headers["Stripe-Version"] == "2025-03-31.basil"


def test_credential_hosts_and_authority() -> None:
    assert StripeProvider.credential_hosts(Account("pay", "stripe")) == ("api.stripe.com",)
    (row,) = StripeProvider.capabilities.authority
    assert "sells" in row.who_sees and row.source.startswith("https://docs.stripe.com/")
