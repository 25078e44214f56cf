"""One blocking DPM TCP connection: a socket driving a :class:`ClientProtocol`.

Every step takes the caller's deadline (``time.monotonic()`` seconds): connecting, the
handshake and OpenList reply, writing requests and waiting for replies. Any transport or
protocol fault marks the connection dead; a dead connection is never reused.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from typing import Protocol

from pacsys.backends import duration_text
from pacsys.backends.params import env_flag
from pacsys.deadline import Deadline
from pacsys_dpm.protocol import ClientProtocol, DPMConnectionError, DPMProtocolError

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DPMConnection", "DPMConnectionError"]

log = logging.getLogger("pacsys_dpm.connection")

DEFAULT_CONNECT_TIMEOUT = 5.0
_RECV_SIZE = 256 * 1024
_TRACE = env_flag("PACSYS_DPM_TRACE")


class _Conversation(Protocol):
    @property
    def done(self) -> bool: ...


class DPMConnection:
    """A connected socket and the protocol state of its one list.

    Not thread-safe: one user at a time (the pool or a stream thread owns it).
    """

    def __init__(self, sock: socket.socket, address: tuple[str, int], protocol: ClientProtocol):
        self._sock = sock
        self.address = address
        self.protocol = protocol
        self._closed = False
        self.last_used = time.monotonic()

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        timeout: float = DEFAULT_CONNECT_TIMEOUT,
        *,
        deadline: float | None = None,
    ) -> DPMConnection:
        """Connect, send the handshake and wait for the OpenList reply, all by ``deadline``
        (default: ``timeout`` from now)."""
        deadline = Deadline.after(timeout) if deadline is None else Deadline(deadline)
        budget = deadline.remaining(0.001)
        try:
            # An ASCII name goes to getaddrinfo as bytes: a str would import the idna codec.
            name = host.encode("ascii") if host.isascii() else host
            sock = socket.create_connection((name, port), timeout=budget)  # type: ignore[arg-type]
        except OSError as exc:
            raise DPMConnectionError(f"Cannot connect to DPM at {host}:{port}: {exc}") from exc
        conn = cls(sock, (host, port), ClientProtocol(trace=_TRACE))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            conn.flush(deadline)
            if not conn.run(_Opened(conn.protocol), deadline):
                raise DPMConnectionError(
                    f"DPM at {host}:{port} sent no OpenList reply within {duration_text(budget)}"
                )
        except BaseException:
            conn.close()
            raise
        log.debug("Connected to DPM %s:%d, list %d", host, port, conn.list_id)
        return conn

    @property
    def list_id(self) -> int:
        list_id = self.protocol.list_id
        return -1 if list_id is None else list_id

    @property
    def alive(self) -> bool:
        """False once closed, interrupted, or failed."""
        return not self._closed and not self.protocol.failed

    # --- I/O -------------------------------------------------------------------------------

    def flush(self, deadline: float | None) -> None:
        """Write everything the protocol has queued, by ``deadline`` (None: a default bound)."""
        while data := self.protocol.data_to_send():
            if deadline is None:
                deadline = Deadline.after(DEFAULT_CONNECT_TIMEOUT)
            try:
                self._sock.settimeout(max(deadline - time.monotonic(), 0.001))
                self._sock.sendall(data)
            except OSError as exc:
                self._closed = True
                raise DPMConnectionError(f"Sending to DPM failed: {exc}") from exc
        self.last_used = time.monotonic()

    def receive(self, deadline: float | None) -> bool:
        """Receive once into the protocol (and write what that queued); False on timeout.

        EOF and socket errors raise :class:`DPMConnectionError`, a bad frame or body
        ``DPMProtocolError``; both leave the connection dead.
        """
        if deadline is None:
            self._sock.settimeout(None)
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(_RECV_SIZE)
        except TimeoutError:
            return False
        except OSError as exc:
            self._closed = True
            raise DPMConnectionError(f"DPM connection failed: {exc}") from exc
        self.protocol.receive_data(data)
        self.flush(deadline)  # e.g. the next Authenticate round or ApplySettings
        return True

    def run(self, conversation: _Conversation, deadline: float | None) -> bool:
        """Receive until ``conversation.done``; False when ``deadline`` passes first."""
        while not conversation.done:
            if not self.receive(deadline):
                return False
        return True

    def peer_closed(self) -> bool:
        """Non-blocking check of an idle connection: True when the server has closed it."""
        if not self.alive:
            return True
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            data = self._sock.recv(_RECV_SIZE)
            self.protocol.receive_data(data)  # idle heartbeats are dropped
        except (OSError, ValueError, DPMConnectionError, DPMProtocolError):
            self._closed = True
            return True
        return False

    def interrupt(self) -> None:
        """Wake a thread blocked in :meth:`receive` on this connection (it then sees an error)."""
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Close the socket; idempotent."""
        self._closed = True
        try:
            self._sock.close()
        except OSError:
            pass

    def __repr__(self) -> str:
        host, port = self.address
        state = "alive" if self.alive else "dead"
        return f"<DPMConnection {host}:{port} list={self.list_id} {state}>"


class _Opened:
    """The wait for the OpenList reply, as a conversation."""

    def __init__(self, protocol: ClientProtocol) -> None:
        self._protocol = protocol

    @property
    def done(self) -> bool:
        return self._protocol.is_open
