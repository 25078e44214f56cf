"""Ordered, coalescing writes to one client socket.

Replies to requests are written directly by the connection thread. Stream data arrives on
backend threads one reading at a time; writing each with its own ``sendall`` costs a
system call and a wake-up of the client per reading, so those writes are queued and a
writer thread sends whatever has accumulated in one call. Every write goes out in the
order :meth:`Outbox.send` was called: a direct write made while queued data is pending
joins the queue behind it. The queue is bounded: a producer (the connection thread too)
that finds it full waits, at most ``timeout``, as a blocking ``sendall`` would; stream data
is *offered* instead and refused when the queue is full, so a slow client never blocks the
backend thread that feeds every client.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Final

from pacsys.deadline import Deadline

__all__ = ["Outbox"]

log = logging.getLogger("pacsys_dpm.server.outbox")

MAX_PENDING: Final = 4 << 20
"""Queued bytes above which producers wait for the writer."""


class Outbox:
    """Writes to ``sock``; ``send(data, direct=True)`` from the owning thread only."""

    def __init__(
        self, sock: socket.socket, name: str, *, timeout: float, max_pending: int = MAX_PENDING
    ) -> None:
        self._sock = sock
        self._name = name
        self._timeout = timeout
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._writing = False
        self._closed = False
        self._error: OSError | None = None
        self._writer: threading.Thread | None = None
        self.last_sent = time.monotonic()

    def send(self, data: bytes, *, direct: bool) -> None:
        """Write ``data`` now (``direct``) or via the writer; OSError once the socket failed."""
        with self._cond:
            if self._error is not None:
                raise OSError(f"earlier send failed: {self._error}")
            if self._closed:
                raise OSError("connection closed")
            if direct and not self._pending and not self._writing:
                self._sock.sendall(data)  # the lock keeps queued writes behind this one
                self.last_sent = time.monotonic()
                return
            self._wait_for_room()
            self._queue(data)

    def offer(self, data: bytes) -> bool:
        """Queue ``data`` unless the queue is full (False: nothing queued); never waits."""
        with self._cond:
            if self._error is not None:
                raise OSError(f"earlier send failed: {self._error}")
            if self._closed:
                raise OSError("connection closed")
            if self._pending_bytes >= self._max_pending:
                return False
            self._queue(data)
            return True

    def close(self, timeout: float = 5.0) -> None:
        """Drop what is queued and stop the writer thread."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._pending_bytes = 0
            self._cond.notify_all()
            writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout)
            if writer.is_alive():
                log.error("writer thread %s did not stop", self._name)

    def _queue(self, data: bytes) -> None:
        """Under the lock: append ``data`` for the writer thread (started on first use)."""
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_loop, name=self._name, daemon=True)
            self._writer.start()
        self._cond.notify_all()

    def _wait_for_room(self) -> None:
        """Under the lock: block while the queue is full (like a blocking sendall)."""
        deadline = Deadline.after(self._timeout)
        while self._pending_bytes >= self._max_pending:
            if deadline.expired:
                raise TimeoutError(f"client did not take data for {self._timeout:g} s")
            self._cond.wait(deadline.remaining())
            if self._error is not None:
                raise OSError(f"earlier send failed: {self._error}")
            if self._closed:
                raise OSError("connection closed")

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batch, self._pending = self._pending, []
                self._pending_bytes = 0
                self._writing = True
                self._cond.notify_all()  # room for waiting producers
            try:
                self._sock.sendall(batch[0] if len(batch) == 1 else b"".join(batch))
            except OSError as exc:
                with self._cond:
                    self._error = exc
                    self._writing = False
                    self._pending.clear()
                    self._pending_bytes = 0
                    self._cond.notify_all()
                log.debug("%s: send failed: %s", self._name, exc)
                return
            with self._cond:
                self._writing = False
                self.last_sent = time.monotonic()
