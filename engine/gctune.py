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
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def batch() -> Iterator[None]:
    """The collector off for the block, then as it was (commands also run inside tests)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def for_batch() -> None:
    """Turn the collector off for the rest of the process (the CPU benchmark's plan)."""
    gc.disable()
