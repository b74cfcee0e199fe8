"""The state file format: deterministic bytes out, a clear message for anything wrong coming in.

The file is committed to git and reviewed in pull requests, so equal content must give equal
bytes (sorted keys, records ordered by address, fixed indentation, one trailing newline), and a
hand-edited or half-merged file must be refused with its line and a way back, never guessed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from states.errors import StateError
from states.model import FORMAT_VERSION, Record, State

Document = dict[str, Any]

_TOP_LEVEL = {"format_version", "lineage", "serial", "records"}
_OPTIONAL = {"hosts"}  # written only when there is something in it, so older files stay byte-equal


def _upgrade_from_0(doc: Document) -> Document:
    """Version 0 never had a different layout; the step keeps the upgrade path exercised."""
    return {**doc, "format_version": 1}


# format_version N -> a function turning a version-N document into a version-N+1 document.
UPGRADES: dict[int, Callable[[Document], Document]] = {0: _upgrade_from_0}


def encode(state: State) -> bytes:
    """The canonical bytes of a state: equal content (and lineage, serial) gives equal bytes."""
    doc = {
        "format_version": FORMAT_VERSION,
        "lineage": state.lineage,
        "serial": state.serial,
        "records": [state.records[address].to_json() for address in sorted(state.records)],
    }
    if state.hosts:
        doc["hosts"] = dict(sorted(state.hosts.items()))
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def decode(data: bytes, path: str | Path) -> State:
    """Parse a state file's bytes. Raises StateError naming ``path``, the line and what to do."""
    text = _text(data, path)
    doc = _json(text, path)
    if not isinstance(doc, dict):
        raise _corrupt(path, None, f"the top level must be a JSON object, not {_type(doc)}")
    doc = _upgrade(doc, text, path)
    unknown = sorted(set(doc) - _TOP_LEVEL - _OPTIONAL)
    if unknown:
        raise _corrupt(path, None, f"unknown top-level field(s): {', '.join(unknown)}")
    missing = sorted(_TOP_LEVEL - set(doc))
    if missing:
        raise _corrupt(path, None, f"missing top-level field(s): {', '.join(missing)}")
    lineage, serial, records = doc["lineage"], doc["serial"], doc["records"]
    if not isinstance(lineage, str):
        raise _corrupt(path, _line_of(text, '"lineage"'), "'lineage' must be a string")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise _corrupt(path, _line_of(text, '"serial"'), "'serial' must be a whole number >= 0")
    if not isinstance(records, list):
        raise _corrupt(path, _line_of(text, '"records"'), "'records' must be a list")
    by_address: dict[str, Record] = {}
    for index, item in enumerate(records):
        address = item.get("address") if isinstance(item, dict) else None
        line = _address_line(text, address)
        try:
            record = Record.from_json(item)
        except (ValueError, TypeError) as exc:
            label = f"record {index + 1}" + (f" ({address})" if isinstance(address, str) else "")
            raise _corrupt(path, line, f"{label}: {exc}") from None
        if record.address in by_address:
            raise _corrupt(path, line, f"two records share the address {record.address!r}")
        by_address[record.address] = record
    hosts = doc.get("hosts", {})
    if not isinstance(hosts, dict) or not all(isinstance(v, str) and v for v in hosts.values()):
        raise _corrupt(path, _line_of(text, '"hosts"'), "'hosts' must map account names to host names")
    return State(lineage=lineage, serial=serial, records=by_address, hosts=hosts)


def _text(data: bytes, path: str | Path) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _corrupt(path, (line, column), "the file is not valid UTF-8") from None


def _json(text: str, path: str | Path) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"the key {key!r} appears twice in one object")
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not allowed in a state file")

    if not text.strip():
        raise _corrupt(path, None, "the file is empty")
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise _corrupt(path, (exc.lineno, exc.colno), f"the file is not valid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise _corrupt(path, None, str(exc)) from None


def _upgrade(doc: Document, text: str, path: str | Path) -> Document:
    if "format_version" not in doc:
        raise _corrupt(path, None, "missing top-level field(s): format_version")
    version = doc["format_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise _corrupt(path, _line_of(text, '"format_version"'), f"'format_version' must be a whole number, not {version!r}")
    if version > FORMAT_VERSION:
        raise StateError(
            f"{path}: this state was written by a newer tether (format_version {version}; this "
            f"tether reads up to {FORMAT_VERSION}). Upgrade tether to use it; do not edit the file by hand."
        )
    while version < FORMAT_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise StateError(f"{path}: no upgrade from format_version {version}; this tether cannot read it.")
        doc = step(doc)
        version += 1
        doc["format_version"] = version
    return doc


def _line_of(text: str, needle: str) -> tuple[int, int] | None:
    found = text.find(needle)
    return _position(text, found) if found >= 0 else None


def _address_line(text: str, address: Any) -> tuple[int, int] | None:
    if not isinstance(address, str):
        return None
    pattern = r'"address"\s*:\s*' + re.escape(json.dumps(address, ensure_ascii=False))
    found = re.search(pattern, text)
    return _position(text, found.start()) if found else None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _corrupt(path: str | Path, where: tuple[int, int] | None, problem: str) -> StateError:
    location = f"{path}:{where[0]}:{where[1]}" if where else str(path)
    return StateError(
        f"{location}: the state file is corrupt: {problem}. Restore it from git "
        f"(`git checkout -- {path}`) or fix it by hand; tether changed nothing."
    )


def _type(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
