"""One streaming subscription: its own connection, list and reader thread.

The thread connects and runs the engine's :class:`~pacsys_dpm.protocol.StreamOp`,
handing its Readings to the handle. Silence longer than the heartbeat window (10 s;
the server sends ListStatus every 2 s when idle), EOF or a socket error loses the
connection: the subscription ends with the error, or, under a ReconnectPolicy, on_error
hears it and a new connection resubscribes after the backoff
(docs/protocols/semantics.md §6.4).  A bad frame, a failed StartList or a job-level error
always ends it. Stopping closes the socket without StopList, as the reference client does.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

from pacsys.backends.reconnect import ReconnectPolicy, run_stream
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.deadline import Deadline
from pacsys_dpm.client.connection import DPMConnection
from pacsys_dpm.protocol import DPMConnectionError, DPMProtocolError

__all__ = ["DEFAULT_HEARTBEAT_TIMEOUT", "StreamWorker"]

#: (facility, error) of the Status our server sends when it dropped readings for us.
SERVER_DROPPED = (1, -7)  # ACNET_QUEFULL

log = logging.getLogger("pacsys_dpm.stream")

DEFAULT_HEARTBEAT_TIMEOUT = 10.0
_counter = itertools.count(1)


class StreamWorker:
    """Runs one subscription on a named thread until stopped or failed."""

    def __init__(
        self,
        handle: BufferedSubscriptionHandle,
        host: str,
        port: int,
        *,
        connect_timeout: float,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        on_exit: Callable[[StreamWorker], None] | None = None,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.handle = handle
        self._host = host
        self._port = port
        self._connect_timeout = connect_timeout
        self._heartbeat_timeout = heartbeat_timeout
        self._on_exit = on_exit
        self._reconnect = reconnect
        self._refusal: BaseException | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conn: DPMConnection | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"pacsys-dpm-stream-{next(_counter)}", daemon=True
        )

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Close the connection and wait for the thread (unless called from it)."""
        self._stopping.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.interrupt()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        run_stream(
            self.handle,
            self._reconnect,
            self._stopping,
            self._stream,
            recoverable=self._recoverable,
            on_end=self._ended,
        )

    def _recoverable(self, exc: BaseException) -> bool:
        """A lost or refused connection, not the server refusing the list or a bad frame."""
        if isinstance(exc, DPMConnectionError | OSError) and exc is not self._refusal:
            return True
        if not isinstance(exc, DPMConnectionError | DPMProtocolError | OSError):
            log.error("DPM stream thread failed", exc_info=exc)  # a bug: never silent
        return False

    def _ended(self) -> None:
        if self._on_exit is not None:
            self._on_exit(self)

    def _stream(self) -> None:
        """One connection's life: open, start the list, deliver until stopped or lost."""
        conn = DPMConnection.open(self._host, self._port, self._connect_timeout)
        with self._lock:
            if self._stopping.is_set():
                conn.close()
                return
            self._conn = conn
        try:
            self._deliver(conn)
        finally:
            with self._lock:
                self._conn = None
            conn.close()

    def _deliver(self, conn: DPMConnection) -> None:
        stream = conn.protocol.stream(self.handle.drfs, self._heartbeat_timeout)
        conn.flush(Deadline.after(self._connect_timeout))
        deliver = self.handle.deliver
        while not self._stopping.is_set():
            if not conn.receive(Deadline.after(stream.heartbeat_timeout)):
                raise stream.silence_error()
            for reading in stream.take():
                if (reading.facility_code, reading.error_code) == SERVER_DROPPED:
                    self.handle.count_dropped(1)  # at least one; the reading says so too
                deliver(reading)
            if stream.failure is not None:
                self._refusal = stream.failure
                raise stream.failure
