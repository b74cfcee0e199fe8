"""Reading a backup back: a file's content in the clear, checked against its manifest first.

An encrypted backup needs the age identity (the private key) matching one of its recipients. It is
given by reference, like a credential (``--identity "${file:~/.config/tether/backup.key}"`` or
``${env:TETHER_BACKUP_KEY}``); the caller resolves the reference and passes the text here.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from engine.backup import fsio
from engine.backup.crypto import decrypt_stream, parse_identity
from engine.backup.manifest import AGE_SUFFIX, BACKUP_ID, plain_name
from engine.backup.verify import read_manifest, verify
from engine.errors import BackupError


def read_backup_file(backup_dir: str | Path, backup_id: str, name: str, identity: str | None = None) -> bytes:
    """The content of ``name`` (``binding.json``, ``orders.jsonl``; the ``.age`` suffix may be
    left out) in one backup, decrypted with ``identity`` (an age identity file's text) when the
    backup is encrypted. The backup is verified first; a damaged one is refused."""
    out = io.BytesIO()
    copy_backup_file(backup_dir, backup_id, name, out, identity)
    return out.getvalue()


def copy_backup_file(
    backup_dir: str | Path, backup_id: str, name: str, out: BinaryIO, identity: str | None = None
) -> None:
    """``read_backup_file`` written to ``out`` chunk by chunk, so a backup of a large shop's orders
    is never held in memory whole. Nothing is written unless the backup verifies and, when it is
    encrypted, the identity opens it."""
    if not BACKUP_ID.match(backup_id):
        raise BackupError(f"{backup_id!r} is not a backup id")
    checked = verify(backup_dir, backup_id)
    if checked.problems:
        raise BackupError(f"backup {backup_id} did not verify: " + "; ".join(checked.problems))
    if checked.note:
        raise BackupError(f"backup {backup_id} is {checked.note}; it holds nothing to read")
    root_fd = fsio.open_root(Path(backup_dir))
    try:
        dir_fd = os.open(backup_id, fsio.DIR_FLAGS, dir_fd=root_fd)
    finally:
        os.close(root_fd)
    try:
        manifest = read_manifest(dir_fd)
        entry = manifest.file(name) or manifest.file(name + AGE_SUFFIX)
        if entry is None:
            held = ", ".join(plain_name(f.name) for f in manifest.files)
            raise BackupError(f"backup {backup_id} holds no {name} (it holds {held})")
        if entry.encrypted and identity is None:
            raise BackupError(
                f"backup {backup_id} is encrypted to {', '.join(manifest.recipients)}; give the matching "
                'age identity by reference: --identity "${file:PATH}" or --identity "${env:NAME}"'
            )
        identities = parse_identity(identity) if entry.encrypted and identity is not None else []
        with fsio.open_read(dir_fd, entry.name) as source:
            if entry.encrypted:
                decrypt_stream(source, out, identities)
            else:
                shutil.copyfileobj(source, out, fsio.CHUNK)
    finally:
        os.close(dir_fd)
