"""Backups taken before a cancel: written, synced, re-read and checked before anything is cancelled.

Layout (SPEC section 7)::

    <backup-dir>/<backup-id>/binding.json     the provider's own object
    <backup-dir>/<backup-id>/<dataset>.jsonl  one JSON record per line (orders, products, invoices)
    <backup-dir>/<backup-id>/manifest.json    written last: every file's sha256, size, record count,
                                              and the binding (address, account, provider, kind, live id)

With ``defaults.backups.encrypt_to`` the files are age files (``binding.json.age``, ...); the
manifest stays in the clear and holds the checksums of the encrypted bytes. A directory without
``manifest.json`` is not a backup: with its ``unfinished.json`` note it was begun by a run that
died, and is reported as unfinished, not as damage.

Backups may hold personal data, so directories are 0700 and files 0600 whatever the umask, and
nothing is followed through a symlink. Provider ids are untrusted text, so they never reach a
path: the backup id is a timestamp plus a hash, and ids appear only inside JSON content.

Modules: ``manifest`` (values), ``fsio`` (private files), ``crypto`` (age), ``writer``,
``verify`` (list and re-check, no key needed), ``lifecycle`` (settle unfinished, prune),
``reading`` (read a file back, with the identity when encrypted).
"""

from engine.backup.lifecycle import Pruned, prune, settle_unfinished
from engine.backup.manifest import (
    BACKUP_ID,
    BINDING,
    MANIFEST,
    UNFINISHED,
    BackupState,
    Manifest,
    ManifestFile,
    Unfinished,
    new_backup_id,
)
from engine.backup.reading import copy_backup_file, read_backup_file
from engine.backup.verify import Verification, list_backups, verify, verify_backup
from engine.backup.writer import BackupWriter

__all__ = [
    "BACKUP_ID",
    "BINDING",
    "MANIFEST",
    "UNFINISHED",
    "BackupState",
    "BackupWriter",
    "Manifest",
    "ManifestFile",
    "Pruned",
    "Unfinished",
    "Verification",
    "copy_backup_file",
    "list_backups",
    "new_backup_id",
    "prune",
    "read_backup_file",
    "settle_unfinished",
    "verify",
    "verify_backup",
]
