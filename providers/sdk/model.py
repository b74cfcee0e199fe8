"""The values the engine and every provider share: accounts, kinds, live bindings, listings and
runbooks. Nothing here does I/O. Mappings inside these records are plain dicts by convenience;
treat them as read-only (the planner never mutates them, and tests rely on that).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec
import orjson


class Kind(str, Enum):
    CARRIER = "carrier"
    SUBSCRIPTION = "subscription"
    APP = "app"
    WEBHOOK = "webhook"


class CancelAt(str, Enum):
    PERIOD_END = "period_end"
    NOW = "now"


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


class LiveBinding(msgspec.Struct, frozen=True, gc=False):
    """One binding as a provider returned it: an immutable record, built with keywords like a
    frozen dataclass.

    A refresh builds one per live binding, a hundred thousand and more across an agency's shops,
    so it is a msgspec ``Struct``: built about six times faster than a frozen dataclass, and not
    tracked by the cyclic garbage collector (``gc=False``), whose collections would otherwise walk
    every binding again and again while the listings grow. That is safe because a binding never
    takes part in a reference cycle: it holds text, flags and the provider's decoded JSON, never
    an object that refers back to it. ``msgspec.structs.replace`` copies one with changes.

    ``raw`` is the provider's own object, unchanged (it is what a backup's binding.json holds and
    what ``match``/``expect`` keys address). ``resource`` names the provider's collection it came
    from (``carrier_services``, ``webhook_subscriptions`` ...), which tells the provider how to
    cancel it. ``pending_cancel`` is true when a cancel is already scheduled (a subscription that
    ends at period end): for an absent integration that counts as done; ``cancel_scheduled_at``
    is the date the vendor will end it, where it says.

    ``app`` is the owning app's (or application's) name where the vendor tells it. ``cancellable``
    is false when this credential can see the binding but the vendor would refuse to cancel it for
    this credential (another app's carrier service): the planner makes it ``manual``, with the
    provider's runbook, and never sends that cancel (SPEC invariant 10).
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
    app: str | None = None
    cancellable: bool = True
    cancel_scheduled_at: str | None = None

    def __repr__(self) -> str:  # raw can be large: keep reprs (logs, test failures) short
        return f"LiveBinding({self.account}/{self.kind.value}/{self.id} {self.name!r})"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)

    def get(self, path: str, default: Any = _MISSING) -> Any:
        """Value of a ``match``/``expect`` key: ``id``, ``name``, ``status``, ``app`` or a dotted
        raw path."""
        if path in ("id", "name", "status"):
            return getattr(self, path)
        if path == "app" and "app" not in self.raw:
            return self.app
        node: Any = self.raw
        for part in path.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None if default is _MISSING else default
        return node


class GapReason(str, Enum):
    """Why a listing of one kind (or of the whole account) is not complete."""

    REFUSED = "listing-refused"  # the vendor refused it: a right is missing (``params["right"]``)
    FAILED = "listing-failed"  # a page failed after retries (network, 5xx, rate limit)
    CURSOR_LOOP = "cursor-loop"  # a cursor came back twice, or duplicates did
    TOO_LARGE = "response-too-large"  # a response body over the account's limit
    TIMED_OUT = "timed-out"  # the run's deadline passed before the listing finished


@dataclass(frozen=True)
class Gap:
    """Part of an account that was not listed in full. ``kind`` None: the whole account (the
    credential was refused, the account could not be reached). ``params`` hold the facts a
    message is rendered from (``right`` for a refusal, in the vendor's own terms; ``status``);
    ``detail`` the vendor's own words, untranslated."""

    kind: Kind | None
    reason: GapReason
    params: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""


class BlindReason(str, Enum):
    """Why a credential cannot see every binding of a kind, by the vendor's own rule."""

    OWN_APP_ONLY = "own-app-only"  # the vendor shows an app only what it created itself


@dataclass(frozen=True)
class BlindSpot:
    """What this credential cannot see of one kind, even with a complete listing: the vendor
    shows it only the bindings of ``visible_apps`` (the credential's own app). A declaration whose
    ``match`` could select others' bindings cannot be verified absent with this credential.
    ``how_to_see`` says how to make them visible (the owning app's credential as another account,
    or the runbook), in the vendor's own terms."""

    kind: Kind
    reason: BlindReason
    visible_apps: frozenset[str]
    resource: str = ""
    how_to_see: str = ""

    @classmethod
    def own_app_only(cls, kind: Kind, app: str, resource: str, how_to_see: str) -> BlindSpot:
        """The usual case: the vendor shows this credential only what its own ``app`` created."""
        return cls(kind, BlindReason.OWN_APP_ONLY, frozenset({app}), resource, how_to_see)


@dataclass(frozen=True)
class Listing:
    """Everything one account returned for one refresh.

    ``gaps`` name what could not be listed in full: the planner makes no cancel decision for that
    account and kind (SPEC section 4). ``blind_spots`` name what this credential cannot see at all
    (SPEC section 1): an absent declaration there is unverifiable, never "nothing to do".
    """

    account: str
    provider: str
    bindings: tuple[LiveBinding, ...]
    gaps: tuple[Gap, ...] = ()
    blind_spots: tuple[BlindSpot, ...] = ()
    granted: frozenset[str] | None = None  # rights the credential holds; None when unknown

    def __repr__(self) -> str:
        return f"Listing({self.account}: {len(self.bindings)} bindings, {len(self.gaps)} gaps)"

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def problems(self) -> tuple[str, ...]:
        """Each gap in the vendor's own words (its code where the vendor said nothing): for logs
        and error messages; plans carry the gaps themselves."""
        return tuple(gap.detail or gap.reason.value for gap in self.gaps)

    def complete_for(self, kind: Kind) -> bool:
        return not any(gap.kind is None or gap.kind is kind for gap in self.gaps)

    def blind_spot(self, kind: Kind) -> BlindSpot | None:
        return next((spot for spot in self.blind_spots if spot.kind is kind), None)


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
