"""What every pacsys.exp helper shares: device resolution, numbers, optional imports, time.

Time: helpers measure durations, timeouts and settle times on a :class:`Timebase`. Against
a real backend it is the monotonic wall clock; against a simulator driven by a
:class:`~pacsys.sim.ManualClock` it is simulated time, and "waiting" advances that clock, so
a whole experiment script runs deterministically, at full speed, on one thread.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

from pacsys.backends import Backend
from pacsys.deadline import Deadline
from pacsys.device import Device

__all__ = [
    "Timebase",
    "backend_or_global",
    "require",
    "resolve",
    "resolve_all",
    "to_float",
]

#: Simulated seconds a ManualClock is advanced per step while a helper waits for data.
MANUAL_STEP = 0.01
#: Longest real wait between two checks of a condition.
RECHECK = 0.5


def resolve(device: object) -> str:
    """The DRF string a helper uses for ``device``: a str unchanged, a Device's canonical DRF."""
    if isinstance(device, str):
        return device
    if isinstance(device, Device):
        return device.drf
    raise TypeError(f"Expected str or Device, got {type(device).__name__}")


def resolve_all(devices: Iterable[object], *, unique: bool) -> list[str]:
    """``devices`` resolved in order; ``unique`` keeps the first of equal DRF strings."""
    if isinstance(devices, str | Device):
        raise TypeError("devices must be a list of str or Device, got a single device")
    drfs = [resolve(d) for d in devices]
    if not drfs:
        raise ValueError("devices cannot be empty")
    return list(dict.fromkeys(drfs)) if unique else drfs


def to_float(value: object) -> float:
    """A value as float for statistics: bools refused; str, ``__float__``, ``__index__`` taken."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise TypeError(f"Cannot compute stats on {type(value).__name__}")
    if isinstance(value, str) or hasattr(value, "__float__") or hasattr(value, "__index__"):
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    raise TypeError(f"Cannot compute stats on {type(value).__name__}")


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional library, or ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", maxsplit=1)[0]
        raise ImportError(
            f"{top} is required for {what}. Install with: pip install 'pacsys-core[{extra}]'"
        ) from exc


def backend_or_global(backend: Backend | None) -> Backend:
    if backend is not None:
        return backend
    from pacsys import _simple

    return _simple.get_global_backend()


class Timebase:
    """Monotonic time, sleeping and waiting: real, or on a backend's ManualClock."""

    def __init__(self, clock: Any = None) -> None:
        self._manual = clock

    @classmethod
    def of(cls, backend: Backend) -> Timebase:
        """The timebase of ``backend``: its ManualClock if it has one, else the wall clock."""
        clock = getattr(backend, "clock", None)
        if clock is not None and callable(getattr(clock, "advance", None)):
            from pacsys.sim.clock import ManualClock

            if isinstance(clock, ManualClock):
                return cls(clock)
        return cls()

    @property
    def manual(self) -> bool:
        return self._manual is not None

    def now(self) -> float:
        return self._manual.now() if self._manual is not None else time.monotonic()

    def utcnow(self) -> datetime:
        """Wall-clock time (simulated time on a ManualClock), timezone-aware UTC."""
        if self._manual is not None:
            return datetime.fromtimestamp(self._manual.now(), tz=timezone.utc)
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._manual is not None:
            self._manual.advance(seconds)
        else:
            time.sleep(seconds)

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float | None, cond: threading.Condition
    ) -> bool:
        """Wait until ``predicate()`` (checked under ``cond``) is true; False on timeout.

        Producers must ``notify_all`` on ``cond`` after changing what the predicate reads.
        With a ManualClock, simulated time advances in small steps until it holds.
        """
        if self._manual is None:
            deadline = Deadline.after(timeout)
            with cond:
                while not predicate():
                    if deadline.expired:
                        return False
                    # Re-check at least twice a second: not every change notifies.
                    cond.wait(min(RECHECK, deadline.remaining()))
                return True
        until = None if timeout is None else self.now() + timeout
        while True:
            with cond:
                if predicate():
                    return True
            remaining = None if until is None else until - self.now()
            if remaining is not None and remaining <= 0:
                return False
            self._manual.advance(MANUAL_STEP if remaining is None else min(MANUAL_STEP, remaining))
