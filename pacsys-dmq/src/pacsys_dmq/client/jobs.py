"""One-shot read and subscription jobs of the DMQ client (docs/protocols/dmq.md §7, §8).

A job is created on the caller's thread (with its signed INIT) and then lives on the
AMQP I/O thread: ``start`` sets up its channel, deliveries and ``tick`` drive it, and
``finish`` tears it down. The caller only waits on the job's events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from pacsys.errors import DeviceError
from pacsys.types import Reading
from pacsys_dmq.client.channel import Delivery, InitMessage, JobChannel, JobTiming
from pacsys_dmq.client.resolve import DataReply, JobFailure, resolve_reply

__all__ = ["Job", "JobRegistry", "ReadJob", "StreamJob"]

log = logging.getLogger("pacsys_dmq.client")


class Job(Protocol):
    """What the I/O thread drives: periodic ticks and the news of a lost connection."""

    def tick(self, now: float) -> None: ...

    def connection_lost(self, exc: BaseException) -> None: ...


class JobRegistry(Protocol):
    """Where live jobs are tracked (I/O thread only)."""

    def register(self, job: Job) -> None: ...

    def unregister(self, job: Job) -> None: ...


class ReadJob:
    """A one-shot read: fill one reading per requested index, then DROP."""

    def __init__(
        self,
        drfs: list[str],
        prepared: list[str],
        init: InitMessage,
        timing: JobTiming,
        registry: JobRegistry,
    ) -> None:
        self.drfs = drfs
        self.prepared = prepared
        self.mailbox = JobChannel(init, timing)
        self._registry = registry
        self._lock = threading.Lock()
        self._readings: list[Reading | None] = [None] * len(drfs)
        self._missing = len(drfs)
        self.failure: JobFailure | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.closed = threading.Event()

    # --- I/O thread -------------------------------------------------------------------------

    def start(self, connection: Any) -> None:
        self._registry.register(self)
        try:
            self.mailbox.open(connection, self._on_delivery, self._on_channel_error)
        except Exception as exc:
            self._fail(exc)

    def _on_channel_error(self, exc: BaseException) -> None:
        if self.mailbox.published:
            exc = ConnectionError("Channel closed by the broker")
        self._fail(exc, drop=False)

    def _on_delivery(self, delivery: Delivery) -> None:
        if self.done.is_set():
            return
        outcome = resolve_reply(delivery, self.prepared, self.mailbox.init.message_id)
        if isinstance(outcome, DataReply):
            self._store(outcome)
            if self._missing == 0:
                self.finish()
        elif isinstance(outcome, JobFailure):
            self.failure = outcome
            self.finish()

    def _store(self, outcome: DataReply) -> None:
        target = self.prepared[outcome.index]
        with self._lock:
            for i, drf in enumerate(self.prepared):
                if drf == target and self._readings[i] is None:
                    self._readings[i] = outcome.reading(self.drfs[i])
                    self._missing -= 1

    def tick(self, now: float) -> None:
        if self.mailbox.broken:
            self._fail(ConnectionError("Channel closed by the broker"))
        elif self.mailbox.heartbeat_due(now):
            self.mailbox.send_heartbeat()

    def connection_lost(self, exc: BaseException) -> None:
        self._fail(ConnectionError(f"Connection closed: {exc}"), drop=False)

    def _fail(self, exc: BaseException, *, drop: bool = True) -> None:
        if self.error is None:
            self.error = exc
        self.finish(drop=drop)

    def finish(self, *, drop: bool = True) -> None:
        """Complete the job (idempotent): DROP, cancel, close."""
        if self.closed.is_set():
            return
        self.done.set()
        self.mailbox.close(drop=drop)
        self._registry.unregister(self)
        self.closed.set()

    # --- caller thread ----------------------------------------------------------------------

    def readings(self, fill: Callable[[str], Reading]) -> list[Reading]:
        """The readings, with ``fill(drf)`` for each index that has none."""
        with self._lock:
            current = list(self._readings)
        pairs = zip(self.drfs, current, strict=True)
        return [r if r is not None else fill(drf) for drf, r in pairs]

    @property
    def complete(self) -> bool:
        with self._lock:
            return self._missing == 0


class StreamJob:
    """A subscription: every resolved reply goes to each index with the same DRF."""

    def __init__(
        self,
        drfs: list[str],
        init: InitMessage,
        timing: JobTiming,
        registry: JobRegistry,
        handle: Any,
    ) -> None:
        self.drfs = drfs
        self.mailbox = JobChannel(init, timing)
        self._registry = registry
        self.handle = handle
        self.setup_done = threading.Event()
        self.setup_error: BaseException | None = None
        self.closed = False

    def start(self, connection: Any) -> None:
        if self.handle.stopped:
            self.closed = True
            self.setup_done.set()
            return
        self._registry.register(self)
        try:
            self.mailbox.open(
                connection, self._on_delivery, self._on_channel_error, self.setup_done.set
            )
        except Exception as exc:
            self._setup_failed_on_broker(exc)

    def _setup_failed_on_broker(self, exc: BaseException) -> None:
        self.setup_error = exc
        self.finish(drop=False)
        self.setup_done.set()

    def _on_channel_error(self, exc: BaseException) -> None:
        if not self.setup_done.is_set():
            self._setup_failed_on_broker(exc)
        elif not self.closed:
            self.handle.fail(ConnectionError("Channel closed by the broker"))
            self.finish(drop=False)

    def setup_failed(self, exc: BaseException) -> None:
        """The start task will never run (connection gone)."""
        self.setup_error = exc
        self.setup_done.set()

    def _on_delivery(self, delivery: Delivery) -> None:
        if self.closed:
            return
        outcome = resolve_reply(delivery, self.drfs, self.mailbox.init.message_id)
        if isinstance(outcome, DataReply):
            target = self.drfs[outcome.index]
            reading = outcome.reading(target)
            for drf in self.drfs:
                if drf == target:
                    self.handle.deliver(reading)
        elif isinstance(outcome, JobFailure):
            e = outcome.error
            self.handle.fail(
                DeviceError(", ".join(self.drfs), e.facility_code, e.error_number, e.message)
            )
            self.finish()

    def tick(self, now: float) -> None:
        if self.closed:
            return
        if self.mailbox.broken:
            self.handle.fail(ConnectionError("Channel closed by the broker"))
            self.finish(drop=False)
            return
        if not self.mailbox.heartbeat_due(now):
            return
        self.mailbox.send_heartbeat()
        limit = self.mailbox.timing.server_timeout
        if self.mailbox.server_silent_for(now) > limit:
            self.handle.fail(
                ConnectionError(f"DMQ server heartbeat lost for {limit:g}s (server job disposed)")
            )
            self.finish()

    def connection_lost(self, exc: BaseException) -> None:
        self.handle.fail(ConnectionError(f"Connection closed: {exc}"))
        self.finish(drop=False)

    def finish(self, *, drop: bool = True) -> None:
        """DROP, cancel and close (idempotent); the handle is marked stopped."""
        if self.closed:
            return
        self.closed = True
        self.mailbox.close(drop=drop)
        self._registry.unregister(self)
        self.handle.mark_stopped()
