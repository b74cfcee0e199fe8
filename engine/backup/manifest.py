"""What a backup holds, as values: its id, its manifest, and the note an unfinished one carries.

``manifest.json`` is written last. It lists every file with the sha256 and size of the bytes on
disk and the number of records inside, and names the binding (address, account, provider, kind,
live id). With encryption the files on disk are age files (``binding.json.age``); the manifest
then names the recipients (public keys only), and its checksums are those of the encrypted bytes,
so ``verify`` needs no key.

A directory that has ``unfinished.json`` and no manifest was begun by a run that died before it
finished: the note names that run, and, once a later apply has settled it, the run that did and
the backup that replaced it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

MANIFEST = "manifest.json"
BINDING = "binding.json"
UNFINISHED = "unfinished.json"
AGE_SUFFIX = ".age"
MANIFEST_FORMAT_VERSION = 1
BINDING_KEYS = ("address", "account", "provider", "kind", "live_id")

BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}$")
DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FILE_NAME = re.compile(r"^(binding\.json|[a-z][a-z0-9_]*\.jsonl)(\.age)?$")
RESERVED_DATASETS = frozenset({"binding", "manifest", "unfinished"})
AGE_RECIPIENT = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")


def new_backup_id(address: str, now: datetime) -> str:
    """``20261126T051500Z-<12 hex>``: sorts by time, unique, and free of any provider text."""
    if now.tzinfo is None:
        raise ValueError("new_backup_id needs a timezone-aware time")
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256((address + secrets.token_hex(16)).encode("utf-8")).hexdigest()
    return f"{stamp}-{digest[:12]}"


def created_from_id(backup_id: str) -> str:
    """The creation time a backup id carries (``2026-11-26T05:15:00Z``); empty if it has none."""
    if not BACKUP_ID.match(backup_id):
        return ""
    stamp = datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def plain_name(name: str) -> str:
    """``orders.jsonl.age`` -> ``orders.jsonl``: the name of what the file holds."""
    return name[: -len(AGE_SUFFIX)] if name.endswith(AGE_SUFFIX) else name


class BackupState(str, Enum):
    COMPLETE = "complete"  # a manifest that names this backup
    UNFINISHED = "unfinished"  # begun by a run that died: not a backup, and not damage either
    DAMAGED = "damaged"  # an unreadable manifest, a symlink, files without a manifest


@dataclass(frozen=True)
class ManifestFile:
    name: str
    sha256: str
    bytes: int
    records: int

    @property
    def encrypted(self) -> bool:
        return self.name.endswith(AGE_SUFFIX)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "bytes": self.bytes, "records": self.records}

    @classmethod
    def from_json(cls, doc: Any) -> ManifestFile:
        if not isinstance(doc, dict):
            raise ValueError("a file entry must be an object")
        name, sha, size, records = (doc.get(k) for k in ("name", "sha256", "bytes", "records"))
        if not isinstance(name, str) or not FILE_NAME.match(name):
            raise ValueError(f"file entry has an unsafe or invalid name: {name!r}")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ValueError(f"{name}: sha256 is not 64 hex digits")
        for label, value in (("bytes", size), ("records", records)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {label} is not a whole number")
        assert isinstance(size, int) and isinstance(records, int)
        return cls(name=name, sha256=sha, bytes=size, records=records)


@dataclass(frozen=True)
class Unfinished:
    """The note in an unfinished backup: which run began it, and once settled, which run settled
    it and which backup of the same binding replaced it (None: none was needed or made)."""

    run_id: str
    address: str
    started: str
    settled_by: str | None = None
    replaced_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "address": self.address,
            "started": self.started,
            "settled_by": self.settled_by,
            "replaced_by": self.replaced_by,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Unfinished:
        if not isinstance(doc, dict):
            raise ValueError(f"{UNFINISHED} is not a JSON object")
        values = {key: doc.get(key) for key in ("run_id", "address", "started", "settled_by", "replaced_by")}
        for key in ("run_id", "address", "started"):
            if not isinstance(values[key], str):
                raise ValueError(f"{UNFINISHED}: '{key}' is not a string")
        for key in ("settled_by", "replaced_by"):
            if values[key] is not None and not isinstance(values[key], str):
                raise ValueError(f"{UNFINISHED}: '{key}' is not a string")
        if values["replaced_by"] is not None and not BACKUP_ID.match(values["replaced_by"]):
            raise ValueError(f"{UNFINISHED}: 'replaced_by' is not a backup id")
        return cls(
            run_id=str(values["run_id"]),
            address=str(values["address"]),
            started=str(values["started"]),
            settled_by=values["settled_by"],
            replaced_by=values["replaced_by"],
        )

    def describe(self) -> str:
        """One line for ``backups list`` and ``backups verify``."""
        text = f"begun by run {self.run_id or '?'}"
        if self.address:
            text += f" for {self.address}"
        if self.settled_by is None:
            return text + "; that run has not been settled yet (the next apply will)"
        text += f"; settled by run {self.settled_by}"
        if self.replaced_by:
            return text + f", replaced by backup {self.replaced_by}"
        return text + ", no backup replaced it (the binding needed none after all)"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds. ``complete`` is false for a directory that has no usable manifest;
    ``problem`` then says why, and ``state`` whether it is merely unfinished (``unfinished``
    holds its note) or damaged."""

    backup_id: str
    created: str
    binding: Mapping[str, Any]
    files: tuple[ManifestFile, ...]
    complete: bool = True
    problem: str = ""
    format_version: int = field(default=MANIFEST_FORMAT_VERSION)
    recipients: tuple[str, ...] = ()  # age recipients the files are encrypted to; () in the clear
    state: BackupState = BackupState.COMPLETE
    unfinished: Unfinished | None = None

    @property
    def address(self) -> str | None:
        value = self.binding.get("address")
        return value if isinstance(value, str) else None

    @property
    def live_id(self) -> str | None:
        value = self.binding.get("live_id")
        return value if isinstance(value, str) else None

    @property
    def encrypted(self) -> bool:
        return bool(self.recipients)

    @property
    def datasets(self) -> tuple[str, ...]:
        """Dataset names held, ``binding`` first (the names a plan's backup step lists)."""
        return tuple(plain_name(f.name).rsplit(".", 1)[0] for f in self.files)

    @property
    def sha256(self) -> str:
        """Digest of manifest.json as written: one value that pins every file of the backup."""
        return hashlib.sha256(encode_manifest(self)).hexdigest()

    def file(self, name: str) -> ManifestFile | None:
        return next((f for f in self.files if f.name == name), None)

    def binding_file(self) -> ManifestFile | None:
        return next((f for f in self.files if plain_name(f.name) == BINDING), None)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format_version": self.format_version,
            "backup_id": self.backup_id,
            "created": self.created,
            "binding": dict(self.binding),
            "files": [f.to_json() for f in self.files],
        }
        if self.recipients:
            doc["encryption"] = {"format": "age", "recipients": list(self.recipients)}
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> Manifest:
        if not isinstance(doc, dict):
            raise ValueError("the manifest is not a JSON object")
        version = doc.get("format_version")
        if version != MANIFEST_FORMAT_VERSION:
            raise ValueError(f"unknown manifest format_version {version!r}")
        backup_id, created, binding, files = (doc.get(k) for k in ("backup_id", "created", "binding", "files"))
        if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
            raise ValueError(f"invalid backup_id {backup_id!r}")
        if not isinstance(created, str):
            raise ValueError("'created' is not a string")
        if not isinstance(binding, dict):
            raise ValueError("'binding' is not an object")
        if not isinstance(files, list):
            raise ValueError("'files' is not a list")
        entries = tuple(ManifestFile.from_json(item) for item in files)
        names = [e.name for e in entries]
        if len(set(names)) != len(names):
            raise ValueError("a file is listed twice")
        recipients = _recipients(doc.get("encryption"))
        if any(e.encrypted != bool(recipients) for e in entries):
            raise ValueError("encrypted and clear files are mixed, or do not match 'encryption'")
        return cls(backup_id=backup_id, created=created, binding=binding, files=entries, recipients=recipients)


def _recipients(encryption: Any) -> tuple[str, ...]:
    if encryption is None:
        return ()
    if not isinstance(encryption, dict) or encryption.get("format") != "age":
        raise ValueError("'encryption' must be {format: age, recipients: [...]}")
    recipients = encryption.get("recipients")
    if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
        raise ValueError("'encryption.recipients' must be a non-empty list of age recipients")
    return tuple(recipients)


def encode_manifest(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def encode_unfinished(note: Unfinished) -> bytes:
    return (json.dumps(note.to_json(), sort_keys=True, indent=2) + "\n").encode("utf-8")


def incomplete(
    backup_id: str, problem: str, state: BackupState = BackupState.DAMAGED, note: Unfinished | None = None
) -> Manifest:
    """The description of a directory that holds no usable backup."""
    binding = {"address": note.address} if note is not None and note.address else {}
    return Manifest(
        backup_id=backup_id,
        created=created_from_id(backup_id),
        binding=binding,
        files=(),
        complete=False,
        problem=problem,
        state=state,
        unfinished=note,
    )
