"""One exception hierarchy; every error a user can meet carries a message written for them.

``TetherError`` is the root, defined with the errors a provider raises in the provider SDK
(``providers.sdk.errors``); the engine adds its own branches here. The state layer imports nothing
above it, so its ``StateError`` has its own root; ``USER_ERRORS`` joins the two. The CLI turns any
of them into one clear message and exit 1; anything else is a bug and is reported as such (exit 3),
with the traceback in the log only.

    TetherError
    ├── ConfigError          bad tether.yaml: a list of Diagnostics (file, line, what to do)
    ├── PlanFileError        corrupt saved plan
    │   └── StalePlanError   the plan no longer matches the world; nothing was changed
    ├── ProviderError        a provider API refused or failed (carries status, request id)
    │   ├── AuthError        the credential was refused (401) or lacks a right (403)
    │   └── RateLimitError   retries exhausted against a rate limit
    ├── BackupError          a backup could not be written or did not verify
    └── GuardError           a safety guard refused the plan (mass cancel, empty listing)
    StateError               corrupt or unreadable state file (states.errors)
    └── LockError            another run holds the lock (names the holder)
"""

from __future__ import annotations

from providers.sdk.errors import (
    AuthError,
    ConfigError,
    Diagnostic,
    ProviderError,
    RateLimitError,
    TetherError,
)
from states.errors import LockError, StateError

__all__ = [
    "USER_ERRORS",
    "AuthError",
    "BackupError",
    "ConfigError",
    "Diagnostic",
    "GuardError",
    "LockError",
    "PlanFileError",
    "ProviderError",
    "RateLimitError",
    "StalePlanError",
    "StateError",
    "TetherError",
]


class PlanFileError(TetherError):
    pass


class StalePlanError(PlanFileError):
    pass


class BackupError(TetherError):
    pass


class GuardError(TetherError):
    pass


USER_ERRORS: tuple[type[Exception], ...] = (TetherError, StateError)
