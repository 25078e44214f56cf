"""A lazy, thread-safe pool of DPM connections for one-shot reads.

Connections are opened on demand up to ``pool_size``. A borrower gets an idle
connection (after a cheap check that the server has not closed it, so a pooled
read after a server restart reconnects instead of failing), opens a new one
below capacity, or waits for a release; all within the caller's deadline.
"""

from __future__ import annotations

import logging
import threading
import time

from pacsys.backends.params import check_host, check_port, check_positive_int
from pacsys.deadline import Deadline
from pacsys_dpm.client.connection import DPMConnection

__all__ = ["ConnectionPool", "PoolClosedError", "PoolExhaustedError"]

log = logging.getLogger("pacsys_dpm.pool")


class PoolClosedError(Exception):
    """The pool was closed."""


class PoolExhaustedError(Exception):
    """Every connection stayed busy for the whole wait budget."""


class ConnectionPool:
    """Up to ``pool_size`` connections to ``host:port``, created lazily."""

    def __init__(self, host: str, port: int, pool_size: int = 4) -> None:
        check_host(host)
        check_port(port)
        check_positive_int(pool_size, "pool_size")
        self.host = host
        self.port = port
        self.pool_size = pool_size
        self._idle: list[DPMConnection] = []
        self._in_use: set[DPMConnection] = set()
        self._opening = 0
        self._cond = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        """Connections currently open (idle + in use)."""
        with self._cond:
            return len(self._idle) + len(self._in_use)

    def borrow(self, deadline: float) -> tuple[DPMConnection, bool]:
        """An exclusive connection and whether it was reused (False: freshly opened).

        Waiting for a free slot and opening a connection both end at ``deadline``
        (``time.monotonic()``). Raises PoolExhaustedError when no slot frees up in time,
        PoolClosedError after close, DPMConnectionError / DPMProtocolError when a new
        connection cannot be opened.
        """
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosedError("Connection pool is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if conn.peer_closed():
                        log.debug("Dropping pooled %r: closed by server", conn)
                        conn.close()
                        continue
                    self._in_use.add(conn)
                    return conn, True
                if len(self._in_use) + self._opening < self.pool_size:
                    self._opening += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolExhaustedError(
                        f"All {self.pool_size} DPM connections stayed busy until the deadline"
                    )
                self._cond.wait(remaining)
        try:
            conn = DPMConnection.open(self.host, self.port, deadline=deadline)
        except BaseException:
            with self._cond:
                self._opening -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._opening -= 1
            if self._closed:
                conn.close()
                raise PoolClosedError("Connection pool is closed")
            self._in_use.add(conn)
        return conn, False

    def release(self, conn: DPMConnection) -> None:
        """Give a connection back; dead ones (and any after close) are closed."""
        to_close: DPMConnection | None = conn
        with self._cond:
            self._in_use.discard(conn)
            if conn.alive and not self._closed:
                conn.last_used = time.monotonic()
                self._idle.append(conn)
                to_close = None
            self._cond.notify()
        if to_close is not None:
            to_close.close()

    def discard(self, conn: DPMConnection) -> None:
        """Close a connection that must not be reused (bad state, late replies possible)."""
        with self._cond:
            self._in_use.discard(conn)
            self._cond.notify()
        conn.close()

    def close(self, drain_timeout: float = 2.0) -> None:
        """Close idle connections now; wait up to ``drain_timeout`` for borrowed ones."""
        deadline = Deadline.after(drain_timeout)
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for conn in idle:
            conn.close()
        with self._cond:
            while self._in_use and not deadline.expired:
                self._cond.wait(deadline.remaining())
            busy = list(self._in_use)
            self._in_use.clear()
        for conn in busy:
            conn.interrupt()
            conn.close()

    def __repr__(self) -> str:
        return (
            f"<ConnectionPool {self.host}:{self.port} size={self.pool_size} "
            f"open={self.size}{' closed' if self._closed else ''}>"
        )
