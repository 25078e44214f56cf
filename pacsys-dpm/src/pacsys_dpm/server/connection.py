"""One accepted DPM client socket: a thread driving a :class:`ServerProtocol`.

The thread reads bytes into the protocol, hands its events to the list's
:class:`~.session.ListSession`, writes what the protocol queued, and sends a heartbeat
when the connection has been idle for the heartbeat interval. Stream data comes from
backend threads through the :class:`~.outbox.Outbox`, which keeps every write in call
order. A malformed handshake or frame closes only this connection.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Final

from pacsys.deadline import Deadline
from pacsys_dpm.protocol import (
    ConnectionClosed,
    DPMProtocolError,
    ListOpened,
    Refused,
    ServerProtocol,
)

from .outbox import Outbox
from .session import ListSession

__all__ = ["Connection"]

log = logging.getLogger("pacsys_dpm.server.connection")

_RECV_SIZE: Final = 65536

SessionFactory = Callable[["Connection"], ListSession]


class Connection:
    """Serve one client socket on its own thread until EOF, error or :meth:`close`."""

    def __init__(
        self,
        sock: socket.socket,
        peer: str,
        protocol: ServerProtocol,
        session_factory: SessionFactory,
        *,
        heartbeat_interval: float,
        handshake_timeout: float,
        send_timeout: float,
        on_closed: Callable[[Connection], None],
        stream_buffer: int,
    ) -> None:
        self.peer = peer
        self.protocol = protocol
        self.list_id = protocol.list_id
        self._sock = sock
        self._make_session = session_factory
        self._heartbeat = heartbeat_interval
        self._handshake_timeout = handshake_timeout
        self._on_closed = on_closed
        self._outbox = Outbox(
            sock,
            f"pacsys-dpm-send-{self.list_id}",
            timeout=send_timeout,
            max_pending=stream_buffer,
        )
        self._closing = False
        self._session: ListSession | None = None
        sock.settimeout(send_timeout)  # bounds sendall; reads wait in the selector instead
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._thread = threading.Thread(
            target=self._run, name=f"pacsys-dpm-conn-{self.list_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Drop the client (it sees EOF) and wait for the connection thread."""
        self._closing = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the peer or by the thread
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("connection thread of list %d did not stop", self.list_id)

    def send(self, data: bytes) -> None:
        """Write frames; raises OSError when the socket is gone.

        The connection thread writes directly; other threads (stream data) queue their
        writes, which a writer thread coalesces (see :mod:`.outbox`). Order is kept.
        """
        direct = threading.get_ident() == self._thread.ident
        self._outbox.send(data, direct=direct)

    def offer(self, data: bytes) -> bool:
        """Queue stream frames unless the client is behind (False); OSError when gone."""
        return self._outbox.offer(data)

    def flush(self) -> None:
        """Write everything the protocol has queued (connection thread only)."""
        while data := self.protocol.data_to_send():
            self._outbox.send(data, direct=True)

    # --- connection thread --------------------------------------------------------------

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._sock, selectors.EVENT_READ)
            self._serve(selector)
        except DPMProtocolError as exc:
            log.warning("dropping DPM client %s (list %d): %s", self.peer, self.list_id, exc)
        except OSError as exc:
            if not self._closing:
                log.info("DPM client %s (list %d) lost: %s", self.peer, self.list_id, exc)
        except Exception:
            log.exception("DPM connection %s (list %d) failed", self.peer, self.list_id)
        finally:
            if self._session is not None:
                self._session.close()
            self._outbox.close()
            selector.close()
            self._sock.close()
            self._on_closed(self)

    def _serve(self, selector: selectors.BaseSelector) -> None:
        protocol = self.protocol
        handshake_deadline = Deadline.after(self._handshake_timeout)
        while True:
            if self._session is None:  # still in the handshake
                data = self._recv(selector, handshake_deadline.remaining())
                if data is None:
                    log.info("DPM client %s sent no handshake in time", self.peer)
                    return
            else:
                data = self._recv_or_heartbeat(selector)
            protocol.receive_data(data)
            while (event := protocol.next_event()) is not None:
                if isinstance(event, ListOpened):
                    self._session = self._make_session(self)
                elif isinstance(event, Refused):
                    log.warning("refusing DPM client %s: %s", self.peer, event.detail)
                    self._refuse()
                    return
                elif isinstance(event, ConnectionClosed):
                    log.debug("DPM client %s (list %d) closed", self.peer, self.list_id)
                    return
                else:
                    assert self._session is not None
                    self._session.handle(event)
                self.flush()
            self.flush()

    def _refuse(self) -> None:
        try:
            self.flush()
        except OSError:
            pass

    def _recv(self, selector: selectors.BaseSelector, timeout: float) -> bytes | None:
        """Bytes from the client, None on timeout; b"" on EOF."""
        if not selector.select(max(timeout, 0.0)):
            return None
        return self._sock.recv(_RECV_SIZE)

    def _recv_or_heartbeat(self, selector: selectors.BaseSelector) -> bytes:
        """Bytes from the client (b"" on EOF); a heartbeat goes out whenever idle that long."""
        while True:
            idle = time.monotonic() - self._outbox.last_sent
            if idle >= self._heartbeat:
                self._outbox.send(self.protocol.heartbeat(), direct=True)
                continue
            received = self._recv(selector, self._heartbeat - idle)
            if received is not None:
                return received
