"""The plan's values: what apply will do, binding by binding, and why (``engine.reasons``).

A ``Plan`` is what ``make_plan`` returns, what a saved plan file holds (``engine.planfile``) and
all that apply reads. It carries ``records``: what the state will say after apply if every cancel
succeeds, so apply starts from them and recording a kept binding needs no second logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec

from engine.model import Action, CancelAt, Kind, LiveBinding, Money, Runbook
from engine.reasons import PlanGap, Reason
from providers.sdk import Capabilities
from states.model import Record, State

# Format 2: reasons are codes with params, gaps are per account and kind, hosts are recorded.
FORMAT_VERSION = "2"

# Revoking an app invalidates its token at once, so everything else on the account goes first.
KIND_ORDER = {Kind.WEBHOOK: 0, Kind.CARRIER: 1, Kind.SUBSCRIPTION: 2, Kind.APP: 3}

# Step details are JSON values written into the plan as they are (rights, datasets, sides).
StepDetail = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Step:
    type: str  # check-permission | check-terms | backup | cancel | verify
    detail: StepDetail = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **self.detail}


class PlannedAction(msgspec.Struct, frozen=True, gc=False):
    """One line of the plan. ``why`` is the reason as a code with params; ``reason`` its English
    text. ``app`` is the owning app where the vendor tells it.

    An immutable record like ``LiveBinding`` and for the same reason: a plan holds one per binding
    it reports. It is a msgspec ``Struct`` (built with keywords, ``msgspec.structs.replace`` for a
    changed copy), not tracked by the garbage collector: it refers to reasons, steps and JSON
    values, none of which refers back to an action."""

    address: str
    account: str
    provider: str
    kind: Kind
    action: Action
    why: Reason
    integration: str | None = None
    live_id: str | None = None
    name: str = ""
    resource: str = ""
    fingerprint: str | None = None
    diff: Mapping[str, Any] | None = None
    fee: Money | None = None
    steps: tuple[Step, ...] = ()
    runbook: Runbook | None = None
    pending: bool = False  # a manual action already recorded as waiting for a human
    candidates: tuple[str, ...] = ()  # ambiguous: the live ids that matched
    app: str | None = None

    @property
    def reason(self) -> str:
        """The English text of ``why``."""
        return self.why.english()

    @property
    def actionable(self) -> bool:
        """True when apply would do something for this action."""
        return self.action is Action.CANCEL or (self.action is Action.MANUAL and not self.pending)

    def step(self, type_: str) -> Step | None:
        return next((s for s in self.steps if s.type == type_), None)

    @property
    def datasets(self) -> tuple[str, ...]:
        backup = self.step("backup")
        return tuple(backup.detail.get("datasets", ())) if backup else ()

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(s.detail["side"] for s in self.steps if s.type == "cancel")

    @property
    def identity(self) -> str:
        return f"{self.account}/{self.kind.value}/{self.live_id}"


@dataclass(frozen=True)
class Plan:
    tether_version: str
    created_at: str
    config_sha256: str
    lineage: str
    serial: int
    actions: tuple[PlannedAction, ...]
    records: tuple[Record, ...]  # the state after apply, if every cancel succeeds
    accept_fees: bool = False
    allow_mass_cancel: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    problems: tuple[Reason, ...] = ()  # guards that refused cancels, untrusted listings
    notes: tuple[Reason, ...] = ()  # expired ignore rules
    ignored: int = 0
    cancel_at: CancelAt = CancelAt.PERIOD_END
    incomplete: tuple[PlanGap, ...] = ()  # what was not listed in full: nothing decided there
    refreshed: Mapping[str, int] = field(default_factory=dict)  # account -> live bindings listed
    hosts: Mapping[str, str] = field(default_factory=dict)  # account -> host its credential goes to
    format_version: str = FORMAT_VERSION

    def __repr__(self) -> str:  # a plan can hold a hundred thousand actions: keep reprs short
        return (
            f"Plan(lineage={self.lineage!r}, serial={self.serial}, {len(self.actions)} actions, "
            f"{len(self.records)} records, {len(self.incomplete)} gaps)"
        )

    @property
    def is_complete(self) -> bool:
        """False when some account or kind was not listed in full (SPEC section 4): ``plan`` and
        ``apply`` then exit 1, and nothing calls the state up to date."""
        return not self.incomplete

    @property
    def incomplete_accounts(self) -> tuple[str, ...]:
        """Accounts with a gap, sorted, each once."""
        return tuple(sorted({gap.account for gap in self.incomplete}))

    @property
    def summary(self) -> dict[str, int]:
        """How many actions of each kind, every kind named (0 for none)."""
        actions = [a.action for a in self.actions]
        return {member.value: actions.count(member) for member in Action}

    def state_changes(self, state: State) -> list[str]:
        """Addresses whose record apply would add, change or remove (beyond cancels)."""
        planned = {r.address: r for r in self.records}
        changes = []
        for key in sorted(set(planned) | set(state.records)):
            if planned.get(key) != state.records.get(key):
                record = planned.get(key) or state.records[key]
                changes.append(record.address)
        return changes

    def has_changes(self, state: State) -> bool:
        return any(a.actionable for a in self.actions) or bool(self.state_changes(state))

    def needs_attention(self) -> bool:
        """Anything a human should look at (audit's exit 2): every action but keep (unverifiable
        included), a problem, a gap."""
        return (
            any(a.action is not Action.KEEP for a in self.actions)
            or bool(self.problems)
            or bool(self.incomplete)
        )


@dataclass(frozen=True)
class PlanOptions:
    today: date
    now: str  # ISO timestamp recorded in the plan
    tether_version: str = "0"
    accept_fees: bool = False
    allow_mass_cancel: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    audit: bool = False  # report every undeclared binding, even under undeclared: ignore


Required = Callable[[LiveBinding, str, tuple[str, ...]], tuple[str, ...]]


@dataclass(frozen=True)
class AccountInfo:
    """What the planner may know of a provider without I/O: its capabilities, its rules, its
    runbook for what this credential may not cancel, and the host its credential goes to."""

    capabilities: Capabilities
    required: Required
    runbook: Callable[[LiveBinding], Runbook] | None = None
    host: str = ""


# Kind -> its text. A str-valued Enum hashes as its text, so a plain "webhook" maps to itself;
# a dict lookup is several times cheaper than Enum.value, and this runs once per binding.
KIND_TEXT: dict[Kind | str, str] = {kind: kind.value for kind in Kind}


def record_key(account: str, kind: Kind | str, live_id: str) -> str:
    kind_text = KIND_TEXT.get(kind, kind) if isinstance(kind, Kind) else kind
    return f"{account}/{kind_text}/{live_id}"


def execution_order(actions: Iterable[PlannedAction]) -> list[PlannedAction]:
    """What apply does, in the plan's order."""
    return [a for a in actions if a.actionable]
