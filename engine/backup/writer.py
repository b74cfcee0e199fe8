"""Writing one backup: begun, filled, finished with its manifest, synced and read back.

``unfinished.json`` is written first, naming the run; the manifest last; the note is removed once
the manifest is synced and every file reads back as written. A run killed in between leaves a
directory that says it is unfinished (never one that passes for a backup), and the next apply
settles it (``engine.backup.lifecycle``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.backup import fsio
from engine.backup.crypto import AgeWriter, parse_recipients
from engine.backup.manifest import (
    AGE_SUFFIX,
    BACKUP_ID,
    BINDING,
    BINDING_KEYS,
    DATASET_NAME,
    MANIFEST,
    RESERVED_DATASETS,
    UNFINISHED,
    Manifest,
    ManifestFile,
    Unfinished,
    encode_manifest,
    encode_unfinished,
)
from engine.backup.verify import check_contents
from engine.errors import BackupError


class BackupWriter:
    """Writes one backup. ``begin`` -> ``write_binding`` -> ``write_dataset``... -> ``finish``.

    Until ``finish`` returns, the directory has no manifest and counts as unfinished; ``finish``
    raises BackupError unless every file reads back exactly as written. ``close`` (or leaving a
    ``with`` block) releases the directory descriptors of a backup abandoned half way.

    With ``encrypt_to`` (age recipients), every file but the manifest is written as an age file
    (``binding.json.age``); the manifest records the checksums of the encrypted bytes and the
    record counts of what is inside.
    """

    def __init__(self, root: Path, backup_id: str, binding_info: Mapping[str, Any], created: str,
                 root_fd: int, dir_fd: int, made_dirs: tuple[Path, ...], recipients: tuple[str, ...]) -> None:
        self.root = root
        self.backup_id = backup_id
        self.path = root / backup_id
        self._binding_info = dict(binding_info)
        self._created = created
        self._root_fd: int | None = root_fd
        self._dir_fd: int | None = dir_fd
        self._made_dirs = made_dirs
        self._files: dict[str, ManifestFile] = {}
        self._manifest: Manifest | None = None
        self._recipient_texts = recipients
        self._recipients = parse_recipients(recipients) if recipients else ()

    @classmethod
    def begin(
        cls,
        backup_dir: str | Path,
        binding_info: Mapping[str, Any],
        backup_id: str,
        *,
        now: datetime | None = None,
        encrypt_to: Sequence[str] = (),
    ) -> BackupWriter:
        """Create ``<backup_dir>/<backup_id>/`` (0700) holding only its ``unfinished.json`` note.
        ``binding_info`` goes into the manifest as given, so the caller passes only what may be
        stored (no secrets): at least address, account, provider, kind and live_id (and run_id,
        which the note names)."""
        if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
            raise BackupError(f"{backup_id!r} is not a backup id (expected one from new_backup_id)")
        missing = [key for key in BINDING_KEYS if key not in binding_info]
        if missing:
            raise BackupError(f"the backup's binding info lacks {', '.join(missing)}")
        try:
            json.dumps(dict(binding_info), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise BackupError(f"the backup's binding info is not JSON: {exc}") from None
        recipients = tuple(encrypt_to)
        if recipients:
            parse_recipients(recipients)  # a bad recipient is refused before anything is created
        moment = now or datetime.now(timezone.utc)
        if moment.tzinfo is None:
            raise ValueError("BackupWriter.begin needs a timezone-aware time")
        created = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        root = Path(backup_dir)
        made = fsio.ensure_root(root)
        root_fd = fsio.open_root(root)
        try:
            try:
                os.mkdir(backup_id, fsio.DIR_MODE, dir_fd=root_fd)
            except FileExistsError:
                raise BackupError(f"{root / backup_id}: a backup with this id already exists") from None
            dir_fd = os.open(backup_id, fsio.DIR_FLAGS, dir_fd=root_fd)
            os.fchmod(dir_fd, fsio.DIR_MODE)
        except OSError as exc:
            os.close(root_fd)
            raise BackupError(f"{root / backup_id}: cannot create the backup directory ({exc.strerror})") from None
        except BaseException:
            os.close(root_fd)
            raise
        writer = cls(root, backup_id, binding_info, created, root_fd, dir_fd, made, recipients)
        note = Unfinished(
            run_id=str(binding_info.get("run_id", "")), address=str(binding_info["address"]), started=created
        )
        with writer._new_file(UNFINISHED) as out:
            out.write(encode_unfinished(note))
        return writer

    def write_binding(self, raw: Mapping[str, Any]) -> ManifestFile:
        """``binding.json``: the provider's object exactly as it returned it."""
        if not isinstance(raw, Mapping):
            raise BackupError(f"{self.path}: the binding to back up is not an object")
        name = self._disk_name(BINDING)
        if name in self._files:
            raise BackupError(f"{self.path / name}: already written")
        try:
            data = (json.dumps(dict(raw), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise BackupError(f"{self.path / name}: the binding is not JSON ({exc})") from None
        with self._new_file(name) as out, self._content(out) as content:
            content.write(data)
        entry = ManifestFile(name, out.sha256, out.size, 1)
        self._files[name] = entry
        return entry

    async def write_dataset(
        self, name: str, records: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
    ) -> ManifestFile:
        """``<name>.jsonl``, streamed: one record in memory at a time, however many there are.

        If ``records`` fails part way, the partial file is removed and the error propagates; the
        same dataset may then be written again.
        """
        if not isinstance(name, str) or not DATASET_NAME.match(name) or name in RESERVED_DATASETS:
            raise BackupError(f"{name!r} is not a dataset name (lowercase letters, digits, _; not binding/manifest)")
        file_name = self._disk_name(f"{name}.jsonl")
        if file_name in self._files:
            raise BackupError(f"{self.path / file_name}: already written")
        count = 0
        with self._new_file(file_name) as out, self._content(out) as content:  # an exception removes it
            if isinstance(records, AsyncIterable):
                async for record in records:
                    content.write(_json_line(record, file_name, count))
                    count += 1
            else:
                for record in records:
                    content.write(_json_line(record, file_name, count))
                    count += 1
        entry = ManifestFile(file_name, out.sha256, out.size, count)
        self._files[file_name] = entry
        return entry

    def finish(self) -> Manifest:
        """Write the manifest, sync everything, read it all back, drop the unfinished note;
        BackupError unless it all matches."""
        if self._manifest is not None:
            return self._manifest
        dir_fd = self._require_open()
        binding_name = self._disk_name(BINDING)
        if binding_name not in self._files:
            raise BackupError(f"{self.path}: the binding itself was not written (write_binding)")
        ordered = [self._files[binding_name]] + [self._files[n] for n in sorted(self._files) if n != binding_name]
        manifest = Manifest(
            backup_id=self.backup_id,
            created=self._created,
            binding=self._binding_info,
            files=tuple(ordered),
            recipients=self._recipient_texts,
        )
        encoded = encode_manifest(manifest)
        with self._new_file(MANIFEST) as out:
            out.write(encoded)
        try:
            os.fsync(dir_fd)
            assert self._root_fd is not None
            os.fsync(self._root_fd)
            for made in self._made_dirs:
                fsio.fsync_path(made.parent)
        except OSError as exc:
            self._withdraw_manifest()
            raise BackupError(f"{self.path}: cannot sync the backup to disk ({exc.strerror})") from None
        problems = check_contents(dir_fd, manifest, expected_manifest=encoded)
        if problems:
            self._withdraw_manifest()
            raise BackupError(f"{self.path}: the backup did not verify: " + "; ".join(problems))
        try:
            os.unlink(UNFINISHED, dir_fd=dir_fd)
            os.fsync(dir_fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise BackupError(f"{self.path}: cannot sync the backup to disk ({exc.strerror})") from None
        self._manifest = manifest
        self.close()
        return manifest

    def close(self) -> None:
        for attr in ("_dir_fd", "_root_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                setattr(self, attr, None)
                os.close(fd)

    def __del__(self) -> None:
        # A writer abandoned by an exception must not keep its directories open.
        if getattr(self, "_dir_fd", None) is not None or getattr(self, "_root_fd", None) is not None:
            self.close()

    def __enter__(self) -> BackupWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _disk_name(self, name: str) -> str:
        return name + AGE_SUFFIX if self._recipients else name

    def _content(self, out: fsio.SyncedFile) -> AbstractContextManager[fsio.SyncedFile | AgeWriter]:
        """Where a file's content goes: straight into it, or through age encryption."""
        if self._recipients:
            return AgeWriter(out, self._recipients)
        return nullcontext(out)

    def _require_open(self) -> int:
        if self._dir_fd is None:
            raise BackupError(f"{self.path}: this backup writer is closed")
        return self._dir_fd

    def _new_file(self, name: str) -> fsio.SyncedFile:
        return fsio.SyncedFile(self._require_open(), name, self.path / name)

    def _withdraw_manifest(self) -> None:
        """A backup that failed its check must not look finished."""
        try:
            os.unlink(MANIFEST, dir_fd=self._require_open())
        except FileNotFoundError:
            pass


def _json_line(record: Any, file_name: str, index: int) -> bytes:
    if not isinstance(record, Mapping):
        raise BackupError(f"{file_name}: record {index + 1} is a {type(record).__name__}, not an object")
    try:
        text = json.dumps(record if isinstance(record, dict) else dict(record), ensure_ascii=False,
                          separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise BackupError(f"{file_name}: record {index + 1} is not JSON ({exc})") from None
    return (text + "\n").encode("utf-8")
