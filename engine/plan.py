"""The plan: a value that says, binding by binding, what apply will do and why.

``make_plan(config, listings, catalog, state, options)`` is pure: no I/O, no clock (``today`` and
``now`` come in through ``PlanOptions``). Apply reads nothing but the plan it is given, so every
decision (blocked or not, which sides, which datasets, which rights) is taken here and recorded.

The plan also carries ``records``: what the state will say after apply if every cancel succeeds.
Apply starts from them, so recording a kept binding or lifting a protection needs no second logic.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from engine.diff import drift
from engine.match import glob_matcher, index_key, is_glob, value_matches
from engine.model import (
    Action,
    CancelAt,
    Config,
    Ensure,
    IgnoreRule,
    Integration,
    Kind,
    Listing,
    LiveBinding,
    Money,
    Runbook,
    Undeclared,
)
from states.model import Record, RecordStatus, State

FORMAT_VERSION = "1"

# Revoking an app invalidates its token at once, so everything else on the account goes first.
KIND_ORDER = {Kind.WEBHOOK: 0, Kind.CARRIER: 1, Kind.SUBSCRIPTION: 2, Kind.APP: 3}


@dataclass(frozen=True)
class Step:
    type: str  # check-permission | check-terms | backup | cancel | verify
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **self.detail}


@dataclass(frozen=True)
class PlannedAction:
    address: str
    account: str
    provider: str
    kind: Kind
    action: Action
    reason: str
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
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # expired ignore rules, carried-over accounts
    ignored: int = 0
    cancel_at: CancelAt = CancelAt.PERIOD_END
    incomplete: tuple[str, ...] = ()  # accounts whose listing failed or was partial
    refreshed: Mapping[str, int] = field(default_factory=dict)  # account -> live bindings listed
    format_version: str = FORMAT_VERSION

    @property
    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for action in self.actions:
            counts[action.action.value] += 1
        return counts

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
        """Anything a human should look at (audit's exit 2)."""
        return any(a.action is not Action.KEEP for a in self.actions) or bool(self.problems)


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


@dataclass(frozen=True)
class AccountInfo:
    """What the planner may know of a provider without I/O: its capabilities and its rules."""

    capabilities: Any  # providers.sdk.Capabilities
    required: Callable[[LiveBinding, str, tuple[str, ...]], tuple[str, ...]]
    runbook: Callable[[LiveBinding], Runbook] | None = None


def _record_key(record: Record) -> str:
    return f"{record.account}/{record.kind}/{record.live_id}"


# Kind -> its text. A str-valued Enum hashes as its text, so a plain "webhook" maps to itself;
# a dict lookup is several times cheaper than Enum.value, and this runs once per binding.
_KIND_TEXT: dict[Any, str] = {kind: kind.value for kind in Kind}


def record_key(account: str, kind: Kind | str, live_id: str) -> str:
    kind_text = _KIND_TEXT.get(kind, kind) if isinstance(kind, Kind) else kind
    return f"{account}/{kind_text}/{live_id}"


_ATTRIBUTES = frozenset({"id", "name", "status"})


def _field(binding: LiveBinding, path: str) -> Any:
    """``binding.get(path)`` without its generic Mapping checks for the common case (a raw
    dict and a plain key): the planner asks this for every binding and every selector key."""
    if path in _ATTRIBUTES:
        return getattr(binding, path)
    raw = binding.raw
    if type(raw) is dict and "." not in path:
        return raw.get(path)
    return binding.get(path)


def _glob_prefix(pattern: str) -> str:
    """The literal text a glob starts with: every match starts with it too."""
    for position, char in enumerate(pattern):
        if char in "*?[":
            return pattern[:position]
    return pattern


def _check(expected: Any) -> Callable[[Any], bool]:
    """``lambda actual: value_matches(expected, actual)``, with the decisions that depend only on
    ``expected`` (a string? a glob?) taken once: an ignore rule is tried on every binding."""
    if isinstance(expected, str):
        # A string never matches a boolean or a missing value; anything else compares (or
        # globs) as its text.
        if is_glob(expected):
            glob = glob_matcher(expected)
            return lambda actual: actual is not None and not isinstance(actual, bool) and glob(str(actual))
        return lambda actual: (
            actual == expected
            if type(actual) is str
            else actual is not None and not isinstance(actual, bool) and str(actual) == expected
        )
    return lambda actual: value_matches(expected, actual)


def binding_matches(selector: Mapping[str, Any], binding: LiveBinding) -> bool:
    """``engine.match.binding_matches`` (every key must hold), reading fields with ``_field``."""
    return all(value_matches(expected, _field(binding, key)) for key, expected in selector.items())


_SCANS_BEFORE_SORTING = 4


class _Index:
    """Live bindings of one (account, kind), looked up by exact field value in O(1), or by the
    literal prefix of a glob: the first few globs of a field by a scan, later ones in a sorted
    list with a bisect, so many globs on one account do not each scan all its bindings."""

    def __init__(self, bindings: list[LiveBinding]) -> None:
        self.bindings = bindings
        self._by_field: dict[str, dict[str, list[LiveBinding]]] = {}
        self._sorted: dict[str, tuple[list[str], list[int]]] = {}
        self._glob_scans: dict[str, int] = {}

    def select(self, selector: Mapping[str, Any]) -> list[LiveBinding]:
        key = index_key(selector)
        if key is None:
            return [b for b in self._glob_candidates(selector) if binding_matches(selector, b)]
        name, text = key
        if name not in self._by_field:
            table: dict[str, list[LiveBinding]] = {}
            for binding in self.bindings:
                value = _field(binding, name)
                if value is not None and not isinstance(value, (dict, list)):
                    table.setdefault(_text(value), []).append(binding)
            self._by_field[name] = table
        return [b for b in self._by_field[name].get(text, ()) if binding_matches(selector, b)]

    def _glob_candidates(self, selector: Mapping[str, Any]) -> list[LiveBinding]:
        """The bindings that can match a glob of the selector (in listing order): those whose
        field starts with the glob's literal prefix. Without such a prefix, all of them."""
        best, prefix = None, ""
        for name, value in selector.items():
            if isinstance(value, str) and is_glob(value):
                literal = _glob_prefix(value)
                if len(literal) > len(prefix):
                    best, prefix = name, literal
        if best is None:
            return self.bindings
        if best not in self._sorted and self._glob_scans.get(best, 0) < _SCANS_BEFORE_SORTING:
            # A few globs per account are the rule: a scan is cheaper than sorting for them.
            self._glob_scans[best] = self._glob_scans.get(best, 0) + 1
            found = []
            for binding in self.bindings:
                value = _field(binding, best)
                if value is not None and not isinstance(value, bool) and str(value).startswith(prefix):
                    found.append(binding)
            return found
        if best not in self._sorted:
            # A glob never matches a missing value or a boolean; everything else as its text.
            pairs = sorted(
                (str(value), position)
                for position, value in ((i, _field(b, best)) for i, b in enumerate(self.bindings))
                if value is not None and not isinstance(value, bool)
            )
            self._sorted[best] = ([text for text, _ in pairs], [position for _, position in pairs])
        texts, positions = self._sorted[best]
        found = []
        index = bisect_left(texts, prefix)
        while index < len(texts) and texts[index].startswith(prefix):
            found.append(positions[index])
            index += 1
        return [self.bindings[i] for i in sorted(found)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def make_plan(
    config: Config,
    listings: Mapping[str, Listing],
    catalog: Mapping[str, AccountInfo],
    state: State,
    options: PlanOptions,
) -> Plan:
    planner = _Planner(config, listings, catalog, state, options)
    return planner.run()


class _Planner:
    def __init__(
        self,
        config: Config,
        listings: Mapping[str, Listing],
        catalog: Mapping[str, AccountInfo],
        state: State,
        options: PlanOptions,
    ) -> None:
        self.config = config
        self.listings = listings
        self.catalog = catalog
        self.state = state
        self.options = options
        self.actions: list[PlannedAction] = []
        self.records: dict[str, Record] = {}
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.ignored = 0
        self.claimed: set[str] = set()
        self.indexes: dict[tuple[str, Kind], _Index] = {}
        for account, listing in listings.items():
            grouped: dict[Kind, list[LiveBinding]] = {}
            for binding in listing.bindings:
                grouped.setdefault(binding.kind, []).append(binding)
            for kind, bindings in grouped.items():
                self.indexes[(account, kind)] = _Index(bindings)
        self.by_identity = {_record_key(r): r for r in state.records.values()}
        self.protected = {key for key, r in self.by_identity.items() if r.protect}
        self.recorded_accounts = {r.account for r in state.records.values()}
        self.untrusted = self._untrusted_accounts()
        self.ignore_rules = [
            (number, rule, _rule_matcher(rule)) for number, rule in enumerate(config.ignore, start=1)
        ]
        self.noted: set[str] = set()
        self.live_ids: dict[str, set[tuple[str, str]]] = {}

    def _order(self, action: PlannedAction) -> tuple[Any, ...]:
        """The plan's order is apply's order: per account, dependants before what they depend
        on (the provider's cancel_order), and the app itself last."""
        info = self.catalog.get(action.account)
        ranking = tuple(getattr(info.capabilities, "cancel_order", ())) if info else ()
        rank = ranking.index(action.resource) if action.resource in ranking else len(ranking)
        return (action.account, KIND_ORDER.get(action.kind, 9), rank, action.address)

    # -- selection ---------------------------------------------------------------------------

    def _selected(self, integration: Integration) -> bool:
        return self._selected_name(integration.name)

    def _untrusted_accounts(self) -> dict[str, str]:
        """Accounts whose listing cannot be trusted for cancel decisions, with the reason."""
        reasons: dict[str, str] = {}
        for account in self.config.accounts:
            listing = self.listings.get(account)
            if listing is None:
                continue
            if not listing.complete:
                reasons[account] = "the listing was partial (" + "; ".join(listing.problems) + ")"
            elif not listing.bindings and account in self.recorded_accounts:
                reasons[account] = (
                    "the provider returned no bindings at all, but the state records some; "
                    "this looks like an outage or a wrong credential"
                )
        return reasons

    # -- main --------------------------------------------------------------------------------

    def run(self) -> Plan:
        for account, reason in sorted(self.untrusted.items()):
            if self.options.allow_mass_cancel and "no bindings at all" in reason:
                continue
            self.problems.append(f"{account}: no cancel decided because {reason}")
        for integration in self.config.integrations.values():
            if integration.account not in self.listings:
                continue
            if self._selected(integration):
                self._plan_integration(integration)
            else:
                self._claim(integration)  # excluded, yet still declared: never "unmanaged"
        if not self.options.targets:
            self._plan_undeclared()
        self._apply_guards()
        self._carry_over_records()
        actions = sorted(self.actions, key=self._order)
        return Plan(
            tether_version=self.options.tether_version,
            created_at=self.options.now,
            config_sha256=self.config.sha256,
            lineage=self.state.lineage,
            serial=self.state.serial,
            actions=tuple(actions),
            records=tuple(sorted(self.records.values(), key=_record_key)),
            accept_fees=self.options.accept_fees,
            allow_mass_cancel=self.options.allow_mass_cancel,
            targets=self.options.targets,
            excludes=self.options.excludes,
            problems=tuple(self.problems),
            notes=tuple(self.notes),
            ignored=self.ignored,
            cancel_at=self.config.defaults.cancel_at,
            incomplete=tuple(sorted(a for a, l in self.listings.items() if not l.complete)),
            refreshed={a: len(l.bindings) for a, l in sorted(self.listings.items())},
        )

    def _claim(self, integration: Integration) -> list[LiveBinding]:
        index = self.indexes.get((integration.account, integration.kind))
        matches = index.select(integration.match) if index else []
        for binding in matches:
            self.claimed.add(record_key(binding.account, binding.kind, binding.id))
        return matches

    def _plan_integration(self, integration: Integration) -> None:
        account = self.config.accounts[integration.account]
        matches = self._claim(integration)
        base = dict(
            account=integration.account,
            provider=account.provider,
            kind=integration.kind,
            integration=integration.name,
        )
        if integration.ensure is Ensure.PRESENT:
            if not matches:
                reason = f"no live {integration.kind.value} on {integration.account} matches " + _describe_selector(
                    integration.match
                )
                if not self.listings[integration.account].complete:
                    reason += " (but the listing failed or was partial, so it may exist)"
                self.actions.append(
                    PlannedAction(address=integration.name, action=Action.MISSING, reason=reason, **base)
                )
                return
            if len(matches) > 1:
                ids = tuple(sorted(b.id for b in matches))
                self.actions.append(
                    PlannedAction(
                        address=integration.name,
                        action=Action.AMBIGUOUS,
                        reason=f"{len(matches)} live bindings match "
                        + _describe_selector(integration.match)
                        + f" ({', '.join(ids)}); narrow the match, for example by id",
                        candidates=ids,
                        **base,
                    )
                )
                for binding in matches:
                    self._record(binding, f"{integration.name}[{binding.id}]", integration)
                return
            binding = matches[0]
            self._record(binding, integration.name, integration)
            found = drift(integration.expect, binding)
            self.actions.append(
                PlannedAction(
                    address=integration.name,
                    action=Action.DRIFT if found else Action.KEEP,
                    reason=(
                        "live value differs from expect: " + ", ".join(sorted(found))
                        if found
                        else "present as declared"
                    ),
                    live_id=binding.id,
                    name=binding.name,
                    resource=binding.resource,
                    fingerprint=binding.fingerprint,
                    diff=found or None,
                    **base,
                )
            )
            return
        live = [b for b in matches if not b.pending_cancel]
        for binding in live:
            address = integration.name if len(live) == 1 else f"{integration.name}[{binding.id}]"
            self._record(binding, address, integration)
            self._plan_cancel(binding, address, integration)

    def _plan_undeclared(self) -> None:
        policy = self.config.defaults.undeclared
        skip_all = policy is Undeclared.IGNORE and not self.options.audit
        claimed = self.claimed
        for account, listing in sorted(self.listings.items()):
            for binding in listing.bindings:
                key = f"{account}/{_KIND_TEXT[binding.kind]}/{binding.id}"  # record_key, inlined
                if key in claimed or binding.pending_cancel:
                    continue
                if skip_all:
                    continue
                if self.ignore_rules and self._ignored(binding):
                    self.ignored += 1
                    continue
                address = key
                if policy is Undeclared.CANCEL or key in self.protected:
                    self._record(binding, address, None)
                if policy is Undeclared.CANCEL:
                    self._plan_cancel(binding, address, None)
                else:
                    self.actions.append(
                        PlannedAction(
                            address=address,
                            account=account,
                            provider=listing.provider,
                            kind=binding.kind,
                            action=Action.UNMANAGED,
                            reason="live, but no integration declares it",
                            live_id=binding.id,
                            name=binding.name,
                            resource=binding.resource,
                            fingerprint=binding.fingerprint,
                        )
                    )

    def _ignored(self, binding: LiveBinding) -> bool:
        for number, rule, matches in self.ignore_rules:
            if not matches(binding):
                continue
            if rule.active_on(self.options.today):
                return True
            note = (
                f"ignore rule #{number} ({rule.reason}; owner {rule.owner}) expired on "
                f"{rule.expires.isoformat()} and no longer hides {binding.account}/"
                f"{binding.kind.value}/{binding.id}"
            )
            if note not in self.noted:  # a set beside the list: no scan of every note so far
                self.noted.add(note)
                self.notes.append(note)
        return False

    # -- cancels -----------------------------------------------------------------------------

    def _plan_cancel(
        self, binding: LiveBinding, address: str, integration: Integration | None
    ) -> None:
        account = self.config.accounts[binding.account]
        info = self.catalog[binding.account]
        caps = info.capabilities
        listing = self.listings[binding.account]
        key = record_key(binding.account, binding.kind, binding.id)
        previous = self.by_identity.get(key)
        base = dict(
            address=address,
            account=binding.account,
            provider=account.provider,
            kind=binding.kind,
            integration=integration.name if integration else None,
            live_id=binding.id,
            name=binding.name,
            resource=binding.resource,
            fingerprint=binding.fingerprint,
        )

        sides = tuple(integration.sides) if integration and integration.sides else tuple(caps.sides)
        if previous is not None and previous.status is RecordStatus.PARTIAL:
            sides = tuple(s for s in sides if s not in previous.sides_done)
        datasets = ("binding",) + tuple(integration.backup if integration else ())
        fee = self._fee(integration)

        blocked = self._blocked_reason(binding, integration, key, caps, sides, datasets, fee)
        granted = listing.granted
        rights: list[str] = []
        for side in sides:
            for right in info.required(binding, side, datasets[1:]):
                if right not in rights:
                    rights.append(right)
        missing = [r for r in rights if granted is not None and r not in granted and "*" not in granted]
        cancel_at = self._cancel_at(integration)
        steps = [
            Step(
                "check-permission",
                {
                    "rights": rights,
                    "granted": None if granted is None else not missing,
                    "missing": missing,
                },
            ),
            Step("check-terms", self._terms_detail(integration, fee)),
            Step("backup", {"datasets": list(datasets)}),
            *(
                Step(
                    "cancel",
                    {"side": side, "cancel_at": cancel_at.value}
                    if binding.kind is Kind.SUBSCRIPTION
                    else {"side": side},
                )
                for side in sides
            ),
            Step("verify", {}),
        ]
        if blocked:
            self.actions.append(
                PlannedAction(action=Action.BLOCKED, reason=blocked, fee=fee, steps=tuple(steps), **base)
            )
            return
        if caps.manual_only:
            pending = previous is not None and previous.status is RecordStatus.PENDING_MANUAL
            runbook = info.runbook(binding) if info.runbook else None
            self.actions.append(
                PlannedAction(
                    action=Action.MANUAL,
                    reason=(
                        "waiting for a human to remove it in the vendor's back office; "
                        "confirm it there, then the next plan will see it gone"
                        if pending
                        else "no API can cancel this binding: follow the runbook"
                    ),
                    fee=fee,
                    runbook=runbook,
                    pending=pending,
                    steps=tuple(s for s in steps if s.type in ("check-terms", "backup")),
                    **base,
                )
            )
            return
        reason = "declared absent" if integration else "not declared, and defaults.undeclared is cancel"
        if previous is not None and previous.status is RecordStatus.PARTIAL:
            reason += f"; finishing a cancel already done on {', '.join(previous.sides_done)}"
        self.actions.append(
            PlannedAction(action=Action.CANCEL, reason=reason, fee=fee, steps=tuple(steps), **base)
        )

    def _blocked_reason(
        self,
        binding: LiveBinding,
        integration: Integration | None,
        key: str,
        caps: Any,
        sides: tuple[str, ...],
        datasets: tuple[str, ...],
        fee: Money | None,
    ) -> str | None:
        if binding.account in self.untrusted:
            return f"no cancel decided: {self.untrusted[binding.account]}"
        if integration is not None and integration.protect:
            return "protected (protect: true)"
        if key in self.protected:
            return (
                "protected in the state; set protect: false on its integration and apply that "
                "first (two steps, on purpose)"
            )
        unsupported = [d for d in datasets[1:] if d not in caps.datasets]
        if unsupported:
            return (
                f"{binding.provider} cannot back up {', '.join(unsupported)}; "
                f"it offers: {', '.join(sorted(caps.datasets)) or 'the binding only'}"
            )
        bad_sides = [s for s in sides if s not in caps.sides]
        if bad_sides:
            return f"{binding.provider} cannot cancel on side {', '.join(bad_sides)}"
        cancel_at = self._cancel_at(integration)
        if binding.kind is Kind.SUBSCRIPTION and cancel_at not in caps.cancel_at:
            possible = " or ".join(sorted(c.value for c in caps.cancel_at))
            return (
                f"{binding.provider} cannot end this subscription at {cancel_at.value} (it can: "
                f"{possible}); set cancel_at: {possible} on the integration if that is acceptable"
            )
        if fee is not None and fee.amount > 0:
            limit = self.config.defaults.max_fee
            if fee.currency != limit.currency and not self.options.accept_fees:
                return (
                    f"early-termination fee {fee} is in another currency than max_fee {limit}; "
                    "review it and run with --accept-fees"
                )
            if fee.amount > limit.amount and not self.options.accept_fees:
                return (
                    f"early-termination fee {fee} exceeds max_fee {limit}; "
                    "review the contract and run with --accept-fees"
                )
        return None

    def _cancel_at(self, integration: Integration | None) -> CancelAt:
        if integration is not None and integration.cancel_at is not None:
            return integration.cancel_at
        return self.config.defaults.cancel_at

    def _fee(self, integration: Integration | None) -> Money | None:
        if integration is None or integration.terms is None:
            return None
        terms = integration.terms
        if terms.commitment_end is not None and terms.commitment_end < self.options.today:
            return None
        return terms.early_termination_fee

    def _terms_detail(self, integration: Integration | None, fee: Money | None) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "max_fee": self.config.defaults.max_fee.to_json(),
            "accept_fees": self.options.accept_fees,
        }
        if integration is not None and integration.terms is not None:
            if integration.terms.commitment_end is not None:
                detail["commitment_end"] = integration.terms.commitment_end.isoformat()
        detail["fee"] = fee.to_json() if fee else None
        return detail

    # -- guards and records ------------------------------------------------------------------

    def _apply_guards(self) -> None:
        if self.options.allow_mass_cancel:
            return
        cancels = [a for a in self.actions if a.action is Action.CANCEL]
        limit = self.config.defaults.max_cancels
        reasons: dict[str, str] = {}
        if len(cancels) > limit:
            message = (
                f"the plan would cancel {len(cancels)} bindings, more than max_cancels ({limit}); "
                "review it and run with --allow-mass-cancel"
            )
            self.problems.append(message)
            for action in cancels:
                reasons[action.address] = message
        by_account: dict[str, list[PlannedAction]] = {}
        for action in cancels:
            by_account.setdefault(action.account, []).append(action)
        for account, mine in by_account.items():
            count = len(mine)
            listing = self.listings[account]
            if count >= len(listing.bindings) and count > 0:
                message = (
                    f"the plan would cancel every binding of {account} ({count}); "
                    "review it and run with --allow-mass-cancel"
                )
                self.problems.append(message)
                for action in mine:
                    reasons.setdefault(action.address, message)
        if reasons:
            self.actions = [
                replace(a, action=Action.BLOCKED, reason=reasons[a.address])
                if a.action is Action.CANCEL and a.address in reasons
                else a
                for a in self.actions
            ]

    def _record(self, binding: LiveBinding, address: str, integration: Integration | None) -> None:
        key = record_key(binding.account, binding.kind, binding.id)
        previous = self.by_identity.get(key)
        if integration is not None:
            protect = integration.protect
        else:
            protect = previous.protect if previous else False
        status = RecordStatus.LIVE
        sides_done: tuple[str, ...] = ()
        backup_id = None
        if previous is not None and previous.status in (RecordStatus.PARTIAL, RecordStatus.PENDING_MANUAL):
            status, sides_done, backup_id = previous.status, previous.sides_done, previous.backup_id
        self.records[key] = Record(
            address=address,
            account=binding.account,
            provider=binding.provider,
            kind=binding.kind.value,
            live_id=binding.id,
            name=binding.name,
            integration=integration.name if integration else None,
            status=status,
            protect=protect,
            sides_done=sides_done,
            backup_id=backup_id,
        )

    def _carry_over_records(self) -> None:
        """Keep what this plan did not look at: untrusted accounts, other targets, protection."""
        taken = {r.address for r in self.records.values()}
        for key, record in self.by_identity.items():
            if key in self.records:
                continue
            listing = self.listings.get(record.account)
            replanned = record.integration is not None and self._selected_name(record.integration)
            if (
                listing is None
                or record.account in self.untrusted
                or ((self.options.targets or self.options.excludes) and not replanned)
            ):
                carried = record
            elif record.protect and (record.kind, record.live_id) in self._live_ids(record.account):
                # An undeclared, protected binding ignored by policy keeps its protection.
                carried = record
            else:
                continue
            if carried.address in taken:
                # The integration now names another live binding (deleted and re-created by
                # hand): the old record stays, under its own unambiguous address.
                carried = replace(carried, address=f"{carried.address.split('[')[0]}[{carried.live_id}]")
                if carried.address in taken:
                    continue
            taken.add(carried.address)
            self.records[key] = carried

    def _selected_name(self, name: str) -> bool:
        """--target and --exclude, by integration name."""
        if self.options.targets and name not in self.options.targets:
            return False
        return name not in self.options.excludes

    def _live_ids(self, account: str) -> set[tuple[str, str]]:
        """(kind, id) of every binding listed for the account, built once per account."""
        found = self.live_ids.get(account)
        if found is None:
            found = {(b.kind.value, b.id) for b in self.listings[account].bindings}
            self.live_ids[account] = found
        return found


_RULE_FIELDS: dict[str, Callable[[LiveBinding], Any]] = {
    "account": lambda b: b.account,
    "kind": lambda b: _KIND_TEXT[b.kind],
    "provider": lambda b: b.provider,
}


def _rule_matcher(rule: IgnoreRule) -> Callable[[LiveBinding], bool]:
    """An ignore rule as one predicate: ``account``, ``kind`` and ``provider`` name the
    binding's own identity, every other key a field as in ``match``."""
    checks = [(_RULE_FIELDS.get(key), key, _check(value)) for key, value in rule.match.items()]

    def matches(binding: LiveBinding) -> bool:
        for special, key, check in checks:
            actual = special(binding) if special is not None else _field(binding, key)
            if not check(actual):
                return False
        return True

    return matches


def _describe_selector(selector: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in selector.items()) + "}"


def execution_order(actions: Iterable[PlannedAction]) -> list[PlannedAction]:
    """What apply does, in the plan's order (``_Planner._order``)."""
    return [a for a in actions if a.actionable]
