"""The pika I/O thread bridge: one AMQP connection driven by one named thread.

pika's BlockingConnection is not thread-safe, so every AMQP operation (and every call of
a protocol engine, which is not thread-safe either) runs on the loop's thread: other
threads hand it closures with :meth:`AmqpLoop.submit` (fire and forget) or
:meth:`AmqpLoop.call` (wait for the result). The loop also calls a periodic ``tick``
(heartbeats, timeouts) and reports a lost connection once through ``on_lost``, on its
own thread. Exceptions raised by tasks, ticks and handlers are logged, so one bad
message never stops the loop. Only public pika API is used here.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pika
import pika.exceptions

__all__ = ["AmqpLoop"]

log = logging.getLogger("pacsys_dmq.loop")

T = TypeVar("T")
Task = Callable[[], None]
FailHandler = Callable[[BaseException], None]


class AmqpLoop:
    """A BlockingConnection owned by a background thread named ``name``.

    ``tick(now)`` runs about every ``tick_interval`` seconds on the loop thread;
    ``on_lost(exc)`` runs once (on the loop thread) when the connection dies unexpectedly.
    """

    def __init__(
        self,
        parameters: pika.ConnectionParameters,
        *,
        name: str,
        tick: Callable[[float], None] | None = None,
        on_lost: FailHandler | None = None,
        tick_interval: float = 0.1,
    ) -> None:
        self._parameters = parameters
        self._name = name
        self._tick = tick
        self._on_lost = on_lost
        self._tick_interval = tick_interval
        self._tasks: collections.deque[tuple[Task, FailHandler | None]] = collections.deque()
        self._lock = threading.Lock()
        self._started = threading.Event()
        self._stopping = False
        self._alive = False
        self._start_error: BaseException | None = None
        self._connection: pika.BlockingConnection | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float) -> None:
        """Connect on the loop thread; raise the connection error, or TimeoutError."""
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            with self._lock:
                self._stopping = True
            raise TimeoutError(f"no connection within {timeout:.3g} s")
        if self._start_error is not None:
            raise self._start_error

    @property
    def alive(self) -> bool:
        return self._alive

    @property
    def connection(self) -> pika.BlockingConnection:
        """The connection; use only on the loop thread."""
        assert self._connection is not None
        return self._connection

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection and join the thread (unless called from it)."""
        with self._lock:
            self._stopping = True
            connection = self._connection if self._alive else None
        if connection is not None:
            try:
                connection.add_callback_threadsafe(lambda: None)  # wake the loop
            except Exception:
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("AMQP I/O thread %s did not stop within %.1f s", self._name, timeout)

    # --- work from other threads ------------------------------------------------------------

    def submit(self, task: Task, on_fail: FailHandler | None = None) -> None:
        """Run ``task`` on the loop thread soon; ``on_fail(exc)`` if it never will run."""
        with self._lock:
            accepted = self._alive and not self._stopping
            if accepted:
                self._tasks.append((task, on_fail))
            connection = self._connection
        if not accepted:
            error = ConnectionError("Connection not open")
            if on_fail is None:
                raise error
            on_fail(error)
            return
        try:
            assert connection is not None
            connection.add_callback_threadsafe(self._drain)
        except Exception as exc:  # connection died between the check and the call
            log.debug("wake-up failed: %s", exc)

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn`` on the loop thread and return its result (or raise its exception)."""
        if self.in_loop():
            return fn()
        done = threading.Event()
        box: dict[str, Any] = {}

        def task() -> None:
            try:
                box["result"] = fn()
            except BaseException as exc:
                box["error"] = exc
            done.set()

        def failed(exc: BaseException) -> None:
            box["error"] = exc
            done.set()

        self.submit(task, failed)
        if not done.wait(timeout):
            raise TimeoutError(f"AMQP operation did not finish within {timeout:.3g} s")
        if "error" in box:
            raise box["error"]
        return box["result"]

    # --- the loop ---------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._tasks:
                    return
                task, _ = self._tasks.popleft()
            try:
                task()
            except Exception:
                log.exception("Error in AMQP task (ignored)")

    def _run(self) -> None:
        try:
            connection = pika.BlockingConnection(self._parameters)
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            return
        with self._lock:
            abandoned = self._stopping
            self._connection = connection
            self._alive = not abandoned
        self._started.set()
        lost: BaseException | None = None
        if not abandoned:
            lost = self._serve(connection)
        with self._lock:
            self._alive = False
            leftovers = list(self._tasks)
            self._tasks.clear()
        if lost is None:
            try:
                connection.close()
            except Exception as exc:
                log.debug("connection close: %s", exc)
        reason = lost if lost is not None else ConnectionError("Connection closed")
        for _, on_fail in leftovers:
            if on_fail is not None:
                try:
                    on_fail(ConnectionError(f"Connection closed: {reason}"))
                except Exception:
                    log.exception("Error in AMQP task failure handler (ignored)")
        if lost is not None and self._on_lost is not None:
            try:
                self._on_lost(lost)
            except Exception:
                log.exception("Error in connection-lost handler (ignored)")

    def _serve(self, connection: pika.BlockingConnection) -> BaseException | None:
        """Process events until stopped; return the exception that killed the connection."""
        next_tick = time.monotonic()
        try:
            while not self._stopping:
                connection.process_data_events(time_limit=self._tick_interval)
                self._drain()
                now = time.monotonic()
                if self._tick is not None and now >= next_tick and not self._stopping:
                    next_tick = now + self._tick_interval
                    try:
                        self._tick(now)
                    except pika.exceptions.AMQPConnectionError:
                        raise
                    except Exception:
                        log.exception("Error in AMQP tick (ignored)")
        except pika.exceptions.AMQPConnectionError as exc:
            log.warning("AMQP connection %s lost: %r", self._name, exc)
            return exc
        except Exception as exc:
            log.exception("AMQP I/O loop %s failed", self._name)
            return exc
        return None
