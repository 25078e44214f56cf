"""Settings over DPM, blocking: authenticated connections and the write cycle on them.

Authentication belongs to the list, i.e. to the TCP connection, so an authenticated
connection is kept (up to 2 idle, 60 s) and reused by later writes. The conversations
themselves (:class:`~pacsys_dpm.protocol.AuthOp`, :class:`~pacsys_dpm.protocol.WriteOp`)
are the engine's; this module drives them on sockets, within the caller's deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pacsys.deadline import Deadline
from pacsys_dpm.client.connection import DPMConnection
from pacsys_dpm.principal import REALM, service_principal
from pacsys_dpm.protocol import (
    DPMConnectionError,
    DPMProtocolError,
    InitiatorContext,
    Outcome,
    SetupFailed,
    make_setting,
)
from pacsys_dpm.protocol.settings import MIC_MESSAGE, TIMEOUT_OUTCOME, Setting

__all__ = [
    "MIC_MESSAGE",
    "REALM",
    "TIMEOUT_OUTCOME",
    "Outcome",
    "SetupFailed",
    "WriteConnections",
    "authenticate",
    "make_setting",
    "run_write",
    "service_principal",
]

log = logging.getLogger("pacsys_dpm.writes")


def _kerberos_context(target: str, auth: Any) -> InitiatorContext:
    from pacsys.gss import ClientContext  # gssapi is imported only when someone writes

    return ClientContext(target, auth, mutual=False)


def authenticate(
    conn: DPMConnection,
    auth: Any,
    deadline: float,
    context_factory: Callable[[str, Any], InitiatorContext] | None = None,
) -> str:
    """Authenticate the connection's list and enable settings; returns the target principal.

    Raises AuthenticationError for every refusal (no ticket, GSS failure, DPM_PRIV).
    """
    make = context_factory or _kerberos_context
    exchange = conn.protocol.authenticate(lambda target: make(target, auth))
    conn.flush(deadline)
    if not conn.run(exchange, deadline):
        raise exchange.timeout_error()
    return exchange.result()


def run_write(
    conn: DPMConnection,
    wire_drfs: Sequence[str],
    settings: Sequence[Setting],
    *,
    user_name: str,
    role: str | None,
    deadline: float,
) -> tuple[list[Outcome], bool]:
    """One write cycle on an authenticated connection: outcomes and whether it is reusable.

    Transport errors before ApplySettings raise :class:`SetupFailed` (retry is safe);
    after it, outcomes become 1/-1 (or 1/-6 on timeout) since the result is unknown.
    """
    cycle = conn.protocol.write(wire_drfs, settings, user_name=user_name, role=role)
    try:
        conn.flush(deadline)
        finished = conn.run(cycle, deadline)
    except (DPMConnectionError, DPMProtocolError) as exc:
        return cycle.failed(exc), False
    if not finished:
        return cycle.timed_out(), False
    assert cycle.outcomes is not None
    return cycle.outcomes, cycle.reusable and conn.alive


class WriteConnections:
    """Authenticated connections for writes: at most ``max_in_use`` busy, ``max_idle`` kept."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        max_idle: int = 2,
        max_in_use: int = 4,
        idle_ttl: float = 60.0,
    ) -> None:
        self._host = host
        self._port = port
        self._max_idle = max_idle
        self._idle_ttl = idle_ttl
        self._idle: list[tuple[DPMConnection, str]] = []
        self._slots = threading.BoundedSemaphore(max_in_use)
        self._lock = threading.Lock()
        self._busy: set[DPMConnection] = set()
        self._closed = False

    def acquire(
        self, auth: Any, deadline: float, *, fresh: bool = False
    ) -> tuple[DPMConnection, str]:
        """An authenticated connection and its service principal, by ``deadline``.

        TimeoutError when no slot frees up in time; AuthenticationError,
        DPMConnectionError or DPMProtocolError when a new connection cannot be set up.
        """
        if not self._slots.acquire(timeout=Deadline(deadline).remaining()):
            raise TimeoutError("all DPM write connections are busy")
        try:
            if not fresh:
                found = self._take_idle()
                if found is not None:
                    return found
            conn = DPMConnection.open(self._host, self._port, deadline=deadline)
            with self._lock:
                self._busy.add(conn)
            try:
                target = authenticate(conn, auth, deadline)
            except BaseException:
                self._drop(conn)
                raise
            return conn, target
        except BaseException:
            self._slots.release()
            raise

    def _take_idle(self) -> tuple[DPMConnection, str] | None:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, target = self._idle.pop()
                if now - conn.last_used > self._idle_ttl or conn.peer_closed():
                    conn.close()
                    continue
                self._busy.add(conn)
                return conn, target
        return None

    def _drop(self, conn: DPMConnection) -> None:
        with self._lock:
            self._busy.discard(conn)
        conn.close()

    def release(self, conn: DPMConnection, target: str, reusable: bool) -> None:
        """Return a connection: kept for reuse when ``reusable`` and room is left."""
        keep = False
        with self._lock:
            self._busy.discard(conn)
            if reusable and conn.alive and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append((conn, target))
                keep = True
        if not keep:
            conn.close()
        self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
        for conn, _ in idle:
            conn.close()
        for conn in busy:
            conn.interrupt()
