"""One streaming subscription: its own connection, list and reader thread.

The thread connects and runs the engine's :class:`~pacsys_dpm.protocol.StreamOp`,
handing its Readings to the handle. Silence longer than the heartbeat window (10 s;
the server sends ListStatus every 2 s when idle), EOF, a bad frame, a failed
StartList or a job-level error ends the subscription with an error. Stopping closes
the socket without StopList, as the reference client does.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

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
    ) -> None:
        self.handle = handle
        self._host = host
        self._port = port
        self._connect_timeout = connect_timeout
        self._heartbeat_timeout = heartbeat_timeout
        self._on_exit = on_exit
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
        failure: BaseException | None = None
        try:
            self._stream()
        except (DPMConnectionError, DPMProtocolError, OSError) as exc:
            failure = exc
        except BaseException as exc:  # a bug must not die silently on a daemon thread
            log.exception("DPM stream thread failed")
            failure = exc
        finally:
            with self._lock:
                conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
            if self._on_exit is not None:
                self._on_exit(self)
            # Reported last, so whoever the error wakes sees the subscription gone.
            if failure is not None and not self._stopping.is_set():
                self.handle.fail(failure)

    def _stream(self) -> None:
        conn = DPMConnection.open(self._host, self._port, self._connect_timeout)
        with self._lock:
            if self._stopping.is_set():
                conn.close()
                return
            self._conn = conn
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
                raise stream.failure
