"""Clocks for the simulator: the real one, and a manual one tests advance by hand.

Simulated time is wall-clock seconds since the Unix epoch (float), because readings carry
wall-clock timestamps. The scheduler waits on the real clock with a Condition; a
:class:`ManualClock` instead drives attached schedulers synchronously from ``advance()``,
so tests are deterministic and never sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of simulated time."""

    def now(self) -> float:
        """Current simulated time, seconds since the Unix epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when :meth:`advance` is called.

    Schedulers attached to it (``attach``) run every job that falls due, in time order, on
    the thread that calls ``advance``; during each job ``now()`` is that job's due time.
    """

    #: 2024-01-01T00:00:00Z, a round default start.
    DEFAULT_START = 1_704_067_200.0

    def __init__(self, start: float = DEFAULT_START) -> None:
        if isinstance(start, bool) or not isinstance(start, int | float):
            raise TypeError(f"start must be a number of seconds, got {type(start).__name__}")
        self._now = float(start)
        self._lock = threading.RLock()
        self._drivers: list[Callable[[float], None]] = []

    def now(self) -> float:
        return self._now

    def attach(self, driver: Callable[[float], None]) -> None:
        """Register ``driver(target)``: run due jobs up to ``target`` (a scheduler's)."""
        with self._lock:
            self._drivers.append(driver)

    def detach(self, driver: Callable[[float], None]) -> None:
        with self._lock:
            if driver in self._drivers:
                self._drivers.remove(driver)

    def set_time(self, when: float) -> None:
        """Used by drivers while running a job (inside :meth:`advance`)."""
        self._now = when

    def advance(self, seconds: float = 0.0) -> None:
        """Move time forward by ``seconds`` (0 runs what is already due) and fire due jobs."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"advance() needs a non-negative number of seconds, got {seconds!r}")
        with self._lock:
            start = self._now
            target = start + float(seconds)
            for driver in list(self._drivers):
                self._now = start
                driver(target)
            self._now = target

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"
