"""Why a plan says what it says, as values: a stable code and its parameters.

Every ``PlannedAction`` carries a ``Reason`` (``action.why``; ``action.reason`` is its English
text, a property), and so does every plan problem and note (``Plan.problems`` and ``Plan.notes``
are tuples of ``Reason``) and every gap (``Plan.incomplete`` is a tuple of ``PlanGap``; the plan is
complete when it is empty: ``Plan.is_complete``), the way Terraform's diagnostics are values. Human text in any language is rendered from ``code`` and
``params`` by a catalog; nothing reads the English back. ``ReasonCode`` values are kebab-case and
stable: they are written in saved plans and in ``--format json`` as ``reason_code`` and
``reason_params`` (SPEC section 6), and scripts may branch on them.

``PARAMS`` lists, for each code, the parameters the planner always fills in. Every value is a
``str`` or an ``int``; lists are joined with ", " into one string beforehand, so a catalog needs
nothing but ``str.format``. ``ENGLISH`` is the English rendering, used for ``reason`` in plan JSON
until (and unless) the render part's catalog takes it over through ``set_english``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class ReasonCode(str, Enum):
    # -- keep ------------------------------------------------------------------------------------
    PRESENT = "present"  # one live match, expect holds
    CANCEL_SCHEDULED = "cancel-scheduled"  # declared absent; the vendor already ends it on {date}
    CANCEL_SCHEDULED_UNDATED = "cancel-scheduled-undated"  # the same, the vendor names no date
    # -- drift, missing, ambiguous, unmanaged ----------------------------------------------------
    DRIFT = "drift"  # expect differs on {fields}
    MISSING = "missing"  # no live {kind} on {account} matches {selector}
    AMBIGUOUS = "ambiguous"  # {count} live bindings match {selector}: {ids}
    UNDECLARED = "undeclared"  # live, but no integration declares it
    # -- cancel ----------------------------------------------------------------------------------
    DECLARED_ABSENT = "declared-absent"
    UNDECLARED_CANCEL = "undeclared-cancel"  # not declared, and defaults.undeclared is cancel
    RESUME_CANCEL = "resume-cancel"  # finishing a cancel already done on {sides_done}
    # -- blocked ---------------------------------------------------------------------------------
    WITHHELD = "withheld"  # the {kind} listing of {account} is incomplete ({gap}): nothing decided
    EMPTY_LISTING = "empty-listing"  # {account} listed nothing, the state records {recorded}
    PROTECTED = "protected"  # protect: true
    PROTECTED_IN_STATE = "protected-in-state"  # protected in the state; apply protect: false first
    DATASET_UNSUPPORTED = "dataset-unsupported"  # {provider} cannot back up {datasets}; offers {offered}
    SIDE_UNSUPPORTED = "side-unsupported"  # {provider} cannot cancel on side {sides}
    CANCEL_AT_UNSUPPORTED = "cancel-at-unsupported"  # {provider} cannot end at {cancel_at}; can {possible}
    FEE_CURRENCY = "fee-currency"  # fee {fee} in another currency than max_fee {max_fee}
    FEE_OVER_LIMIT = "fee-over-limit"  # fee {fee} exceeds max_fee {max_fee}
    MASS_CANCEL = "mass-cancel"  # the plan would cancel {count} bindings, over max_cancels {limit}
    MASS_CANCEL_ACCOUNT = "mass-cancel-account"  # the plan would cancel every binding of {account}
    # -- manual ----------------------------------------------------------------------------------
    NO_API = "no-api"  # no API can cancel it: follow the runbook
    MANUAL_PENDING = "manual-pending"  # waiting for a human in the vendor's back office
    FOREIGN_OWNER = "foreign-owner"  # owned by {app}; this credential may not cancel it
    # -- unverifiable ----------------------------------------------------------------------------
    NOT_VISIBLE = "not-visible"  # the credential sees only {visible_apps}'s {kind} on {account}
    # -- gaps (Plan.incomplete; the same text as providers.sdk.GapReason) ------------------------
    LISTING_REFUSED = "listing-refused"  # the vendor refused the listing: right {right} missing
    LISTING_FAILED = "listing-failed"  # a page failed after retries
    CURSOR_LOOP = "cursor-loop"  # a cursor came back twice
    RESPONSE_TOO_LARGE = "response-too-large"  # a response body over the account's limit
    TIMED_OUT = "timed-out"  # the run's deadline passed first
    # -- notes -----------------------------------------------------------------------------------
    IGNORE_EXPIRED = "ignore-expired"  # ignore rule #{number} expired on {expires}


Param = str | int

# The parameters each code always carries. A gap code carries ``account`` and ``kind`` ("" for the
# whole account) and the gap's own params (``right`` for a refusal where the provider knows it;
# ``status``); the vendor's own words travel apart, untranslated, in ``PlanGap.detail``.
_GAP = ("account", "kind")
PARAMS: Mapping[ReasonCode, tuple[str, ...]] = {
    ReasonCode.PRESENT: (),
    ReasonCode.CANCEL_SCHEDULED: ("date",),
    ReasonCode.CANCEL_SCHEDULED_UNDATED: (),
    ReasonCode.DRIFT: ("fields", "count"),
    ReasonCode.MISSING: ("kind", "account", "selector"),
    ReasonCode.AMBIGUOUS: ("count", "selector", "ids"),
    ReasonCode.UNDECLARED: (),
    ReasonCode.DECLARED_ABSENT: (),
    ReasonCode.UNDECLARED_CANCEL: (),
    ReasonCode.RESUME_CANCEL: ("sides_done",),
    ReasonCode.WITHHELD: ("account", "kind", "gap"),
    ReasonCode.EMPTY_LISTING: ("account", "recorded"),
    ReasonCode.PROTECTED: (),
    ReasonCode.PROTECTED_IN_STATE: (),
    ReasonCode.DATASET_UNSUPPORTED: ("provider", "datasets", "offered"),
    ReasonCode.SIDE_UNSUPPORTED: ("provider", "sides"),
    ReasonCode.CANCEL_AT_UNSUPPORTED: ("provider", "cancel_at", "possible"),
    ReasonCode.FEE_CURRENCY: ("fee", "max_fee"),
    ReasonCode.FEE_OVER_LIMIT: ("fee", "max_fee"),
    ReasonCode.MASS_CANCEL: ("count", "limit"),
    ReasonCode.MASS_CANCEL_ACCOUNT: ("account", "count"),
    ReasonCode.NO_API: (),
    ReasonCode.MANUAL_PENDING: (),
    ReasonCode.FOREIGN_OWNER: ("app", "provider"),
    ReasonCode.NOT_VISIBLE: ("kind", "account", "blind", "visible_apps", "resource", "how_to_see"),
    ReasonCode.LISTING_REFUSED: (*_GAP, "right"),
    ReasonCode.LISTING_FAILED: _GAP,
    ReasonCode.CURSOR_LOOP: _GAP,
    ReasonCode.RESPONSE_TOO_LARGE: _GAP,
    ReasonCode.TIMED_OUT: _GAP,
    ReasonCode.IGNORE_EXPIRED: ("number", "rule_reason", "owner", "expires", "binding"),
}

# Codes by what they are on: an action of some kind, a problem, a note, a gap.
PROBLEM_CODES = frozenset({ReasonCode.EMPTY_LISTING, ReasonCode.MASS_CANCEL, ReasonCode.MASS_CANCEL_ACCOUNT})
NOTE_CODES = frozenset({ReasonCode.IGNORE_EXPIRED})
GAP_CODES = frozenset(
    {
        ReasonCode.LISTING_REFUSED,
        ReasonCode.LISTING_FAILED,
        ReasonCode.CURSOR_LOOP,
        ReasonCode.RESPONSE_TOO_LARGE,
        ReasonCode.TIMED_OUT,
    }
)

# The English text of each code: ``str.format`` over its params. A refusal whose right is unknown
# has ``right`` "" (see ``english``).
ENGLISH: dict[ReasonCode, str] = {
    ReasonCode.PRESENT: "present as declared",
    ReasonCode.CANCEL_SCHEDULED: "declared absent; the vendor already ends it on {date}",
    ReasonCode.CANCEL_SCHEDULED_UNDATED: "declared absent; its cancel is already scheduled at the vendor",
    ReasonCode.DRIFT: "live value differs from expect: {fields}",
    ReasonCode.MISSING: "no live {kind} on {account} matches {selector}",
    ReasonCode.AMBIGUOUS: "{count} live bindings match {selector} ({ids}); narrow the match, for example by id",
    ReasonCode.UNDECLARED: "live, but no integration declares it",
    ReasonCode.DECLARED_ABSENT: "declared absent",
    ReasonCode.UNDECLARED_CANCEL: "not declared, and defaults.undeclared is cancel",
    ReasonCode.RESUME_CANCEL: "finishing a cancel already done on {sides_done}",
    ReasonCode.WITHHELD: (
        "nothing decided: the {kind} listing of {account} is incomplete ({gap}), "
        "so what is live there is not known"
    ),
    ReasonCode.EMPTY_LISTING: (
        "{account}: no cancel decided because the provider returned no bindings at all, but the "
        "state records {recorded}; this looks like an outage or a wrong credential"
    ),
    ReasonCode.PROTECTED: "protected (protect: true)",
    ReasonCode.PROTECTED_IN_STATE: (
        "protected in the state; set protect: false on its integration and apply that first "
        "(two steps, on purpose)"
    ),
    ReasonCode.DATASET_UNSUPPORTED: "{provider} cannot back up {datasets}; it offers: {offered}",
    ReasonCode.SIDE_UNSUPPORTED: "{provider} cannot cancel on side {sides}",
    ReasonCode.CANCEL_AT_UNSUPPORTED: (
        "{provider} cannot end this subscription at {cancel_at} (it can: {possible}); set "
        "cancel_at: {possible} on the integration if that is acceptable"
    ),
    ReasonCode.FEE_CURRENCY: (
        "early-termination fee {fee} is in another currency than max_fee {max_fee}; review it and "
        "run with --accept-fees"
    ),
    ReasonCode.FEE_OVER_LIMIT: (
        "early-termination fee {fee} exceeds max_fee {max_fee}; review the contract and run with "
        "--accept-fees"
    ),
    ReasonCode.MASS_CANCEL: (
        "the plan would cancel {count} bindings, more than max_cancels ({limit}); review it and "
        "run with --allow-mass-cancel"
    ),
    ReasonCode.MASS_CANCEL_ACCOUNT: (
        "the plan would cancel every binding of {account} ({count}); review it and run with "
        "--allow-mass-cancel"
    ),
    ReasonCode.NO_API: "no API can cancel this binding: follow the runbook",
    ReasonCode.MANUAL_PENDING: (
        "waiting for a human to remove it in the vendor's back office; confirm it there, then the "
        "next plan will see it gone"
    ),
    ReasonCode.FOREIGN_OWNER: (
        "owned by {app}: {provider} does not let this credential cancel it; follow the runbook"
    ),
    ReasonCode.NOT_VISIBLE: (
        "cannot verify it is absent: this credential sees only the {kind} bindings of "
        "{visible_apps} on {account} ({blind}), so others' may still be live; {how_to_see}"
    ),
    ReasonCode.LISTING_REFUSED: "{account}: the vendor refused to list {kind} (missing right: {right})",
    ReasonCode.LISTING_FAILED: "{account}: listing {kind} failed after retries",
    ReasonCode.CURSOR_LOOP: "{account}: listing {kind} looped (a cursor came back twice)",
    ReasonCode.RESPONSE_TOO_LARGE: "{account}: a response listing {kind} was over the size limit",
    ReasonCode.TIMED_OUT: "{account}: the run's deadline passed before listing {kind} finished",
    ReasonCode.IGNORE_EXPIRED: (
        "ignore rule #{number} ({rule_reason}; owner {owner}) expired on {expires} and no longer "
        "hides {binding}"
    ),
}

# Variants for the parameters a code may leave empty: the whole account, an unknown right.
_ENGLISH_EMPTY: dict[tuple[ReasonCode, str], str] = {
    (ReasonCode.LISTING_REFUSED, "right"): "{account}: the vendor refused to list {kind}",
    (ReasonCode.NOT_VISIBLE, "how_to_see"): (
        "cannot verify it is absent: this credential sees only the {kind} bindings of "
        "{visible_apps} on {account} ({blind}), so others' may still be live"
    ),
    (ReasonCode.FOREIGN_OWNER, "app"): (
        "owned by another app: {provider} does not let this credential cancel it; follow the runbook"
    ),
    (ReasonCode.DATASET_UNSUPPORTED, "offered"): "{provider} cannot back up {datasets}; it offers: the binding only",
}

_WHOLE_ACCOUNT = "its bindings"  # a gap of the whole account


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    params: Mapping[str, Param] = field(default_factory=dict)

    def english(self) -> str:
        return _english_renderer(self)

    def __str__(self) -> str:
        return self.english()

    def to_json(self) -> dict[str, object]:
        return {"code": self.code.value, "params": dict(self.params)}


def english(reason: Reason) -> str:
    """The built-in English text of a reason."""
    params = dict(reason.params)
    if reason.code in GAP_CODES and not params.get("kind"):
        params["kind"] = _WHOLE_ACCOUNT
    for (code, name), template in _ENGLISH_EMPTY.items():
        if code is reason.code and not params.get(name):
            return template.format_map(_Defaulted(params))
    return ENGLISH[reason.code].format_map(_Defaulted(params))


class _Defaulted(dict[str, Param]):
    """A missing parameter renders as ``{name}``, never a KeyError in the middle of a plan."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_english_renderer: Callable[[Reason], str] = english


def set_english(renderer: Callable[[Reason], str]) -> None:
    """Let a catalog (the render part's) give ``reason`` its English text."""
    global _english_renderer
    _english_renderer = renderer


@dataclass(frozen=True)
class PlanGap:
    """One part of an account the plan withheld decisions for: ``kind`` None for the whole account.
    ``reason`` has a gap code (``listing-refused`` ...) with ``account``, ``kind`` and the gap's
    params; ``detail`` the vendor's own words, untranslated (may be empty)."""

    account: str
    kind: str | None  # the kind's text ("webhook"); None for the whole account
    reason: Reason
    detail: str = ""

    def __str__(self) -> str:
        text = self.reason.english()
        return f"{text} ({self.detail})" if self.detail else text
