"""A running stream of a list: one backend subscription feeding the list's repeating entries.

Readings arrive on the backend's threads; the engine's :class:`~pacsys_dpm.protocol.ListStream`
turns each into reply frames (DeviceInfo first for each entry), which go out on the
connection. Until :meth:`StreamJob.release` (after the StartList reply) readings are held
back; after :meth:`StreamJob.stop` none is sent, which StopList relies on.

A client too slow for its stream never blocks the backend's thread: frames are *offered* to
the connection, and what it cannot take is dropped, counted, and announced to the client with
an ``ACNET_QUEFULL`` status for each entry before the next frames it does take (so are
readings the backend itself dropped for this subscription).  See docs/protocols/dpm.md §7.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Sequence

from pacsys.backends import Backend
from pacsys.types import Reading, SubscriptionHandle
from pacsys_dpm.protocol import Entry, ListStream
from pacsys_dpm.protocol.replies import Clock, exception_status

__all__ = ["StreamJob"]

log = logging.getLogger("pacsys_dpm.server.jobs")

Sender = Callable[[bytes], None]
Offer = Callable[[bytes], bool]


class _State(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"


class StreamJob:
    """Repeating-event entries of one StartList, served by one backend subscription."""

    def __init__(
        self,
        backend: Backend,
        entries: Sequence[Entry],
        send: Sender,
        clock: Clock,
        *,
        offer: Offer | None = None,
        on_loss: Callable[[int], None] | None = None,
    ) -> None:
        self._backend = backend
        self._send = send
        self._offer = offer if offer is not None else _always(send)
        self._on_loss = on_loss
        self._lost = 0  # readings dropped since the last loss notice
        self._backend_dropped = 0  # the backend handle's count when last looked at
        self._stream = ListStream(entries, clock)
        self._lock = threading.Lock()
        self._state = _State.PENDING
        self._pending: list[Reading] = []
        self._failure: BaseException | None = None
        self._handle: SubscriptionHandle | None = None

    def start(self) -> None:
        """Subscribe; raises whatever the backend raises."""
        self._handle = self._backend.subscribe(
            self._stream.drfs, callback=self._on_reading, on_error=self._on_error
        )

    def release(self) -> None:
        """Start sending (after the StartList reply), first what arrived meanwhile."""
        with self._lock:
            if self._state is not _State.PENDING:
                return
            self._state = _State.RUNNING
            pending, self._pending = self._pending, []
            failure, self._failure = self._failure, None
            for reading in pending:
                self._emit(reading)
            if failure is not None:
                self._emit_failure(failure)

    def stop(self) -> None:
        """Send nothing more and end the backend subscription; idempotent."""
        with self._lock:
            self._state = _State.STOPPED
            self._pending.clear()
            handle, self._handle = self._handle, None
        if handle is not None:
            try:
                handle.stop()
            except Exception:
                log.exception("stopping a backend subscription failed")

    # --- backend threads ---------------------------------------------------------------

    def _on_reading(self, reading: Reading, handle: SubscriptionHandle) -> None:
        with self._lock:
            if self._state is _State.PENDING:
                self._pending.append(reading)
            elif self._state is _State.RUNNING:
                self._emit(reading)

    def _on_error(self, exc: BaseException, handle: SubscriptionHandle) -> None:
        with self._lock:
            if self._state is _State.PENDING:
                self._failure = exc
            elif self._state is _State.RUNNING:
                self._emit_failure(exc)

    # --- under the lock ----------------------------------------------------------------

    def _emit(self, reading: Reading) -> None:
        data = self._stream.encode(reading)
        if not data:
            return
        handle = self._handle
        if handle is not None and handle.dropped > self._backend_dropped:
            self._lose(handle.dropped - self._backend_dropped)
            self._backend_dropped = handle.dropped
        if self._lost:
            if not self._offer_or_stop(self._stream.loss_notice()):
                self._lose(1)
                return
            self._lost = 0
        if not self._offer_or_stop(data):
            self._lose(1)

    def _lose(self, count: int) -> None:
        """``count`` readings will never reach the client: count them, tell it later."""
        self._lost += count
        if self._on_loss is not None:
            self._on_loss(count)

    def _offer_or_stop(self, data: bytes) -> bool:
        """Offer ``data``; True when queued (a dead connection stops the job, and is True)."""
        try:
            return self._offer(data)
        except OSError as exc:  # the connection is going away; its thread cleans up
            log.debug("stream send failed: %s", exc)
            self._state = _State.STOPPED
            return True

    def _emit_failure(self, exc: BaseException) -> None:
        log.warning("backend subscription failed: %s", exc)
        self._deliver(self._stream.failure(exception_status(exc)))
        self._state = _State.STOPPED

    def _deliver(self, data: bytes) -> None:
        try:
            self._send(data)
        except OSError as exc:  # the connection is going away; its thread cleans up
            log.debug("stream send failed: %s", exc)
            self._state = _State.STOPPED


def _always(send: Sender) -> Offer:
    """An offer that always queues (blocking ``send``): for drivers without flow control."""

    def offer(data: bytes) -> bool:
        send(data)
        return True

    return offer
