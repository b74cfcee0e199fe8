"""Credentials are references (``${env:NAME}``, ``${file:PATH}``) and stay references in the
``Config``; ``resolve_credentials`` reads them only when a command is about to talk to a provider,
so ``tether validate`` works on a machine that holds no secrets. No message ever quotes a value
found where a credential belongs.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.config.sources import CONFIG_FILE
from engine.errors import ConfigError, Diagnostic
from engine.model import Account, SecretRef
from engine.secret_files import opened_path, secret_file_refusal

__all__ = ["MAX_SECRET_FILE_BYTES", "parse_secret_ref", "resolve_credentials", "resolve_reference"]

MAX_SECRET_FILE_BYTES = 64 * 1024

_SECRET_REF = re.compile(r"\$\{(env|file):([^}\n]+)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_secret_ref(value: Any) -> SecretRef | None:
    """``SecretRef`` for exactly ``${env:NAME}`` or ``${file:PATH}``; None for anything else."""
    if not isinstance(value, str):
        return None
    found = _SECRET_REF.fullmatch(value)
    if not found:
        return None
    scheme, target = found.group(1), found.group(2)
    if scheme == "env" and not _ENV_NAME.fullmatch(target):
        return None
    return SecretRef(scheme, target)


class _Unresolved(Exception):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def _resolve(ref: SecretRef, base_dir: Path, environ: Mapping[str, str], *, confined: bool = True) -> str:
    """``confined``: a reference from tether.yaml reads files only where ``engine.secret_files``
    allows; one given on the command line is trusted as the person running tether is."""
    if ref.scheme == "env":
        if ref.target not in environ:
            raise _Unresolved(f"{ref} is not set", f"export {ref.target} before running tether (in CI, from its secret store)")
        if not environ[ref.target]:
            raise _Unresolved(f"{ref} is set but empty", f"give {ref.target} the credential's value")
        return environ[ref.target]
    target = Path(ref.target).expanduser()
    path = target if target.is_absolute() else base_dir / target
    refusal = secret_file_refusal(path, base_dir, environ) if confined else None  # before anything is read
    if refusal:
        raise _Unresolved(f"{ref}: {refusal[0]}", refusal[1])
    hint = f"create the file or fix the path; relative paths start at {base_dir}"
    try:
        raw = _read(ref, path, base_dir, environ, confined, hint)
    except FileNotFoundError:
        raise _Unresolved(f"{ref}: file {path} not found", hint) from None
    except OSError as exc:
        raise _Unresolved(f"{ref}: {path} cannot be read ({exc.strerror or type(exc).__name__})", hint) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unresolved(f"{ref}: {path} is not UTF-8 text", "store the credential as text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise _Unresolved(f"{ref}: {path} is empty", "write the credential into the file")
    return text


def _read(ref: SecretRef, path: Path, base_dir: Path, environ: Mapping[str, str], confined: bool, hint: str) -> bytes:
    """The file's bytes, checked on the file actually opened: a regular file (a FIFO would block,
    a device never ends), at most 64 KiB, and, when ``confined``, still where it may be read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if confined:
            opened = opened_path(fd, path)
            refusal = secret_file_refusal(opened, base_dir, environ) if opened is not None else (
                f"{path} was replaced while it was being read", "run tether again"
            )
            if refusal:
                raise _Unresolved(f"{ref}: {refusal[0]}", refusal[1])
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Unresolved(f"{ref}: {path} is not a regular file", hint)
        if info.st_size > MAX_SECRET_FILE_BYTES:
            raise _Unresolved(f"{ref}: {path} is larger than 64 KiB", "a credential file holds one credential")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_SECRET_FILE_BYTES:
            chunk = os.read(fd, MAX_SECRET_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_SECRET_FILE_BYTES:  # it grew after fstat
            raise _Unresolved(f"{ref}: {path} is larger than 64 KiB", "a credential file holds one credential")
        return b"".join(chunks)
    finally:
        os.close(fd)


def resolve_credentials(
    account: Account, base_dir: str | Path, *, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The account's credentials as values, read now from the environment or from files.

    ``${file:...}`` paths are taken from ``base_dir`` (``Config.base_dir``) unless absolute; one
    trailing newline is dropped. Every reference that cannot be read is reported together, by
    reference and never by value.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    values: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for key, ref in account.credentials.items():
        where = f"accounts.{account.name}.credentials.{key}"
        parsed = ref if isinstance(ref, SecretRef) else parse_secret_ref(ref)
        if parsed is None:
            problems.append(
                Diagnostic(CONFIG_FILE, None, f"{where} is not a credential reference", 'use "${env:NAME}" or "${file:PATH}"')
            )
            continue
        try:
            values[key] = _resolve(parsed, Path(base_dir), env)
        except _Unresolved as exc:
            problems.append(Diagnostic(CONFIG_FILE, None, f"{where}: {exc}", exc.hint))
    if problems:
        raise ConfigError(problems)
    return values



def resolve_reference(
    text: str, what: str, base_dir: str | Path, *, environ: Mapping[str, str] | None = None
) -> str:
    """The value of one reference given on the command line (``--identity "${file:key.txt}"``),
    which is not part of tether.yaml: ``what`` names it in messages. The value is never quoted."""
    ref = parse_secret_ref(text)
    if ref is None:
        raise ConfigError(
            Diagnostic("command line", None, f"{what} must be a reference", 'use "${env:NAME}" or "${file:PATH}"')
        )
    try:
        return _resolve(ref, Path(base_dir), os.environ if environ is None else environ, confined=False)
    except _Unresolved as exc:
        raise ConfigError(Diagnostic("command line", None, f"{what}: {exc}", exc.hint)) from None
