"""The root of tether's errors, and the ones a provider raises.

Every ``TetherError`` carries a message written for the user; the CLI prints it once and exits 1.
The engine adds its own branches (``engine.errors``); the state layer has its own small root
(``states.errors``) because it imports nothing above it.

    TetherError
    ├── ConfigError          bad tether.yaml: a list of Diagnostics (file, line, what to do)
    └── ProviderError        a provider API refused or failed (carries status, request id)
        ├── AuthError        the credential was refused (401) or lacks a right (403)
        ├── RateLimitError   retries exhausted against a rate limit
        └── ResponseLostError a change was sent but its answer was lost: apply settles it by
                             reading the binding back, never by sending the change again
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a user's file: where it is, what is wrong, and what to do about it."""

    file: str
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class TetherError(Exception):
    """Base of every error tether reports to a user. ``str(err)`` is the user-facing message."""

    exit_code = 1


class ConfigError(TetherError):
    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(file="tether.yaml", line=None, message=diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ProviderError(TetherError):
    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None):
        self.status = status
        self.request_id = request_id
        super().__init__(message)


class AuthError(ProviderError):
    pass


class RateLimitError(ProviderError):
    pass


class ResponseLostError(ProviderError):
    """A mutating request may have reached the vendor, but its answer never came back (a timeout
    or a dropped connection after the request was sent). Only reading the binding back can tell
    whether it happened; apply does that (``Provider.fetch``), once, for every provider."""
