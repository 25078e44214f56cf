"""Hand results of backend work to the AMQP I/O thread, in order, with batched wake-ups.

Pool threads and backend callbacks :meth:`Outbox.post` closures; one drain task on the
loop runs every closure waiting. With no live loop (stopped, or between a lost broker
connection and the next) the closures are dropped: the jobs they belong to are gone.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from pacsys_dmq.loop import AmqpLoop

__all__ = ["Outbox", "run_on_pool"]

log = logging.getLogger("pacsys_dmq.server")

T = TypeVar("T")


class Outbox:
    """Closures for the loop that ``current_loop()`` returns (None: dropped)."""

    def __init__(self, current_loop: Callable[[], AmqpLoop | None]) -> None:
        self._current_loop = current_loop
        self._lock = threading.Lock()
        self._tasks: collections.deque[Callable[[], None]] = collections.deque()
        self._scheduled = False

    def post(self, task: Callable[[], None]) -> None:
        """Run ``task`` on the I/O thread soon (after every task posted before it)."""
        with self._lock:
            self._tasks.append(task)
            if self._scheduled:
                return
            self._scheduled = True
        loop = self._current_loop()
        if loop is None:
            self.clear()
            return
        loop.submit(self._drain, lambda _exc: self.clear())

    def clear(self) -> None:
        """Drop every waiting closure (the loop they were for is gone)."""
        with self._lock:
            self._tasks.clear()
            self._scheduled = False

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._tasks:
                    self._scheduled = False
                    return
                task = self._tasks.popleft()
            try:
                task()
            except Exception:
                log.exception("Error in DMQ server task (ignored)")


def run_on_pool(
    pool: concurrent.futures.ThreadPoolExecutor | None,
    work: Callable[[], T],
    then: Callable[[T], None],
) -> None:
    """``work()`` on ``pool``, then ``then(result)`` on the finishing thread (skipped if the
    pool is gone or the work was cancelled; an exception escaping ``work`` is logged)."""
    if pool is None:
        return

    def done(future: concurrent.futures.Future[T]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.error("DMQ server work failed: %r", error)
            return
        then(future.result())

    try:
        pool.submit(work).add_done_callback(done)
    except RuntimeError:  # pool shut down
        pass
