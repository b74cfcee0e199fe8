"""The plan: what apply will do, binding by binding, and why.

``types`` holds the values (``Plan``, ``PlannedAction``, ``Step``, ``PlanOptions``,
``AccountInfo``); ``planner`` the pure ``make_plan``; ``index`` how selectors find live bindings
in linear time; ``guards`` what blocks a cancel. Reasons are ``engine.reasons`` values.
"""

from engine.plan.gaps import plan_gaps
from engine.plan.index import SCANS_BEFORE_SORTING, Index, binding_matches
from engine.plan.planner import make_plan
from engine.plan.types import (
    FORMAT_VERSION,
    KIND_ORDER,
    AccountInfo,
    Plan,
    PlannedAction,
    PlanOptions,
    Step,
    execution_order,
    record_key,
)
from engine.reasons import PlanGap, Reason, ReasonCode

__all__ = [
    "FORMAT_VERSION",
    "KIND_ORDER",
    "SCANS_BEFORE_SORTING",
    "AccountInfo",
    "Index",
    "Plan",
    "PlanGap",
    "PlanOptions",
    "PlannedAction",
    "Reason",
    "ReasonCode",
    "Step",
    "binding_matches",
    "execution_order",
    "make_plan",
    "plan_gaps",
    "record_key",
]
