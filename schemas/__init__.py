"""The JSON Schemas tether publishes (config, plan), shipped as package data beside this module.

They are data, not code, so editors can read them directly (``# yaml-language-server: $schema=``)
and other tools can validate tether's files without importing tether.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_SUFFIX = ".schema.json"
_ANNOTATIONS = frozenset({"$ref", "$id", "$defs", "title", "description", "examples", "default", "$comment", "patternErrorMessage"})


def schema_path(name: str) -> Path:
    """Path of a schema by short name (``"config"``) or file name (``"config.schema.json"``).

    Names are checked so a caller passing user input cannot reach outside this directory.
    """
    short = name[: -len(_SUFFIX)] if name.endswith(_SUFFIX) else name
    if not _NAME.match(short):
        raise ValueError(f"not a schema name: {name!r}")
    path = _HERE / f"{short}{_SUFFIX}"
    if not path.is_file():
        known = ", ".join(sorted(p.name[: -len(_SUFFIX)] for p in _HERE.glob(f"*{_SUFFIX}")))
        raise FileNotFoundError(f"no schema named {short!r} (available: {known or 'none'})")
    return path


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """The schema as a fresh dict (callers may change their copy without affecting others)."""
    loaded: dict[str, Any] = json.loads(_text(schema_path(name)))
    return loaded


def _ecma_end(pattern: str) -> str:
    """ECMA-262 ``$`` ends the string; Python's also matches before a final newline. ``\\Z`` is
    the Python spelling of the ECMA meaning (a ``$`` escaped as ``\\$`` is left alone)."""
    if pattern.endswith("$"):
        backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
        if backslashes % 2 == 0:
            return pattern[:-1] + "\\Z"
    return pattern


def _for_compiler(node: Any) -> Any:
    """The schema as fastjsonschema's draft-07 reads it with 2020-12's meaning: ECMA ``$``, and a
    ``$ref`` beside other keywords (draft-07 ignores those siblings; 2020-12 applies both)."""
    if isinstance(node, dict):
        out = {key: _for_compiler(value) for key, value in node.items() if key != "$schema"}
        if isinstance(node.get("pattern"), str):
            out["pattern"] = _ecma_end(node["pattern"])
        if "$ref" in out and any(key not in _ANNOTATIONS for key in out):
            siblings = {key: value for key, value in out.items() if key != "$ref"}
            return {"allOf": [{"$ref": out["$ref"]}, siblings]}
        return out
    if isinstance(node, list):
        return [_for_compiler(item) for item in node]
    return node


def compile_check(name: str, formats: dict[str, Callable[[Any], bool]] | None = None) -> Callable[[Any], bool]:
    """A compiled yes/no check of a schema: True when the value is valid.

    jsonschema explains every error with its path, and tether's messages are built from that; but
    it interprets the schema anew for every value, about 0.3 ms for one integration. A config of
    tens of thousands of integrations, or a plan of a hundred thousand actions, is almost always
    valid, so callers ask this compiled check first (fastjsonschema turns the schema into Python
    code once, roughly a hundred times faster) and run jsonschema only to explain a failure.

    Formats are checked only when named in ``formats`` (jsonschema's behaviour without a format
    checker); defaults in the schema are never written into the value.
    """
    import fastjsonschema

    schema = _for_compiler(load_schema(name))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"  # every keyword used is draft-07's
    validate = fastjsonschema.compile(schema, formats=formats or {}, use_default=False, use_formats=bool(formats))

    def check(value: Any) -> bool:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check
