"""Half of a batch of CPU-bound work in a forked child, so a large configuration is read on two
cores instead of one.

Reading tether.d of an agency with hundreds of shops is YAML parsing, pure Python CPU: about
2 s for 35,000 integrations in nine files. The files are independent, so a forked child parses
about half of them (by size) while the process parses the rest, and hands its results back
pickled through a pipe. A fork shares the parent's imported modules for free, so the child
starts in milliseconds; pickling the parsed files back costs a tenth of parsing them.

It forks only where that is safe and worth it: on Linux, with no other thread running (a child
forked from a threaded process may inherit a lock held by a thread that does not exist in it),
and with at least ``min_weight`` of work. Otherwise, and whenever the child fails for any
reason, the work is done here, in order: the result is always ``[function(x) for x in items]``.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def halves(weights: Sequence[int]) -> tuple[list[int], list[int]]:
    """Indexes split in two parts of about equal weight (heaviest first, each to the lighter
    part), each part in its original order."""
    parts: tuple[list[int], list[int]] = ([], [])
    loads = [0, 0]
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        lighter = 0 if loads[0] <= loads[1] else 1
        parts[lighter].append(index)
        loads[lighter] += weights[index]
    return sorted(parts[0]), sorted(parts[1])


def split_map(
    function: Callable[[T], R], items: Sequence[T], weights: Sequence[int], *, min_weight: int
) -> list[R]:
    """``[function(item) for item in items]``, about half of it computed in a forked child when
    the total weight reaches ``min_weight`` and ``can_fork()``. ``function`` must be
    deterministic and its results picklable; an exception it raises here propagates as usual."""
    if len(items) < 2 or sum(weights) < min_weight or not can_fork():
        return [function(item) for item in items]
    mine, theirs = halves(weights)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its share, pickled into the pipe, and nothing else of the parent's
        status = 1
        try:
            os.close(read_end)
            payload = pickle.dumps([function(items[i]) for i in theirs], protocol=pickle.HIGHEST_PROTOCOL)
            with open(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)  # no atexit hooks, no second flush of the parent's buffers
    os.close(write_end)
    results: dict[int, R] = {}
    reader = open(read_end, "rb")
    try:
        for index in mine:
            results[index] = function(items[index])
        payload = reader.read()
    except BaseException:  # an error or Ctrl-C here: the child's work is of no use any more
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        reader.close()
    _, status = os.waitpid(pid, 0)
    shared: list[R] | None = None
    if status == 0:
        try:
            shared = pickle.loads(payload)
        except Exception:
            shared = None
    if shared is None or len(shared) != len(theirs):  # the child failed: its share is done here
        shared = [function(items[i]) for i in theirs]
    results.update(zip(theirs, shared))
    return [results[index] for index in range(len(items))]
