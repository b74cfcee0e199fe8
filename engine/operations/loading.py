"""The configuration a command works on, and the checks every command makes on its options."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import structlog

from engine.config import default_paths, load_config
from engine.errors import ConfigError
from engine.model import Config
from engine.workspace import Workspace

__all__ = ["ALLOW_ENDPOINTS_ENV", "allowed_hosts", "check_names", "load_workspace_config"]

log = structlog.get_logger("tether.operations")

ALLOW_ENDPOINTS_ENV = "TETHER_ALLOW_ENDPOINTS"
"""Comma- or space-separated hosts allowed to receive a credential besides its vendor's own."""


def allowed_hosts(flags: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The endpoint hosts allowed outside tether.yaml: ``--allow-endpoint`` flags plus
    ``TETHER_ALLOW_ENDPOINTS``, lower-cased, without blanks. Never read from tether.yaml, so a
    change to that file alone cannot send a secret somewhere new (SPEC section 3)."""
    env = os.environ if environ is None else environ
    words = [*flags, *env.get(ALLOW_ENDPOINTS_ENV, "").replace(",", " ").split()]
    return frozenset(word.strip().lower() for word in words if word.strip())


def load_workspace_config(ws: Workspace, hosts: frozenset[str] = frozenset()) -> Config:
    """The workspace's configuration. ``--config x/tether.yaml`` brings ``x/tether.d/*.yaml``
    too; several ``--config`` files are read exactly as given."""
    paths: list[Path] | None = list(ws.config_paths) if ws.config_paths else None
    if paths and len(paths) == 1:
        paths = default_paths(paths[0])
    started, cpu = time.monotonic(), time.process_time()
    loaded = load_config(paths, cwd=ws.root, allowed_hosts=hosts)
    log.info(
        "config.loaded",
        files=len(loaded.files),
        accounts=len(loaded.accounts),
        integrations=len(loaded.integrations),
        seconds=round(time.monotonic() - started, 3),
        cpu_s=round(time.process_time() - cpu, 3),
    )
    return loaded


def check_names(config: Config, targets: Iterable[str] = (), excludes: Iterable[str] = ()) -> None:
    """``--target``/``--exclude`` must name integrations that exist."""
    unknown = [name for name in [*targets, *excludes] if name not in config.integrations]
    if unknown:
        raise ConfigError(
            f"--target/--exclude name no integration: {', '.join(unknown)} "
            f"(integrations: {', '.join(sorted(config.integrations)) or 'none'})"
        )
