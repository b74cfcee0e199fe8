"""The compiled schema check (schemas.compile_check) must say "valid" exactly when jsonschema does.

Config loading and plan reading trust the compiled check when it says valid and skip jsonschema,
so a value it wrongly accepted would skip validation altogether. These tests hold it to
jsonschema's verdict on every config and plan the repository ships, and on thousands of
mutations of them (wrong types, missing required keys, unknown keys, out-of-range numbers,
patterns that only ECMA's ``$`` rejects, impossible dates).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.validators import extend

from engine import planfile
from engine.config import schema as config_module
from engine.yamlsafe import parse_yaml
from schemas import _ecma_end, load_schema

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    [*ROOT.glob("tests/golden/cases/*/tether.yaml"), *ROOT.glob("engine/examples/*.yaml")]
)
PLANS = sorted(ROOT.glob("tests/golden/cases/*/plan.json"))

# Values a mutation puts in place of another: every JSON type, edge strings, impossible dates.
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 10**20, "", " ", "x", "name\n", "UPPER", "a b", "2027-02-30",
    "2026-13-01", "2026-01-01", "2026-01-01\n", "12.5 EUR", "12 euro", "${env:X}", "${env:X}\n",
    "http://example.com", "sha256:" + "0" * 64, "sha256:" + "0" * 64 + "\n", "-1.00", "1.0", "EUR",
    "eur", [], ["x"], ["x", "x"], {}, {"x": 1}, {"name": "x"},
]


def _config_data(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"), str(path)).data


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


def _mutations(data: Any, rng: random.Random, count: int) -> Iterator[Any]:
    paths = list(_paths(data))
    for _ in range(count):
        mutated = copy.deepcopy(data)
        path = rng.choice(paths)
        if not path:
            yield rng.choice(ODD_VALUES)
            continue
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        move = rng.randrange(4)
        if move == 0:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif move == 1:
            del parent[last]
        elif move == 2 and isinstance(parent, dict):
            parent[rng.choice(["unknown", "Bad Key", "x", "name", "expires", "kind"])] = copy.deepcopy(
                rng.choice(ODD_VALUES)
            )
        elif isinstance(parent[last], str):
            parent[last] = parent[last] + rng.choice(["\n", " ", "*", "X", "-", "00"])
        else:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        yield mutated


def _agree(quick: Callable[[Any], bool], slow: Callable[[Any], bool], values: Iterator[Any]) -> tuple[int, int]:
    valid = invalid = 0
    for value in values:
        expected = slow(value)
        assert quick(value) is expected, json.dumps(value, default=str)[:2000]
        valid += expected
        invalid += not expected
    return valid, invalid


def _config_slow(value: Any) -> bool:
    return next(iter(config_module.validator().iter_errors(value)), None) is None


def test_every_shipped_config_is_valid_to_both() -> None:
    assert len(CONFIGS) >= 10
    for path in CONFIGS:
        data = _config_data(path)
        assert _config_slow(data), path
        assert config_module.quick_check()(data), path


@pytest.mark.parametrize("path", CONFIGS[:6], ids=lambda p: p.parent.name if p.name == "tether.yaml" else p.name)
def test_config_mutations_get_the_same_verdict(path: Path) -> None:
    data = _config_data(path)
    valid, invalid = _agree(config_module.quick_check(), _config_slow, _mutations(data, random.Random(path.name), 300))
    assert invalid > 100 and valid > 10  # the mutations reach both verdicts, or the test proves nothing


def test_ecma_end_of_string_is_kept() -> None:
    assert _ecma_end("^a$") == "^a\\Z"
    assert _ecma_end("^a\\$") == "^a\\$"  # an escaped dollar is a literal
    assert _ecma_end("^a\\\\$") == "^a\\\\\\Z"  # an escaped backslash, then the anchor
    assert _ecma_end("^a") == "^a"
    data = _config_data(CONFIGS[0])
    name = next(iter(data["integrations"]))
    data["integrations"][name + "\n"] = data["integrations"].pop(name)
    assert not _config_slow(data)
    assert not config_module.quick_check()(data)


_PLAN_VALIDATOR = extend(Draft202012Validator, {"pattern": config_module.ecma_pattern})(load_schema("plan"))


def _plan_slow(value: Any) -> bool:
    """jsonschema with ECMA-262 patterns, as the schema means them (``$`` ends the string)."""
    return next(iter(_PLAN_VALIDATOR.iter_errors(value)), None) is None


def test_plan_mutations_get_the_same_verdict() -> None:
    assert PLANS
    quick = planfile._quick_check()
    total_invalid = 0
    for path in PLANS[:8]:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert _plan_slow(data) and quick(data), path
        _, invalid = _agree(quick, _plan_slow, _mutations(data, random.Random(path.parent.name), 100))
        total_invalid += invalid
    assert total_invalid > 250
