"""The JSON Schema of tether.yaml (``schemas/config.schema.json``): a compiled yes/no check that
runs on every file, jsonschema only to explain a failure, and the editor's schema comment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from schemas import compile_check, load_schema, schema_path

__all__ = ["SCHEMA_URL_COMMENT", "ecma_pattern", "is_date", "quick_check", "schema_comment", "validator"]

SCHEMA_URL_COMMENT = "# yaml-language-server: $schema="

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    """JSON Schema patterns are ECMA-262, where ``$`` ends the string; in Python it also matches
    before a final newline, which would let ``"name\\n"`` through."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    if re.search(pattern, instance) is None or (pattern.endswith("$") and instance.endswith("\n")):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def is_date(value: Any) -> bool:
    """The schema's ``date`` format: a real calendar date written YYYY-MM-DD."""
    if not isinstance(value, str):
        return True
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def quick_check() -> Callable[[Any], bool]:
    """The compiled yes/no check; jsonschema (``validator``) runs only to explain a failure."""
    return compile_check("config", formats={"date": is_date})


@lru_cache(maxsize=1)
def validator() -> Any:
    """jsonschema, to say where and why a file is invalid (imported only then: it is slow to load)."""
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.validators import extend

    formats = FormatChecker(formats=())
    formats.checks("date")(is_date)
    schema = load_schema("config")
    Draft202012Validator.check_schema(schema)
    cls = extend(Draft202012Validator, {"pattern": ecma_pattern})
    return cls(schema, format_checker=formats)



def schema_comment(schema: str | Path | None = None, *, relative_to: str | Path | None = None) -> str:
    """The first line editors read to find the schema: ``# yaml-language-server: $schema=...``.

    ``schema`` is a URL (kept as given) or a path; a path is written relative to ``relative_to``
    (the directory holding tether.yaml) when given, so the line stays valid in every checkout.
    Without ``schema``, the config schema shipped with this tether is used.
    """
    if schema is None:
        schema = schema_path("config")
    if isinstance(schema, Path):
        text = schema.as_posix()
        if relative_to is not None:
            try:
                text = Path(os.path.relpath(schema, relative_to)).as_posix()
            except ValueError:  # another drive on Windows: keep it absolute
                text = schema.resolve().as_posix()
    else:
        text = schema
    return SCHEMA_URL_COMMENT + text
