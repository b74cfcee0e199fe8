"""The domain, as frozen values: what a user declared, what a provider returned, what a plan does.

Nothing here does I/O. Mappings inside these records are plain dicts by convenience; treat them as
read-only (the planner never mutates them, and tests rely on that).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Mapping

import orjson


class Kind(str, Enum):
    CARRIER = "carrier"
    SUBSCRIPTION = "subscription"
    APP = "app"
    WEBHOOK = "webhook"


class Ensure(str, Enum):
    PRESENT = "present"
    ABSENT = "absent"


class Undeclared(str, Enum):
    CANCEL = "cancel"
    REPORT = "report"
    IGNORE = "ignore"


class CancelAt(str, Enum):
    PERIOD_END = "period_end"
    NOW = "now"


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
}

_MONEY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z]{3})\s*$")


@dataclass(frozen=True, order=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def parse(cls, text: str) -> "Money":
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


@dataclass(frozen=True)
class SecretRef:
    """``${env:NAME}`` or ``${file:PATH}``: where a credential comes from, never the credential."""

    scheme: str  # "env" | "file"
    target: str

    def __str__(self) -> str:
        return f"${{{self.scheme}:{self.target}}}"


@dataclass(frozen=True)
class Account:
    name: str
    provider: str
    endpoint: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    credentials: Mapping[str, SecretRef] = field(default_factory=dict)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Config:
    accounts: Mapping[str, Account]
    integrations: Mapping[str, Integration]
    defaults: Defaults = Defaults()
    ignore: tuple[IgnoreRule, ...] = ()
    sha256: str = ""
    files: tuple[str, ...] = ()
    base_dir: str = "."


def canonical_json(value: Any) -> str:
    """The one serialisation used for hashing: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint(raw: Mapping[str, Any]) -> str:
    """``sha256:`` of the object's sorted-key JSON. orjson writes it about ten times faster than
    the json module (a plan fingerprints every binding); a value orjson refuses (an integer wider
    than 64 bits) takes the json module's path, and it always will, so the result stays stable."""
    try:
        data = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)
    except (orjson.JSONEncodeError, TypeError):
        data = canonical_json(raw).encode("utf-8")
    return "sha256:" + hashlib.sha256(data).hexdigest()


_MISSING = object()


@dataclass(frozen=True)
class LiveBinding:
    """One binding as a provider returned it.

    ``raw`` is the provider's own object, unchanged (it is what a backup's binding.json holds and
    what ``match``/``expect`` keys address). ``resource`` names the provider's collection it came
    from (``carrier_services``, ``webhooks`` ...), which tells the provider how to cancel it.
    ``pending_cancel`` is true when a cancel is already scheduled (a subscription that ends at
    period end): for an absent integration that counts as done.
    """

    account: str
    provider: str
    kind: Kind
    id: str
    name: str
    status: str
    resource: str
    raw: Mapping[str, Any]
    pending_cancel: bool = False
    sides: tuple[str, ...] = ("platform",)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)

    def get(self, path: str, default: Any = _MISSING) -> Any:
        """Value of a ``match``/``expect`` key: ``id``, ``name``, ``status`` or a dotted raw path."""
        if path in ("id", "name", "status"):
            return getattr(self, path)
        node: Any = self.raw
        for part in path.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None if default is _MISSING else default
        return node


@dataclass(frozen=True)
class Listing:
    """Everything one account returned for one refresh.

    ``complete`` is false when any page failed, a cursor looped or duplicates came back: the
    planner then makes no cancel decision for this account (SPEC section 4).
    """

    account: str
    provider: str
    bindings: tuple[LiveBinding, ...]
    complete: bool = True
    problems: tuple[str, ...] = ()
    granted: frozenset[str] | None = None  # rights the credential holds; None when unknown


@dataclass(frozen=True)
class Runbook:
    """The fallback when no API can cancel: where to click, and what to tell the vendor."""

    navigation: tuple[str, ...]
    support_message: Mapping[str, str]  # language -> text
    contact: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "navigation": list(self.navigation),
            "support_message": dict(self.support_message),
            "contact": self.contact,
        }
