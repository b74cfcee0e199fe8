"""The planner: ``make_plan(config, listings, catalog, state, options)`` compares what is declared
with what is live and says, binding by binding, what apply will do and why.

It is pure: no I/O, no clock (``today`` and ``now`` come in through ``PlanOptions``). Apply reads
nothing but the plan, so every decision (blocked or not, which sides, which datasets, which rights,
manual or cancel) is taken here and recorded, each with a ``Reason`` (``engine.reasons``).

What a listing could not show is never taken for absence (SPEC section 1, invariants 9 and 10):
a gap in one account and kind withholds every decision there (the other kinds are planned as
usual); a kind the credential sees only in part (a ``BlindSpot``) makes an absent declaration
``unverifiable``; a binding the credential sees but may not cancel is ``manual``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.diff import drift
from engine.model import (
    Action,
    BlindSpot,
    Config,
    Ensure,
    Integration,
    Kind,
    Listing,
    LiveBinding,
    Undeclared,
)
from engine.plan.gaps import Withholding
from engine.plan.guards import (
    blocked_by_rules,
    cancel_at_for,
    fee_due,
    mass_cancel_guards,
    terms_detail,
)
from engine.plan.ignoring import IgnoreFilter
from engine.plan.index import Index, describe_selector
from engine.plan.records import carry_over, identity_of, new_record
from engine.plan.types import (
    KIND_ORDER,
    KIND_TEXT,
    AccountInfo,
    Plan,
    PlannedAction,
    PlanOptions,
    Step,
    record_key,
)
from engine.reasons import Reason, ReasonCode
from states.model import Record, RecordStatus, State


def make_plan(
    config: Config,
    listings: Mapping[str, Listing],
    catalog: Mapping[str, AccountInfo],
    state: State,
    options: PlanOptions,
) -> Plan:
    return _Planner(config, listings, catalog, state, options).run()


# Reasons without parameters, one value each: a plan gives one to every binding it keeps or
# reports, and they are never changed.
_PRESENT = Reason(ReasonCode.PRESENT)
_UNDECLARED = Reason(ReasonCode.UNDECLARED)
_DECLARED_ABSENT = Reason(ReasonCode.DECLARED_ABSENT)
_UNDECLARED_CANCEL = Reason(ReasonCode.UNDECLARED_CANCEL)
_NO_API = Reason(ReasonCode.NO_API)
_MANUAL_PENDING = Reason(ReasonCode.MANUAL_PENDING)
_CANCEL_SCHEDULED_UNDATED = Reason(ReasonCode.CANCEL_SCHEDULED_UNDATED)


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
        self.problems: list[Reason] = []
        self.notes: list[Reason] = []
        self.ignored = 0
        self.claimed: set[str] = set()
        self.indexes: dict[tuple[str, Kind], Index] = {}
        for account, listing in listings.items():
            grouped: dict[Kind, list[LiveBinding]] = {}
            for binding in listing.bindings:
                grouped.setdefault(binding.kind, []).append(binding)
            for kind, bindings in grouped.items():
                self.indexes[(account, kind)] = Index(bindings)
        self.by_identity = {identity_of(r): r for r in state.records.values()}
        self.protected = {key for key, r in self.by_identity.items() if r.protect}
        self.withholding = Withholding(listings, config.accounts, state)
        self.ignoring = IgnoreFilter(config.ignore, options.today, self.notes)
        self.live_ids: dict[str, set[tuple[str, str]]] = {}

    def _ordered(self, actions: list[PlannedAction]) -> tuple[PlannedAction, ...]:
        """The plan's order is apply's order: per account, dependants before what they depend
        on (the provider's cancel_order), and the app itself last."""
        ranks: dict[str, tuple[dict[str, int], int]] = {}
        for account, info in self.catalog.items():
            ranking = info.capabilities.cancel_order
            # The first place of each resource, as ``ranking.index`` gives it.
            ranks[account] = ({r: i for i, r in reversed(list(enumerate(ranking)))}, len(ranking))
        unranked: tuple[dict[str, int], int] = ({}, 0)

        def key(action: PlannedAction) -> tuple[str, int, int, str]:
            rank, last = ranks.get(action.account, unranked)
            return (
                action.account,
                KIND_ORDER.get(action.kind, 9),
                rank.get(action.resource, last),
                action.address,
            )

        return tuple(sorted(actions, key=key))

    # -- main --------------------------------------------------------------------------------

    def run(self) -> Plan:
        if not self.options.allow_mass_cancel:
            self.problems.extend(self.withholding.problems())
        for integration in self.config.integrations.values():
            if integration.account not in self.listings:
                continue
            if self._selected_name(integration.name):
                self._plan_integration(integration)
            else:
                self._claim(integration)  # excluded, yet still declared: never "unmanaged"
        if not self.options.targets:
            self._plan_undeclared()
        if not self.options.allow_mass_cancel:
            listed = {account: len(listing.bindings) for account, listing in self.listings.items()}
            self.actions, problems = mass_cancel_guards(self.actions, self.config.defaults.max_cancels, listed)
            self.problems.extend(problems)
        self._carry_over_records()
        return Plan(
            tether_version=self.options.tether_version,
            created_at=self.options.now,
            config_sha256=self.config.sha256,
            lineage=self.state.lineage,
            serial=self.state.serial,
            actions=self._ordered(self.actions),
            records=tuple(sorted(self.records.values(), key=identity_of)),
            accept_fees=self.options.accept_fees,
            allow_mass_cancel=self.options.allow_mass_cancel,
            targets=self.options.targets,
            excludes=self.options.excludes,
            problems=tuple(self.problems),
            notes=tuple(self.notes),
            ignored=self.ignored,
            cancel_at=self.config.defaults.cancel_at,
            incomplete=tuple(self.withholding.gaps),
            refreshed={a: len(listing.bindings) for a, listing in sorted(self.listings.items())},
            hosts={a: info.host for a, info in sorted(self.catalog.items()) if info.host and a in self.listings},
        )

    def _claim(self, integration: Integration) -> list[LiveBinding]:
        index = self.indexes.get((integration.account, integration.kind))
        matches = index.select(integration.match) if index else []
        for binding in matches:
            self.claimed.add(record_key(binding.account, binding.kind, binding.id))
        return matches

    def _blind_spot(self, integration: Integration) -> BlindSpot | None:
        """What the credential cannot see of the integration's kind, unless its ``match.app``
        names an app the credential sees in full."""
        spot = self.listings[integration.account].blind_spot(integration.kind)
        if spot is None:
            return None
        app = integration.match.get("app")
        if isinstance(app, str) and app in spot.visible_apps:
            return None
        return spot

    def _plan_integration(self, integration: Integration) -> None:
        account = self.config.accounts[integration.account]
        matches = self._claim(integration)
        if integration.ensure is Ensure.PRESENT and len(matches) == 1:
            # One live match, the common case: keep, or drift from expect.
            binding = matches[0]
            self._record(binding, integration.name, integration)
            found = drift(integration.expect, binding)
            self.actions.append(
                PlannedAction(
                    address=integration.name,
                    account=integration.account,
                    provider=account.provider,
                    kind=integration.kind,
                    integration=integration.name,
                    action=Action.DRIFT if found else Action.KEEP,
                    why=Reason(ReasonCode.DRIFT, {"fields": ", ".join(sorted(found)), "count": len(found)})
                    if found
                    else _PRESENT,
                    live_id=binding.id,
                    name=binding.name,
                    resource=binding.resource,
                    fingerprint=binding.fingerprint,
                    diff=found or None,
                    app=binding.app,
                )
            )
            return
        base: dict[str, Any] = dict(
            account=integration.account,
            provider=account.provider,
            kind=integration.kind,
            integration=integration.name,
        )
        withheld = self.withholding.gap(integration.account, KIND_TEXT[integration.kind])
        withheld_reason = self.withholding.reason(integration.account, integration.kind)
        if integration.ensure is Ensure.PRESENT:
            if not matches:
                if withheld is not None and withheld_reason is not None:
                    self.actions.append(
                        PlannedAction(address=integration.name, action=Action.BLOCKED, why=withheld_reason, **base)
                    )
                    return
                why = Reason(
                    ReasonCode.MISSING,
                    {
                        "kind": integration.kind.value,
                        "account": integration.account,
                        "selector": describe_selector(integration.match),
                    },
                )
                self.actions.append(PlannedAction(address=integration.name, action=Action.MISSING, why=why, **base))
                return
            if len(matches) > 1:  # (one match is planned above)
                ids = tuple(sorted(b.id for b in matches))
                why = Reason(
                    ReasonCode.AMBIGUOUS,
                    {"count": len(matches), "selector": describe_selector(integration.match), "ids": ", ".join(ids)},
                )
                self.actions.append(
                    PlannedAction(
                        address=integration.name, action=Action.AMBIGUOUS, why=why, candidates=ids, **base
                    )
                )
                for binding in matches:
                    self._record(binding, f"{integration.name}[{binding.id}]", integration)
            return
        self._plan_absent(integration, matches, base, withheld is not None, withheld_reason)

    def _plan_absent(
        self,
        integration: Integration,
        matches: list[LiveBinding],
        base: dict[str, Any],
        gapped: bool,
        withheld_reason: Reason | None,
    ) -> None:
        """Cancel what is visible; say what is already ending; say what cannot be seen."""
        live = [b for b in matches if not b.pending_cancel]
        spot = None if gapped else self._blind_spot(integration)
        # The integration's own name goes to the action about what is not listed, if any.
        name_taken = spot is not None or (gapped and not live)
        single = len(matches) == 1 and not name_taken

        def address(binding: LiveBinding) -> str:
            return integration.name if single else f"{integration.name}[{binding.id}]"

        for binding in matches:
            if binding.pending_cancel:
                when = binding.cancel_scheduled_at
                self.actions.append(
                    PlannedAction(
                        address=address(binding),
                        action=Action.KEEP,
                        why=Reason(ReasonCode.CANCEL_SCHEDULED, {"date": when})
                        if when
                        else _CANCEL_SCHEDULED_UNDATED,
                        live_id=binding.id,
                        name=binding.name,
                        resource=binding.resource,
                        fingerprint=binding.fingerprint,
                        app=binding.app,
                        **base,
                    )
                )
        for binding in live:
            self._record(binding, address(binding), integration)
            self._plan_cancel(binding, address(binding), integration)
        if gapped and not live and withheld_reason is not None:
            self.actions.append(
                PlannedAction(address=integration.name, action=Action.BLOCKED, why=withheld_reason, **base)
            )
        if spot is not None:
            why = Reason(
                ReasonCode.NOT_VISIBLE,
                {
                    "kind": integration.kind.value,
                    "account": integration.account,
                    "blind": spot.reason.value,
                    "visible_apps": ", ".join(sorted(spot.visible_apps)),
                    "resource": spot.resource,
                    "how_to_see": spot.how_to_see,
                },
            )
            self.actions.append(
                PlannedAction(
                    address=integration.name, action=Action.UNVERIFIABLE, why=why, resource=spot.resource, **base
                )
            )

    def _plan_undeclared(self) -> None:
        policy = self.config.defaults.undeclared
        if policy is Undeclared.IGNORE and not self.options.audit:
            return
        claimed = self.claimed
        protected = self.protected
        actions = self.actions
        cancel = policy is Undeclared.CANCEL
        unmanaged = Action.UNMANAGED
        for account, listing in sorted(self.listings.items()):
            rules = self.ignoring.by_kind(account, listing)
            provider = listing.provider
            for binding in listing.bindings:
                kind = KIND_TEXT[binding.kind]
                key = f"{account}/{kind}/{binding.id}"  # record_key, inlined
                if key in claimed or binding.pending_cancel:
                    continue
                if rules:
                    applicable = rules.get(kind)
                    if applicable and self.ignoring.hides(binding, key, applicable):
                        self.ignored += 1
                        continue
                if cancel or key in protected:
                    self._record(binding, key, None)
                if cancel:
                    self._plan_cancel(binding, key, None)
                    continue
                actions.append(
                    PlannedAction(
                        address=key,
                        account=account,
                        provider=provider,
                        kind=binding.kind,
                        action=unmanaged,
                        why=_UNDECLARED,
                        live_id=binding.id,
                        name=binding.name,
                        resource=binding.resource,
                        fingerprint=binding.fingerprint,
                        app=binding.app,
                    )
                )

    # -- cancels -----------------------------------------------------------------------------

    def _plan_cancel(self, binding: LiveBinding, address: str, integration: Integration | None) -> None:
        account = self.config.accounts[binding.account]
        info = self.catalog[binding.account]
        caps = info.capabilities
        listing = self.listings[binding.account]
        key = record_key(binding.account, binding.kind, binding.id)
        previous = self.by_identity.get(key)
        base: dict[str, Any] = dict(
            address=address,
            account=binding.account,
            provider=account.provider,
            kind=binding.kind,
            integration=integration.name if integration else None,
            live_id=binding.id,
            name=binding.name,
            resource=binding.resource,
            fingerprint=binding.fingerprint,
            app=binding.app,
        )
        resuming = previous is not None and previous.status is RecordStatus.PARTIAL
        sides = tuple(integration.sides) if integration and integration.sides else tuple(caps.sides)
        if previous is not None and resuming:
            sides = tuple(s for s in sides if s not in previous.sides_done)
        datasets = ("binding",) + tuple(integration.backup if integration else ())
        fee = fee_due(integration, self.options.today)
        cancel_at = cancel_at_for(integration, self.config.defaults)
        blocked = self.withholding.reason(binding.account, binding.kind) or blocked_by_rules(
            binding,
            integration,
            key in self.protected,
            caps,
            sides,
            datasets,
            cancel_at,
            fee,
            self.config.defaults,
            self.options.accept_fees,
        )
        granted = listing.granted
        rights: list[str] = []
        for side in sides:
            for right in info.required(binding, side, datasets[1:]):
                if right not in rights:
                    rights.append(right)
        missing = [r for r in rights if granted is not None and r not in granted and "*" not in granted]
        steps = [
            Step(
                "check-permission",
                {"rights": rights, "granted": None if granted is None else not missing, "missing": missing},
            ),
            Step("check-terms", terms_detail(integration, fee, self.config.defaults, self.options.accept_fees)),
            Step("backup", {"datasets": list(datasets)}),
            *(
                Step(
                    "cancel",
                    {"side": side, "cancel_at": cancel_at.value} if binding.kind is Kind.SUBSCRIPTION else {"side": side},
                )
                for side in sides
            ),
            Step("verify", {}),
        ]
        if blocked is not None:
            self.actions.append(
                PlannedAction(action=Action.BLOCKED, why=blocked, fee=fee, steps=tuple(steps), **base)
            )
            return
        if caps.manual_only or not binding.cancellable:
            # No API, or the vendor would refuse this credential (another app's binding): a
            # human ends it the real way, and tether never sends that cancel (invariant 10).
            pending = previous is not None and previous.status is RecordStatus.PENDING_MANUAL
            if pending:
                why = _MANUAL_PENDING
            elif not binding.cancellable:
                why = Reason(ReasonCode.FOREIGN_OWNER, {"app": binding.app or "", "provider": binding.provider})
            else:
                why = _NO_API
            self.actions.append(
                PlannedAction(
                    action=Action.MANUAL,
                    why=why,
                    fee=fee,
                    runbook=info.runbook(binding) if info.runbook else None,
                    pending=pending,
                    steps=tuple(s for s in steps if s.type in ("check-terms", "backup")),
                    **base,
                )
            )
            return
        if previous is not None and resuming:
            why = Reason(ReasonCode.RESUME_CANCEL, {"sides_done": ", ".join(previous.sides_done)})
        elif integration is not None:
            why = _DECLARED_ABSENT
        else:
            why = _UNDECLARED_CANCEL
        self.actions.append(PlannedAction(action=Action.CANCEL, why=why, fee=fee, steps=tuple(steps), **base))

    # -- records -----------------------------------------------------------------------------

    def _record(self, binding: LiveBinding, address: str, integration: Integration | None) -> None:
        key = record_key(binding.account, binding.kind, binding.id)
        self.records[key] = new_record(binding, address, integration, self.by_identity.get(key))

    def _carry_over_records(self) -> None:
        """Keep the records of what this plan did not look at: accounts and kinds it could not
        list in full, other targets; and an undeclared binding's protection."""
        narrowed = bool(self.options.targets or self.options.excludes)

        def keep(record: Record) -> bool:
            replanned = record.integration is not None and self._selected_name(record.integration)
            return (
                record.account not in self.listings
                or self.withholding.untrusted(record.account, record.kind)
                or (narrowed and not replanned)
                # An undeclared, protected binding ignored by policy keeps its protection.
                or (record.protect and (record.kind, record.live_id) in self._live_ids(record.account))
            )

        carry_over(self.records, self.by_identity, keep)

    def _selected_name(self, name: str) -> bool:
        """--target and --exclude, by integration name."""
        if self.options.targets and name not in self.options.targets:
            return False
        return name not in self.options.excludes

    def _live_ids(self, account: str) -> set[tuple[str, str]]:
        """(kind, id) of every binding listed for the account, built once per account."""
        found = self.live_ids.get(account)
        if found is None:
            found = {(KIND_TEXT[b.kind], b.id) for b in self.listings[account].bindings}
            self.live_ids[account] = found
        return found
