"""One exception hierarchy; every error a user can meet carries a message written for them.

``TetherError`` is the root. The CLI turns any of them into one clear message and exit 1; anything
else is a bug and is reported as such (exit 3), with the traceback in the log only.

    TetherError
    ├── ConfigError          bad tether.yaml: a list of Diagnostics (file, line, what to do)
    ├── StateError           corrupt or unreadable state file
    │   └── LockError        another run holds the lock (names the holder)
    ├── PlanFileError        corrupt saved plan
    │   └── StalePlanError   the plan no longer matches the world; nothing was changed
    ├── ProviderError        a provider API refused or failed (carries status, request id)
    │   ├── AuthError        the credential was refused (401) or lacks a right (403)
    │   └── RateLimitError   retries exhausted against a rate limit
    ├── BackupError          a backup could not be written or did not verify
    └── GuardError           a safety guard refused the plan (mass cancel, empty listing)
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


class StateError(TetherError):
    pass


class LockError(StateError):
    pass


class PlanFileError(TetherError):
    pass


class StalePlanError(PlanFileError):
    pass


class ProviderError(TetherError):
    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None):
        self.status = status
        self.request_id = request_id
        super().__init__(message)


class AuthError(ProviderError):
    pass


class RateLimitError(ProviderError):
    pass


class BackupError(TetherError):
    pass


class GuardError(TetherError):
    pass
