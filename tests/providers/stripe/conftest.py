"""Fixtures for the Stripe tests; the harness itself lives in stripe_harness.py."""

from __future__ import annotations

from stripe_harness import fake_time, make_harness  # noqa: F401  (fixtures)
