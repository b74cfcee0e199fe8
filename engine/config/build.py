"""The frozen ``Config``, built only from data that passed every check (so it asserts rather
than reports)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from engine.config.references import Entry, Merged
from engine.config.secrets import parse_secret_ref
from engine.config.sources import Source, config_sha256
from engine.model import (
    Account,
    CancelAt,
    Config,
    Defaults,
    Ensure,
    IgnoreRule,
    Integration,
    Kind,
    Money,
    Terms,
    Undeclared,
)

__all__ = ["build_config"]


def build_config(merged: Merged, sources: Sequence[Source], base_dir: Path) -> Config:
    accounts = {name: _build_account(name, entry.value) for name, entry in merged.accounts.items()}
    integrations = {name: _build_integration(name, entry) for name, entry in merged.integrations.items()}
    ignore = tuple(
        IgnoreRule(
            match=dict(entry.value["match"]),
            reason=entry.value["reason"].strip(),
            owner=entry.value["owner"].strip(),
            expires=date.fromisoformat(entry.value["expires"]),
        )
        for entry in merged.ignore
    )
    defaults = _build_defaults(merged.defaults.value if merged.defaults else None)
    return Config(
        accounts=accounts,
        integrations=integrations,
        defaults=defaults,
        ignore=ignore,
        sha256=config_sha256(sources, base_dir),
        files=tuple(str(source.path.absolute()) for source in sources),
        base_dir=str(base_dir),
    )


def _build_account(name: str, spec: Mapping[str, Any]) -> Account:
    credentials = {}
    for key, value in (spec.get("credentials") or {}).items():
        ref = parse_secret_ref(value)
        assert ref is not None  # checked before building
        credentials[key] = ref
    return Account(
        name=name,
        provider=spec["provider"],
        endpoint=spec.get("endpoint"),
        options=dict(spec.get("options") or {}),
        credentials=credentials,
    )


def _build_integration(name: str, entry: Entry) -> Integration:
    spec = entry.value
    terms_spec = spec.get("terms")
    terms = None
    if isinstance(terms_spec, dict):
        end = terms_spec.get("commitment_end")
        fee = terms_spec.get("early_termination_fee")
        terms = Terms(
            commitment_end=date.fromisoformat(end) if end else None,
            early_termination_fee=Money.parse(fee) if fee else None,
        )
    sides = spec.get("sides")
    backup = spec.get("backup")
    cancel_at = spec.get("cancel_at")
    return Integration(
        name=name,
        account=spec["account"],
        kind=_KINDS[spec["kind"]],  # the schema admitted only these texts
        match=dict(spec["match"]),
        ensure=_ENSURES[spec.get("ensure", "present")],
        expect=dict(spec.get("expect") or {}),
        backup=tuple(backup) if backup else (),
        sides=tuple(sides) if sides is not None else None,
        protect=bool(spec.get("protect", False)),
        terms=terms,
        cancel_at=CancelAt(cancel_at) if cancel_at else None,
        file=entry.source.label,
        line=entry.source.line(entry.path),
    )


# Enum members by their text: a dict lookup, where calling the enum costs a microsecond, and a
# large tether.d builds tens of thousands of integrations.
_KINDS = {kind.value: kind for kind in Kind}
_ENSURES = {ensure.value: ensure for ensure in Ensure}


def _build_defaults(spec: Mapping[str, Any] | None) -> Defaults:
    base = Defaults()
    if not spec:
        return base
    return Defaults(
        undeclared=Undeclared(spec.get("undeclared", base.undeclared.value)),
        max_fee=Money.parse(spec["max_fee"]) if "max_fee" in spec else base.max_fee,
        cancel_at=CancelAt(spec.get("cancel_at", base.cancel_at.value)),
        max_cancels=int(spec.get("max_cancels", base.max_cancels)),
        backup_recipients=tuple((spec.get("backups") or {}).get("encrypt_to") or ()),
    )

