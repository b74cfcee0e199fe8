"""graphql-core's executor, with one shortcut for the emulator's hot path: a list of plain objects.

A listing page is a list of up to 250 objects of a few scalar fields each (``nodes { id topic uri
... }``). graphql-core completes each field of each object on its own (a path, a resolve info, a
resolver call, a leaf coercion: about a thousand steps a page), which is most of the sandbox's CPU
in a large benchmark. When every selected field of the list's object type is a scalar or enum read
by the default resolver, with no arguments, no directives on the list and no deferred fragments,
the result of each object is exactly ``{key: type.coerce_output_value(obj[name])}``; this executor
builds it so. On anything else (a null where the type forbids one, a value the type refuses, a
callable, a non-dict object, a field with its own resolver) it hands the whole list back to
graphql-core unchanged, so errors, their paths and their wording stay graphql-core's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
    default_field_resolver,
    is_leaf_type,
)
from graphql.execution import Executor
from graphql.pyutils import Path

Plan = tuple[tuple[str, str, GraphQLLeafType | None, bool], ...]
"""Per selected field: response key, field name, leaf type (None: ``__typename``), non-null."""


class FlatListExecutor(Executor[Any]):
    """``execute(..., executor_class=FlatListExecutor)``: graphql-core's execution, lists of flat
    objects completed in one pass."""

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is list:
            completed = self._flat_list(return_type.of_type, field_details_list, result)
            if completed is not None:
                return completed
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def _plan(self, item_type: GraphQLOutputType, field_details_list: Any) -> tuple[GraphQLObjectType, Plan] | None:
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType) or item_type.is_type_of is not None:
            return None
        if self.middleware_manager is not None:
            return None
        if any(details.node.directives for details in field_details_list):  # @stream and the like
            return None
        grouped, new_defer_usages, _forbidden = self.collect_subfields(item_type, field_details_list)
        if new_defer_usages:
            return None
        plan: list[tuple[str, str, GraphQLLeafType | None, bool]] = []
        for key, details in grouped.items():
            node = details[0].node
            name = node.name.value
            if name == "__typename":
                plan.append((key, name, None, True))
                continue
            field = item_type.fields.get(name)
            if field is None or field.resolve is not None or field.args or node.arguments:
                return None
            field_type = field.type
            non_null = isinstance(field_type, GraphQLNonNull)
            leaf = field_type.of_type if non_null else field_type
            if not is_leaf_type(leaf):
                return None
            plan.append((key, name, leaf, non_null))
        return item_type, tuple(plan)

    def _flat_list(
        self, item_type: GraphQLOutputType, field_details_list: Any, items: Sequence[Any]
    ) -> list[dict[str, Any]] | None:
        planned = self._plan(item_type, field_details_list)
        if planned is None:
            return None
        object_type, plan = planned
        if self.field_resolver is not default_field_resolver:
            return None
        completed = []
        for item in items:
            if type(item) is not dict:
                return None
            out: dict[str, Any] = {}
            for key, name, leaf, non_null in plan:
                if leaf is None:
                    out[key] = object_type.name
                    continue
                value = item.get(name)
                if value is None:
                    if non_null:
                        return None  # graphql-core's own error, path and nulling
                    out[key] = None
                    continue
                if callable(value):
                    return None
                try:
                    coerced = leaf.coerce_output_value(value)
                except Exception:  # graphql-core reports it, with its path
                    return None
                if coerced is Undefined or coerced is None:
                    return None
                out[key] = coerced
            completed.append(out)
        return completed

