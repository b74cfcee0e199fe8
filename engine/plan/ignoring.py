"""Ignore rules: drift nobody should be paged for. A rule hides the undeclared bindings it matches
until it expires; an expired rule hides nothing and leaves a note in the plan, once per binding
(SPEC section 3, ``ignore``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from engine.model import IgnoreRule, Kind, Listing, LiveBinding
from engine.plan.index import group_rule_matcher, rule_matcher
from engine.plan.types import KIND_TEXT
from engine.reasons import Reason, ReasonCode

IgnoreRules = list[tuple[int, IgnoreRule, Callable[[LiveBinding], bool]]]


class IgnoreFilter:
    """The configuration's ignore rules, numbered as written; expired ones append their note to
    ``notes`` (the plan's) the first time they would have hidden a binding."""

    def __init__(self, rules: Iterable[IgnoreRule], today: date, notes: list[Reason]) -> None:
        self.rules: IgnoreRules = [
            (number, rule, rule_matcher(rule)) for number, rule in enumerate(rules, start=1)
        ]
        self.today = today
        self.notes = notes
        self.noted: set[tuple[int, str]] = set()

    def by_kind(self, account: str, listing: Listing) -> dict[str, IgnoreRules]:
        """The rules that may hide a binding of this listing, by kind text, with the keys naming
        the account, kind and provider decided once per kind rather than per binding. Empty when
        there are no rules."""
        if not self.rules:
            return {}
        kinds = {KIND_TEXT[kind] for kind in Kind}
        if any(b.account != account or b.provider != listing.provider for b in listing.bindings):
            # A listing holding another account's or provider's binding: every rule, every key,
            # binding by binding.
            return {kind: self.rules for kind in kinds}
        found: dict[str, IgnoreRules] = {}
        for kind in kinds:
            found[kind] = []
            for number, rule, _ in self.rules:
                matches = group_rule_matcher(rule, account, kind, listing.provider)
                if matches is not None:
                    found[kind].append((number, rule, matches))
        return found

    def hides(self, binding: LiveBinding, key: str, rules: IgnoreRules) -> bool:
        for number, rule, matches in rules:
            if not matches(binding):
                continue
            if rule.active_on(self.today):
                return True
            if (number, key) not in self.noted:
                self.noted.add((number, key))
                self.notes.append(
                    Reason(
                        ReasonCode.IGNORE_EXPIRED,
                        {
                            "number": number,
                            "rule_reason": rule.reason,
                            "owner": rule.owner,
                            "expires": rule.expires.isoformat(),
                            "binding": key,
                        },
                    )
                )
        return False
