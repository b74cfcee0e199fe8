"""``tether backups list | verify | prune | cat``: the backups apply took before each cancel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli import common
from engine.cli.common import BackupOpt, ConfigOpt, LangOpt, fail, guard, out, parse_duration, store_for, workspace
from engine.i18n import detect_lang, t

if TYPE_CHECKING:
    from engine.backup import Manifest

backups_app = typer.Typer(
    help="List backups, re-check their checksums, remove old ones (they may hold personal data), read one back.",
    no_args_is_help=True,
)


def describe(manifest: Manifest) -> str:
    """One line per backup: id, binding, files and records; or why it is not a backup."""
    from engine.backup import BackupState

    if manifest.state is BackupState.UNFINISHED:
        return f"{manifest.backup_id}  UNFINISHED  {manifest.problem}"
    if not manifest.complete:
        return f"{manifest.backup_id}  DAMAGED  {manifest.problem}"
    files = ", ".join(f"{f.name} ({f.records})" for f in manifest.files)
    sealed = "  encrypted" if manifest.recipients else ""
    return f"{manifest.backup_id}  {manifest.address or '?'}  {files}{sealed}"


@backups_app.command("list")
def backups_list(config: ConfigOpt = None, backup_dir: BackupOpt = None, lang: LangOpt = None) -> None:
    """List backups: id, binding, files and records; unfinished ones (begun by a run that died)
    are listed as such."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.backup import list_backups

        found = list_backups(workspace(config, None, backup_dir).backup_dir)
        if not found:
            out().print(t("backups.none", lang))
        for manifest in found:
            out().print(describe(manifest))
        return 0

    guard(lang, body)


@backups_app.command("verify")
def backups_verify(
    backup_id: Annotated[str | None, typer.Argument(help="One backup id; all when left out.")] = None,
    config: ConfigOpt = None,
    backup_dir: BackupOpt = None,
    lang: LangOpt = None,
) -> None:
    """Re-check every file of a backup against its manifest (sha256, size, records). Needs no key,
    encrypted or not. An unfinished backup is reported and does not fail; a damaged one exits 1."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.backup import list_backups, verify

        root = workspace(config, None, backup_dir).backup_dir
        ids = [backup_id] if backup_id else [m.backup_id for m in list_backups(root)]
        bad = 0
        console = out()
        for one in ids:
            checked = verify(root, one)
            if checked.problems:
                bad += 1
                console.print(t("backups.verify.failed", lang, backup=one))
                for problem in checked.problems:
                    console.print(f"  - {problem}")
            elif checked.note:
                console.print(t("backups.verify.unfinished", lang, backup=one, note=checked.note))
            else:
                console.print(t("backups.verify.ok", lang, backup=one))
        return 1 if bad else 0

    guard(lang, body)


@backups_app.command("prune")
def backups_prune(
    older_than: Annotated[
        str | None, typer.Option("--older-than", metavar="DURATION", help="Remove backups older than this (90d, 12h).")
    ] = None,
    unfinished: Annotated[
        bool, typer.Option("--unfinished", help="Remove unfinished backups whose run was settled by a later apply.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask; required when there is no terminal.")] = False,
    config: ConfigOpt = None,
    backup_dir: BackupOpt = None,
    lang: LangOpt = None,
) -> None:
    """Remove old or unfinished backups. Backups may hold personal data (orders carry names and
    addresses): keep them as long as you may need to restore a cancelled binding, and no longer.
    Damaged backups are never removed here. Without --yes it asks, and refuses without a terminal."""
    from datetime import timedelta

    lang = detect_lang(lang)
    age = timedelta(seconds=parse_duration(older_than, default_unit="d")) if older_than else None
    if age is None and not unfinished:
        raise typer.BadParameter("say what to prune: --older-than 90d, or --unfinished (or both)")

    def body() -> int:
        from engine.backup import prune

        ws = workspace(config, None, backup_dir)
        console = out()
        if not dry_run and not yes and not common.interactive():
            fail(t("prune.no_tty", lang), lang)
        with store_for(ws).lock("backups prune"):  # no apply writes a backup meanwhile
            chosen = prune(ws.backup_dir, older_than=age, unfinished=unfinished, dry_run=True)
            if not chosen:
                console.print(t("prune.none", lang))
                return 0
            for item in chosen:
                verb = t("prune.would" if dry_run else "prune.will", lang)
                console.print(f"{verb}  {item.backup_id}  {item.address or '?'}  ({item.reason})")
            if dry_run:
                return 0
            if not yes:
                answer = typer.prompt(t("prune.confirm", lang, count=len(chosen)), default="", show_default=False)
                if answer.strip() != "yes":
                    console.print(t("prune.kept", lang))
                    return 1
            done = prune(ws.backup_dir, older_than=age, unfinished=unfinished)
        console.print(t("prune.done", lang, count=len(done), path=ws.backup_dir))
        return 0

    guard(lang, body)


@backups_app.command("cat")
def backups_cat(
    backup_id: Annotated[str, typer.Argument(help="The backup id (see `tether backups list`).")],
    name: Annotated[str, typer.Argument(help="The file: binding.json, orders.jsonl, ... (.age may be left out).")],
    identity: Annotated[
        str | None,
        typer.Option(
            "--identity",
            metavar="REF",
            help='The age identity of an encrypted backup, by reference: "${file:PATH}" or "${env:NAME}".',
        ),
    ] = None,
    config: ConfigOpt = None,
    backup_dir: BackupOpt = None,
    lang: LangOpt = None,
) -> None:
    """Write one file of a backup to stdout, verified first and decrypted with --identity when the
    backup is encrypted (`age -d -i KEY` opens the files too)."""
    lang = detect_lang(lang)

    def body() -> int:
        from engine.backup import copy_backup_file, read_backup_file
        from engine.config.secrets import resolve_reference

        ws = workspace(config, None, backup_dir)
        key = resolve_reference(identity, "--identity", Path.cwd()) if identity else None
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stream (a test's capture)
            common.write_bytes(read_backup_file(ws.backup_dir, backup_id, name, key))
        else:  # chunk by chunk: a backup of a large shop's orders is never held whole
            copy_backup_file(ws.backup_dir, backup_id, name, buffer, key)
            buffer.flush()
        return 0

    guard(lang, body)
