"""The client side of the acnetd protocol as a pure state machine.

See docs/protocols/acnet.md §3, §4.6 and §5.

Every API call validates its arguments and queues a :class:`Pending` command; the driver
sends :meth:`ClientEngine.next_command` when no command is in flight, feeds ACKs to
:meth:`~ClientEngine.receive_ack` and DATA units to :meth:`~ClientEngine.receive_data`,
and runs the :class:`Event` list each returns (replies to handlers, finished commands to
their waiters). No sockets, threads or clocks: time comes in as an argument.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any, NamedTuple

from pacsys.acnet.errors import AcnetError, AcnetUnavailableError
from pacsys.acnet.status import ACNET_DISCONNECTED, ACNET_ENDMULT, ACNET_NOT_CONNECTED
from pacsys_acnet import constants as c
from pacsys_acnet.codec import commands as cmd
from pacsys_acnet.codec.packet import AcnetPacket, AcnetReply, AcnetRequest, walk
from pacsys_acnet.codec.rad50 import check_name, decode_stripped

__all__ = ["ClientEngine", "Event", "OpenRequest", "Pending"]

Handler = Callable[[Any], Any]
MAX_BUFFERED_PER_ID = 16


class Event(NamedTuple):
    """Something the driver must do: ``kind`` is "reply", "request", "message", "cancel"
    (call ``handler(packet)``) or "done" (``packet`` is the finished :class:`Pending`)."""

    kind: str
    handler: Any
    packet: Any


class Pending:
    """One queued command: its bytes, how its ACK is read, and then its result or error.

    ``subject`` is what the command is about (the :class:`OpenRequest` of a SEND_REQUEST,
    the incoming request of a REQUEST_ACK); ``waiter`` is the driver's.
    """

    __slots__ = ("error", "finished", "op", "payload", "reader", "result", "subject", "waiter")

    def __init__(self, op: str, payload: bytes, reader: Callable[[bytes], Any]) -> None:
        self.op = op
        self.payload = payload
        self.reader = reader
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.subject: Any = None
        self.waiter: Any = None  # for the driver (a threading.Event, a callback, ...)

    def outcome(self) -> Any:
        """The result, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.result


class OpenRequest:
    """One of our outgoing requests while replies may still come."""

    __slots__ = ("cancelled", "handler", "multiple_reply", "node", "request_id", "task", "timeout")

    def __init__(
        self, node: int, task: str, handler: Handler, multiple_reply: bool, timeout: int
    ) -> None:
        self.node = node
        self.task = task
        self.handler = handler
        self.multiple_reply = multiple_reply
        self.timeout = timeout
        self.request_id = -1
        self.cancelled = False


def disconnected_reply(request_id: int) -> AcnetReply:
    """The final reply a request gets when the connection goes away (no bytes involved)."""
    return AcnetReply(c.ACNET_FLG_RPY, ACNET_DISCONNECTED, 0, 0, 0, 0, request_id, 18, b"")


class ClientEngine:
    """One connection to acnetd, without I/O. ``udp`` changes only the stale-reply rule."""

    def __init__(self, name: str = "", vnode: str = "", *, udp: bool = False) -> None:
        self.requested_name = name
        self.handle = check_name(name, "Task name", allow_empty=True)
        self.vnode = check_name(vnode, "Vnode name", allow_empty=True)
        self.udp = udp
        self.connected = False
        self.lost = False
        self.receiving = False
        self.request_handler: Handler | None = None
        self.message_handler: Handler | None = None
        self.cancel_handler: Handler | None = None
        self._queue: collections.deque[Pending] = collections.deque()
        self._inflight: Pending | None = None
        self._requests: dict[int, OpenRequest] = {}
        self._sending: OpenRequest | None = None  # a SEND_REQUEST awaiting its ACK
        self._early: dict[int, list[AcnetReply]] = {}
        self._incoming: dict[int, AcnetRequest] = {}
        self._keepalive_at: float | None = None

    # --- state ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return decode_stripped(self.handle) if self.handle else ""

    @property
    def busy(self) -> bool:
        """A command is in flight (its ACK not yet read)."""
        return self._inflight is not None

    @property
    def open_requests(self) -> dict[int, OpenRequest]:
        return dict(self._requests)

    # --- queueing commands ---------------------------------------------------------------

    def _queue_command(
        self, op: str, payload: bytes, reader: Callable[[bytes], Any], *, front: bool = False
    ) -> Pending:
        pending = Pending(op, payload, reader)
        if self.lost:
            pending.error = AcnetUnavailableError()
            pending.finished = True
            return pending
        if front:
            self._queue.appendleft(pending)
        else:
            self._queue.append(pending)
        return pending

    def _command(self, code: int, body: bytes = b"") -> bytes:
        return cmd.command(code, self.handle, self.vnode, body)

    def _simple(self, op: str, code: int, what: str, body: bytes = b"") -> Pending:
        return self._queue_command(
            op, self._command(code, body), lambda a: cmd.check_status(a, what)
        )

    def connect(self, pid: int = 0, data_port: int = 0) -> Pending:
        if self.connected:
            raise RuntimeError("already connected")
        payload = cmd.connect(self.handle, self.vnode, pid, data_port)

        def read(ack: bytes) -> None:
            self.handle = cmd.read_connect(ack)
            self.connected = True

        return self._queue_command("connect", payload, read)

    def disconnect(self) -> Pending:
        def read(ack: bytes) -> None:
            self.connected = False

        return self._queue_command("disconnect", self._command(c.CMD_DISCONNECT), read)

    def keepalive(self) -> Pending:
        return self._queue_command("keepalive", self._command(c.CMD_KEEPALIVE), lambda a: None)

    def rename_task(self, new_name: str) -> Pending:
        value = check_name(new_name, "Task name")

        def read(ack: bytes) -> None:
            cmd.check_status(ack, "RENAME_TASK failed")
            self.handle = value

        return self._queue_command(
            "rename_task", cmd.with_name(c.CMD_RENAME_TASK, self.handle, self.vnode, value), read
        )

    def send_message(self, node: int, task: str, data: bytes) -> Pending:
        payload = cmd.send_message(
            self.handle, self.vnode, check_name(task, "Task name"), node, bytes(data)
        )
        return self._queue_command(
            "send_message", payload, lambda a: cmd.check_status(a, "SEND_MESSAGE failed") and None
        )

    def send_request(
        self,
        node: int,
        task: str,
        data: bytes,
        handler: Handler,
        multiple_reply: bool = False,
        timeout: int = c.DEFAULT_TIMEOUT,
    ) -> Pending:
        """Queue SEND_REQUEST_TIMEOUT; the result is the :class:`OpenRequest` (id set)."""
        value = check_name(task, "Task name")
        wire_timeout = timeout if timeout > 0 else c.INFINITE_TIMEOUT
        payload = cmd.send_request(
            self.handle, self.vnode, value, node, multiple_reply, wire_timeout, bytes(data)
        )
        request = OpenRequest(node, task.upper(), handler, multiple_reply, timeout)

        def read(ack: bytes) -> OpenRequest:
            request.request_id = cmd.read_send_request(ack, task)
            return request

        pending = self._queue_command("send_request", payload, read)
        pending.subject = request
        return pending

    def cancel(self, request: OpenRequest) -> Pending | None:
        """Stop a request; sends CANCEL only while it is open (errors are ignored).

        Before its ACK (id unknown) the request is only marked: the ACK then sends CANCEL.
        """
        request.cancelled = True
        if self._requests.get(request.request_id) is not request:
            return None
        del self._requests[request.request_id]
        payload = cmd.with_u16(c.CMD_CANCEL, self.handle, self.vnode, request.request_id)
        return self._queue_command("cancel", payload, lambda a: None)

    def receive_requests(self) -> Pending | None:
        """RECEIVE_REQUESTS, once per connection (None when already sent)."""
        if self.receiving:
            return None

        def read(ack: bytes) -> None:
            cmd.check_status(ack, "RECEIVE_REQUESTS failed")

        self.receiving = True
        return self._queue_command("receive_requests", self._command(c.CMD_RECEIVE_REQUESTS), read)

    def block_requests(self) -> Pending:
        self.receiving = False
        return self._simple("block_requests", c.CMD_BLOCK_REQUESTS, "BLOCK_REQUESTS failed")

    def request_ack(self, reply_id: int) -> Pending:
        payload = cmd.with_u16(c.CMD_REQUEST_ACK, self.handle, self.vnode, reply_id)
        return self._queue_command(
            "request_ack", payload, lambda a: cmd.check_status(a, "REQUEST_ACK failed") and None
        )

    def send_reply(
        self, request: AcnetRequest, data: bytes, status: int = 0, last: bool = True
    ) -> Pending:
        if request.cancelled:
            raise AcnetError(ACNET_NOT_CONNECTED, "Request was cancelled")
        final = last or not request.multiple_reply
        payload = cmd.send_reply(
            self.handle, self.vnode, request.reply_id, last, status, bytes(data)
        )
        if final:
            self._finish_incoming(request)
        return self._queue_command(
            "send_reply", payload, lambda a: cmd.check_status(a, "SEND_REPLY failed") and None
        )

    def ignore_request(self, request: AcnetRequest) -> Pending | None:
        if request.cancelled:
            return None
        self._finish_incoming(request)
        payload = cmd.with_u16(c.CMD_IGNORE_REQUEST, self.handle, self.vnode, request.reply_id)
        return self._queue_command(
            "ignore_request",
            payload,
            lambda a: cmd.check_status(a, "IGNORE_REQUEST failed") and None,
        )

    def _finish_incoming(self, request: AcnetRequest) -> None:
        request.cancel()
        if self._incoming.get(request.reply_id) is request:
            del self._incoming[request.reply_id]

    def get_node(self, name: str) -> Pending:
        value = check_name(name, "Node name")
        payload = cmd.with_name(c.CMD_NAME_LOOKUP, self.handle, self.vnode, value)
        return self._queue_command(
            "get_node", payload, lambda a: cmd.read_name_lookup(a, f"GET_NODE failed for {name}")
        )

    def get_name(self, node: int) -> Pending:
        payload = cmd.with_u16(c.CMD_NODE_LOOKUP, self.handle, self.vnode, cmd._u16(node, "node"))
        return self._queue_command(
            "get_name",
            payload,
            lambda a: decode_stripped(cmd.read_node_lookup(a, f"GET_NAME failed for node {node}")),
        )

    def get_local_node(self) -> Pending:
        return self._queue_command(
            "get_local_node",
            self._command(c.CMD_LOCAL_NODE),
            lambda a: cmd.read_name_lookup(a, "GET_LOCAL_NODE failed"),
        )

    def get_default_node(self) -> Pending:
        return self._queue_command(
            "get_default_node",
            self._command(c.CMD_DEFAULT_NODE),
            lambda a: cmd.read_name_lookup(a, "GET_DEFAULT_NODE failed"),
        )

    def get_task_pid(self, task: str) -> Pending:
        payload = cmd.with_name(
            c.CMD_TASK_PID, self.handle, self.vnode, check_name(task, "Task name")
        )
        return self._queue_command(
            "get_task_pid",
            payload,
            lambda a: cmd.read_task_pid(a, f"GET_TASK_PID failed for '{task}'"),
        )

    def get_node_stats(self) -> Pending:
        return self._queue_command(
            "get_node_stats", self._command(c.CMD_NODE_STATS), cmd.read_node_stats
        )

    def disconnect_single(self) -> Pending:
        def read(ack: bytes) -> None:
            cmd.check_status(ack, "DISCONNECT_SINGLE failed")
            self.connected = False

        return self._queue_command(
            "disconnect_single", self._command(c.CMD_DISCONNECT_SINGLE), read
        )

    # --- keepalive -----------------------------------------------------------------------

    def poll(self, now: float) -> float | None:
        """Queue a KEEPALIVE when one is due; returns when the next one is (None: never)."""
        if not self.connected or self.lost:
            self._keepalive_at = None
            return None
        if self._keepalive_at is None:
            self._keepalive_at = now + c.KEEPALIVE_INTERVAL
        elif now >= self._keepalive_at:
            self.keepalive()
            self._keepalive_at = now + c.KEEPALIVE_INTERVAL
        return self._keepalive_at

    # --- I/O -----------------------------------------------------------------------------

    def next_command(self) -> bytes | None:
        """The next command's bytes when none is in flight (then it is), else None."""
        if self._inflight is not None or not self._queue or self.lost:
            return None
        pending = self._queue.popleft()
        self._inflight = pending
        if pending.op == "send_request":
            self._early.clear()
            self._sending = pending  # type: ignore[assignment]
        return pending.payload

    def receive_ack(self, payload: bytes) -> list[Event]:
        """The ACK of the command in flight (an ACK with none in flight is dropped)."""
        pending = self._inflight
        if pending is None:
            return []
        self._inflight = None
        events: list[Event] = []
        try:
            pending.result = pending.reader(bytes(payload))
        except (AcnetError, ValueError) as exc:
            pending.error = exc
        pending.finished = True
        if pending.op == "send_request":
            self._sending = None
            early = self._early
            self._early = {}
            request = pending.result if pending.error is None else None
            if isinstance(request, OpenRequest) and request.cancelled:  # before its ACK
                payload = cmd.with_u16(c.CMD_CANCEL, self.handle, self.vnode, request.request_id)
                self._queue_command("cancel", payload, lambda a: None, front=True)
            elif isinstance(request, OpenRequest):
                self._requests[request.request_id] = request
                if self.udp:  # no ordering between the two UDP sockets: these are ours
                    for reply in early.get(request.request_id, ()):
                        self._route_reply(reply, events)
        elif pending.op == "incoming_request":
            events.extend(self._request_acknowledged(pending))
            return events
        events.append(Event("done", None, pending))
        return events

    def receive_data(self, payload: bytes) -> list[Event]:
        """Dispatch the packets of one DATA unit (or UDP data datagram)."""
        events: list[Event] = []
        for packet in walk(payload):
            self._dispatch(packet, events)
        return events

    def _dispatch(self, packet: AcnetPacket, events: list[Event]) -> None:
        if packet.is_reply():
            self._route_reply(packet, events)  # type: ignore[arg-type]
        elif packet.is_request():
            self._incoming_request(packet, events)  # type: ignore[arg-type]
        elif packet.is_message():
            if self.message_handler is not None:
                events.append(Event("message", self.message_handler, packet))
        elif packet.is_cancel():
            request = self._incoming.pop(packet.reply_id, None)  # type: ignore[attr-defined]
            if request is not None:
                request.cancel()
            if self.cancel_handler is not None:
                events.append(Event("cancel", self.cancel_handler, packet))

    def _route_reply(self, reply: AcnetReply, events: list[Event]) -> None:
        request = self._requests.get(reply.id)
        if request is None:
            if self._sending is not None:  # perhaps the answer to the SEND_REQUEST in flight
                bucket = self._early.setdefault(reply.id, [])
                bucket.append(reply)
                del bucket[:-MAX_BUFFERED_PER_ID]
            return
        if not reply.flags & c.ACNET_FLG_MLT:
            del self._requests[reply.id]
            request.cancelled = True  # finished: nothing left to cancel
        events.append(Event("reply", request.handler, reply))

    def _incoming_request(self, request: AcnetRequest, events: list[Event]) -> None:
        self._incoming[request.reply_id] = request
        payload = cmd.with_u16(c.CMD_REQUEST_ACK, self.handle, self.vnode, request.reply_id)

        def read(ack: bytes) -> AcnetRequest:
            cmd.check_status(ack, "REQUEST_ACK failed")
            return request

        pending = self._queue_command("incoming_request", payload, read)
        pending.subject = request

    def _request_acknowledged(self, pending: Pending) -> list[Event]:
        """After an incoming request's REQUEST_ACK: hand it to the handler, or end it."""
        request: AcnetRequest = pending.subject
        if pending.error is not None or request.cancelled:
            return []
        if self.request_handler is None:
            self.send_reply(request, b"", ACNET_ENDMULT, last=True)
            return []
        return [Event("request", self.request_handler, request)]

    def connection_lost(self) -> list[Event]:
        """The transport is gone: every command fails, every open request gets its last reply."""
        events: list[Event] = []
        if self.lost:
            return events
        self.lost = True
        self.connected = False
        pendings = ([self._inflight] if self._inflight is not None else []) + list(self._queue)
        self._inflight = None
        self._queue.clear()
        for pending in pendings:
            pending.error = AcnetUnavailableError()
            pending.finished = True
            if pending.op != "incoming_request":
                events.append(Event("done", None, pending))
        events.extend(self._end_requests())
        return events

    closed = connection_lost  # after our own DISCONNECT the state ends the same way

    def _end_requests(self) -> list[Event]:
        requests = list(self._requests.values())
        self._requests.clear()
        for request in requests:
            request.cancelled = True
        for incoming in self._incoming.values():
            incoming.cancel()
        self._incoming.clear()
        return [Event("reply", r.handler, disconnected_reply(r.request_id)) for r in requests]
