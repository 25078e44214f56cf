"""Running subscription callbacks: on one worker thread per backend, or inline."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from pacsys.types import DispatchMode, Reading

__all__ = ["CallbackDispatcher", "RateLimitedLogger"]

log = logging.getLogger("pacsys.dispatch")

#: Readings waiting for the worker beyond this are dropped (errors never are).
MAX_PENDING = 10_000
SLOW_CALLBACK_SECONDS = 0.05


class DroppingHandle(Protocol):
    """What the dispatcher needs of a handle whose readings it may drop (the buffered one).

    Named by what it offers: pacsys.backends.subscription builds on this module.
    """

    def count_dropped(self, n: int) -> None: ...


class RateLimitedLogger:
    """Logs a warning at most once per ``interval`` seconds."""

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self._logger = logger
        self._interval = interval
        self._last = -float("inf")
        self._lock = threading.Lock()

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self._interval:
                return
            self._last = now
        self._logger.warning(message, *args)


def _call_safely(what: str, fn: Callable[..., object], *args: object) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("Exception in subscription %s %r (ignored)", what, fn)


class CallbackDispatcher:
    """Delivers readings and errors to user callbacks in the backend's dispatch mode.

    WORKER: one daemon thread ``pacsys-dispatch``, started on the first item, runs every
    callback of the backend in arrival order.  DIRECT: callbacks run on the calling
    (I/O) thread; slow ones are reported.  Callback exceptions are logged, never raised.
    """

    def __init__(self, mode: DispatchMode = DispatchMode.WORKER) -> None:
        self.mode = DispatchMode(mode)
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._drop_warning = RateLimitedLogger(log, 10.0)
        self._slow_warning = RateLimitedLogger(log, 10.0)

    @property
    def closed(self) -> bool:
        return self._closed

    def dispatch_reading(
        self,
        handle: DroppingHandle,
        callback: Callable[[Reading, Any], None],
        reading: Reading,
    ) -> None:
        if self._closed:
            return
        if self.mode is DispatchMode.DIRECT:
            self._run_direct(callback, reading, handle)
            return
        with self._cond:
            if len(self._queue) >= MAX_PENDING:
                handle.count_dropped(1)
                self._drop_warning.warning(
                    "Dispatch queue full (%d items): dropping readings", MAX_PENDING
                )
                return
            self._queue.append(("reading", handle, callback, reading))
            self._ensure_worker()
            self._cond.notify()

    def dispatch_error(
        self,
        handle: Any,
        on_error: Callable[[BaseException, Any], None],
        exc: BaseException,
    ) -> None:
        if self._closed:
            return
        if self.mode is DispatchMode.DIRECT:
            _call_safely("error callback", on_error, exc, handle)
            return
        with self._cond:
            self._queue.append(("error", handle, on_error, exc))
            self._ensure_worker()
            self._cond.notify()

    def _run_direct(self, callback: Callable[..., None], reading: Reading, handle: Any) -> None:
        started = time.perf_counter()
        _call_safely("callback", callback, reading, handle)
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_CALLBACK_SECONDS:
            self._slow_warning.warning(
                "Subscription callback %r took %.0f ms on the I/O thread; consider "
                "DispatchMode.WORKER",
                callback,
                elapsed * 1000,
            )

    def _ensure_worker(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="pacsys-dispatch", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                kind, handle, fn, payload = self._queue.popleft()
            if kind == "reading":
                if not handle._stop_requested:
                    _call_safely("callback", fn, payload, handle)
            else:
                _call_safely("error callback", fn, payload, handle)

    def close(self, timeout: float = 2.0) -> None:
        """Stop dispatching; joins the worker unless called from it."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
