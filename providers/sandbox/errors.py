"""The sandbox's own error: a setting or request the user got wrong."""

from __future__ import annotations

from providers.sdk.errors import TetherError


class SandboxError(TetherError):
    """A sandbox setting or request the user got wrong (bad fault rule, refused bind address)."""
