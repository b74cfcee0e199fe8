"""Which files ``${file:PATH}`` may read (SPEC section 3, invariant 7).

A tether.yaml changed in a pull request must not be able to read any file the runner can read and
send it to a vendor as a credential. So ``${file:...}`` reads only files inside the repository of
tether.yaml (the directory holding it, and the git work tree around it), or under a directory
listed outside tether.yaml in ``TETHER_SECRET_DIRS`` (``os.pathsep``-separated, as ``PATH`` is).
Paths are compared after resolving symlinks, so a link inside the repository that points out of
it is refused like the file it points to. The check is made while credentials are resolved,
before any provider is built, so a refused file never leads to a request; loading tether.yaml
(`tether validate` included) checks each reference already, offline, with its file and line.
Reading checks once more on the file actually opened (``opened_path``), so swapping the file
for a link between the check and the read gains nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SECRET_DIRS_ENV", "allowed_secret_roots", "opened_path", "secret_file_refusal"]

SECRET_DIRS_ENV = "TETHER_SECRET_DIRS"


def _git_root(start: Path) -> Path | None:
    """The work tree holding ``start`` (a ``.git`` directory or file beside one of its parents)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def allowed_secret_roots(base_dir: Path, environ: Mapping[str, str]) -> tuple[Path, ...]:
    """Where ``${file:}`` may read, every root with its symlinks resolved."""
    here = Path(base_dir).resolve()
    roots = [here]
    repo = _git_root(here)
    if repo is not None and repo != here:
        roots.append(repo)
    for entry in environ.get(SECRET_DIRS_ENV, "").split(os.pathsep):
        if entry.strip():
            roots.append(Path(entry.strip()).expanduser().resolve())
    return tuple(roots)


def secret_file_refusal(path: Path, base_dir: Path, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """A message and hint when ``path`` (absolute, or relative to ``base_dir``) resolves outside
    every allowed root; None when it may be read."""
    target = Path(path).expanduser()
    if not target.is_absolute():
        target = Path(base_dir) / target
    real = target.resolve()
    roots = allowed_secret_roots(base_dir, environ)
    if any(real == root or real.is_relative_to(root) for root in roots):
        return None
    via = f" (through a symlink, it is {real})" if real != target.absolute() else ""
    return (
        f"{target} is outside the repository of tether.yaml{via}; a credential file must be inside "
        "it, so that tether.yaml cannot be made to read other files",
        f"move the file into the repository (and out of git with .gitignore), or list its directory in "
        f"{SECRET_DIRS_ENV} in the environment of the run",
    )


def opened_path(fd: int, path: Path) -> Path | None:
    """Where the file open as ``fd`` really is: what the kernel says (``/proc/self/fd``), or, where
    it cannot say, ``path`` resolved when that is still the same file. None when it is not: the
    file was replaced after it was opened, and where it is now cannot be told."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
    try:
        real = Path(path).resolve()
        here, there = os.fstat(fd), os.stat(real)
    except OSError:
        return None
    return real if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino) else None
