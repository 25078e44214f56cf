"""A server's broker connection that comes back: one :class:`AmqpLoop` at a time.

After a lost connection the link connects again on a thread of its own, waiting
``reconnect_delay`` after the first failed attempt and doubling up to
``max_reconnect_delay``, until it succeeds or the link is stopped. Each new loop is
prepared, started and set up exactly as the first (``docs/protocols/dmq.md`` §16).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pika

from pacsys_dmq.loop import AmqpLoop

__all__ = ["BrokerLink"]

log = logging.getLogger("pacsys_dmq.server")


class BrokerLink:
    """The live loop of a server, reconnected after a loss (unless ``reconnect`` is False).

    ``prepare(loop)`` runs before each loop starts, ``setup(connection)`` on its thread once
    it is connected (an exception fails that attempt), ``tick(now)`` periodically there.
    ``on_lost(exc)`` runs on the dying loop's thread; ``on_down()`` once the link gives up
    (stopped while down, or lost without ``reconnect``).
    """

    def __init__(
        self,
        parameters: pika.ConnectionParameters,
        *,
        name: str,
        prepare: Callable[[AmqpLoop], None],
        setup: Callable[[pika.BlockingConnection], None],
        tick: Callable[[float], None],
        on_lost: Callable[[BaseException], None],
        on_down: Callable[[], None],
        reconnect: bool,
        reconnect_delay: float,
        max_reconnect_delay: float,
    ) -> None:
        self._parameters = parameters
        self._name = name
        self._prepare = prepare
        self._setup = setup
        self._tick = tick
        self._on_lost_cb = on_lost
        self._on_down = on_down
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self._lock = threading.Lock()
        self._loop: AmqpLoop | None = None
        self._closing = threading.Event()
        self._changed = threading.Condition()
        self._connections = 0
        self._failures = 0
        self._timeout = 10.0
        self._reconnector: threading.Thread | None = None

    @property
    def loop(self) -> AmqpLoop | None:
        """The connected loop (None while down)."""
        with self._lock:
            return self._loop

    @property
    def connections(self) -> int:
        with self._changed:
            return self._connections

    @property
    def failed_reconnections(self) -> int:
        with self._changed:
            return self._failures

    def wait_connected(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` connections were made (True) or ``timeout`` passed."""
        with self._changed:
            return self._changed.wait_for(lambda: self._connections >= count, timeout)

    def start(self, timeout: float) -> None:
        """Connect for the first time (raises ConnectionError)."""
        self._closing.clear()
        self._timeout = timeout
        self._connect(timeout)

    def _connect(self, timeout: float) -> None:
        loop = AmqpLoop(
            self._parameters,
            name=self._name,
            tick=self._tick,
            on_lost=lambda exc: self._lost(loop, exc),
        )
        self._prepare(loop)
        try:
            loop.start(timeout)
        except Exception as exc:
            raise ConnectionError(f"cannot connect to the broker: {exc}") from exc
        try:
            loop.call(lambda: self._setup(loop.connection), timeout)
        except Exception:
            loop.stop(timeout)
            raise
        with self._lock:
            abandoned = self._closing.is_set()
            died = not loop.alive  # lost during set-up: this attempt failed
            if not (abandoned or died):
                self._loop = loop
        if died:
            raise ConnectionError("connection lost while setting up")
        if abandoned:
            loop.stop(timeout)
            return
        with self._changed:
            self._connections += 1
            self._changed.notify_all()

    def _lost(self, loop: AmqpLoop, exc: BaseException) -> None:
        """(The dying loop's thread) tell the server, then reconnect or give up.

        A loop lost before it became the live one is the attempt's own failure: the
        attempt retries, so no second reconnector starts.
        """
        with self._lock:
            current = self._loop is loop
            if current:
                self._loop = None
        self._on_lost_cb(exc)
        if not current:
            return
        if self._closing.is_set() or not self.reconnect:
            self._on_down()
            return
        thread = threading.Thread(
            target=self._reconnect, name=f"{self._name}-reconnect", daemon=True
        )
        self._reconnector = thread
        thread.start()

    def _reconnect(self) -> None:
        delay = self.reconnect_delay
        attempt = 0
        while not self._closing.is_set():
            attempt += 1
            try:
                self._connect(self._timeout)
            except Exception as exc:
                with self._changed:
                    self._failures += 1
                log.warning("reconnection %d failed (%s); next in %.2f s", attempt, exc, delay)
            else:
                log.info("%s reconnected after %d attempt(s)", self._name, attempt)
                return
            if self._closing.wait(delay):
                break
            delay = min(delay * 2, self.max_reconnect_delay)
        self._on_down()

    def stop(self, timeout: float) -> AmqpLoop | None:
        """Stop reconnecting; the live loop (if any), for the caller to wind down."""
        self._closing.set()
        thread = self._reconnector
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout + timeout)
        with self._lock:
            loop, self._loop = self._loop, None
        return loop
