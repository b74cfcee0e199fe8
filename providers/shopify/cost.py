"""Shopify's calculated query cost, shared by both sides of the wire: the emulator charges it, the
client plans its budget with it.

What Shopify documents (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):

- Limits are per app and store: "Calls from one app don't affect the rate limits of another app,
  even on the same store." Each app-store pair has a leaky bucket that refills continuously at the
  plan's restore rate: Standard 100 points/second, Advanced 200, Plus 1000, Enterprise 2000.
- A field costs by what it returns: a scalar or enum 0, an object 1, an interface or union the
  maximum of its possible selections, a connection "sized by first and last arguments"; a
  mutation 10.
- A query is charged its requested (worst-case) cost up front and refunded the difference once
  its actual cost is known; every response carries ``extensions.cost`` with
  ``requestedQueryCost``, ``actualQueryCost`` and ``throttleStatus`` (``maximumAvailable``,
  ``currentlyAvailable``, ``restoreRate``). A query that needs more than the bucket holds is
  answered ``THROTTLED`` with ``actualQueryCost: null``.
- A single query may cost at most 1,000 points, whatever the plan
  (https://shopify.dev/changelog/posts/dynamic-complexity-cost-for-productcreate-and-productupdate-mutations
  names "the 1000-point single query limit").

Two figures are ours, and said so: the page we could read gives restore rates but not bucket
sizes, so the bucket holds 20 seconds of restore (2,000 points on Standard), the ratio of every
figure Shopify has published before (1,000 points at 50/second), and what Shopify's own forum
shows a Standard store answering (``maximumAvailable: 2000``, ``restoreRate: 100``:
https://community.shopify.com/t/manage-legal-policies/376379); and a connection costs 2 plus
its size times the cost of one item (an item being an object: 1 plus what it selects), which
gives Shopify's well-known 52 for ``orders(first: 50) { edges { node { id } } }``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)

MAX_QUERY_COST = 1000
MUTATION_COST = 10
CONNECTION_BASE_COST = 2
RATE_LIMITS_DOC = "https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits"


@dataclass(frozen=True)
class PlanLimits:
    maximum_available: float
    restore_rate: float


# Restore rates from the page above; bucket sizes 20 s of restore (see the module docstring).
PLANS: Mapping[str, PlanLimits] = {
    "standard": PlanLimits(2000.0, 100.0),
    "advanced": PlanLimits(4000.0, 200.0),
    "plus": PlanLimits(20000.0, 1000.0),
    "enterprise": PlanLimits(40000.0, 2000.0),
}
DEFAULT_PLAN = "standard"


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def to_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.currently_available,
            "restoreRate": self.restore_rate,
        }


@dataclass(frozen=True)
class QueryCost:
    """``extensions.cost`` of one response. ``actual`` is None when the query did not run."""

    requested: int
    actual: int | None
    throttle: ThrottleStatus

    def to_json(self) -> dict[str, Any]:
        return {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual,
            "throttleStatus": self.throttle.to_json(),
        }

    @classmethod
    def from_extensions(cls, extensions: Any) -> QueryCost | None:
        """Read ``extensions.cost`` from a response body's ``extensions``; None when absent or
        malformed (a client then falls back to its own estimate)."""
        if not isinstance(extensions, Mapping):
            return None
        cost = extensions.get("cost")
        if not isinstance(cost, Mapping):
            return None
        status = cost.get("throttleStatus")
        if not isinstance(status, Mapping):
            return None
        try:
            requested = int(cost["requestedQueryCost"])
            actual = cost.get("actualQueryCost")
            throttle = ThrottleStatus(
                float(status["maximumAvailable"]),
                float(status["currentlyAvailable"]),
                float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return cls(requested, None if actual is None else int(actual), throttle)


class CostBucket:
    """The leaky bucket of one app on one store, in points. ``clock`` is monotonic seconds."""

    def __init__(self, limits: PlanLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._available = limits.maximum_available
        self._stamp = clock()

    def _restore(self) -> float:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._available = min(self.limits.maximum_available, self._available + elapsed * self.limits.restore_rate)
        return self._available

    @property
    def available(self) -> float:
        return self._restore()

    def take(self, cost: float) -> bool:
        """Charge ``cost`` if the bucket holds it; False (nothing charged) if it does not."""
        if cost > self._restore():
            return False
        self._available -= cost
        return True

    def refund(self, points: float) -> None:
        self._restore()
        self._available = min(self.limits.maximum_available, self._available + max(0.0, points))

    def settle(self, available: float) -> None:
        """Adopt the vendor's own figure (a client reading ``currentlyAvailable``)."""
        self._stamp = self._clock()
        self._available = max(0.0, min(self.limits.maximum_available, available))

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` points are available; ``inf`` if the bucket can never hold it."""
        if cost > self.limits.maximum_available:
            return math.inf
        missing = cost - self._restore()
        return max(0.0, missing / self.limits.restore_rate)

    def status(self) -> ThrottleStatus:
        return ThrottleStatus(
            self.limits.maximum_available, round(self._restore(), 1), self.limits.restore_rate
        )


# -- the cost of a query ---------------------------------------------------------------------


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def _arg(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, dict(self.variables))
        return None

    def _fields(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, selection: SelectionSetNode | None
    ) -> list[tuple[FieldNode, GraphQLField]]:
        """The fields selected on ``parent``, fragments on ``parent`` (or untyped) flattened."""
        out: list[tuple[FieldNode, GraphQLField]] = []
        for node in selection.selections if selection else ():
            if isinstance(node, FieldNode):
                field = parent.fields.get(node.name.value)
                if field is not None:
                    out.append((node, field))
            else:
                inner = self._fragment(node)
                if inner is None:
                    continue
                condition, sub = inner
                if condition is None or condition == parent.name or self._covers(condition, parent):
                    out.extend(self._fields(parent, sub))
        return out

    def _covers(self, condition: str, parent: Any) -> bool:
        """A fragment on an interface or union applies to each of its object types."""
        abstract = self.schema.get_type(condition)
        if isinstance(abstract, (GraphQLInterfaceType, GraphQLUnionType)) and isinstance(parent, GraphQLObjectType):
            return self.schema.is_sub_type(abstract, parent)
        return False

    def _fragment(self, node: Any) -> tuple[str | None, SelectionSetNode] | None:
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else None
            return condition, node.selection_set
        if isinstance(node, FragmentSpreadNode):
            fragment = self.fragments.get(node.name.value)
            if fragment is None:
                return None
            return fragment.type_condition.name.value, fragment.selection_set
        return None

    def selection(self, parent: Any, selection: SelectionSetNode | None, data: Any) -> int:
        """Cost of what ``selection`` asks of one ``parent`` object (``data``: its result, or
        None to price the worst case)."""
        if isinstance(parent, (GraphQLUnionType, GraphQLInterfaceType)):
            candidates = self.schema.get_possible_types(parent)
            if isinstance(data, Mapping) and data.get("__typename"):
                candidates = [t for t in candidates if t.name == data["__typename"]] or candidates
            return max((self.selection(t, selection, data) for t in candidates), default=0)
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        total = 0
        for node, field in self._fields(parent, selection):
            key = node.alias.value if node.alias else node.name.value
            value = data.get(key) if isinstance(data, Mapping) else None
            total += self.field(node, field, value, priced=data is not None)
        return total

    def field(self, node: FieldNode, field: GraphQLField, value: Any, *, priced: bool) -> int:
        named = get_named_type(field.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        if named.name.endswith("Connection") and isinstance(named, GraphQLObjectType):
            return self.connection(node, named, value, priced=priced)
        if priced:
            if value is None:
                return 0
            if isinstance(value, list):
                return sum(1 + self.selection(named, node.selection_set, item) for item in value)
        return 1 + self.selection(named, node.selection_set, value if priced else None)

    def _items(self, item_type: Any, selection: SelectionSetNode | None, items: list[Any]) -> int:
        """The actual cost of the items a connection returned. Where an item's selection holds no
        list or connection, every returned item costs the same: price one, multiply."""
        if not items:
            return 0
        if self._fixed(item_type, selection):
            return len(items) * (1 + self.selection(item_type, selection, None))
        return sum(1 + self.selection(item_type, selection, item) for item in items)

    def _fixed(self, parent: Any, selection: SelectionSetNode | None) -> bool:
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return True
        for node, field in self._fields(parent, selection):
            kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            named = get_named_type(kind)
            if isinstance(kind, GraphQLList) or named.name.endswith("Connection"):
                if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
                    return False
            elif isinstance(named, (GraphQLUnionType, GraphQLInterfaceType)) or not self._fixed(named, node.selection_set):
                return False
        return True

    def connection(self, node: FieldNode, named: GraphQLObjectType, value: Any, *, priced: bool) -> int:
        """2, plus for each item asked for (``first``/``last``) or returned, the item's cost as an
        object. Items selected both through ``edges { node }`` and ``nodes`` count once."""
        item_type: Any = get_named_type(named.fields["nodes"].type)
        wanted: list[tuple[SelectionSetNode | None, list[Any]]] = []
        for sub, sub_field in self._fields(named, node.selection_set):
            key = sub.alias.value if sub.alias else sub.name.value
            got = value.get(key) if isinstance(value, Mapping) else None
            if sub.name.value == "nodes":
                wanted.append((sub.selection_set, list(got or ())))
            elif sub.name.value == "edges":
                edge_type = get_named_type(sub_field.type)
                if not isinstance(edge_type, GraphQLObjectType):
                    continue
                for leaf, _ in self._fields(edge_type, sub.selection_set):
                    if leaf.name.value == "node":
                        leaf_key = leaf.alias.value if leaf.alias else leaf.name.value
                        returned = [e.get(leaf_key) for e in got or () if isinstance(e, Mapping)]
                        wanted.append((leaf.selection_set, returned))
        if priced:
            spent = (self._items(item_type, sel, items) for sel, items in wanted)
            return CONNECTION_BASE_COST + max(spent, default=0)
        size = self._arg(node, "first") or self._arg(node, "last") or 0
        per_item = max((1 + self.selection(item_type, sel, None) for sel, _ in wanted), default=1)
        return CONNECTION_BASE_COST + int(size) * per_item


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    data: Mapping[str, Any] | None = None,
) -> int:
    """The requested cost of one operation of a validated ``document`` (``data`` None), or its
    actual cost given the ``data`` it returned: connections then count the items they returned."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return 0
    walker = _Walker(schema, document, variables or {})
    if operation.operation is OperationType.MUTATION:
        mutation = schema.mutation_type
        roots = walker._fields(mutation, operation.selection_set) if mutation else []
        return MUTATION_COST * max(1, len(roots))
    root = schema.query_type
    if root is None:
        return 0
    return walker.selection(root, operation.selection_set, data if data is not None else None)


def requested_cost(schema: GraphQLSchema, query: str, variables: Mapping[str, Any] | None = None) -> int:
    """The requested cost of a query text: what a client should budget before sending it."""
    from graphql import parse

    return query_cost(schema, parse(query), variables)


def plan_limits(plan: str) -> PlanLimits:
    return PLANS.get(plan, PLANS[DEFAULT_PLAN])


def total_cost(costs: Sequence[QueryCost]) -> int:
    """Points actually spent over several responses (for reports such as the bench)."""
    return sum(cost.actual or 0 for cost in costs)
