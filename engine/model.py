"""The engine's domain, as frozen values: what a user declared and what a plan does. What the engine
shares with the providers (kinds, accounts, live bindings, listings, runbooks) is the provider SDK,
``providers.sdk.model``, re-exported here for the engine's own modules.

Nothing here does I/O. Mappings inside these records are plain dicts by convenience; treat them as
read-only (the planner never mutates them, and tests rely on that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from providers.sdk.model import (
    Account,
    BlindReason,
    BlindSpot,
    CancelAt,
    Gap,
    GapReason,
    Kind,
    Listing,
    LiveBinding,
    Runbook,
    SecretRef,
    canonical_json,
    fingerprint,
)

__all__ = [
    "Account",
    "Action",
    "BlindReason",
    "BlindSpot",
    "CancelAt",
    "Config",
    "Defaults",
    "Ensure",
    "Gap",
    "GapReason",
    "IgnoreRule",
    "Integration",
    "Kind",
    "Listing",
    "LiveBinding",
    "Money",
    "Runbook",
    "SecretRef",
    "Terms",
    "Undeclared",
    "canonical_json",
    "fingerprint",
]


class Ensure(str, Enum):
    PRESENT = "present"
    ABSENT = "absent"


class Undeclared(str, Enum):
    CANCEL = "cancel"
    REPORT = "report"
    IGNORE = "ignore"


class Action(str, Enum):
    """What the plan says about one binding (or one integration that matched nothing).

    Only CANCEL (and a MANUAL not yet recorded as pending) make ``apply`` do anything; the rest
    are reports a human should read.
    """

    KEEP = "keep"
    CANCEL = "cancel"
    DRIFT = "drift"
    MISSING = "missing"
    AMBIGUOUS = "ambiguous"
    UNMANAGED = "unmanaged"
    BLOCKED = "blocked"
    MANUAL = "manual"
    UNVERIFIABLE = "unverifiable"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Action.KEEP: " ",
    Action.CANCEL: "-",
    Action.DRIFT: "~",
    Action.MISSING: "?",
    Action.AMBIGUOUS: "!",
    Action.UNMANAGED: "+",
    Action.BLOCKED: "x",
    Action.MANUAL: "M",
    Action.UNVERIFIABLE: "U",
}

_MONEY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z]{3})\s*$")


@dataclass(frozen=True, order=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse ``"49.00 EUR"``. Raises ValueError with a message fit for a user."""
        found = _MONEY.match(str(text))
        if not found:
            raise ValueError(f'"{text}" is not an amount like "49.00 EUR"')
        try:
            return cls(Decimal(found.group(1)), found.group(2).upper())
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
            raise ValueError(f'"{text}" is not an amount like "49.00 EUR"') from exc

    def to_json(self) -> dict[str, str]:
        return {"amount": f"{self.amount:.2f}", "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


@dataclass(frozen=True, slots=True)
class Terms:
    commitment_end: date | None = None
    early_termination_fee: Money | None = None


@dataclass(frozen=True)
class Integration:
    name: str
    account: str
    kind: Kind
    match: Mapping[str, Any]
    ensure: Ensure = Ensure.PRESENT
    expect: Mapping[str, Any] = field(default_factory=dict)
    backup: tuple[str, ...] = ()
    sides: tuple[str, ...] | None = None
    protect: bool = False
    terms: Terms | None = None
    cancel_at: CancelAt | None = None  # None: defaults.cancel_at
    file: str = "tether.yaml"
    line: int | None = None


@dataclass(frozen=True)
class IgnoreRule:
    match: Mapping[str, Any]
    reason: str
    owner: str
    expires: date

    def active_on(self, today: date) -> bool:
        return today <= self.expires


@dataclass(frozen=True)
class Defaults:
    undeclared: Undeclared = Undeclared.REPORT
    max_fee: Money = Money(Decimal("0.00"), "EUR")
    cancel_at: CancelAt = CancelAt.PERIOD_END
    max_cancels: int = 20
    backup_recipients: tuple[str, ...] = ()  # defaults.backups.encrypt_to: age public keys


@dataclass(frozen=True)
class Config:
    accounts: Mapping[str, Account]
    integrations: Mapping[str, Integration]
    defaults: Defaults = Defaults()
    ignore: tuple[IgnoreRule, ...] = ()
    sha256: str = ""
    files: tuple[str, ...] = ()
    base_dir: str = "."
    allowed_hosts: frozenset[str] = frozenset()  # --allow-endpoint, TETHER_ALLOW_ENDPOINTS: never from tether.yaml
