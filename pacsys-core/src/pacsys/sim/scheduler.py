"""One scheduler for every simulated event: a heap of due times and one Condition.

A job is a callable ``fn(due) -> next_due | None``; returning a time re-arms it. With the
real clock one named thread runs the jobs; with a :class:`~pacsys.sim.clock.ManualClock`
no thread is started and ``clock.advance()`` runs them, in due-time order, on its caller.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from pacsys.sim.clock import Clock, ManualClock

__all__ = ["Job", "Scheduler"]

log = logging.getLogger("pacsys.sim.scheduler")

JobFn = Callable[[float], "float | None"]


class Job:
    """A scheduled callable; ``cancel()`` keeps it from running again."""

    __slots__ = ("cancelled", "fn", "name")

    def __init__(self, fn: JobFn, name: str) -> None:
        self.fn = fn
        self.name = name
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __repr__(self) -> str:
        return f"<Job {self.name}{' cancelled' if self.cancelled else ''}>"


class Scheduler:
    """Runs jobs at their due times on one thread (or on ``ManualClock.advance``)."""

    def __init__(self, clock: Clock, thread_name: str = "pacsys-sim-scheduler") -> None:
        self._clock = clock
        self._thread_name = thread_name
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._manual = isinstance(clock, ManualClock)
        if isinstance(clock, ManualClock):
            clock.attach(self._run_until)

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def pending(self) -> int:
        """Jobs waiting in the heap (cancelled ones included until they surface)."""
        with self._cond:
            return len(self._heap)

    def schedule(self, due: float, fn: JobFn, name: str = "job") -> Job:
        """Run ``fn(due)`` at ``due``; it returns the next due time, or None when done."""
        job = Job(fn, name)
        with self._cond:
            if self._closed:
                raise RuntimeError("Scheduler is closed")
            self._push(due, job)
            if not self._manual and self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name=self._thread_name, daemon=True
                )
                self._thread.start()
        return job

    def _push(self, due: float, job: Job) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), job))
        if self._heap[0][2] is job:
            self._cond.notify()

    def _run(self, job: Job, due: float) -> None:
        try:
            next_due = job.fn(due)
        except Exception:
            log.exception("Simulator job %s failed; it will not run again", job.name)
            return
        if next_due is not None and not job.cancelled:
            with self._cond:
                if not self._closed:
                    self._push(next_due, job)

    def _run_until(self, target: float) -> None:
        """ManualClock driver: run every job due at or before ``target``, in order."""
        assert isinstance(self._clock, ManualClock)
        while True:
            with self._cond:
                if self._closed or not self._heap or self._heap[0][0] > target:
                    return
                due, _, job = heapq.heappop(self._heap)
            if job.cancelled:
                continue
            self._clock.set_time(due)
            self._run(job, due)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - self._clock.now()
                    if delay <= 0:
                        break
                    self._cond.wait(delay)
                if self._closed:
                    return
                due, _, job = heapq.heappop(self._heap)
            if not job.cancelled:
                self._run(job, due)

    def close(self, timeout: float = 2.0) -> None:
        """Stop running jobs; joins the thread (unless called from it). Idempotent."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
        if isinstance(self._clock, ManualClock):
            self._clock.detach(self._run_until)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
