"""The sync connection API on the client engine, whatever carries the bytes.

docs/protocols/acnet.md §11. :class:`SyncConnection` is every public method of
``AcnetConnectionTCP``/``AcnetConnectionUDP`` written once against
:class:`~pacsys_acnet.protocol.ClientEngine`; a driver only says how commands go out, how
a caller waits for their ACK and how the transport opens and closes (the socket drivers in
:mod:`pacsys_acnet.connection`, the in-memory one in :mod:`pacsys_acnet.memory`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from pacsys_acnet import constants as c
from pacsys_acnet.codec.commands import NodeStats
from pacsys_acnet.codec.packet import AcnetRequest
from pacsys_acnet.protocol import ClientEngine, Event, OpenRequest, Pending

__all__ = ["AcnetRequestContext", "SyncConnection"]

log = logging.getLogger("pacsys_acnet.connection")
Make = Callable[[], Pending | None]


class AcnetRequestContext:
    """One outgoing request: its id, and :meth:`cancel` (fire-and-forget)."""

    def __init__(self, connection: SyncConnection, request: OpenRequest) -> None:
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
        self._connection._submit(lambda: self._connection._engine.cancel(self._request))

    def __repr__(self) -> str:
        return f"AcnetRequestContext(id={self.request_id}, task={self.task!r}, node={self.node})"


class SyncConnection:
    """One task's connection to acnetd. Handlers run one at a time, on the driver's thread."""

    _udp = False

    def __init__(
        self, host: str, port: int, name: str = "", *, vnode: str = "", trace: bool = False
    ) -> None:
        self._engine = ClientEngine(name, vnode, udp=self._udp)
        self._name, self._vnode = name, vnode
        self._host, self._port = host, port
        self._trace = trace
        self._lock = threading.RLock()  # around the engine

    name = property(lambda self: self._engine.requested_name)
    handle = property(lambda self: self._engine.name)
    raw_handle = property(lambda self: self._engine.handle)
    host = property(lambda self: self._host)
    port = property(lambda self: self._port)

    @property
    def connected(self) -> bool:
        return self._engine.connected

    # --- what a driver provides --------------------------------------------------------

    def _start(self) -> tuple[int, int]:
        """Open the transport and start reading; ``(pid, data port)`` for CONNECT."""
        raise NotImplementedError

    def _stop(self) -> None:
        """Close the transport and stop reading (idempotent)."""
        raise NotImplementedError

    def _send(self, raw: bytes) -> None:
        """Put one command on the wire (OSError when the transport is gone)."""
        raise NotImplementedError

    def _wait(self, pending: Pending, timeout: float) -> bool:
        """Wait until ``pending`` is finished; False when ``timeout`` passed first."""
        raise NotImplementedError

    def _in_handler(self) -> bool:
        """True on the thread that runs handlers (blocking calls would wait on it)."""
        return False

    # --- the engine pump ---------------------------------------------------------------

    def _pump(self) -> None:
        """Send queued commands while none is in flight."""
        with self._lock:
            while (raw := self._engine.next_command()) is not None:
                if self._trace:
                    log.debug("%s -> %s", self, raw.hex())
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
                elif waiter is not None:
                    waiter(event.packet)
                continue
            try:
                event.handler(event.packet)
            except Exception:
                log.exception("ACNET %s handler failed", event.kind)

    def _received(self, events: list[Event]) -> None:
        """Run what arriving bytes caused, then send what they made ready to go."""
        self._handle(events)
        self._pump()

    def _submit(self, make: Make) -> Pending | None:
        with self._lock:
            pending = make()
            if pending is not None and not pending.finished:
                pending.waiter = threading.Event()
        self._pump()
        return pending

    def _call(self, make: Make, timeout: float = c.ACK_TIMEOUT) -> Any:
        if self._in_handler():
            raise RuntimeError("blocking ACNET calls cannot be made from a handler")
        pending = self._submit(make)
        if pending is None:
            return None
        if not pending.finished and not self._wait(pending, timeout):
            log.warning("no ACK for %s within %.1f s: closing the connection", pending.op, timeout)
            self._lose()
        return pending.outcome()

    def _lose(self) -> None:
        """The transport failed: every command fails, every open request gets its end."""
        with self._lock:
            events = self._engine.connection_lost()
        self._stop()
        self._handle(events)

    # --- public API --------------------------------------------------------------------

    def connect(self) -> None:
        """Open the transport, start reading, and CONNECT; closes everything on failure."""
        if self._engine.connected:
            raise RuntimeError("already connected")
        if self._engine.lost:  # a closed connection is never reused
            self._engine = ClientEngine(self._name, self._vnode, udp=self._udp)
        pid, port = self._start()
        try:
            self._call(lambda: self._engine.connect(pid, port))
        except BaseException:
            self._shutdown()
            raise

    def _shutdown(self) -> None:
        self._stop()
        with self._lock:
            events = self._engine.closed()
        self._handle(events)

    def close(self) -> None:
        """DISCONNECT when connected (0.5 s for its ACK), end every open request, close."""
        if self._engine.connected and not self._engine.lost:
            with contextlib.suppress(Exception):
                self._call(self._engine.disconnect, c.CLOSE_ACK_TIMEOUT)
        self._shutdown()

    def __enter__(self) -> SyncConnection:
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

    def start_request(
        self,
        node: int,
        task: str,
        data: bytes,
        reply_handler: Callable[[Any], Any],
        multiple_reply: bool = False,
        timeout: int = c.DEFAULT_TIMEOUT,
        on_ack: Callable[[Pending], Any] | None = None,
    ) -> AcnetRequestContext:
        """:meth:`send_request` without waiting for the ACK (never blocks).

        ``on_ack(pending)`` runs on the handlers' thread when the ACK came (``pending.error``
        says if the request failed); replies reach ``reply_handler`` after it. The context's
        ``request_id`` is -1 until then; cancelling earlier sends CANCEL right after the ACK.
        """
        with self._lock:
            pending = self._engine.send_request(
                node, task, data, reply_handler, multiple_reply, timeout
            )
            pending.waiter = on_ack
        if not pending.finished:
            self._pump()
        elif on_ack is not None:
            on_ack(pending)  # the connection was already lost: no ACK will come
        return AcnetRequestContext(self, pending.subject)

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
        self._reply(lambda: self._engine.send_reply(request, data, status, last))

    def ignore_request(self, request: AcnetRequest) -> None:
        self._reply(lambda: self._engine.ignore_request(request))

    def _reply(self, make: Make) -> None:
        if self._in_handler():
            self._submit(make)
        else:
            self._call(make)

    def get_node_stats(self) -> NodeStats:
        return self._call(self._engine.get_node_stats)

    def get_task_pid(self, task: str) -> int:
        return self._call(lambda: self._engine.get_task_pid(task))

    def disconnect_single(self) -> None:
        self._call(self._engine.disconnect_single)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"{type(self).__name__}({self._host}:{self._port}, {self.handle or '-'}, {state})"
