"""The emulator's executor completes lists of flat objects in one pass; whatever it answers is
exactly what graphql-core's own executor answers, errors and their paths included."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, execute, parse
from graphql.execution import Executor

from providers.shopify.execution import FlatListExecutor

SDL = """
scalar DateTime
enum Format { JSON XML }
type Hook { id: ID! topic: String! uri: String format: Format createdAt: DateTime count: Int }
type Page { nodes: [Hook!]! maybe: [Hook] }
type Query { hooks: Page! }
"""
QUERY = "{ hooks { nodes { __typename id topic link: uri format createdAt count } maybe { id uri } } }"


def run(nodes: list[Any], executor: type[Executor[Any]] | None, query: str = QUERY) -> tuple[Any, list[Any]]:
    schema = build_schema(SDL)
    root = {"hooks": {"nodes": nodes, "maybe": nodes}}
    result = execute(schema, parse(query), root_value=root, executor_class=executor)
    assert not hasattr(result, "__await__")
    return result.data, [e.formatted for e in result.errors or []]  # type: ignore[union-attr]


GOOD = [
    {"id": 1, "topic": "ORDERS_CREATE", "uri": "https://a.example/h", "format": "JSON", "createdAt": "2026-01-01T00:00:00Z", "count": 3},
    {"id": "2", "topic": "APP_UNINSTALLED", "uri": None, "format": "XML", "extra": "ignored"},
]


@pytest.mark.parametrize(
    "nodes",
    [
        GOOD,
        [],
        [*GOOD, {"id": 3, "topic": None}],  # a null where the type forbids one
        [*GOOD, {"id": 4, "topic": "X", "format": "YAML"}],  # a value the enum refuses
        [*GOOD, {"id": 5, "topic": "X", "count": "many"}],  # a value Int refuses
        [*GOOD, {"id": 6, "topic": lambda info, **args: "FROM_CALLABLE"}],  # a callable field
        [*GOOD, None],  # a null item in a non-null list
        [*GOOD, {"id": {"nested": True}, "topic": "X"}],  # an id that is no ID
    ],
)
def test_the_same_answer_as_graphql_core(nodes: list[Any]) -> None:
    assert run(nodes, FlatListExecutor) == run(nodes, None)


def test_flat_lists_skip_the_per_field_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"fields": 0}
    original = Executor.execute_field

    def counted(self: Executor[Any], *args: Any) -> Any:
        calls["fields"] += 1
        return original(self, *args)

    monkeypatch.setattr(Executor, "execute_field", counted)
    many = [{"id": n, "topic": "T", "uri": None, "format": "JSON", "createdAt": None, "count": n} for n in range(200)]
    data, errors = run(many, FlatListExecutor)
    assert errors == [] and len(data["hooks"]["nodes"]) == 200
    assert data["hooks"]["nodes"][7] == {
        "__typename": "Hook", "id": "7", "topic": "T", "link": None, "format": "JSON", "createdAt": None, "count": 7,
    }
    assert calls["fields"] == 3  # hooks, nodes, maybe: no field of any item went through execute_field
    calls["fields"] = 0
    run(many, None)
    assert calls["fields"] > 200 * 7
