"""The in-memory store passes the same contract as the file store."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

from states import MemoryStateStore, State


def _contract() -> ModuleType:
    # Loaded by path under a unique name: another test folder may have its own contract.py.
    name = "tether_tests_states_contract"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("contract.py"))
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


contract = _contract()


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
