"""Sync connections to acnetd over TCP (the acsys-proxy bridge) and UDP (a local daemon).

Thin drivers of :class:`~pacsys_acnet.base.SyncConnection`, see
docs/protocols/acnet.md §1 and §11: one reader thread per connection moves bytes into the
engine, sends the next queued command, runs the keepalive and calls handlers. Handlers run
on that thread, never concurrently; blocking methods refuse to run there (RuntimeError):
they would wait on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time

from pacsys.acnet.errors import AcnetUnavailableError
from pacsys_acnet import constants as c
from pacsys_acnet.base import AcnetRequestContext, SyncConnection
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.protocol import Event, Pending

__all__ = ["AcnetConnectionTCP", "AcnetConnectionUDP", "AcnetRequestContext"]

log = logging.getLogger("pacsys_acnet.connection")


class _Threaded(SyncConnection):
    """A reader thread per connection; callers wait on a threading.Event per command."""

    def __init__(
        self, host: str, port: int, name: str = "", *, vnode: str = "", trace: bool = False
    ) -> None:
        super().__init__(host, port, name, vnode=vnode, trace=trace)
        self._reader: threading.Thread | None = None
        self._stopping = False

    def _open(self) -> tuple[int, int]:
        raise NotImplementedError

    def _read(self, timeout: float) -> list[Event] | None:
        """Events from what arrived within ``timeout`` ([] when nothing), None at EOF/error."""
        raise NotImplementedError

    def _shut(self) -> None:
        raise NotImplementedError

    def _start(self) -> tuple[int, int]:
        self._stopping = False
        ids = self._open()
        self._reader = threading.Thread(target=self._run, name="pacsys-acnet-reader", daemon=True)
        self._reader.start()
        return ids

    def _stop(self) -> None:
        self._stopping = True
        self._shut()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            reader.join(5.0)

    def _wait(self, pending: Pending, timeout: float) -> bool:
        return bool(pending.waiter.wait(timeout))

    def _in_handler(self) -> bool:
        return threading.current_thread() is self._reader

    def _run(self) -> None:
        while not self._stopping:
            with self._lock:
                due = self._engine.poll(time.monotonic())
            self._pump()
            wait = 1.0 if due is None else max(0.0, min(1.0, due - time.monotonic()))
            events = self._read(wait)
            if events is None:
                if not self._stopping:
                    log.warning("Connection closed by remote")
                    self._lose()
                return
            if events:
                self._received(events)


class AcnetConnectionTCP(_Threaded):
    """acnetd through the TCP bridge (acsys-proxy's ``RAW`` mode)."""

    def __init__(
        self,
        host: str = c.ACSYS_PROXY_HOST,
        port: int = c.ACNET_TCP_PORT,
        name: str = "",
        *,
        vnode: str = "",
        trace: bool = False,
    ) -> None:
        super().__init__(host, port, name, vnode=vnode, trace=trace)
        self._sock: socket.socket | None = None
        self._decoder = FrameDecoder()

    def _open(self) -> tuple[int, int]:
        try:
            sock = socket.create_connection((self._host, self._port), timeout=c.CONNECT_TIMEOUT)
        except OSError as exc:
            raise AcnetUnavailableError() from exc
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 262144)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2097152)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        sock.sendall(c.TCP_HANDSHAKE)
        self._sock = sock
        self._decoder = FrameDecoder()
        return 0, 0

    def _send(self, raw: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise OSError("not connected")
        sock.sendall(frame(c.ACNETD_COMMAND, raw))

    def _read(self, timeout: float) -> list[Event] | None:
        sock = self._sock
        if sock is None:
            return None
        try:
            ready, _, _ = select.select([sock], [], [], timeout)
            if not ready:
                return []
            data = sock.recv(1 << 20)
        except (OSError, ValueError):
            return None
        if not data:
            return None
        events: list[Event] = []
        with self._lock:
            for kind, payload in self._decoder.feed(data):
                if kind == c.ACNETD_ACK:
                    events.extend(self._engine.receive_ack(payload))
                elif kind == c.ACNETD_DATA:
                    events.extend(self._engine.receive_data(payload))
                elif kind != c.TCP_CLIENT_PING:
                    log.warning("unknown TCP frame type %d dropped", kind)
        if self._decoder.error is not None:
            log.error("%s", self._decoder.error)
            self._handle(events)
            return None
        return events

    def _shut(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class AcnetConnectionUDP(_Threaded):
    """A local acnetd over UDP: a data socket (announced in CONNECT) and a command socket."""

    _udp = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = c.ACNET_CLIENT_PORT,
        name: str = "",
        *,
        vnode: str = "",
        trace: bool = False,
    ) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError(f"UDP connections reach only a local acnetd (127.0.0.1), not {host!r}")
        super().__init__(host, port, name, vnode=vnode, trace=trace)
        self._data: socket.socket | None = None
        self._cmd: socket.socket | None = None

    def _open(self) -> tuple[int, int]:
        socks: list[socket.socket] = []
        try:
            for size_option, size in ((socket.SO_RCVBUF, 2097152), (socket.SO_SNDBUF, 262144)):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, size_option, size)
                sock.connect(("127.0.0.1", self._port))
        except OSError as exc:
            for sock in socks:
                sock.close()
            raise AcnetUnavailableError() from exc
        self._data, self._cmd = socks
        return os.getpid(), self._data.getsockname()[1]

    def _send(self, raw: bytes) -> None:
        if self._cmd is None:
            raise OSError("not connected")
        self._cmd.send(raw)

    def _read(self, timeout: float) -> list[Event] | None:
        cmd, data = self._cmd, self._data
        if cmd is None or data is None:
            return None
        try:
            ready, _, _ = select.select([cmd, data], [], [], timeout)
            received = [(s is cmd, s.recv(65536)) for s in ready]
        except (OSError, ValueError):
            return None
        events: list[Event] = []
        with self._lock:
            for is_ack, payload in received:
                if is_ack:
                    events.extend(self._engine.receive_ack(payload))
                else:
                    events.extend(self._engine.receive_data(payload))
        return events

    def _shut(self) -> None:
        for sock in (self._data, self._cmd):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's select()
                sock.close()
        self._data = self._cmd = None
