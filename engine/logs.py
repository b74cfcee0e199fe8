"""structlog to stderr: readable lines on a terminal, JSON in CI. stdout is for human output only.

Every event goes through a processor that masks known secrets, so even a careless log call in
a provider cannot leak a credential.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

LEVELS = ("debug", "info", "warning", "error")


def default_format() -> str:
    return "json" if os.environ.get("CI") and not sys.stderr.isatty() else "console"


def configure(level: str = "warning", fmt: str | None = None, redact: Callable[[str], str] | None = None) -> None:
    fmt = fmt or default_format()
    numeric = getattr(logging, level.upper(), logging.WARNING)
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s", force=True)
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))

    def mask(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if redact is None:
            return event
        return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}

    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # stderr as it is when a logger is made, not as it was here: a caller that swaps it (a
        # test runner capturing output) and closes it later leaves no logger writing to a closed file.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)
