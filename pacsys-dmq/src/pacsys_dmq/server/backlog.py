"""Stream readings a DMQ server could not keep: bounded waiting, counted losses.

A backend subscription hands readings to the server from its own thread; they wait for
the AMQP I/O thread, which publishes them into pika's write buffer, which the broker
drains. When either stage backs up (a flood of readings, a broker that stops reading from
us), readings are dropped instead of queued without bound, counted per job, and announced
to the client before the next reading it does get (``docs/protocols/dmq.md`` §16).
Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

__all__ = ["StreamBacklog"]


class StreamBacklog:
    """Per job: readings waiting for the I/O thread (at most ``max_waiting``) and losses."""

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._waiting: dict[Hashable, int] = {}
        self._lost: dict[Hashable, int] = {}
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Readings dropped so far, every job together."""
        with self._lock:
            return self._dropped

    def admit(self, job: Hashable) -> bool:
        """A reading for ``job`` may wait for the I/O thread (False: dropped and counted)."""
        with self._lock:
            waiting = self._waiting.get(job, 0)
            if waiting >= self.max_waiting:
                self._lost[job] = self._lost.get(job, 0) + 1
                self._dropped += 1
                return False
            self._waiting[job] = waiting + 1
            return True

    def taken(self, job: Hashable) -> None:
        """The I/O thread took one admitted reading of ``job``."""
        with self._lock:
            waiting = self._waiting.get(job, 0)
            if waiting > 1:
                self._waiting[job] = waiting - 1
            else:
                self._waiting.pop(job, None)

    def drop(self, job: Hashable, count: int = 1) -> None:
        """``count`` readings of ``job`` were lost (counted, announced later)."""
        if count <= 0:
            return
        with self._lock:
            self._lost[job] = self._lost.get(job, 0) + count
            self._dropped += count

    def take_lost(self, job: Hashable) -> int:
        """Losses of ``job`` not announced yet (and now considered announced)."""
        with self._lock:
            return self._lost.pop(job, 0)

    def reset(self) -> None:
        """The connection is gone and every job with it (the total stays)."""
        with self._lock:
            self._waiting.clear()
            self._lost.clear()

    def forget(self, job: Hashable) -> None:
        """``job`` ended: its counts go (the total stays)."""
        with self._lock:
            self._waiting.pop(job, None)
            self._lost.pop(job, None)
