"""Deadlines: one ``time.monotonic()`` instant that bounds a whole operation.

Every transport takes one ``timeout`` per call and must spend it across connecting, sending
and waiting (docs/protocols/semantics.md).  :class:`Deadline` is that instant, made once at
the top of the call; each step asks it what is left.  It is a ``float`` (the monotonic end
time), so lower layers that take a plain monotonic deadline accept it unchanged.
"""

from __future__ import annotations

import math
import time
from typing import Any

__all__ = ["Deadline", "checked_timeout"]


def checked_timeout(timeout: Any, default: float, name: str = "timeout") -> float:
    """``default`` when ``timeout`` is None, else ``timeout`` checked as a positive number.

    The one place a per-call timeout is resolved against the backend's own.
    """
    from pacsys.backends import check_positive

    return default if timeout is None else check_positive(timeout, name)


class Deadline(float):
    """The monotonic instant by which an operation must be done (``inf``: no deadline)."""

    __slots__ = ()

    @classmethod
    def after(cls, timeout: float | None) -> Deadline:
        """The instant ``timeout`` seconds from now; no deadline when ``timeout`` is None."""
        if timeout is None:
            return cls(math.inf)
        return cls(time.monotonic() + timeout)

    @property
    def bounded(self) -> bool:
        """False for the "no deadline" instance."""
        return self != math.inf

    @property
    def expired(self) -> bool:
        """True once the instant has passed."""
        return time.monotonic() >= self

    def remaining(self, floor: float = 0.0) -> float:
        """Seconds left, never below ``floor`` (``inf`` without a deadline)."""
        return max(float(self) - time.monotonic(), floor)

    def wait_time(self, floor: float = 0.0) -> float | None:
        """Seconds left as a ``wait()``/``acquire()`` timeout: None when unbounded."""
        return self.remaining(floor) if self.bounded else None

    def check(self, what: str = "operation") -> float:
        """Seconds left; TimeoutError naming ``what`` when none are."""
        left = float(self) - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{what} timed out")
        return left

    def __repr__(self) -> str:
        if not self.bounded:
            return "Deadline(never)"
        return f"Deadline(in {float(self) - time.monotonic():.3f} s)"
