"""The errors the state layer raises. ``states`` imports nothing of the engine or the providers,
so its errors have their own root; the engine treats ``StateError`` as a user error like any
``TetherError`` (``engine.errors.USER_ERRORS``): one clear message, exit 1.

    StateError           corrupt or unreadable state file
    └── LockError        another run holds the lock (names the holder)
"""

from __future__ import annotations


class StateError(Exception):
    """The state file or its lock cannot be used; ``str(err)`` is the user-facing message."""

    exit_code = 1


class LockError(StateError):
    pass
