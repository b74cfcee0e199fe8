"""The plan semantics of SPEC section 4, row by row, on the pure planner (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from engine.errors import PlanFileError
from engine.model import Action, BlindReason, BlindSpot, Ensure, Gap, GapReason, IgnoreRule, Kind, Terms, Undeclared
from engine.plan import AccountInfo, PlanOptions, make_plan
from engine.planfile import plan_from_json, plan_to_json
from engine.reasons import ENGLISH, PARAMS, Reason, ReasonCode
from states.model import Record, RecordStatus, State
from tests.engine.planning import CAPS, TODAY, binding, config, fee, integration, listing, plan, required, runbook


def actions(p):  # address -> action value
    return {a.address: a.action.value for a in p.actions}


def test_present_with_one_match_and_expect_holding_is_keep():
    cfg = config(integration("dpd", Kind.CARRIER, match={"name": "DPD Rates"}, expect={"active": True}))
    p = plan(cfg, listing(binding(1, Kind.CARRIER, "DPD Rates", active=True)))
    assert actions(p) == {"dpd": "keep"}
    assert not p.has_changes(State.empty().with_records(p.records))


def test_present_with_expect_differing_is_drift_with_field_diff():
    cfg = config(integration("dpd", Kind.CARRIER, match={"name": "DPD Rates"}, expect={"active": True, "format": "json"}))
    p = plan(cfg, listing(binding(1, Kind.CARRIER, "DPD Rates", active=False, format="json")))
    (action,) = p.actions
    assert action.action is Action.DRIFT
    assert action.diff == {"active": {"expected": True, "actual": False}}


def test_nested_expect_reports_the_sub_field():
    cfg = config(integration("h", match={"name": "h"}, expect={"fields": ["id", "total_price"]}))
    p = plan(cfg, listing(binding(1, name="h", fields=["id"])))
    (action,) = p.actions
    assert action.action is Action.DRIFT
    assert "changes" in action.diff["fields"]


def test_present_without_match_is_missing():
    p = plan(config(integration("dpd", Kind.CARRIER)), listing(binding(1, Kind.CARRIER, "Other")))
    assert actions(p)["dpd"] == "missing"


def test_present_with_several_matches_is_ambiguous():
    cfg = config(integration("hooks", match={"address": "https://erp/*"}))
    p = plan(cfg, listing(binding(1, address="https://erp/a"), binding(2, address="https://erp/b")))
    (action,) = p.actions
    assert action.action is Action.AMBIGUOUS
    assert action.candidates == ("1", "2")


def test_absent_with_matches_cancels_each_with_ordered_steps():
    cfg = config(integration("old", ensure=Ensure.ABSENT, match={"address": "https://erp/*"}, backup=("orders",)))
    p = plan(cfg, listing(binding(1, address="https://erp/a"), binding(2, address="https://erp/b"), binding(3, address="https://new/")), allow_mass_cancel=False)
    cancels = [a for a in p.actions if a.action is Action.CANCEL]
    assert [a.address for a in cancels] == ["old[1]", "old[2]"]
    assert [s.type for s in cancels[0].steps] == ["check-permission", "check-terms", "backup", "cancel", "verify"]
    assert cancels[0].datasets == ("binding", "orders")


def test_absent_with_single_match_uses_the_integration_name():
    cfg = config(integration("old", ensure=Ensure.ABSENT))
    p = plan(cfg, listing(binding(1, name="old"), binding(2, name="keep-me")))
    assert actions(p)["old"] == "cancel"


def test_absent_without_match_is_nothing_to_do():
    p = plan(config(integration("old", ensure=Ensure.ABSENT)), listing(binding(1, name="x")))
    assert "old" not in actions(p)
    assert not any(a.actionable for a in p.actions)


def test_protect_blocks_the_cancel():
    cfg = config(integration("old", ensure=Ensure.ABSENT, protect=True))
    p = plan(cfg, listing(binding(1, name="old"), binding(2, name="other")))
    (action,) = [a for a in p.actions if a.address == "old"]
    assert action.action is Action.BLOCKED
    assert "protect" in action.reason


def test_protection_recorded_in_state_survives_removal_from_yaml():
    state = State(lineage="L", serial=3, records={"old": Record("old", "shop", "shopify", "webhook", "1", "old", "old", RecordStatus.LIVE, protect=True)})
    p = plan(config(undeclared=Undeclared.CANCEL), listing(binding(1, name="old"), binding(2, name="x")), state=state)
    blocked = {a.live_id: a for a in p.actions if a.action is Action.BLOCKED}
    assert "1" in blocked and "protect" in blocked["1"].reason
    # the protection stays recorded, under the binding's new address
    assert any(r.live_id == "1" and r.protect for r in p.records)


def test_undeclared_policies():
    live = listing(binding(1, name="a"), binding(2, name="b"))
    declared = integration("a")
    assert actions(plan(config(declared, undeclared=Undeclared.REPORT), live))["shop/webhook/2"] == "unmanaged"
    assert "shop/webhook/2" not in actions(plan(config(declared, undeclared=Undeclared.IGNORE), live))
    assert actions(plan(config(declared, undeclared=Undeclared.CANCEL), live))["shop/webhook/2"] == "cancel"


def test_audit_reports_undeclared_even_when_ignored_by_policy():
    live = listing(binding(1, name="a"), binding(2, name="b"))
    p = plan(config(integration("a"), undeclared=Undeclared.IGNORE), live, audit=True)
    assert actions(p)["shop/webhook/2"] == "unmanaged"


def test_fee_above_max_blocks_unless_accepted():
    cfg = config(
        integration("pro", Kind.SUBSCRIPTION, ensure=Ensure.ABSENT, terms=Terms(date(2027, 3, 31), fee("49.00 EUR"))),
        max_fee=fee("0.00 EUR"),
    )
    live = listing(binding(1, Kind.SUBSCRIPTION, "pro"), binding(2, Kind.SUBSCRIPTION, "other"))
    blocked = plan(cfg, live)
    assert actions(blocked)["pro"] == "blocked"
    assert "49.00 EUR" in blocked.actions[0].reason and "--accept-fees" in blocked.actions[0].reason
    accepted = plan(cfg, live, accept_fees=True)
    assert actions(accepted)["pro"] == "cancel"
    assert accepted.accept_fees is True


def test_fee_does_not_apply_after_commitment_end():
    cfg = config(integration("pro", Kind.SUBSCRIPTION, ensure=Ensure.ABSENT, terms=Terms(date(2026, 1, 31), fee("49.00 EUR"))))
    p = plan(cfg, listing(binding(1, Kind.SUBSCRIPTION, "pro"), binding(2, Kind.SUBSCRIPTION, "x")))
    assert actions(p)["pro"] == "cancel"


def test_fee_in_another_currency_blocks():
    cfg = config(integration("pro", Kind.SUBSCRIPTION, ensure=Ensure.ABSENT, terms=Terms(None, fee("5.00 USD"))), max_fee=fee("100.00 EUR"))
    p = plan(cfg, listing(binding(1, Kind.SUBSCRIPTION, "pro"), binding(2, Kind.SUBSCRIPTION, "x")))
    assert actions(p)["pro"] == "blocked"


def test_rights_are_shown_and_missing_ones_flagged_without_blocking():
    cfg = config(integration("old", Kind.CARRIER, ensure=Ensure.ABSENT, backup=("orders",)))
    live = listing(binding(1, Kind.CARRIER, "old"), binding(2, Kind.CARRIER, "x"), granted=frozenset({"read_orders"}))
    (action,) = [a for a in plan(cfg, live).actions if a.address == "old"]
    assert action.action is Action.CANCEL
    check = action.step("check-permission").detail
    assert check["rights"] == ["write_shipping", "read_orders"]
    assert check["granted"] is False and check["missing"] == ["write_shipping"]


def test_unsupported_dataset_blocks():
    cfg = config(integration("old", ensure=Ensure.ABSENT, backup=("invoices",)))
    p = plan(cfg, listing(binding(1, name="old"), binding(2, name="x")))
    assert actions(p)["old"] == "blocked"


def test_max_cancels_guard_blocks_every_cancel():
    cfg = config(integration("old", ensure=Ensure.ABSENT, match={"name": "old*"}), max_cancels=2)
    live = listing(*(binding(i, name=f"old{i}") for i in range(3)), binding(9, name="keep"))
    p = plan(cfg, live)
    assert {a.action for a in p.actions if a.integration == "old"} == {Action.BLOCKED}
    assert [problem.code for problem in p.problems] == [ReasonCode.MASS_CANCEL]
    assert "max_cancels" in str(p.problems[0])
    assert {a.action for a in plan(cfg, live, allow_mass_cancel=True).actions if a.integration == "old"} == {Action.CANCEL}


def test_cancelling_every_binding_of_an_account_is_guarded():
    cfg = config(integration("old", ensure=Ensure.ABSENT))
    p = plan(cfg, listing(binding(1, name="old")))
    assert actions(p)["old"] == "blocked"
    assert p.actions[0].why.code is ReasonCode.MASS_CANCEL_ACCOUNT
    assert "every binding" in p.actions[0].reason


def test_partial_listing_makes_no_cancel_decision():
    cfg = config(integration("old", ensure=Ensure.ABSENT))
    p = plan(cfg, listing(binding(1, name="old"), binding(2, name="x"), complete=False, problems=("page 2 failed",)))
    assert actions(p)["old"] == "blocked"
    assert p.actions[0].why == Reason(ReasonCode.WITHHELD, {"account": "shop", "kind": "webhook", "gap": "listing-failed"})
    assert not p.is_complete
    assert [(g.account, g.kind, g.reason.code, g.detail) for g in p.incomplete] == [
        ("shop", None, ReasonCode.LISTING_FAILED, "page 2 failed")
    ]


def test_empty_listing_with_recorded_bindings_is_untrusted_and_state_kept():
    record = Record("keep", "shop", "shopify", "webhook", "7", "keep", "keep", RecordStatus.LIVE)
    state = State(lineage="L", serial=1, records={"keep": record})
    p = plan(config(integration("keep"), integration("old", ensure=Ensure.ABSENT)), listing(), state=state)
    assert p.problems == (Reason(ReasonCode.EMPTY_LISTING, {"account": "shop", "recorded": 1}),)
    assert "no bindings at all" in str(p.problems[0])
    assert record in p.records  # not dropped on the word of an empty answer


def test_expired_ignore_rule_stops_hiding_and_says_so():
    rule = IgnoreRule(match={"account": "shop", "kind": "webhook", "topic": "app/*"}, reason="theme", owner="ops@x", expires=date(2026, 1, 1))
    live = listing(binding(1, name="a"), binding(2, topic="app/uninstalled"))
    active = plan(config(integration("a"), ignore=(rule,)), live, today=date(2025, 12, 1))
    assert "shop/webhook/2" not in actions(active) and active.ignored == 1
    expired = plan(config(integration("a"), ignore=(rule,)), live)
    assert actions(expired)["shop/webhook/2"] == "unmanaged"
    assert [n.code for n in expired.notes] == [ReasonCode.IGNORE_EXPIRED]
    assert expired.notes[0].params["binding"] == "shop/webhook/2"


def test_target_and_exclude_narrow_the_plan():
    cfg = config(integration("a"), integration("b"))
    live = listing(binding(1, name="a"), binding(2, name="b"), binding(3, name="c"))
    assert set(actions(plan(cfg, live, targets=("a",)))) == {"a"}
    assert set(actions(plan(cfg, live, excludes=("a",)))) == {"b", "shop/webhook/3"}


def test_pending_cancel_counts_as_done_and_shows_its_date():
    scheduled = binding(1, Kind.SUBSCRIPTION, "pro", pending_cancel=True, cancel_scheduled_at="2026-12-31")
    p = plan(config(integration("pro", Kind.SUBSCRIPTION, ensure=Ensure.ABSENT)), listing(scheduled, binding(2, Kind.SUBSCRIPTION, "x")))
    (action,) = [a for a in p.actions if a.address == "pro"]
    assert action.action is Action.KEEP and not action.actionable
    assert action.why == Reason(ReasonCode.CANCEL_SCHEDULED, {"date": "2026-12-31"})
    assert "2026-12-31" in action.reason and action.live_id == "1"
    undated = plan(config(integration("pro", Kind.SUBSCRIPTION, ensure=Ensure.ABSENT)), listing(binding(1, Kind.SUBSCRIPTION, "pro", pending_cancel=True), binding(2, Kind.SUBSCRIPTION, "x")))
    assert undated.actions[0].why.code is ReasonCode.CANCEL_SCHEDULED_UNDATED
    assert not undated.has_changes(State.empty())


def test_app_is_cancelled_after_what_it_owns():
    cfg = config(integration("the-app", Kind.APP, ensure=Ensure.ABSENT), integration("hooks", ensure=Ensure.ABSENT), integration("keep", Kind.CARRIER))
    live = listing(binding("current", Kind.APP, "the-app"), binding(1, name="hooks"), binding(2, Kind.CARRIER, "keep"))
    from engine.plan import execution_order

    order = [a.address for a in execution_order(plan(cfg, live).actions)]
    assert order == ["hooks", "the-app"]


def test_after_apply_records_the_next_plan_has_no_changes():
    cfg = config(integration("a", protect=True), integration("b"))
    live = listing(binding(1, name="a"), binding(2, name="b"))
    first = plan(cfg, live)
    assert first.has_changes(State.empty())  # records to write
    applied = State(lineage="L", serial=1).with_records(first.records)
    assert not plan(cfg, live, state=applied).has_changes(applied)


def test_plan_is_linear_lookup_by_index_for_exact_selectors():
    # 2,000 integrations against 2,000 bindings must not compare every pair.
    from engine.plan import index as plan_module

    calls = 0
    original = plan_module.binding_matches

    def counting(selector, b):
        nonlocal calls
        calls += 1
        return original(selector, b)

    plan_module.binding_matches = counting
    try:
        n = 2000
        cfg = config(*(integration(f"i{i}") for i in range(n)))
        plan(cfg, listing(*(binding(i, name=f"i{i}") for i in range(n))))
    finally:
        plan_module.binding_matches = original
    assert calls <= 2 * n


def test_glob_lookups_answer_as_a_full_scan_before_and_after_the_index_is_sorted() -> None:
    from engine import match
    from engine.plan import SCANS_BEFORE_SORTING as _SCANS_BEFORE_SORTING
    from engine.plan import Index as _Index

    bindings = [
        binding(i, address=f"https://{'ab'[i % 2]}.example/{i % 3}/{i}", topic=f"orders/{i % 4}") for i in range(40)
    ]
    selectors = [{"address": f"https://{'ab'[k % 2]}.example/{k % 3}/*"} for k in range(6)]
    selectors += [{"address": "https://a.example/1/1*"}, {"address": "*"}, {"address": "https://*"},
                  {"address": "https://b.example/*", "topic": "orders/1"}, {"address": "none*"}]
    index = _Index(bindings)
    assert len(selectors) > _SCANS_BEFORE_SORTING * 2  # both ways of answering are used
    for selector in selectors:
        expected = [b for b in bindings if match.binding_matches(selector, b)]
        assert index.select(selector) == expected, selector
    assert "address" in index._sorted


def test_an_exact_value_many_bindings_share_beside_a_glob_answers_as_a_full_scan() -> None:
    """``{app: Ops, address: https://legacy/*}`` on an account where every hook is Ops's: the
    glob's few candidates are looked at, not every binding of the app, with the same answer."""
    from engine import match
    from engine.plan import Index as _Index
    from engine.plan import index as plan_module

    bindings = [
        binding(i, address=f"https://{'legacy' if i % 10 == 0 else 'hooks'}.example/{i}", app="Ops" if i % 20 else "Other")
        for i in range(200)
    ]
    selectors = [
        {"app": "Ops", "address": "https://legacy.example/*"},
        {"app": "Other", "address": "https://legacy.example/*"},
        {"app": "Ops", "address": "https://hooks.example/1*"},
        {"app": "Ops", "address": "*/3"},
        {"app": "Nobody", "address": "https://legacy.example/*"},
    ]
    calls = 0
    original = plan_module.binding_matches

    def counting(selector, b):
        nonlocal calls
        calls += 1
        return original(selector, b)

    index = _Index(bindings)
    plan_module.binding_matches = counting
    try:
        answers = [index.select(selector) for selector in selectors]
        first = calls
    finally:
        plan_module.binding_matches = original
    for selector, answer in zip(selectors, answers):
        assert answer == [b for b in bindings if match.binding_matches(selector, b)], selector
    assert [len(a) for a in answers[:2]] == [10, 10] and answers[3] and not answers[4]
    calls = 0
    plan_module.binding_matches = counting
    try:
        index.select(selectors[0])
    finally:
        plan_module.binding_matches = original
    assert calls <= 20 < first  # the 20 legacy hooks at most, not the 190 of the app


# -- reasons, ownership, partial listings (SPEC sections 1, 4 and 6) ------------------------------


WEBHOOKS_OWN_APP = BlindSpot(
    kind=Kind.WEBHOOK,
    reason=BlindReason.OWN_APP_ONLY,
    visible_apps=frozenset({"Lumen Ops"}),
    resource="webhook_subscriptions",
    how_to_see="add the owning app's token as another account",
)


def reasons_of(p):
    yield from (a.why for a in p.actions)
    yield from p.problems
    yield from p.notes
    yield from (g.reason for g in p.incomplete)


def assert_reasons_well_formed(p):
    """Every reason carries exactly the params its code declares, each a str or an int."""
    for reason in reasons_of(p):
        assert set(reason.params) >= set(PARAMS[reason.code]), reason
        assert all(isinstance(v, (str, int)) for v in reason.params.values()), reason
        assert "{" not in reason.english(), reason


def test_every_code_has_params_and_english():
    assert set(PARAMS) == set(ReasonCode) == set(ENGLISH)
    assert all(code.value == code.value.lower() and " " not in code.value for code in ReasonCode)
    assert {r.value for r in GapReason} <= {c.value for c in ReasonCode}


def test_match_app_selects_on_the_owning_app():
    cfg = config(integration("erp", ensure=Ensure.ABSENT, match={"app": "LegacyERP"}))
    live = listing(binding(1, app="LegacyERP"), binding(2, app="Lumen Ops"), binding(3, app="LegacyERP"))
    p = plan(cfg, live)
    cancels = {a.live_id: a for a in p.actions if a.action is Action.CANCEL}
    assert set(cancels) == {"1", "3"}
    assert cancels["1"].app == "LegacyERP" and cancels["1"].address == "erp[1]"
    assert actions(p)["shop/webhook/2"] == "unmanaged"
    assert_reasons_well_formed(p)


def test_absent_in_a_blind_kind_cancels_what_it_sees_and_says_what_it_cannot():
    cfg = config(integration("hooks", ensure=Ensure.ABSENT, match={"address": "https://erp/*"}))
    live = listing(binding(1, address="https://erp/a", app="Lumen Ops"), binding(2, name="x", app="Lumen Ops"), blind_spots=(WEBHOOKS_OWN_APP,))
    p = plan(cfg, live)
    assert actions(p) == {"hooks[1]": "cancel", "hooks": "unverifiable", "shop/webhook/2": "unmanaged"}
    (unverifiable,) = [a for a in p.actions if a.action is Action.UNVERIFIABLE]
    assert unverifiable.why.code is ReasonCode.NOT_VISIBLE
    assert unverifiable.why.params["visible_apps"] == "Lumen Ops"
    assert unverifiable.why.params["how_to_see"] == "add the owning app's token as another account"
    assert not unverifiable.actionable
    assert_reasons_well_formed(p)


def test_absent_with_nothing_visible_in_a_blind_kind_is_unverifiable_not_nothing_to_do():
    cfg = config(integration("hooks", ensure=Ensure.ABSENT, match={"address": "https://erp/*"}), undeclared=Undeclared.IGNORE)
    p = plan(cfg, listing(binding(2, name="x"), blind_spots=(WEBHOOKS_OWN_APP,)))
    assert actions(p) == {"hooks": "unverifiable"}
    assert not p.has_changes(State.empty())  # plan's exit code: apply would change nothing
    assert p.needs_attention()  # audit's exit 2
    # the same declaration with a full view is nothing to do
    assert actions(plan(cfg, listing(binding(2, name="x")))) == {}


def test_match_app_naming_the_visible_app_is_verifiable():
    cfg = config(integration("mine", ensure=Ensure.ABSENT, match={"app": "Lumen Ops", "topic": "orders/*"}), undeclared=Undeclared.IGNORE)
    live = listing(binding(1, topic="orders/create", app="Lumen Ops"), binding(2, name="x", app="Lumen Ops"), blind_spots=(WEBHOOKS_OWN_APP,))
    assert actions(plan(cfg, live)) == {"mine": "cancel"}
    other = config(integration("theirs", ensure=Ensure.ABSENT, match={"app": "LegacyERP"}), undeclared=Undeclared.IGNORE)
    assert actions(plan(other, live)) == {"theirs": "unverifiable"}


def test_a_binding_this_credential_may_not_cancel_is_manual_with_the_owners_runbook():
    cfg = config(integration("dpd", Kind.CARRIER, ensure=Ensure.ABSENT, match={"name": "DPD"}))
    live = listing(binding(1, Kind.CARRIER, "DPD", app="LegacyERP", cancellable=False), binding(2, Kind.CARRIER, "x"))
    p = plan(cfg, live)
    (action,) = [a for a in p.actions if a.address == "dpd"]
    assert action.action is Action.MANUAL and action.actionable
    assert action.why == Reason(ReasonCode.FOREIGN_OWNER, {"app": "LegacyERP", "provider": "shopify"})
    assert "LegacyERP" in action.runbook.navigation
    assert not action.sides and action.step("cancel") is None  # no cancel is ever sent
    undeclared = plan(config(undeclared=Undeclared.CANCEL), live)
    assert {a.live_id: a.action for a in undeclared.actions if a.live_id == "1"} == {"1": Action.MANUAL}
    assert_reasons_well_formed(p)


def test_a_refused_kind_withholds_only_that_kind():
    refused = Gap(kind=Kind.WEBHOOK, reason=GapReason.REFUSED, params={"right": "read_webhooks"}, detail="403 ACCESS_DENIED")
    cfg = config(
        integration("old-dpd", Kind.CARRIER, ensure=Ensure.ABSENT),
        integration("old-hooks", ensure=Ensure.ABSENT),
        integration("gone-hooks", ensure=Ensure.ABSENT),
        integration("want-hook"),
        integration("seen-hook"),
    )
    live = listing(
        binding(1, Kind.CARRIER, "old-dpd"), binding(2, Kind.CARRIER, "x"),
        binding(3, name="old-hooks"), binding(4, name="seen-hook"), gaps=(refused,),
    )
    record = Record("gone", "shop", "shopify", "webhook", "99", "gone", None, RecordStatus.LIVE)
    p = plan(cfg, live, state=State(lineage="L", serial=1, records={"gone": record}))
    assert actions(p) == {
        "old-dpd": "cancel",
        "shop/carrier/2": "unmanaged",
        "old-hooks": "blocked",
        "gone-hooks": "blocked",
        "want-hook": "blocked",
        "seen-hook": "keep",
    }
    withheld = Reason(ReasonCode.WITHHELD, {"account": "shop", "kind": "webhook", "gap": "listing-refused"})
    assert {a.address: a.why for a in p.actions if a.action is Action.BLOCKED} == dict.fromkeys(("old-hooks", "gone-hooks", "want-hook"), withheld)
    (gap,) = p.incomplete
    assert (gap.account, gap.kind, gap.detail) == ("shop", "webhook", "403 ACCESS_DENIED")
    assert gap.reason == Reason(ReasonCode.LISTING_REFUSED, {"account": "shop", "kind": "webhook", "right": "read_webhooks"})
    assert "read_webhooks" in str(gap)
    assert not p.is_complete and p.incomplete_accounts == ("shop",)
    assert record in p.records  # not dropped: its kind was not listed
    assert_reasons_well_formed(p)


def test_empty_listing_guard_is_lifted_by_allow_mass_cancel_without_parsing_text():
    record = Record("keep", "shop", "shopify", "webhook", "7", "keep", "keep", RecordStatus.LIVE)
    state = State(lineage="L", serial=1, records={"keep": record})
    p = plan(config(integration("keep")), listing(), state=state, allow_mass_cancel=True)
    assert p.problems == ()


def test_plan_json_carries_codes_and_round_trips():
    refused = Gap(kind=Kind.WEBHOOK, reason=GapReason.REFUSED, params={"right": "read_webhooks"})
    rule = IgnoreRule(match={"kind": "carrier"}, reason="theme", owner="ops@x", expires=date(2026, 1, 1))
    cfg = config(
        integration("dpd", Kind.CARRIER, ensure=Ensure.ABSENT, match={"name": "DPD"}),
        integration("ups", Kind.CARRIER, ensure=Ensure.ABSENT, match={"name": "UPS"}),
        ignore=(rule,),
        max_cancels=0,
    )
    live = listing(binding(1, Kind.CARRIER, "DPD", app="Lumen Ops"), binding(2, Kind.CARRIER, "UPS", app="ERP", cancellable=False), binding(3, Kind.CARRIER, "x"), gaps=(refused,))
    p = plan(cfg, live)
    data = plan_to_json(p)
    assert data["format_version"] == "2"
    assert data["hosts"] == {"shop": "shop.myshopify.com"}
    dpd = next(a for a in data["actions"] if a["address"] == "dpd")
    assert (dpd["action"], dpd["reason_code"], dpd["reason_params"], dpd["app"]) == ("blocked", "mass-cancel", {"count": 1, "limit": 0}, "Lumen Ops")
    assert dpd["reason"] == str(p.problems[0])
    assert data["problems"][0]["code"] == "mass-cancel"
    assert data["notes"][0]["code"] == "ignore-expired"
    assert data["incomplete"] == [
        {"account": "shop", "kind": "webhook", "code": "listing-refused", "params": {"account": "shop", "kind": "webhook", "right": "read_webhooks"},
         "text": "shop: the vendor refused to list webhook (missing right: read_webhooks)"}
    ]
    again = plan_from_json(data)
    assert again == p
    assert plan_to_json(again) == data


def test_a_plan_of_the_older_format_is_refused_with_a_clear_message():
    data = plan_to_json(plan(config(integration("a")), listing(binding(1, name="a"))))
    data["format_version"] = "1"
    with pytest.raises(PlanFileError, match=r"saved by an older tether \(format 1.*run tether plan again"):
        plan_from_json(data, "old.json")
    data["format_version"] = "2"
    data["actions"][0]["reason_code"] = "not-a-code"
    with pytest.raises(PlanFileError, match="does not know"):
        plan_from_json(data, "odd.json")


def test_resumed_cancels_and_pending_manual_steps_say_so_by_code():
    partial = Record("old", "shop", "shopify", "webhook", "1", "old", "old", RecordStatus.PARTIAL, sides_done=("platform",))
    pending = Record("dpd", "shop", "shopify", "carrier", "2", "DPD", "dpd", RecordStatus.PENDING_MANUAL)
    state = State(lineage="L", serial=2, records={"old": partial, "dpd": pending})
    cfg = config(
        integration("old", ensure=Ensure.ABSENT, sides=("platform", "provider")),
        integration("dpd", Kind.CARRIER, ensure=Ensure.ABSENT, match={"name": "DPD"}),
    )
    live = listing(binding(1, name="old"), binding(2, Kind.CARRIER, "DPD", app="Other", cancellable=False), binding(3, name="x"))
    caps = replace(CAPS, sides=("platform", "provider"))
    catalog = {"shop": AccountInfo(capabilities=caps, required=required, runbook=runbook)}
    p = make_plan(cfg, {"shop": live}, catalog, state, PlanOptions(today=TODAY, now="2026-11-26T05:00:00+00:00"))
    why = {a.address: a.why for a in p.actions}
    assert why["old"] == Reason(ReasonCode.RESUME_CANCEL, {"sides_done": "platform"})
    assert p.actions[[a.address for a in p.actions].index("old")].sides == ("provider",)
    assert why["dpd"] == Reason(ReasonCode.MANUAL_PENDING)
    assert {a.address: a.actionable for a in p.actions} == {"old": True, "dpd": False, "shop/webhook/3": False}
    assert_reasons_well_formed(p)


def test_the_written_plan_is_the_json_of_plan_to_json_for_every_action_shape():
    """``dump_bytes`` turns actions and records into JSON one at a time and renders a shared
    reason once: its text must be that of ``plan_to_json`` written by the json module."""
    import json

    from engine.planfile import dump_bytes

    cfg = config(
        integration("dpd", Kind.CARRIER, ensure=Ensure.ABSENT, match={"name": "DPD"}),
        integration("foreign", Kind.CARRIER, ensure=Ensure.ABSENT, match={"name": "Theirs"}),
        integration("pro", Kind.SUBSCRIPTION, ensure=Ensure.ABSENT, terms=Terms(date(2027, 3, 31), fee("49.00 EUR"))),
        integration("hooks", match={"address": "https://erp/*"}),
        integration("kept", Kind.CARRIER, match={"name": "Kept"}, expect={"active": False}),
        integration("gone", Kind.CARRIER, match={"name": "Nowhere"}),
        ignore=(IgnoreRule(match={"kind": "webhook", "topic": "app/*"}, reason="theme", owner="ops@x", expires=date(2026, 1, 1)),),
    )
    live = listing(
        binding(1, Kind.CARRIER, "DPD"),
        binding(2, Kind.CARRIER, "Theirs", app="LegacyERP", cancellable=False),
        binding(3, Kind.SUBSCRIPTION, "pro"),
        binding(4, address="https://erp/a"),
        binding(5, address="https://erp/b"),
        binding(6, Kind.CARRIER, "Kept", active=True),
        binding(7, topic="app/uninstalled", name="ünï"),
        binding(8, topic="orders/create"),
        binding(9, topic="orders/paid"),
    )
    p = plan(cfg, live)
    assert {a.action for a in p.actions} >= {Action.CANCEL, Action.MANUAL, Action.BLOCKED, Action.AMBIGUOUS, Action.DRIFT, Action.MISSING, Action.UNMANAGED}
    assert sum(a.action is Action.UNMANAGED for a in p.actions) >= 2  # one shared reason, written twice
    expected = json.dumps(plan_to_json(p), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert dump_bytes(p).decode("utf-8") == expected


def test_a_plan_repr_is_short_whatever_its_size():
    cfg = config(*(integration(f"i{i}") for i in range(300)))
    p = plan(cfg, listing(*(binding(i, name=f"i{i}") for i in range(600))))
    assert repr(p) == "Plan(lineage='', serial=0, 600 actions, 300 records, 0 gaps)"


def test_a_plan_the_compiled_check_refuses_is_never_loaded_even_where_python_regexes_would_pass() -> None:
    """``$`` in a schema pattern ends the string (ECMA-262): a reason code with a trailing newline
    is refused with an explanation, not loaded."""
    data = plan_to_json(plan(config(integration("old", ensure=Ensure.ABSENT)), listing(binding(1, name="old"))))
    data["actions"][0]["reason_code"] = data["actions"][0]["reason_code"] + "\n"
    with pytest.raises(PlanFileError, match="not a valid tether plan at actions/0/reason_code"):
        plan_from_json(data, "saved.plan")


def test_bindings_and_actions_are_immutable_records_the_collector_does_not_walk():
    """A plan holds one binding and one action per live binding: both are frozen, compare by
    value, copy with changes through ``replace``, and stay out of the cyclic collector's
    generations (they never take part in a reference cycle)."""
    import gc

    from msgspec.structs import replace

    p = plan(config(integration("old", ensure=Ensure.ABSENT)), listing(binding(1, name="old"), binding(2, name="x")))
    found = binding(1, name="old")
    action = p.actions[0]
    for value, name in ((found, "name"), (action, "address")):
        with pytest.raises(AttributeError):
            setattr(value, name, "changed")
        assert not gc.is_tracked(value)
        assert replace(value, **{name: "other"}) != value
        assert getattr(replace(value, **{name: "other"}), name) == "other"
    assert found == binding(1, name="old") and repr(found) == "LiveBinding(shop/webhook/1 'old')"
