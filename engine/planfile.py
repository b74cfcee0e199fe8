"""The saved plan: one JSON document (SPEC section 6), described by schemas/plan.schema.json.

``plan_to_json`` is also what ``--format json`` prints, so a saved plan and the machine output
are the same thing. Reading validates against the schema first, so a corrupt or hand-edited plan
is refused with one clear message before apply touches anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from engine.errors import PlanFileError
from engine.model import Action, CancelAt, Kind, Money, Runbook
from engine.plan import FORMAT_VERSION, Plan, PlannedAction, Step
from engine.reasons import PlanGap, Reason, ReasonCode
from schemas import compile_check, load_schema
from states.model import Record


def _money(value: dict[str, str] | None) -> Money | None:
    if not value:
        return None
    return Money.parse(f"{value['amount']} {value['currency']}")


# Enum members -> their text by a dict lookup: ``.value`` is a descriptor call, and a plan writes
# two per action, over a hundred thousand actions.
_VALUES: dict[Any, str] = {member: member.value for enum in (Kind, Action) for member in enum}


def action_to_json(action: PlannedAction) -> dict[str, Any]:
    why = action.why
    return _action(action, (why.english(), why.code.value, dict(why.params)), [])


def _action(action: PlannedAction, why: tuple[str, str, Any], no_steps: Any) -> dict[str, Any]:
    """``action_to_json`` with the reason given as its text, code and params, and the value to
    write for no steps (``dump_bytes`` shares them between actions: it only writes them out)."""
    out: dict[str, Any] = {
        "address": action.address,
        "integration": action.integration,
        "account": action.account,
        "provider": action.provider,
        "kind": _VALUES[action.kind],
        "live_id": action.live_id,
        "name": action.name,
        "resource": action.resource,
        "action": _VALUES[action.action],
        "reason": why[0],
        "reason_code": why[1],
        "reason_params": why[2],
        "fingerprint": action.fingerprint,
        "diff": action.diff,
        "fee": action.fee.to_json() if action.fee else None,
        "steps": [s.to_json() for s in action.steps] if action.steps else no_steps,
    }
    if action.app is not None:
        out["app"] = action.app
    if action.runbook is not None:
        out["runbook"] = action.runbook.to_json()
    if action.pending:
        out["pending"] = True
    if action.candidates:
        out["candidates"] = list(action.candidates)
    return out


def _finding(reason: Reason) -> dict[str, Any]:
    return {"code": reason.code.value, "params": dict(reason.params), "text": reason.english()}


def _gap(gap: PlanGap) -> dict[str, Any]:
    out = {"account": gap.account, "kind": gap.kind, **_finding(gap.reason)}
    if gap.detail:
        out["detail"] = gap.detail
    return out


def _reason(code: str, params: dict[str, str | int], source: str) -> Reason:
    try:
        return Reason(ReasonCode(code), params)
    except ValueError:
        raise PlanFileError(
            f"{source}: the plan gives a reason this tether does not know ({code!r}); it was saved "
            "by another version of tether. Make a new one with `tether plan --out FILE`."
        ) from None


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return _document(plan, [action_to_json(a) for a in plan.actions], [r.to_json() for r in plan.records])


def _document(plan: Plan, actions: Any, records: Any) -> dict[str, Any]:
    return {
        "format_version": plan.format_version,
        "tether_version": plan.tether_version,
        "created_at": plan.created_at,
        "config_sha256": plan.config_sha256,
        "state": {"lineage": plan.lineage, "serial": plan.serial},
        "options": {
            "accept_fees": plan.accept_fees,
            "allow_mass_cancel": plan.allow_mass_cancel,
            "targets": list(plan.targets),
            "excludes": list(plan.excludes),
            "cancel_at": plan.cancel_at.value,
        },
        "actions": actions,
        "summary": plan.summary,
        "problems": [_finding(p) for p in plan.problems],
        "notes": [_finding(n) for n in plan.notes],
        "ignored": plan.ignored,
        "incomplete": [_gap(g) for g in plan.incomplete],
        "refreshed": dict(plan.refreshed),
        "hosts": dict(plan.hosts),
        "records": records,
    }


def dump_bytes(plan: Plan) -> bytes:
    """The plan as indented JSON with sorted keys and a final newline, UTF-8: the same text
    ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`` gives, written by orjson. A plan
    over a hundred thousand bindings is tens of megabytes, which the json module's indenting
    encoder (pure Python) takes seconds to write.

    The actions and records go to orjson as they are, and each is turned into its JSON object
    only when orjson reaches it (``default``), so the objects of a hundred thousand actions are
    never all alive at once; a reason shared by many actions is rendered once."""
    texts: dict[int, tuple[str, str, Any]] = {}  # id(reason) -> text, code, params; this call only
    no_steps: tuple[()] = ()

    def default(value: Any) -> Any:
        kind = type(value)
        if kind is PlannedAction:
            why = value.why
            known = texts.get(id(why))
            if known is None:
                params = why.params if type(why.params) is dict else dict(why.params)
                known = texts[id(why)] = (why.english(), why.code.value, params)
            return _action(value, known, no_steps)
        if kind is Record:
            return value.to_json()
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            # What orjson writes for a dataclass by itself: its fields, by name.
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        raise TypeError(f"cannot write {kind.__name__} into a plan")

    return orjson.dumps(
        _document(plan, plan.actions, plan.records),
        default=default,
        option=orjson.OPT_INDENT_2
        | orjson.OPT_SORT_KEYS
        | orjson.OPT_APPEND_NEWLINE
        | orjson.OPT_PASSTHROUGH_DATACLASS,
    )


def dumps(plan: Plan) -> str:
    return dump_bytes(plan).decode("utf-8")


def action_from_json(data: dict[str, Any], source: str = "plan") -> PlannedAction:
    runbook = data.get("runbook")
    return PlannedAction(
        address=data["address"],
        integration=data.get("integration"),
        account=data["account"],
        provider=data["provider"],
        kind=Kind(data["kind"]),
        live_id=data.get("live_id"),
        name=data.get("name", ""),
        resource=data.get("resource", ""),
        action=Action(data["action"]),
        why=_reason(data["reason_code"], data["reason_params"], source),
        app=data.get("app"),
        fingerprint=data.get("fingerprint"),
        diff=data.get("diff"),
        fee=_money(data.get("fee")),
        steps=tuple(
            Step(s["type"], {k: v for k, v in s.items() if k != "type"}) for s in data.get("steps", ())
        ),
        runbook=Runbook(
            navigation=tuple(runbook["navigation"]),
            support_message=runbook["support_message"],
            contact=runbook.get("contact", ""),
        )
        if runbook
        else None,
        pending=bool(data.get("pending", False)),
        candidates=tuple(data.get("candidates", ())),
    )


@lru_cache(maxsize=1)
def _quick_check() -> Callable[[Any], bool]:
    return compile_check("plan")


def _explain_invalid(data: Any, source: str) -> None:
    """jsonschema says where and why the compiled check refused the plan (imported only then),
    reading patterns as ECMA-262 does, as the compiled check does. Whatever it says, a plan the
    compiled check refused is never loaded."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match
    from jsonschema.validators import extend

    from engine.config.schema import ecma_pattern

    explaining = extend(Draft202012Validator, {"pattern": ecma_pattern})(load_schema("plan.schema.json"))
    error = best_match(explaining.iter_errors(data))
    where = ("/".join(str(p) for p in error.absolute_path) if error else "") or "(top level)"
    why = error.message if error else "it does not match the plan schema"
    raise PlanFileError(
        f"{source}: not a valid tether plan at {where}: {why}. Make a new one with `tether plan --out FILE`."
    )


def _check_version(data: Any, source: str) -> None:
    """A plan of another format is refused before its content is checked: its fields differ."""
    if not isinstance(data, dict) or "format_version" not in data:
        return
    version = data["format_version"]
    if version == FORMAT_VERSION:
        return
    older = isinstance(version, str) and version.isdigit() and int(version) < int(FORMAT_VERSION)
    raise PlanFileError(
        f"{source}: this plan was saved by {'an older' if older else 'another'} tether "
        f"(format {version}; this tether reads format {FORMAT_VERSION}); run tether plan again."
    )


def plan_from_json(data: Any, source: str = "plan") -> Plan:
    _check_version(data, source)
    if not _quick_check()(data):
        _explain_invalid(data, source)
    options = data.get("options", {})
    return Plan(
        tether_version=data["tether_version"],
        created_at=data["created_at"],
        config_sha256=data["config_sha256"],
        lineage=data["state"]["lineage"],
        serial=data["state"]["serial"],
        actions=tuple(action_from_json(a, source) for a in data["actions"]),
        records=tuple(Record.from_json(r) for r in data.get("records", ())),
        accept_fees=options.get("accept_fees", False),
        allow_mass_cancel=options.get("allow_mass_cancel", False),
        targets=tuple(options.get("targets", ())),
        excludes=tuple(options.get("excludes", ())),
        cancel_at=CancelAt(options.get("cancel_at", "period_end")),
        problems=tuple(_reason(p["code"], p["params"], source) for p in data.get("problems", ())),
        notes=tuple(_reason(n["code"], n["params"], source) for n in data.get("notes", ())),
        ignored=data.get("ignored", 0),
        incomplete=tuple(
            PlanGap(g["account"], g["kind"], _reason(g["code"], g["params"], source), g.get("detail", ""))
            for g in data.get("incomplete", ())
        ),
        refreshed=dict(data.get("refreshed", {})),
        hosts=dict(data.get("hosts", {})),
    )


def write_plan(path: Path, plan: Plan) -> str:
    """Write atomically; return the plan's sha256 (recorded in the audit log)."""
    text = dump_bytes(plan)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(text).hexdigest()


def read_plan(path: Path) -> tuple[Plan, str]:
    """The plan and its sha256; a missing or corrupt file is a PlanFileError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read the plan ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise PlanFileError(
            f"{where}: the plan file is not valid JSON ({exc}). It may be truncated or edited; "
            "make a new one with `tether plan --out FILE`."
        ) from None
    return plan_from_json(data, str(path)), hashlib.sha256(raw).hexdigest()


