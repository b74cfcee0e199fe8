"""The in-memory store passes the same contract as the file store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from states import MemoryStateStore, State
from tests.states import contract


def _harness() -> Any:
    store = MemoryStateStore()
    return contract.Harness(make=lambda: store, snapshot=lambda: (store.data, store.writes))


@pytest.mark.parametrize("check", contract.CHECKS, ids=lambda check: check.__name__)
def test_contract(check: Callable[[Any], None]) -> None:
    check(_harness())


def test_counts_only_real_writes() -> None:
    store = MemoryStateStore()
    state = store.persist(State.empty().with_record(contract.record("a")))
    store.persist(state)
    store.persist(state.with_records(dict(state.records)))
    assert store.writes == 1
    assert store.read() == state
