"""The cyclic garbage collector is off while a command runs.

A plan builds a great many small objects that live until the command ends: the configuration,
every live binding the providers listed, the planned actions. The cyclic collector walks the
objects it tracks again and again as they age (at CPython's default thresholds, the young ones
every 700 allocations and the whole heap each time it grows by a quarter), and none of this data
can ever be cyclic garbage; at 165,000 bindings that walking was several CPU seconds, a quarter of
the command. Reference counting still frees everything that is not in a cycle, at once.

What makes this safe is that a command's work leaves no cycles behind per request or per binding
(providers.http breaks the one httpx leaves per response; tests/providers/test_http.py holds that
with the collector off). What cycles there are come per connection and per command, a few
hundred objects. ``tether sandbox serve``, which runs until stopped, keeps the collector on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def batch() -> Iterator[None]:
    """The collector off for the block, then as it was (commands also run inside tests).

    When the process ends with the command (``exit_follows``) it stays off: turned back on, its
    first collection would walk every object the command made, all still young to it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled and _kept is None:
            gc.enable()


_kept: list[Any] | None = None  # None: objects are freed as usual (tests, tether used as a library)


def exit_follows() -> None:
    """Say that the process ends when its command does (engine.cli.main, which leaves with
    ``os._exit``): from now on ``kept`` holds what it is given until then."""
    global _kept
    if _kept is None:
        _kept = []


def kept(value: T) -> T:
    """``value``, left to the process's exit instead of being freed object by object when the
    command's body returns (the configuration and the plan: at 165,000 bindings that freeing
    took 0.1-0.2 s of a command that was over). Without ``exit_follows`` it only returns it."""
    if _kept is not None:
        _kept.append(value)
    return value
