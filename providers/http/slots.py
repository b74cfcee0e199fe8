"""The run's global request slots, served by priority."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class PrioritySlots:
    """A semaphore that serves waiters by priority (lowest first), then in arrival order.

    The run's global slots use it with the account's position as priority: the accounts that
    started first get their next page before later accounts get their first request, so
    pagination chains are never starved by a flood of new first pages, and accounts finish one
    after another (progress moves steadily) instead of all at the end. It is work-conserving:
    a free slot is never left idle while anyone waits.
    """

    def __init__(self, size: int) -> None:
        self.free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, priority: int = 0) -> None:
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            raise  # a cancelled waiter stays in the heap; release() skips it

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # handed over directly: ``free`` does not change
                return
        self.free += 1
