"""FakeBackend's lost connections under a ReconnectPolicy (docs/protocols/semantics.md §6.4).

A subscription whose "connection" a test drops with an ``OSError`` (``ConnectionError``)
is told through ``on_error`` and resumes after the policy's backoff, on a timer thread, as
a real transport's stream thread would subscribe again; anything else ends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pacsys.backends.reconnect import Backoff, ReconnectPolicy, check_reconnect
from pacsys.backends.subscription import BufferedSubscriptionHandle

__all__ = ["LostStreams"]

Handle = BufferedSubscriptionHandle


class LostStreams:
    """Backoffs and pending resumptions of one FakeBackend's subscriptions."""

    def __init__(self, resume: Callable[[Handle], None], policy: ReconnectPolicy | None) -> None:
        self.policy = check_reconnect(policy)
        self._resume = resume
        self._lock = threading.Lock()
        self._backoffs: dict[Handle, Backoff] = {}
        self._since: dict[Handle, float] = {}
        self._timers: dict[Handle, threading.Timer] = {}

    def connected(self, handle: Handle) -> None:
        """``handle`` is (again) subscribed: its connection's life starts now."""
        with self._lock:
            self._since[handle] = time.monotonic()

    def lose(self, handle: Handle, exc: BaseException) -> bool:
        """Whether ``handle`` resumes after ``exc`` (on_error told); False: the caller fails it."""
        policy = self.policy
        if policy is None or not isinstance(exc, OSError):
            return False
        with self._lock:
            now = time.monotonic()
            backoff = self._backoffs.setdefault(handle, policy.backoff())
            delay = backoff.after_failure(now - self._since.get(handle, now))
            if delay is None:
                return False
            timer = threading.Timer(delay, self._fire, (handle,))
            timer.name = "pacsys-fake-resubscribe"
            timer.daemon = True
            self._timers[handle] = timer
        handle.report(exc)
        timer.start()
        return True

    def _fire(self, handle: Handle) -> None:
        with self._lock:
            if self._timers.pop(handle, None) is None:
                return  # forgotten meanwhile
        self._resume(handle)

    def forget(self, handle: Handle) -> None:
        """``handle`` ended: cancel its pending resumption."""
        with self._lock:
            timer = self._timers.pop(handle, None)
            self._backoffs.pop(handle, None)
            self._since.pop(handle, None)
        if timer is not None:
            timer.cancel()

    def pending(self) -> list[Handle]:
        """Subscriptions waiting to resume."""
        with self._lock:
            return list(self._timers)
