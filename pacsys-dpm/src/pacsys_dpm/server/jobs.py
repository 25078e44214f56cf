"""A running stream of a list: one backend subscription feeding the list's repeating entries.

Readings arrive on the backend's threads. They are mapped back to ref ids by DRF, preceded
by the entry's ``DeviceInfo`` the first time, and sent on the connection. Until
:meth:`StreamJob.release` (after the StartList reply) readings are held back; after
:meth:`StreamJob.stop` none is sent, which StopList relies on (docs/protocols/dpm.md §4.5).
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

from pacsys.backends import Backend
from pacsys.drf3 import DataRequest
from pacsys.errors import DeviceError
from pacsys.types import Reading, SubscriptionHandle
from pacsys_dpm.codec import encode_message

from .replies import ACNET_SYS, encode_device_info, encode_reply, status_of, status_reply

__all__ = ["Entry", "StreamJob", "exception_status"]

log = logging.getLogger("pacsys_dpm.server.jobs")

Sender = Callable[[list[bytes]], None]


class Entry(NamedTuple):
    """One list entry: the client's ref id, its DRF as sent, and the parsed request."""

    ref_id: int
    drf: str
    request: DataRequest


def exception_status(exc: BaseException) -> int:
    """ACNET status for a backend exception (DeviceError keeps its own)."""
    if isinstance(exc, DeviceError):
        return status_of(exc.facility_code, exc.error_code) or ACNET_SYS
    return ACNET_SYS


class _State(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"


class StreamJob:
    """Repeating-event entries of one StartList, served by one backend subscription."""

    def __init__(self, backend: Backend, entries: Sequence[Entry], send: Sender) -> None:
        self._backend = backend
        self._send = send
        self._lock = threading.Lock()
        self._state = _State.PENDING
        self._pending: list[Reading] = []
        self._failure: BaseException | None = None
        self._info_sent: set[int] = set()
        self._handle: SubscriptionHandle | None = None
        self._refs: dict[str, list[Entry]] = {}
        for entry in entries:
            for key in {entry.drf, entry.request.to_canonical()}:
                self._refs.setdefault(key, []).append(entry)
        self._drfs = list(dict.fromkeys(entry.drf for entry in entries))

    def start(self) -> None:
        """Subscribe; raises whatever the backend raises."""
        self._handle = self._backend.subscribe(
            self._drfs, callback=self._on_reading, on_error=self._on_error
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

    def _entries_for(self, reading: Reading) -> list[Entry]:
        entries = self._refs.get(reading.drf)
        if entries is None and len(self._drfs) == 1:
            entries = self._refs.get(self._drfs[0])
        return entries or []

    def _emit(self, reading: Reading) -> None:
        entries = self._entries_for(reading)
        if not entries:
            log.warning("dropping a reading for %s: no entry requested it", reading.drf)
            return
        bodies: list[bytes] = []
        for entry in entries:
            usable = reading.value is not None and reading.error_code >= 0
            if usable and entry.ref_id not in self._info_sent:
                self._info_sent.add(entry.ref_id)
                bodies.append(encode_device_info(entry.ref_id, entry.drf, reading.meta))
            bodies.append(encode_reply(entry.ref_id, reading))
        self._deliver(bodies)

    def _emit_failure(self, exc: BaseException) -> None:
        log.warning("backend subscription failed: %s", exc)
        self._deliver([encode_message(status_reply(0, exception_status(exc)))])
        self._state = _State.STOPPED

    def _deliver(self, bodies: list[bytes]) -> None:
        try:
            self._send(bodies)
        except OSError as exc:  # the connection is going away; its thread cleans up
            log.debug("stream send failed: %s", exc)
            self._state = _State.STOPPED
