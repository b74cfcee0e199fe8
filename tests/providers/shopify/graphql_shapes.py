"""Checks that a GraphQL answer has exactly the shape the schema subset promises for a query.

graphql-core validates the query; this walks the answer beside the query's selections: every
selected field present, non-null fields not null, lists as lists, enums among their values,
scalars of their JSON type (``DateTime`` in ISO-8601, ``ID`` of a global id where it is one), and
abstract types resolved to one of their possible types. No test trusts an answer it did not check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    get_operation_ast,
    parse,
    validate,
)

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "providers" / "shopify" / "schema.graphql"
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
GID = re.compile(r"^gid://shopify/[A-Za-z]+/\d+$")


def plain_schema() -> GraphQLSchema:
    """The schema subset as written, without the emulator's resolvers."""
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


def validated(schema: GraphQLSchema, query: str) -> DocumentNode:
    document = parse(query)
    errors = validate(schema, document)
    assert not errors, f"query does not validate against schema.graphql: {[e.message for e in errors]}"
    return document


def assert_conforms(
    schema: GraphQLSchema, query: str, body: Mapping[str, Any], operation_name: str | None = None
) -> None:
    """``body`` (a response's JSON) answers ``query`` as the schema says."""
    document = validated(schema, query)
    assert set(body) <= {"data", "errors", "extensions"}, f"unexpected top-level keys {sorted(body)}"
    for error in body.get("errors") or ():
        assert isinstance(error.get("message"), str) and error["message"], error
    data = body.get("data")
    if data is None:
        assert body.get("errors"), "an answer without data must carry errors"
        return
    operation = get_operation_ast(document, operation_name)
    assert operation is not None
    root = schema.mutation_type if operation.operation is OperationType.MUTATION else schema.query_type
    assert root is not None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    _Walk(schema, fragments).object(root, operation.selection_set, data, "data")


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments

    def _applies(self, condition: str | None, concrete: GraphQLObjectType) -> bool:
        if condition is None or condition == concrete.name:
            return True
        abstract = self.schema.get_type(condition)
        return isinstance(abstract, (GraphQLInterfaceType, GraphQLUnionType)) and self.schema.is_sub_type(
            abstract, concrete
        )

    def _fields(self, concrete: GraphQLObjectType, selection: SelectionSetNode | None) -> list[FieldNode]:
        out: list[FieldNode] = []
        for node in selection.selections if selection else ():
            if isinstance(node, FieldNode):
                out.append(node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if self._applies(condition, concrete):
                    out.extend(self._fields(concrete, node.selection_set))
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                if self._applies(fragment.type_condition.name.value, concrete):
                    out.extend(self._fields(concrete, fragment.selection_set))
        return out

    def object(self, concrete: GraphQLObjectType, selection: SelectionSetNode | None, value: Any, path: str) -> None:
        assert isinstance(value, Mapping), f"{path}: expected an object, got {value!r}"
        for node in self._fields(concrete, selection):
            key = node.alias.value if node.alias else node.name.value
            assert key in value, f"{path}.{key}: selected but missing"
            if node.name.value == "__typename":
                assert value[key] == concrete.name, f"{path}.__typename: {value[key]!r} is not {concrete.name}"
                continue
            field = concrete.fields[node.name.value]
            self.value(field.type, node, value[key], f"{path}.{key}")

    def value(self, kind: Any, node: FieldNode, value: Any, path: str) -> None:
        if isinstance(kind, GraphQLNonNull):
            assert value is not None, f"{path}: null in a non-null field"
            kind = kind.of_type
        if value is None:
            return
        if isinstance(kind, GraphQLList):
            assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
            for index, item in enumerate(value):
                self.value(kind.of_type, node, item, f"{path}[{index}]")
            return
        if isinstance(kind, GraphQLEnumType):
            assert value in kind.values, f"{path}: {value!r} is not a {kind.name}"
        elif isinstance(kind, GraphQLScalarType):
            self.scalar(kind.name, value, path)
        elif isinstance(kind, GraphQLObjectType):
            self.object(kind, node.selection_set, value, path)
        elif isinstance(kind, (GraphQLInterfaceType, GraphQLUnionType)):
            self.abstract(kind, node, value, path)
        else:
            raise AssertionError(f"{path}: unexpected type {kind}")

    def abstract(self, kind: GraphQLInterfaceType | GraphQLUnionType, node: FieldNode, value: Any, path: str) -> None:
        assert isinstance(value, Mapping), f"{path}: expected an object"
        possible = self.schema.get_possible_types(kind)
        name = value.get("__typename")
        if name is not None:
            matches = [t for t in possible if t.name == name]
            assert matches, f"{path}: {name!r} is not a possible {kind.name}"
            self.object(matches[0], node.selection_set, value, path)
            return
        failures = []
        for candidate in possible:
            try:
                self.object(candidate, node.selection_set, value, path)
                return
            except AssertionError as failure:
                failures.append(str(failure))
        raise AssertionError(f"{path}: fits no possible {kind.name}: {failures}")

    @staticmethod
    def scalar(name: str, value: Any, path: str) -> None:
        if name == "Boolean":
            assert isinstance(value, bool), f"{path}: {value!r} is not a Boolean"
        elif name == "Int":
            assert isinstance(value, int) and not isinstance(value, bool), f"{path}: {value!r} is not an Int"
        elif name == "Float":
            assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{path}: not a Float"
        elif name == "DateTime":
            assert isinstance(value, str) and DATE_TIME.match(value), f"{path}: {value!r} is not a DateTime"
        elif name == "Decimal":
            assert isinstance(value, str) and re.match(r"^-?\d+(\.\d+)?$", value), f"{path}: {value!r} not Decimal"
        elif name == "ID":
            assert isinstance(value, str) and GID.match(value), f"{path}: {value!r} is not a global id"
        else:  # String, URL
            assert isinstance(value, str), f"{path}: {value!r} is not a {name}"
