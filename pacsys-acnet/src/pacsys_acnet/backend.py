"""AcnetBackend: the pacsys Backend over raw ACNET, i.e. DPM lists through acnetd.

``docs/protocols/acnet.md`` §10. One anonymous TCP connection to acnetd (the acsys-proxy
bridge) carries every list: reads borrow a list from a small pool (ClearList, the
AddToLists pipelined, StartList, one reading per entry, StopList); each subscription has
a list of its own whose stream feeds the subscription handle. A lost connection fails
the reads and subscriptions using it; the next call connects again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, ClassVar

from pacsys.acnet.errors import AcnetError
from pacsys.acnet.status import ACNET_REQTMO, parse_error
from pacsys.backends import drf_list, fill_missing, summarize_drfs
from pacsys.backends.params import check_host, check_port, env_int, env_str
from pacsys.backends.reconnect import ReconnectPolicy, check_reconnect
from pacsys.backends.streams import NetworkBackend, StreamTable
from pacsys.deadline import Deadline, checked_timeout
from pacsys.errors import ReadError
from pacsys.types import (
    BackendCapability,
    DeviceMeta,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
)
from pacsys_acnet import constants as c
from pacsys_acnet.codec.dpm import (
    DEFAULT_DPM_NODE,
    DPMError,
    backend_reading,
    device_meta,
    read_drf,
)
from pacsys_acnet.subscription import AcnetStream
from pacsys_dpm.codec import DeviceInfoReply

__all__ = ["AcnetBackend"]

log = logging.getLogger("pacsys_acnet.backend")
HOST_ENV, PORT_ENV = "PACSYS_ACNET_HOST", "PACSYS_ACNET_PORT"
DEFAULT_TIMEOUT = 5.0
MAX_IDLE_LISTS = 4
_FAILURES = (AcnetError, DPMError, OSError)


class _Entries:
    """What the stream of one list carries, by ref id (ref = position + 1)."""

    def __init__(self, drfs: list[str]) -> None:
        self.drfs = drfs
        self.meta: dict[int, DeviceMeta] = {}

    def reading(self, message: Any) -> tuple[int, Reading] | None:
        ref = getattr(message, "ref_id", 0)
        if not 1 <= ref <= len(self.drfs):
            return None
        if isinstance(message, DeviceInfoReply):
            self.meta[ref] = device_meta(message)
            return None
        reading = backend_reading(self.drfs[ref - 1], message, self.meta.get(ref))
        return None if reading is None else (ref, reading)


class _ReadList:
    """A pooled list for reads: the first reading of each entry, and who waits for them."""

    def __init__(self) -> None:
        from pacsys_acnet.dpm_acnet import DPMList

        self.list: DPMList | None = None
        self.cond = threading.Condition()
        self.entries = _Entries([])
        self.readings: dict[int, Reading] = {}
        self.ended: int | None = None
        self.used = False  # has entries from an earlier read

    def on_message(self, message: Any) -> None:
        with self.cond:
            found = self.entries.reading(message)
            if found is not None and found[0] not in self.readings:
                self.readings[found[0]] = found[1]
                self.cond.notify_all()

    def on_end(self, status: int) -> None:
        with self.cond:
            self.ended = status
            self.cond.notify_all()


class AcnetBackend(NetworkBackend):
    """Reads and streams through DPM over ACNET (task DPMD at ``dpm_node``, default DPM06).

    ``host``/``port`` default to ``$PACSYS_ACNET_HOST``/``$PACSYS_ACNET_PORT``, then
    acsys-proxy.fnal.gov:6802; ``timeout`` (default 5 s) bounds each read as a whole.
    Read-only: no writes.  ``reconnect``: a subscription whose list ends (acnetd gone) stops
    (None, the default) or opens a new list under the ReconnectPolicy.
    """

    _streams: StreamTable[AcnetStream]

    CAPABILITIES: ClassVar[BackendCapability] = (
        BackendCapability.READ | BackendCapability.BATCH | BackendCapability.STREAM
    )

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        timeout: float | None = None,
        dpm_node: str | None = None,
        dispatch_mode: DispatchMode | str = DispatchMode.WORKER,
        *,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self._host = check_host(host or env_str(HOST_ENV, c.ACSYS_PROXY_HOST))
        self._port = check_port(port if port is not None else env_int(PORT_ENV, c.ACNET_TCP_PORT))
        self._timeout = checked_timeout(timeout, DEFAULT_TIMEOUT)
        self._dpm_node = dpm_node or DEFAULT_DPM_NODE
        self._lock = threading.Lock()
        self._connection: Any = None
        self._node = 0
        self._idle: list[_ReadList] = []
        self._init_streaming(dispatch_mode)
        self._reconnect = check_reconnect(reconnect)
        self._closed = False

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<AcnetBackend {self._host}:{self._port} DPMD@{self._dpm_node}{state}>"

    # --- the connection --------------------------------------------------------------------

    def _connect(self) -> tuple[Any, int]:
        """The connection (a new one when there is none or it was lost) and DPMD's node."""
        with self._lock:
            self._check_open()
            connection = self._connection
            if connection is None or not connection.connected:
                from pacsys_acnet.connection import AcnetConnectionTCP

                self._idle.clear()
                connection = AcnetConnectionTCP(self._host, self._port)
                connection.connect()
                try:
                    self._node = connection.get_node(self._dpm_node)
                except BaseException:
                    connection.close()
                    raise
                self._connection = connection
            return connection, self._node

    def _open_list(self, on_message: Any, on_end: Any) -> Any:
        from pacsys_acnet.dpm_acnet import DPMList

        connection, node = self._connect()
        dpm_list = DPMList(connection, node, on_message, on_end)
        dpm_list.open(self._timeout)
        return dpm_list

    # --- reads -----------------------------------------------------------------------------

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        self._check_open()
        drfs = drf_list(drfs)
        wire = [read_drf(drf) for drf in drfs]  # ValueError before any I/O
        if not drfs:
            return []
        budget = checked_timeout(timeout, self._timeout)
        deadline = Deadline.after(budget)
        with self._lock:
            read = self._idle.pop() if self._idle else None
        try:
            if read is None:
                read = _ReadList()
                read.list = self._open_list(read.on_message, read.on_end)
            readings = self._read(read, drfs, wire, deadline)
        except _FAILURES as exc:
            if read is not None and read.list is not None:
                read.list.close()
            got = read.readings if read is not None else {}
            raise self._failure(drfs, got, f"ACNET read failed: {exc}", False) from exc
        if readings is None:
            read.list.close()  # type: ignore[union-attr]
            message = (
                f"Request timeout: {len(drfs) - len(read.readings)} of {len(drfs)} without "
                f"reply after {budget:g} s"
            )
            raise self._failure(drfs, read.readings, message, True)
        with self._lock:
            if len(self._idle) < MAX_IDLE_LISTS and not self._closed:
                self._idle.append(read)
            else:
                read.list.close()  # type: ignore[union-attr]
        return readings

    @staticmethod
    def _read(
        read: _ReadList, drfs: list[str], wire: list[str], deadline: Deadline
    ) -> list[Reading] | None:
        """One read on a list: its readings in order, or None when the deadline passed."""
        dpm_list = read.list
        assert dpm_list is not None
        if read.used:
            dpm_list.clear()
        with read.cond:
            read.entries = _Entries(drfs)
            read.readings = {}
        read.used = True
        dpm_list.add_entries([(i + 1, drf) for i, drf in enumerate(wire)])
        dpm_list.start()
        with read.cond:
            while len(read.readings) < len(drfs) and read.ended is None:
                if deadline.expired:
                    return None
                read.cond.wait(deadline.remaining())
            if read.ended is not None:
                raise AcnetError(read.ended, "DPM list ended during the read")
            readings = [read.readings[i + 1] for i in range(len(drfs))]
        dpm_list.stop()
        return readings

    @staticmethod
    def _failure(
        drfs: list[str], got: dict[int, Reading], message: str, timed_out: bool
    ) -> ReadError:
        """ReadError with the readings that came and the missing ones filled in."""
        error = parse_error(ACNET_REQTMO)[1] if timed_out else -1
        fill = "Request timeout" if timed_out else message
        readings = fill_missing(
            drfs,
            [got.get(i + 1) for i in range(len(drfs))],
            lambda drf: Reading(drf=drf, facility_code=1, error_code=error, message=fill),
        )
        return ReadError(readings, message)

    # --- streams ---------------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        handle = self._new_subscription(drfs, callback, on_error)
        drfs = handle.drfs
        stream = AcnetStream(
            handle, self._open_list, lambda: _Entries(drfs).reading, self._reconnect
        )
        stream.open()
        try:
            self._streams.add(handle, stream)
        except RuntimeError:
            stream.stop()
            raise
        stream.start()
        log.debug("Subscribed to %s on list %d", summarize_drfs(drfs), stream.list_id)
        return handle

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connection, self._connection = self._connection, None
            self._idle.clear()
        self._streams.close()
        if connection is not None:
            connection.close()
        self._dispatcher.close()
