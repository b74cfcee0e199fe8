"""``tether import``: declarations for live bindings that no integration declares (SPEC section 5).

One ``ensure: present`` integration per unmanaged binding, matching the binding's stable identity
(its ``id``: a name or an address can change, an id does not), named readably after its kind and
name, with a comment saying what it is. The file is checked together with the rest of the
configuration before it is written, and written whole (temporary file, then rename), so the next
``tether plan`` reads it and keeps those bindings.

Live values are untrusted text: names and ids reach the file only as JSON-quoted scalars (which
YAML reads as the same strings) and, in comments, with every control character replaced.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from engine.config import CONFIG_DIR, default_paths, load_config
from engine.errors import ConfigError, Diagnostic, TetherError
from engine.model import Config
from engine.plan import Plan, PlannedAction
from engine.runner import PlanRequest
from engine.workspace import Workspace
from states.model import State

__all__ = [
    "DEFAULT_FILE",
    "Declaration",
    "ImportResult",
    "declarations",
    "importable",
    "render_file",
    "run_import",
]

DEFAULT_FILE = Path(CONFIG_DIR) / "imported.yaml"
"""Where ``import`` writes, relative to the directory of tether.yaml."""

_NAME_CHARS = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_MAX_SLUG = 48


@dataclass(frozen=True)
class Declaration:
    """One integration to write: its name, what it matches, and the comment above it."""

    name: str
    account: str
    kind: str
    live_id: str
    comment: str  # in English, as the file is written for the repository
    source: PlannedAction  # the unmanaged binding it declares, for messages in the reader's language


@dataclass(frozen=True)
class ImportResult:
    path: Path
    declared: tuple[Declaration, ...]
    gaps: tuple[str, ...]  # what could not be listed ("account/kind", or "account"): nothing imported there
    outside_config: bool  # written where the next plan does not read it by default

    @property
    def plan_complete(self) -> bool:
        return not self.gaps


def importable(plan: Plan) -> list[PlannedAction]:
    """The plan's undeclared live bindings (unmanaged, or planned for a cancel by
    ``undeclared: cancel``), in plan order."""
    return [
        action
        for action in plan.actions
        if action.integration is None
        and action.live_id is not None
        and action.address == f"{action.account}/{action.kind.value}/{action.live_id}"
    ]


def _slug(text: str) -> str:
    return _NAME_CHARS.sub("-", text.lower()).strip("-")[:_MAX_SLUG].strip("-")


def _one_line(text: str, limit: int = 80) -> str:
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _comment(action: PlannedAction) -> str:
    what = f'{action.kind.value} "{_one_line(action.name)}"' if action.name else action.kind.value
    where = f"({action.resource} {_one_line(action.live_id or '', 60)})" if action.resource else ""
    owner = f', owned by app "{_one_line(action.app, 60)}"' if action.app else ""
    return " ".join(part for part in (what, where, f"on {action.account}{owner}") if part)


def declarations(actions: Iterable[PlannedAction], taken: Iterable[str]) -> list[Declaration]:
    """One declaration per action, named ``<kind>-<name>`` (or ``<kind>-<id>``), made unique
    against ``taken`` (the integrations already declared) and each other: the id is added first,
    then the account, then a number."""
    used = set(taken)
    out: list[Declaration] = []
    for action in actions:
        kind = action.kind.value
        live_id = action.live_id or ""
        base = _slug(action.name) or _slug(live_id) or "binding"
        choices = [
            f"{kind}-{base}",
            f"{kind}-{base}-{_slug(live_id)}".rstrip("-"),
            f"{_slug(action.account)}-{kind}-{base}-{_slug(live_id)}".rstrip("-"),
        ]
        name = next((c for c in choices if c not in used), None)
        number = 2
        while name is None:
            candidate = f"{choices[0]}-{number}"
            name = candidate if candidate not in used else None
            number += 1
        used.add(name)
        out.append(Declaration(name, action.account, kind, live_id, _comment(action), action))
    return out


def render_file(declared: Sequence[Declaration], *, today: date, schema_line: str = "") -> str:
    """The YAML text of the imported declarations."""
    lines = [schema_line.rstrip("\n")] if schema_line else []
    lines += [
        f"# Written by `tether import` on {today.isoformat()}: live bindings no integration declared.",
        "# Each matches its binding by id. Review them: keep one as it is, give it an `expect`, or set",
        "# `ensure: absent` to have tether cancel it (after a verified backup).",
        "integrations:",
    ]
    for item in declared:
        lines += [
            f"  # {item.comment}",
            f"  {item.name}:",
            f"    account: {json.dumps(item.account)}",
            f"    kind: {item.kind}",
            f"    match: {{id: {json.dumps(item.live_id, ensure_ascii=False)}}}",
            "    ensure: present",
        ]
    return "\n".join(lines) + "\n"


def _config_files(ws: Workspace) -> list[Path]:
    if ws.config_paths and len(ws.config_paths) > 1:
        return list(ws.config_paths)
    first = ws.config_paths[0] if ws.config_paths else ws.root / "tether.yaml"
    return default_paths(first)


def _same(a: Path, b: Path) -> bool:
    return a.absolute().resolve() == b.absolute().resolve()


def run_import(
    ws: Workspace,
    *,
    addresses: Sequence[str],
    import_all: bool,
    out: Path | None,
    force: bool,
    allowed_hosts: frozenset[str],
    make_plan: Callable[[Config, State, PlanRequest], Plan],
    request: PlanRequest,
    read_state: Callable[[], State],
    today: date,
    schema_line: Callable[[Path], str] = lambda _: "",
) -> ImportResult:
    """Refresh, plan, pick the undeclared bindings named (or all), and write their declarations.

    The file being (re)written is left out of the configuration for the refresh, so that with
    ``--force`` what it declared is imported again rather than lost."""
    if not addresses and not import_all:
        raise TetherError("name the bindings to import (their addresses, as `tether plan` shows them) or pass --all")
    target = Path(out) if out is not None else ws.root / DEFAULT_FILE
    if target.exists() and not force:
        raise TetherError(f"{target} already exists; pass --force to write it again, or --out FILE")
    files = _config_files(ws)
    kept = [path for path in files if not (target.exists() and path.exists() and _same(path, target))]
    config = load_config(kept, cwd=ws.root, allowed_hosts=allowed_hosts)
    plan = make_plan(config, read_state(), request)
    found = importable(plan)
    if addresses:
        by_address = {action.address: action for action in found}
        unknown = [a for a in addresses if a not in by_address]
        if unknown:
            listed = ", ".join(sorted(by_address)[:10]) or "none"
            raise TetherError(
                f"not an undeclared live binding: {', '.join(unknown)}. Undeclared now: {listed}"
                + (" ..." if len(by_address) > 10 else "")
            )
        found = [by_address[a] for a in dict.fromkeys(addresses)]
    if not found:
        raise TetherError(
            "no undeclared live binding to import: every binding listed is declared"
            + ("" if plan.is_complete else " (but the plan is incomplete: see `tether plan`)")
        )
    declared = declarations(found, config.integrations)
    text = render_file(declared, today=today, schema_line=schema_line(target))
    _write_checked(target, text, kept, ws.root, allowed_hosts)
    reads = files if ws.config_paths and len(ws.config_paths) > 1 else default_paths(files[0])
    outside = not any(_same(target, path) for path in reads)
    gaps = tuple(sorted({f"{g.account}/{g.kind}" if g.kind else g.account for g in plan.incomplete}))
    return ImportResult(target, tuple(declared), gaps, outside)


def _write_checked(target: Path, text: str, others: list[Path], root: Path, hosts: frozenset[str]) -> None:
    """Check the configuration with the new file, then write it whole (temp file, rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        try:
            load_config([*others, temp], cwd=root, allowed_hosts=hosts)
        except ConfigError as exc:
            label = temp.name
            fixed = [Diagnostic(str(target) if d.file.endswith(label) else d.file, d.line, d.message, d.hint)
                     for d in exc.diagnostics]
            raise ConfigError(
                [*fixed, Diagnostic(str(target), None, "not written: the configuration would not be valid with it")]
            ) from None
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()
