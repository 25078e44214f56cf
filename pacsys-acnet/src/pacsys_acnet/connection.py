"""Sync connections to acnetd over TCP (the acsys-proxy bridge) and UDP (a local daemon).

Thin drivers around :class:`~pacsys_acnet.protocol.ClientEngine`, see
docs/protocols/acnet.md §1 and §11: one reader thread per connection moves bytes into the
engine, sends the next queued command, and calls handlers. Handlers run on that thread,
never concurrently; blocking methods refuse to run there (RuntimeError): they would wait on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pacsys.acnet.errors import AcnetUnavailableError
from pacsys_acnet import constants as c
from pacsys_acnet.codec.commands import NodeStats
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.codec.packet import AcnetRequest
from pacsys_acnet.protocol import ClientEngine, Event, OpenRequest, Pending

__all__ = ["AcnetConnectionTCP", "AcnetConnectionUDP", "AcnetRequestContext"]

log = logging.getLogger("pacsys_acnet.connection")
CALL_LIMIT = 10.0  # s, the sync API's bound per call


class AcnetRequestContext:
    """One outgoing request: its id, and :meth:`cancel` (fire-and-forget)."""

    def __init__(self, connection: _Connection, request: OpenRequest) -> None:
        self._connection = connection
        self._request = request

    request_id = property(lambda self: self._request.request_id)
    multiple_reply = property(lambda self: self._request.multiple_reply)
    timeout = property(lambda self: self._request.timeout)
    task = property(lambda self: self._request.task)
    node = property(lambda self: self._request.node)
    reply_handler = property(lambda self: self._request.handler)

    @property
    def cancelled(self) -> bool:
        return self._request.cancelled

    def cancel(self) -> None:
        """Stop the replies; sends CANCEL only while the request is open. Never blocks."""
        self._connection._cancel(self._request)

    def __repr__(self) -> str:
        return f"AcnetRequestContext(id={self.request_id}, task={self.task!r}, node={self.node})"


class _Connection:
    """What TCP and UDP share: the engine, the lock around it, the reader thread."""

    _udp = False

    def __init__(
        self, host: str, port: int, name: str = "", *, vnode: str = "", trace: bool = False
    ) -> None:
        self._engine = ClientEngine(name, vnode, udp=self._udp)
        self._name, self._vnode = name, vnode
        self._host, self._port = host, port
        self._trace = trace
        self._lock = threading.RLock()
        self._reader: threading.Thread | None = None
        self._stop = False

    # --- properties --------------------------------------------------------------------

    name = property(lambda self: self._engine.requested_name)
    handle = property(lambda self: self._engine.name)
    raw_handle = property(lambda self: self._engine.handle)
    host = property(lambda self: self._host)
    port = property(lambda self: self._port)

    @property
    def connected(self) -> bool:
        return self._engine.connected

    # --- transport hooks (subclasses) ----------------------------------------------------

    def _open(self) -> tuple[int, int]:
        raise NotImplementedError

    def _send(self, raw: bytes) -> None:
        raise NotImplementedError

    def _read(self, timeout: float) -> list[Event] | None:
        """Events from what arrived within ``timeout`` ([] when nothing), None at EOF/error."""
        raise NotImplementedError

    def _shut(self) -> None:
        raise NotImplementedError

    # --- the engine pump -----------------------------------------------------------------

    def _pump(self) -> None:
        """Send queued commands while none is in flight (call with the lock held)."""
        while (raw := self._engine.next_command()) is not None:
            try:
                self._send(raw)
            except OSError:
                self._handle(self._engine.connection_lost())
                return

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if event.kind == "done":
                waiter = event.packet.waiter
                if isinstance(waiter, threading.Event):
                    waiter.set()
            else:
                try:
                    event.handler(event.packet)
                except Exception:
                    log.exception("ACNET %s handler failed", event.kind)

    def _submit(self, make: Callable[[], Pending | None]) -> Pending | None:
        with self._lock:
            pending = make()
            if pending is not None and not pending.finished:
                pending.waiter = threading.Event()
            self._pump()
        return pending

    def _call(self, make: Callable[[], Pending | None], timeout: float = c.ACK_TIMEOUT) -> Any:
        if threading.current_thread() is self._reader:
            raise RuntimeError("blocking ACNET calls cannot be made from a handler")
        pending = self._submit(make)
        if pending is None:
            return None
        if not pending.finished and not pending.waiter.wait(timeout):
            log.warning("no ACK for %s within %.1f s: closing the connection", pending.op, timeout)
            self._lose()
        return pending.outcome()

    def _lose(self) -> None:
        with self._lock:
            events = self._engine.connection_lost()
        self._shut()
        self._handle(events)

    def _run(self) -> None:
        while not self._stop:
            with self._lock:
                due = self._engine.poll(time.monotonic())
                self._pump()
            wait = 1.0 if due is None else max(0.0, min(1.0, due - time.monotonic()))
            events = self._read(wait)
            if events is None:
                if not self._stop:
                    log.warning("Connection closed by remote")
                    self._lose()
                return
            self._handle(events)
            if events:
                with self._lock:
                    self._pump()

    # --- public API ----------------------------------------------------------------------

    def connect(self) -> None:
        """Open the transport, start reading, and CONNECT; closes everything on failure."""
        if self._engine.connected:
            raise RuntimeError("already connected")
        if self._engine.lost:  # a closed connection is never reused
            self._engine = ClientEngine(self._name, self._vnode, udp=self._udp)
        self._stop = False
        pid, port = self._open()
        self._reader = threading.Thread(target=self._run, name="pacsys-acnet-reader", daemon=True)
        self._reader.start()
        try:
            self._call(lambda: self._engine.connect(pid, port))
        except BaseException:
            self._close_transport()
            raise

    def _close_transport(self) -> None:
        self._stop = True
        with self._lock:
            events = self._engine.closed()
        self._shut()
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(5.0)
        self._reader = None
        self._handle(events)

    def close(self) -> None:
        """DISCONNECT when connected (0.5 s for its ACK), end every open request, close."""
        if self._engine.connected and not self._engine.lost:
            with contextlib.suppress(Exception):
                self._call(self._engine.disconnect, c.CLOSE_ACK_TIMEOUT)
        self._close_transport()

    def __enter__(self) -> _Connection:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_request(
        self,
        node: int,
        task: str,
        data: bytes,
        reply_handler: Callable[[Any], Any],
        multiple_reply: bool = False,
        timeout: int = c.DEFAULT_TIMEOUT,
    ) -> AcnetRequestContext:
        request = self._call(
            lambda: self._engine.send_request(
                node, task, data, reply_handler, multiple_reply, timeout
            )
        )
        return AcnetRequestContext(self, request)

    def request_single(
        self,
        node: int,
        task: str,
        data: bytes,
        reply_handler: Callable[[Any], Any],
        timeout: int = c.DEFAULT_TIMEOUT,
    ) -> AcnetRequestContext:
        return self.send_request(node, task, data, reply_handler, False, timeout)

    def request_multiple(
        self,
        node: int,
        task: str,
        data: bytes,
        reply_handler: Callable[[Any], Any],
        timeout: int = 0,
    ) -> AcnetRequestContext:
        return self.send_request(node, task, data, reply_handler, True, timeout)

    def _cancel(self, request: OpenRequest) -> None:
        self._submit(lambda: self._engine.cancel(request))

    def get_node(self, name: str) -> int:
        return self._call(lambda: self._engine.get_node(name))

    def get_name(self, node: int) -> str:
        return self._call(lambda: self._engine.get_name(node))

    def get_local_node(self) -> int:
        return self._call(self._engine.get_local_node)

    def get_default_node(self) -> int:
        return self._call(self._engine.get_default_node)

    def rename_task(self, new_name: str) -> None:
        self._call(lambda: self._engine.rename_task(new_name))

    def send_message(self, node: int, task: str, data: bytes) -> None:
        self._call(lambda: self._engine.send_message(node, task, data))

    def handle_messages(self, handler: Callable[[Any], Any]) -> None:
        self._engine.message_handler = handler
        self._call(self._engine.receive_requests)

    def handle_requests(self, handler: Callable[[AcnetRequest], Any]) -> None:
        self._engine.request_handler = handler
        self._call(self._engine.receive_requests)

    def handle_cancels(self, handler: Callable[[Any], Any]) -> None:
        self._engine.cancel_handler = handler

    def send_reply(
        self, request: AcnetRequest, data: bytes, status: int = 0, last: bool = True
    ) -> None:
        """Answer an incoming request; from a handler it is queued without waiting."""
        if threading.current_thread() is self._reader:
            self._submit(lambda: self._engine.send_reply(request, data, status, last))
            return
        self._call(lambda: self._engine.send_reply(request, data, status, last))

    def ignore_request(self, request: AcnetRequest) -> None:
        if threading.current_thread() is self._reader:
            self._submit(lambda: self._engine.ignore_request(request))
            return
        self._call(lambda: self._engine.ignore_request(request))

    def get_node_stats(self) -> NodeStats:
        return self._call(self._engine.get_node_stats)

    def get_task_pid(self, task: str) -> int:
        return self._call(lambda: self._engine.get_task_pid(task))

    def disconnect_single(self) -> None:
        self._call(self._engine.disconnect_single)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"{type(self).__name__}({self._host}:{self._port}, {self.handle or '-'}, {state})"


class AcnetConnectionTCP(_Connection):
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


class AcnetConnectionUDP(_Connection):
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
        try:
            data = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2097152)
            data.connect(("127.0.0.1", self._port))
            cmd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            cmd.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 262144)
            cmd.connect(("127.0.0.1", self._port))
        except OSError as exc:
            raise AcnetUnavailableError() from exc
        self._data, self._cmd = data, cmd
        return os.getpid(), data.getsockname()[1]

    def _send(self, raw: bytes) -> None:
        if self._cmd is None:
            raise OSError("not connected")
        self._cmd.send(raw)

    def _read(self, timeout: float) -> list[Event] | None:
        socks = [s for s in (self._cmd, self._data) if s is not None]
        if len(socks) < 2:
            return None
        try:
            ready, _, _ = select.select(socks, [], [], timeout)
            received = [(s is self._cmd, s.recv(65536)) for s in ready]
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
                sock.close()
        self._data = self._cmd = None
