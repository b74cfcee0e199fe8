"""The ``options`` of a ``manual`` account: the declared inventory of bindings that have no API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.generic_http.schema import schema_problems
from providers.sdk.errors import ConfigError, Diagnostic
from providers.sdk.model import Account, Kind

_ID = {"type": ["string", "integer"], "pattern": r"\S"}

OPTIONS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "options of a tether account with provider: manual",
    "type": "object",
    "additionalProperties": False,
    "required": ["vendor", "bindings"],
    "properties": {
        "vendor": {"type": "string", "minLength": 1},
        "contact": {"type": "string"},
        "shop": {"type": "string", "minLength": 1},
        "bindings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "kind", "name"],
                "properties": {
                    "id": _ID,
                    "kind": {"enum": [k.value for k in Kind]},
                    "name": {"type": "string", "minLength": 1},
                    "status": {"type": "string", "minLength": 1},
                    "shop": {"type": "string", "minLength": 1},
                    "navigation": {"type": "array", "items": {"type": "string", "minLength": 1}},
                    "verify": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"confirm": {"type": "boolean"}},
                    },
                },
                # Other keys are the user's own facts about the binding, addressable by match/expect.
                "additionalProperties": True,
            },
        },
        "done": {"type": "array", "items": _ID},
    },
}


@dataclass(frozen=True)
class ManualOptions:
    vendor: str
    contact: str
    shop: str | None
    bindings: tuple[Mapping[str, Any], ...]
    done: frozenset[str]


def parse_options(account: Account) -> ManualOptions:
    """Validate a manual account; one ConfigError naming every offending key."""
    prefix = f"accounts.{account.name}"
    problems: list[Diagnostic] = []

    def add(where: str, message: str, hint: str = "") -> None:
        problems.append(Diagnostic("tether.yaml", None, f"{prefix}.{where}: {message}", hint))

    if account.endpoint:
        add("endpoint", "is not used by provider manual", "a manual account calls no API; remove endpoint")
    if account.credentials:
        add("credentials", "are not used by provider manual", "a manual account calls no API; remove credentials")
    options = account.options
    for where, message in schema_problems(OPTIONS_SCHEMA, options):
        add("options" + where, message)
    if problems:
        raise ConfigError(problems)
    seen: set[str] = set()
    for index, declared in enumerate(options["bindings"]):
        ident = str(declared["id"])
        if ident in seen:
            add(f"options.bindings[{index}].id", f"{ident!r} is declared twice", "binding ids must be unique")
        seen.add(ident)
    if problems:
        raise ConfigError(problems)
    return ManualOptions(
        vendor=options["vendor"],
        contact=options.get("contact", ""),
        shop=options.get("shop"),
        bindings=tuple(options["bindings"]),
        done=frozenset(str(i) for i in options.get("done", ())),
    )
