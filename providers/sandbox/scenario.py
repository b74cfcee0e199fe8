"""Scenarios: the world the emulators start from (SPEC section 8), read from YAML or JSON, never
executed; ``demo`` is every provider package's ``demo.yaml`` merged."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from providers.sdk.errors import ConfigError, Diagnostic

DEMO_ROOT = Path(__file__).resolve().parents[1]  # every ``<provider package>/demo.yaml`` under here


def _yaml_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            Diagnostic(
                str(path),
                None,
                "scenario file not found",
                hint="pass 'demo' or the path to a scenario YAML file",
            )
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Diagnostic(str(path), None, f"cannot read scenario file: {exc}")) from None
    if text.lstrip().startswith("{"):
        # JSON is YAML too, and a generated scenario of hundreds of shops (tens of megabytes)
        # parses ~50x faster as JSON; anything json refuses goes to the YAML parser below.
        try:
            return json.loads(text)
        except ValueError:
            pass
    try:
        # libyaml's parser when present: the same safe loader, several times faster.
        return yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            Diagnostic(str(path), line, f"invalid YAML: {problem}", hint="fix the syntax and retry")
        ) from None


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_IMMUTABLE = (str, int, float, bool, type(None), date, datetime)


def plain_copy(value: Any) -> Any:
    """A deep copy of parsed YAML/JSON (dicts, lists, scalars, dates) several times faster than
    ``copy.deepcopy``, which a scenario goes through on every load and reset; anything else
    still goes through ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: plain_copy(item) for key, item in value.items()}
    if kind is list:
        return [plain_copy(item) for item in value]
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)



def as_scenario(data: Any, origin: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            Diagnostic(
                origin,
                None,
                f"a scenario must map provider names to their sections, not a {type(data).__name__}",
            )
        )
    return {str(key): value for key, value in data.items()}


def demo_scenario(root: Path | None = None) -> dict[str, Any]:
    """The built-in ``demo``: every provider package's ``demo.yaml``, merged at the top level.

    Each provider owns its own section so its emulator and its demo data change together; a
    provider defined by two files is an error rather than a silent override.
    """
    root = root if root is not None else DEMO_ROOT
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for file in sorted(root.glob("*/demo.yaml")):
        for name, section in as_scenario(_yaml_file(file), str(file)).items():
            if name in merged:
                raise ConfigError(
                    Diagnostic(str(file), None, f"provider {name!r} is already defined in {origin[name]}")
                )
            merged[name] = section
            origin[name] = file
    return merged


def read_scenario(source: str) -> dict[str, Any]:
    """``demo`` or the path of a YAML scenario file, parsed (never executed: safe_load)."""
    if source == "demo":
        return demo_scenario()
    path = Path(source)
    return as_scenario(_yaml_file(path), str(path))

