"""One subscription: its own connection, list and reader thread (docs/protocols/dpm.md §4.4).

The thread connects, sends every AddToList plus StartList (as a one-shot read
does), and turns replies into Readings for the handle. Silence longer than the
heartbeat window (10 s; the server sends ListStatus every 2 s when idle), EOF,
a bad frame, a failed StartList or a job-level error ends the subscription
with an error. Stopping closes the socket without StopList (docs/protocols/dpm.md §4.4).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.types import DeviceMeta
from pacsys_dpm.client.connection import DPMConnection, DPMConnectionError
from pacsys_dpm.client.reads import send_list
from pacsys_dpm.client.values import (
    error_reading,
    meta_from_device_info,
    reading_from_reply,
    split_status,
)
from pacsys_dpm.codec import (
    AddToListReply,
    DeviceInfoReply,
    DPMProtocolError,
    ListStatusReply,
    StartListReply,
    StatusReply,
)

__all__ = ["DEFAULT_HEARTBEAT_TIMEOUT", "StreamWorker"]

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
        drfs = self.handle.drfs
        send_list(conn, drfs)
        count = len(drfs)
        metas: list[DeviceMeta | None] = [None] * count
        handle = self.handle
        window = self._heartbeat_timeout
        while not self._stopping.is_set():
            try:
                reply = conn.recv(time.monotonic() + window)
            except TimeoutError:
                raise DPMConnectionError(
                    f"DPM connection dead: no frame (missed heartbeats) for {window:g} s"
                ) from None
            kind = type(reply)
            if kind is ListStatusReply:
                continue
            if kind is StartListReply:
                if reply.status != 0:  # type: ignore[attr-defined]
                    _, _, message = split_status(reply.status)  # type: ignore[attr-defined]
                    raise DPMConnectionError(f"DPM StartList failed: {message}")
                continue
            ref = getattr(reply, "ref_id", None)
            if ref is None:
                continue
            if kind is StatusReply and ref == 0:
                if reply.status != 0:  # type: ignore[attr-defined]
                    _, _, message = split_status(reply.status)  # type: ignore[attr-defined]
                    raise DPMConnectionError(f"DPM job start failed: {message}")
                continue
            index = ref - 1
            if not 0 <= index < count:
                log.warning("Dropping DPM reply for unknown ref %d", ref)
                continue
            if kind is DeviceInfoReply:
                metas[index] = meta_from_device_info(reply)  # type: ignore[arg-type]
                continue
            if kind is AddToListReply:
                if reply.status == 0:  # type: ignore[attr-defined]
                    continue
                facility, error, message = split_status(reply.status)  # type: ignore[attr-defined]
                handle.deliver(error_reading(drfs[index], facility, error, message, metas[index]))
                continue
            reading = reading_from_reply(drfs[index], reply, metas[index])
            if reading is not None:
                handle.deliver(reading)
