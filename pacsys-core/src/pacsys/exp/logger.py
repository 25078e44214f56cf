"""DataLogger: stream devices to a writer in batches, losing nothing without saying so.

Readings collect in memory and a named worker thread hands them to the writer every
``flush_interval`` seconds. A batch the writer refuses stays in memory, in order, and is
retried at the next interval; an I/O error (full disk, removed directory) is retried until
it clears, up to ``max_pending`` readings in memory, beyond which new readings are dropped
and counted. Errors reach the user: ``on_error`` is called, ``check()`` and ``flush()``
raise, and ``stop()`` raises a :class:`DataLoggerError` carrying any unwritten readings.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable, Sequence

from pacsys.backends import Backend
from pacsys.backends.dispatch import RateLimitedLogger
from pacsys.exp._common import backend_or_global, resolve_all
from pacsys.exp.writers import LogWriter
from pacsys.types import DeviceSpec, Reading, SubscriptionHandle

__all__ = ["DataLogger", "DataLoggerError"]

log = logging.getLogger("pacsys.exp.logger")

#: Attempts before a batch that fails with a non-I/O error (a writer bug) is dropped.
MAX_ATTEMPTS = 3

_running: weakref.WeakSet[DataLogger] = weakref.WeakSet()


class DataLoggerError(RuntimeError):
    """Logging failed; ``unwritten`` holds readings that could not be written."""

    def __init__(self, message: str, unwritten: Sequence[Reading] = ()) -> None:
        super().__init__(message)
        self.unwritten = list(unwritten)


class DataLogger:
    """Log ``devices`` to ``writer`` (a :class:`LogWriter`), flushing every ``flush_interval`` s."""

    def __init__(
        self,
        devices: Sequence[DeviceSpec],
        writer: LogWriter,
        *,
        flush_interval: float = 5.0,
        backend: Backend | None = None,
        max_pending: int = 1_000_000,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._drfs = resolve_all(devices, unique=False)
        if not flush_interval > 0:
            raise ValueError("flush_interval must be > 0")
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._writer = writer
        self._interval = float(flush_interval)
        self._backend = backend
        self._max_pending = max_pending
        self._on_error = on_error
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: list[Reading] = []
        self._handle: SubscriptionHandle | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._attempts = 0
        self._written = 0
        self._dropped = 0
        self._last_error: BaseException | None = None
        self._io_error: OSError | None = None
        self._stream_error: BaseException | None = None
        self._error_log = RateLimitedLogger(log, 30.0)

    # --- state ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        handle = self._handle
        return handle is not None and not handle.stopped and not self._stopping

    @property
    def last_error(self) -> BaseException | None:
        return self._last_error

    @property
    def dropped_count(self) -> int:
        return self._dropped

    @property
    def written_count(self) -> int:
        """Readings the writer has accepted since ``start()``."""
        return self._written

    @property
    def pending(self) -> int:
        """Readings waiting in memory for the next flush."""
        with self._lock:
            return len(self._pending)

    @property
    def failed(self) -> bool:
        return self._dropped > 0 or self._stream_error is not None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._closed:
            raise RuntimeError(
                "DataLogger has been stopped and writer is closed; create a new instance"
            )
        if self.running:
            raise RuntimeError("DataLogger is already running")
        self._stopping = False
        self._attempts = self._written = self._dropped = 0
        self._last_error = self._io_error = self._stream_error = None
        self._wake.clear()
        backend = backend_or_global(self._backend)
        self._handle = backend.subscribe(list(self._drfs), self._on_reading, self._on_stream_error)
        try:
            self._thread = threading.Thread(
                target=self._work, name="pacsys-datalogger", daemon=True
            )
            self._thread.start()
        except BaseException:
            self._handle.stop()
            raise
        _running.add(self)

    def __enter__(self) -> DataLogger:
        self.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.stop()
            return
        try:
            self.stop()
        except Exception:
            log.exception("DataLogger.stop() failed while another exception was raised")

    def _on_reading(self, reading: Reading, handle: SubscriptionHandle) -> None:
        with self._lock:
            if self._stopping:
                return
            if len(self._pending) < self._max_pending:
                self._pending.append(reading)
                return
            self._dropped += 1
            first = self._dropped == 1
        if first:
            error = DataLoggerError(
                f"DataLogger buffer full ({self._max_pending} readings waiting): dropping"
                f" readings; last write error: {self._io_error}"
            )
            self._record(error)

    def _on_stream_error(self, exc: BaseException, handle: SubscriptionHandle) -> None:
        if handle.exc is None:
            return  # recoverable: the backend reconnects
        self._stream_error = handle.exc
        self._record(handle.exc)

    def _record(self, exc: BaseException) -> None:
        self._last_error = exc
        self._error_log.warning("DataLogger: %s", exc)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("DataLogger on_error callback failed")

    # --- flushing -------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._wake.wait(self._interval):
            try:
                self.flush()
            except Exception:
                pass  # recorded by flush(); the batch waits for the next interval

    def flush(self) -> int:
        """Write what is waiting now; returns how many readings were written.

        On failure the readings stay queued (in order) and the error is raised here.
        """
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self._writer.write_readings(batch)
            except OSError as exc:
                self._requeue(batch)
                self._io_error = exc
                self._record(exc)
                raise DataLoggerError(
                    f"DataLogger cannot write to {self._writer!r}: {exc};"
                    f" {self.pending} readings waiting in memory",
                    (),
                ) from exc
            except Exception as exc:
                self._attempts += 1
                if self._attempts < MAX_ATTEMPTS:
                    self._requeue(batch)
                else:
                    self._attempts = 0
                    self._dropped += len(batch)
                    log.error(
                        "DataLogger dropped %d readings after %d failed writes",
                        len(batch),
                        MAX_ATTEMPTS,
                    )
                self._record(exc)
                raise
            except BaseException:
                self._dropped += len(batch)  # may or may not have been written
                raise
            self._attempts = 0
            self._io_error = None
            self._written += len(batch)
            return len(batch)

    def _requeue(self, batch: list[Reading]) -> None:
        with self._lock:
            self._pending[:0] = batch

    def check(self) -> None:
        """Raise if logging is in trouble: a write error not yet cleared, drops, a dead stream."""
        if self._io_error is not None:
            raise DataLoggerError(
                f"DataLogger cannot write to {self._writer!r}: {self._io_error};"
                f" {self.pending} readings waiting in memory"
            ) from self._io_error
        self._raise_failures()

    def _raise_failures(self) -> None:
        if self._stream_error is not None:
            extra = f"; also dropped {self._dropped} readings" if self._dropped else ""
            raise DataLoggerError(
                f"DataLogger subscription failed; logging ended early{extra}"
            ) from self._stream_error
        if self._dropped:
            raise DataLoggerError(
                f"Dropped {self._dropped} readings during DataLogger run (see last_error)"
            ) from self._last_error

    def stop(self) -> None:
        """Stop streaming, write everything still in memory, close the writer.

        Raises DataLoggerError when readings could not be written (they are in its
        ``unwritten``), were dropped, or the subscription failed.
        """
        if self._closed:
            return
        if self._thread is not None and threading.current_thread() is self._thread:
            raise RuntimeError("DataLogger cannot be stopped from its flush worker")
        with self._lock:
            self._stopping = True
        handle = self._handle
        if handle is not None:
            try:
                handle.stop()
            except Exception as exc:
                raise RuntimeError(
                    "DataLogger subscription did not stop; writer left open"
                ) from exc
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
            if self._thread.is_alive():
                raise RuntimeError("DataLogger flush worker did not stop; writer left open")
        _running.discard(self)
        unwritten: DataLoggerError | None = None
        for _attempt in range(MAX_ATTEMPTS):
            try:
                self.flush()
            except DataLoggerError as exc:  # I/O: hand the readings to the caller
                with self._lock:
                    unwritten = DataLoggerError(str(exc), self._pending)
                    self._pending = []
            except Exception:
                continue  # a writer bug: flush() drops the batch after MAX_ATTEMPTS
            break
        self._closed = True
        try:
            self._writer.close()
        except Exception:
            if unwritten is None:
                raise
            log.exception("Closing %r failed as well", self._writer)
        if unwritten is not None:
            raise unwritten from self._io_error
        self._raise_failures()

    def __repr__(self) -> str:
        state = "running" if self.running else ("closed" if self._closed else "stopped")
        return f"<DataLogger {state} {self._drfs} -> {self._writer!r}>"


@atexit.register
def _stop_at_exit() -> None:
    """A script that ends without stop() still gets its buffered readings written."""
    for logger in list(_running):
        try:
            logger.stop()
        except Exception:
            log.exception("Stopping %r at exit failed", logger)
