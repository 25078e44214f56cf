"""One DPM client socket: handshake, OpenList, framing, heartbeats (docs/protocols/dpm.md §1, §7).

Each connection runs one named thread that reads requests and hands them to its
:class:`~pacsys_dpm.server.session.ListSession`. Sends come from that thread and from backend
threads (stream data), serialised by a lock. A malformed handshake or frame closes only
this connection.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Final

from pacsys_dpm.codec import (
    AddToListRequest,
    DPMProtocolError,
    FrameDecoder,
    HeadReader,
    ListStatusReply,
    OpenListReply,
    decode_request,
    decode_request_fields,
    encode_message,
    frame_many,
    http_error_response,
)

from .jobs import Entry
from .outbox import Outbox
from .session import ListSession

__all__ = ["Connection"]

log = logging.getLogger("pacsys_dpm.server.connection")

_RECV_SIZE: Final = 65536
_MAX_KNOWN_ENTRIES: Final = 65536

SessionFactory = Callable[[int, Callable[[list[bytes]], None]], ListSession]


class Connection:
    """Serve one client socket on its own thread until EOF, error or :meth:`close`."""

    def __init__(
        self,
        sock: socket.socket,
        peer: str,
        list_id: int,
        session_factory: SessionFactory,
        *,
        heartbeat_interval: float,
        handshake_timeout: float,
        send_timeout: float,
        on_closed: Callable[[Connection], None],
    ) -> None:
        self.peer = peer
        self.list_id = list_id
        self._sock = sock
        self._make_session = session_factory
        self._heartbeat = heartbeat_interval
        self._handshake_timeout = handshake_timeout
        self._on_closed = on_closed
        self._outbox = Outbox(sock, f"pacsys-dpm-send-{list_id}", timeout=send_timeout)
        self._closing = False
        self._entries: dict[bytes, Entry] = {}  # AddToList body -> the entry it added
        sock.settimeout(send_timeout)  # bounds sendall; reads wait in the selector instead
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._thread = threading.Thread(
            target=self._run, name=f"pacsys-dpm-conn-{list_id}", daemon=True
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

    def send(self, bodies: list[bytes]) -> None:
        """Frame and send reply bodies in one write; raises OSError when the socket is gone.

        The connection thread writes directly; other threads (stream data) queue their
        writes, which a writer thread coalesces (see :mod:`.outbox`). Order is kept.
        """
        if not bodies:
            return
        direct = threading.get_ident() == self._thread.ident
        self._outbox.send(frame_many(bodies), direct=direct)

    # --- connection thread --------------------------------------------------------------

    def _run(self) -> None:
        session: ListSession | None = None
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._sock, selectors.EVENT_READ)
            remainder = self._handshake(selector)
            if remainder is None:
                return
            session = self._make_session(self.list_id, self.send)
            self.send([encode_message(OpenListReply(self.list_id))])
            self._serve(selector, session, remainder)
        except DPMProtocolError as exc:
            log.warning("dropping DPM client %s (list %d): %s", self.peer, self.list_id, exc)
        except OSError as exc:
            if not self._closing:
                log.info("DPM client %s (list %d) lost: %s", self.peer, self.list_id, exc)
        except Exception:
            log.exception("DPM connection %s (list %d) failed", self.peer, self.list_id)
        finally:
            if session is not None:
                session.close()
            self._outbox.close()
            selector.close()
            self._sock.close()
            self._on_closed(self)

    def _recv(self, selector: selectors.BaseSelector, timeout: float) -> bytes | None:
        """Bytes from the client, None on timeout; b"" on EOF."""
        if not selector.select(max(timeout, 0.0)):
            return None
        return self._sock.recv(_RECV_SIZE)

    def _handshake(self, selector: selectors.BaseSelector) -> bytes | None:
        """Read and check the request head; returns the bytes pipelined after it.

        See docs/protocols/dpm.md §1.2 and §7.
        """
        reader = HeadReader()
        deadline = time.monotonic() + self._handshake_timeout
        while True:
            data = self._recv(selector, deadline - time.monotonic())
            if data is None:
                log.info("DPM client %s sent no handshake in time", self.peer)
                return None
            if not data:
                return None
            try:
                head = reader.feed(data)
            except DPMProtocolError as exc:
                log.warning("bad handshake from %s: %s", self.peer, exc)
                self._refuse(400, "Bad Request")
                return None
            if head is not None:
                break
        if not head.is_dpm:
            log.warning("refusing %s %s from %s", head.method, head.target, self.peer)
            self._refuse(404, "Not Found")
            return None
        return reader.remainder

    def _refuse(self, code: int, reason: str) -> None:
        try:
            self._sock.sendall(http_error_response(code, reason))
        except OSError:
            pass

    def _handle(self, session: ListSession, body: bytes) -> None:
        """One request body; AddToList (the bulk of a list) takes a fast lane.

        A client that reads the same list again on this connection sends the same
        AddToList bodies, so their entries are remembered by body.
        """
        known = self._entries.get(body)
        if known is not None:
            session.put_entry(known)
            return
        fields = decode_request_fields(body)
        if fields is None or fields[0] is not AddToListRequest:
            session.handle(decode_request(body))
            return
        entry = session.add_entry(fields[1][1], fields[1][2])
        if entry is not None:
            if len(self._entries) >= _MAX_KNOWN_ENTRIES:
                self._entries.clear()
            self._entries[body] = entry

    def _serve(self, selector: selectors.BaseSelector, session: ListSession, data: bytes) -> None:
        decoder = FrameDecoder()
        while True:
            if data:
                decoder.feed(data)
                for body in decoder.drain():
                    self._handle(session, body)
            while True:
                idle = time.monotonic() - self._outbox.last_sent
                if idle >= self._heartbeat:
                    self.send([encode_message(ListStatusReply(self.list_id, 0))])
                    continue
                received = self._recv(selector, self._heartbeat - idle)
                if received is not None:
                    break
            if not received:
                log.debug("DPM client %s (list %d) closed", self.peer, self.list_id)
                return
            data = received
