"""The JSON Schemas tether publishes (config, plan), shipped as package data beside this module.

They are data, not code, so editors can read them directly (``# yaml-language-server: $schema=``)
and other tools can validate tether's files without importing tether.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_SUFFIX = ".schema.json"


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


@lru_cache(maxsize=None)
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """The schema as a fresh dict (callers may change their copy without affecting others)."""
    loaded: dict[str, Any] = json.loads(_text(schema_path(name)))
    return loaded
