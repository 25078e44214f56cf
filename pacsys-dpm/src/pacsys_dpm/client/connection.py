"""One blocking DPM TCP connection: handshake, framed send/receive (docs/protocols/dpm.md §1).

A connection carries exactly one DPM list for its lifetime. The server opens that
list itself and announces it in the first frame (an OpenList reply), so a
connection is only handed out once ``list_id`` is known. Any transport or
protocol fault marks the connection dead; a dead connection is never reused.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import time
from collections import deque
from collections.abc import Iterable

from pacsys.types import DeviceMeta
from pacsys_dpm.codec import (
    HANDSHAKE,
    DPMProtocolError,
    FrameDecoder,
    OpenListReply,
    Reply,
    Request,
    decode_reply,
    encode_message,
    frame_many,
    is_http_response,
)

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DPMConnection", "DPMConnectionError"]

log = logging.getLogger("pacsys_dpm.connection")

DEFAULT_CONNECT_TIMEOUT = 5.0
_RECV_SIZE = 256 * 1024
_MAX_DEVICE_INFOS = 8192
_TRACE = os.environ.get("PACSYS_DPM_TRACE", "").strip().lower() in {"1", "true", "yes", "on"}


class DPMConnectionError(Exception):
    """The TCP connection to DPM failed, was closed, or was rejected by the proxy."""


class DPMConnection:
    """A connected socket with its list id and an incremental frame decoder.

    Not thread-safe: one user at a time (the pool or a stream thread owns it).
    """

    def __init__(self, sock: socket.socket, address: tuple[str, int], list_id: int) -> None:
        self._sock = sock
        self.address = address
        self.list_id = list_id
        self._decoder = FrameDecoder(detect_http_rejection=True)
        self._unread: deque[bytes] = deque()
        self.device_infos: dict[bytes, tuple[int, DeviceMeta]] = {}
        """DeviceInfo reply bodies seen on this connection -> (ref id, DeviceMeta)."""
        self.list_memo: tuple[list[str], bytes] | None = None
        """The DRFs of the last one-shot list sent on this connection, and its frames."""
        self.alive = True
        self.created = time.monotonic()
        self.last_used = self.created

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, host: str, port: int, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> DPMConnection:
        """Connect, send the handshake and wait for the OpenList reply, all within ``timeout``."""
        deadline = time.monotonic() + timeout
        try:
            sock = socket.create_connection((host, port), timeout=max(timeout, 0.001))
        except OSError as exc:
            raise DPMConnectionError(f"Cannot connect to DPM at {host}:{port}: {exc}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.sendall(HANDSHAKE)
        except OSError as exc:
            sock.close()
            raise DPMConnectionError(f"DPM handshake to {host}:{port} failed: {exc}") from exc
        conn = cls(sock, (host, port), list_id=0)
        try:
            first = conn.recv(deadline)
        except TimeoutError:
            conn.close()
            raise DPMConnectionError(
                f"DPM at {host}:{port} sent no OpenList reply within {timeout:g} s"
            ) from None
        except BaseException:
            conn.close()
            raise
        if not isinstance(first, OpenListReply):
            conn.close()
            raise DPMProtocolError(
                f"DPM at {host}:{port} sent {type(first).__name__} before the OpenList reply"
            )
        conn.list_id = first.list_id
        log.debug("Connected to DPM %s:%d, list %d", host, port, first.list_id)
        return conn

    # --- I/O -------------------------------------------------------------------------------

    def send(self, requests: Iterable[Request]) -> None:
        """Encode and send ``requests`` in one write (the server parses the stream)."""
        messages = list(requests)
        if _TRACE:
            for message in messages:
                log.debug("list %d -> %r", self.list_id, message)
        self.send_frames(frame_many([encode_message(m) for m in messages]))

    def send_frames(self, payload: bytes) -> None:
        """Send already framed requests in one write."""
        try:
            self._sock.settimeout(DEFAULT_CONNECT_TIMEOUT)
            self._sock.sendall(payload)
        except OSError as exc:
            self.alive = False
            raise DPMConnectionError(f"Sending to DPM failed: {exc}") from exc
        self.last_used = time.monotonic()

    def recv(self, deadline: float | None) -> Reply:
        """The next reply; ``TimeoutError`` when ``deadline`` (monotonic) passes first.

        EOF and socket errors raise :class:`DPMConnectionError`, a bad frame or body
        :class:`DPMProtocolError`; both mark the connection dead. A timeout does not.
        """
        if self._unread:
            return self.decode(self._unread.popleft())
        decoder = self._decoder
        while True:
            try:
                body = decoder.next_frame()
            except DPMProtocolError:
                self.alive = False
                raise
            if body is not None:
                return self.decode(body)
            self._fill(deadline)

    def recv_bodies(self, deadline: float | None) -> list[bytes]:
        """Every reply body received so far (at least one), undecoded: the bulk path.

        Errors as for :meth:`recv`. Bodies the caller does not consume go back
        with :meth:`unread`; decode the others with :meth:`decode` (or a fast lane).
        """
        if self._unread:
            bodies = list(self._unread)
            self._unread.clear()
            return bodies
        decoder = self._decoder
        while True:
            try:
                bodies = decoder.drain()
            except DPMProtocolError:
                self.alive = False
                raise
            if bodies:
                return bodies
            self._fill(deadline)

    def unread(self, bodies: Iterable[bytes]) -> None:
        """Put bodies from :meth:`recv_bodies` back; the next receive returns them first."""
        self._unread.extendleft(reversed(list(bodies)))

    def decode(self, body: bytes) -> Reply:
        """Decode one reply body (a bad body marks the connection dead)."""
        try:
            reply = decode_reply(body)
        except DPMProtocolError:
            self.alive = False
            raise
        if _TRACE:
            log.debug("list %d <- %r", self.list_id, reply)
        return reply

    def remember_device_info(self, body: bytes, ref_id: int, meta: DeviceMeta) -> None:
        """Keep a decoded DeviceInfo, so the same reply on a later read skips decoding."""
        if len(self.device_infos) >= _MAX_DEVICE_INFOS:
            self.device_infos.clear()
        self.device_infos[body] = (ref_id, meta)

    @property
    def tracing(self) -> bool:
        """True when ``PACSYS_DPM_TRACE`` asks for every message to be logged."""
        return _TRACE

    def _fill(self, deadline: float | None) -> None:
        """Receive once into the frame decoder."""
        if deadline is None:
            self._sock.settimeout(None)
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply from DPM before the deadline")
            self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise TimeoutError("no reply from DPM before the deadline") from None
        except OSError as exc:
            self.alive = False
            raise DPMConnectionError(f"DPM connection failed: {exc}") from exc
        if not data:
            self.alive = False
            pending = self._decoder.pending()
            if is_http_response(pending):
                line = pending.split(b"\n", 1)[0].decode("latin-1").strip()
                raise DPMConnectionError(f"DPM handshake rejected by proxy: {line}")
            raise DPMConnectionError("Connection closed by server")
        try:
            self._decoder.feed(data)
        except DPMProtocolError:
            self.alive = False
            raise

    def peer_closed(self) -> bool:
        """Non-blocking check of an idle connection: True when the server has closed it."""
        if not self.alive:
            return True
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            data = self._sock.recv(_RECV_SIZE)
        except (OSError, ValueError):
            self.alive = False
            return True
        if not data:
            self.alive = False
            return True
        try:
            self._decoder.feed(data)  # idle heartbeats; the next user skips them
        except DPMProtocolError:
            self.alive = False
            return True
        return False

    def interrupt(self) -> None:
        """Wake a thread blocked in :meth:`recv` on this connection (it then sees an error)."""
        self.alive = False
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Close the socket; idempotent."""
        self.alive = False
        try:
            self._sock.close()
        except OSError:
            pass

    def __repr__(self) -> str:
        host, port = self.address
        state = "alive" if self.alive else "dead"
        return f"<DPMConnection {host}:{port} list={self.list_id} {state}>"
