"""acnetd's side of the client protocol as a pure state machine.

See docs/protocols/acnet.md §3 to §5 and §12. Clients (TCP bridge connections, UDP command
sockets) attach under a key the driver chooses; each command gets exactly one ACK, in
order; requests are routed by node and task to a client task that receives requests or to
a task the driver serves itself (RETDAT, FTPMAN, DPMD, ...). The engine only queues
:class:`Out` items: the driver writes "ack" and "data" items to the client they name and
hands "serve" and "cancel" items to its services, in order. Time comes in as an argument:
:meth:`DaemonEngine.poll` ends idle single-reply requests (REQTMO) and sends the PEND
heartbeats of idle multiple-reply requests.
"""

from __future__ import annotations

import heapq
import itertools
import struct
from collections.abc import Callable, Hashable, Mapping

from pacsys.acnet import status as st
from pacsys_acnet import constants as c
from pacsys_acnet.codec import commands as cmd
from pacsys_acnet.codec.packet import encode_packet
from pacsys_acnet.codec.rad50 import decode_stripped, encode
from pacsys_acnet.protocol.tasks import DaemonRequest, Out, Task

__all__ = ["DaemonEngine", "DaemonRequest", "Out"]

DEFAULT_REQUEST_TIMEOUT = 390_000  # ms, acnetd's for SEND_REQUEST without a timeout
_MIN_BODY = {
    c.CMD_CONNECT: 6,
    c.CMD_RENAME_TASK: 4,
    c.CMD_SEND: 6,
    c.CMD_SEND_REQUEST: 8,
    c.CMD_SEND_REPLY: 6,
    c.CMD_CANCEL: 2,
    c.CMD_REQUEST_ACK: 2,
    c.CMD_NAME_LOOKUP: 4,
    c.CMD_NODE_LOOKUP: 2,
    c.CMD_TASK_PID: 4,
    c.CMD_SEND_REQUEST_TIMEOUT: 12,
    c.CMD_IGNORE_REQUEST: 2,
}


def _i16(value: int) -> int:
    """A 16-bit id carried in a signed field (the reply id in a packet's status)."""
    return value - 0x10000 if value >= 0x8000 else value


class DaemonEngine:
    """acnetd for the clients attached to it, without I/O.

    ``nodes`` maps node names to addresses; ``local`` names the node this daemon is (client
    tasks live there). :meth:`serve` declares the tasks the driver answers itself.
    """

    def __init__(self, nodes: Mapping[str, int], local: str) -> None:
        self.nodes = {name.upper(): node for name, node in nodes.items()}
        self.local_node = self.nodes[local.upper()]
        self._names = {node: encode(name) for name, node in self.nodes.items()}
        self._served: set[tuple[int, int]] = set()
        self._clients: dict[Hashable, Task] = {}
        self._incoming: dict[int, DaemonRequest] = {}
        self._request_ids = itertools.cycle(range(1, 0x10000))
        self._reply_ids = itertools.cycle(range(1, 0x10000))
        self._task_ids = itertools.cycle(range(1, 0x100))
        self._timers: list[tuple[float, int, DaemonRequest]] = []
        self._order = itertools.count()
        self._out: list[Out] = []
        self.stats = [0] * 7  # NodeStats order
        self._commands: dict[int, Callable[[Task, bytes, float], None]] = {
            c.CMD_KEEPALIVE: self._ok,
            c.CMD_RENAME_TASK: self._rename,
            c.CMD_DISCONNECT: self._disconnect,
            c.CMD_DISCONNECT_SINGLE: self._disconnect,
            c.CMD_SEND: self._send_usm,
            c.CMD_SEND_REQUEST: self._send_request,
            c.CMD_SEND_REQUEST_TIMEOUT: self._send_request_timeout,
            c.CMD_RECEIVE_REQUESTS: self._receive_requests,
            c.CMD_BLOCK_REQUESTS: self._block_requests,
            c.CMD_SEND_REPLY: self._send_reply,
            c.CMD_CANCEL: self._cancel_command,
            c.CMD_REQUEST_ACK: self._request_ack,
            c.CMD_IGNORE_REQUEST: self._ignore,
            c.CMD_NAME_LOOKUP: self._name_lookup,
            c.CMD_NODE_LOOKUP: self._node_lookup,
            c.CMD_LOCAL_NODE: self._local_node,
            c.CMD_DEFAULT_NODE: self._local_node,
            c.CMD_TASK_PID: self._task_pid,
            c.CMD_NODE_STATS: self._node_stats,
        }

    # --- the driver's side -----------------------------------------------------------------

    def serve(self, task: str, node: str | None = None) -> None:
        """Requests to ``task`` at ``node`` (default: the local node) become "serve" items."""
        address = self.local_node if node is None else self.nodes[node.upper()]
        self._served.add((address, encode(task)))

    def attach(self, key: Hashable, port: int = 0) -> None:
        """A client appears (``port`` names it when it connects anonymously over TCP)."""
        self._clients[key] = Task(key, port, next(self._task_ids))

    def detach(self, key: Hashable) -> None:
        """The client's transport is gone: drop its task (no ACK: nobody to read it)."""
        client = self._clients.pop(key, None)
        if client is not None:
            self._drop(client)

    def take(self) -> list[Out]:
        """Everything queued since the last call, in order."""
        out, self._out = self._out, []
        return out

    def receive_command(self, key: Hashable, payload: bytes, now: float) -> None:
        """One command from a client (a UDP datagram; a TCP frame's payload)."""
        client = self._clients.get(key)
        if client is None:
            return
        try:
            code, handle, _vnode, body = cmd.parse_command(payload)
        except ValueError:
            self._ack(client, cmd.ack(st.ACNET_IVM))
            return
        if len(body) < _MIN_BODY.get(code, 0):
            self._ack(client, cmd.ack(st.ACNET_IVM))
        elif code == c.CMD_CONNECT:
            self._connect(client, handle, body)
        elif not client.connected:
            self._ack(client, cmd.ack(st.ACNET_NOT_CONNECTED))
        elif (handler := self._commands.get(code)) is not None:
            handler(client, body, now)
        else:
            self._ack(client, cmd.ack(st.ACNET_BUG))

    def reply(
        self, request: DaemonRequest, status: int, data: bytes, last: bool, now: float
    ) -> None:
        """A reply to ``request`` from its replier (a single-reply request ends with it)."""
        if not request.open:
            return
        last = last or not request.multiple
        if last and request.multiple and status == 0:
            status = st.ACNET_ENDMULT
        self.stats[5] += 1
        self._deliver(request, status, data, last)
        if last:
            self._close(request)
        else:
            self._arm(request, now)

    def poll(self, now: float) -> float | None:
        """Act on idle requests whose timeout passed; when the next one is due (or None)."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            deadline, _, request = heapq.heappop(timers)
            if not request.open or request.deadline != deadline:
                continue
            if request.multiple:
                self._deliver(request, st.ACNET_PEND, b"", last=False)
                self._arm(request, now)
            else:
                self._deliver(request, st.ACNET_REQTMO, b"", last=True)
                self._withdraw(request)
        while timers and (not timers[0][2].open or timers[0][2].deadline != timers[0][0]):
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    # --- plumbing --------------------------------------------------------------------------

    def _ack(self, client: Task, payload: bytes) -> None:
        self._out.append(Out("ack", client.key, payload))

    def _ok(self, client: Task, body: bytes, now: float) -> None:
        self._ack(client, cmd.ack(0))

    def _data(self, client: Task, packet: bytes) -> None:
        self._out.append(Out("data", client.key, packet))

    def _deliver(self, request: DaemonRequest, status: int, data: bytes, last: bool) -> None:
        flags = c.ACNET_FLG_RPY | (0 if last else c.ACNET_FLG_MLT)
        packet = encode_packet(
            flags,
            status,
            request.node,
            self.local_node,
            request.task,
            request.requester.task_id,
            request.id,
            data,
            pad=True,
        )
        self.stats[2] += 1
        self._data(request.requester, packet)

    def _arm(self, request: DaemonRequest, now: float) -> None:
        if request.timeout >= c.INFINITE_TIMEOUT:
            request.deadline = None
            return
        request.deadline = deadline = now + request.timeout / 1000.0
        heapq.heappush(self._timers, (deadline, next(self._order), request))

    def _close(self, request: DaemonRequest) -> None:
        """The request is over: forget it on both sides."""
        request.open = False
        request.deadline = None
        request.requester.requests.pop(request.id, None)
        if request.reply_id:
            self._incoming.pop(request.reply_id, None)
            if request.replier is not None:
                request.replier.incoming.discard(request.reply_id)

    def _withdraw(self, request: DaemonRequest) -> None:
        """The requester is done with ``request``: close it and tell whoever answers it."""
        replier = request.replier
        self._close(request)
        if replier is not None:
            packet = encode_packet(
                c.ACNET_FLG_CAN,
                _i16(request.reply_id),
                request.node,
                self.local_node,
                request.task,
                request.requester.task_id,
                request.id,
            )
            self._data(replier, packet)
        elif (request.node, request.task) in self._served:
            self._out.append(Out("cancel", request))

    def _drop(self, client: Task) -> None:
        """A task goes away: cancel what it asked, end what it was answering."""
        client.connected = False
        client.receiving = False
        for request in list(client.requests.values()):
            self._withdraw(request)
        self._end_served_by(client)

    def _end_served_by(self, client: Task) -> None:
        for reply_id in list(client.incoming):
            request = self._incoming.get(reply_id)
            if request is not None:
                self._deliver(request, st.ACNET_DISCONNECTED, b"", last=True)
                self._close(request)
        client.incoming.clear()

    def _task(self, handle: int) -> Task | None:
        return next((o for o in self._clients.values() if o.connected and o.handle == handle), None)

    # --- commands --------------------------------------------------------------------------

    def _connect(self, client: Task, handle: int, body: bytes) -> None:
        """Take the requested name, or ``%`` + the data port's 5 digits for an anonymous task."""
        pid, port = struct.unpack_from(">IH", body)
        if port:
            client.port = port
        if handle == 0:
            handle = encode(f"%{client.port % 100000:05d}")
        owner = self._task(handle)
        if owner is not None and owner is not client:
            self._ack(client, cmd.ack_connect(st.ACNET_NAME_IN_USE, 0, 0))
            return
        client.pid, client.handle, client.connected = pid, handle, True
        self._ack(client, cmd.ack_connect(0, client.task_id, handle))

    def _rename(self, client: Task, body: bytes, now: float) -> None:
        (name,) = struct.unpack_from(">I", body)
        owner = self._task(name)
        if owner is not None and owner is not client:
            self._ack(client, cmd.ack_send_reply(st.ACNET_NAME_IN_USE))
            return
        client.handle = name
        self._ack(client, cmd.ack_send_reply(0))

    def _disconnect(self, client: Task, body: bytes, now: float) -> None:
        self._ack(client, cmd.ack(0))
        self._drop(client)

    def _receive_requests(self, client: Task, body: bytes, now: float) -> None:
        client.receiving = True
        self._ack(client, cmd.ack(0))

    def _block_requests(self, client: Task, body: bytes, now: float) -> None:
        client.receiving = False
        self._ack(client, cmd.ack(0))
        self._end_served_by(client)

    def _name_lookup(self, client: Task, body: bytes, now: float) -> None:
        node = self.nodes.get(decode_stripped(struct.unpack_from(">I", body)[0]))
        if node is None:
            self._ack(client, cmd.ack_name_lookup(st.ACNET_NO_NODE, 0))
        else:
            self._ack(client, cmd.ack_name_lookup(0, node))

    def _node_lookup(self, client: Task, body: bytes, now: float) -> None:
        (node,) = struct.unpack_from(">H", body)
        name = self._names.get(node or self.local_node)
        if name is None:
            self._ack(client, cmd.ack_node_lookup(st.ACNET_NO_NODE, 0))
        else:
            self._ack(client, cmd.ack_node_lookup(0, name))

    def _local_node(self, client: Task, body: bytes, now: float) -> None:
        self._ack(client, cmd.ack_name_lookup(0, self.local_node))

    def _task_pid(self, client: Task, body: bytes, now: float) -> None:
        owner = self._task(struct.unpack_from(">I", body)[0])
        if owner is None:
            self._ack(client, cmd.ack_task_pid(st.ACNET_NO_TASK, 0))
        else:
            self._ack(client, cmd.ack_task_pid(0, owner.pid))

    def _node_stats(self, client: Task, body: bytes, now: float) -> None:
        self._ack(client, cmd.ack_node_stats(0, cmd.NodeStats(*self.stats)))

    def _send_usm(self, client: Task, body: bytes, now: float) -> None:
        task, node = struct.unpack_from(">IH", body)
        target = self._task(task) if (node or self.local_node) == self.local_node else None
        if target is None or not target.receiving:
            self._ack(client, cmd.ack(st.ACNET_NO_TASK))
            return
        self._ack(client, cmd.ack(0))
        self.stats[3] += 1
        self.stats[0] += 1
        packet = encode_packet(
            c.ACNET_FLG_USM,
            0,
            self.local_node,
            self.local_node,
            task,
            client.task_id,
            0,
            body[6:],
            pad=True,
        )
        self._data(target, packet)

    def _send_request(self, client: Task, body: bytes, now: float) -> None:
        """SEND_REQUEST: no timeout field, acnetd's default applies."""
        task, node, flags = struct.unpack_from(">IHH", body)
        self._request(client, task, node, flags, DEFAULT_REQUEST_TIMEOUT, body[8:], now)

    def _send_request_timeout(self, client: Task, body: bytes, now: float) -> None:
        task, node, flags, timeout = struct.unpack_from(">IHHI", body)
        self._request(client, task, node, flags, timeout, body[12:], now)

    def _request(
        self,
        client: Task,
        task: int,
        node: int,
        flags: int,
        timeout: int,
        data: bytes,
        now: float,
    ) -> None:
        node = node or self.local_node
        if node not in self._names:
            self._ack(client, cmd.ack_send_request(st.ACNET_NO_NODE, 0))
            return
        request_id = next(self._request_ids)
        while request_id in client.requests:
            request_id = next(self._request_ids)
        multiple = bool(flags & c.ACNET_FLG_MLT)
        request = DaemonRequest(client, request_id, node, task, multiple, timeout, data)
        client.requests[request_id] = request
        self.stats[4] += 1
        self._ack(client, cmd.ack_send_request(0, request_id))
        self._arm(request, now)
        if (node, task) in self._served:
            self.stats[1] += 1
            self._out.append(Out("serve", request))
            return
        target = self._task(task) if node == self.local_node else None
        if target is None or not target.receiving:
            status = st.ACNET_NO_TASK if target is None else st.ACNET_NCR
            self.reply(request, status, b"", True, now)
            return
        reply_id = next(self._reply_ids)
        while reply_id in self._incoming:
            reply_id = next(self._reply_ids)
        request.replier, request.reply_id = target, reply_id
        self._incoming[reply_id] = request
        target.incoming.add(reply_id)
        self.stats[1] += 1
        packet = encode_packet(
            c.ACNET_FLG_REQ | (c.ACNET_FLG_MLT if multiple else 0),
            _i16(reply_id),
            node,
            self.local_node,
            task,
            client.task_id,
            request_id,
            data,
            pad=True,
        )
        self._data(target, packet)

    def _served_request(self, client: Task, body: bytes) -> DaemonRequest | None:
        """The request ``client`` serves under the reply id at the start of ``body``."""
        (reply_id,) = struct.unpack_from(">H", body)
        request = self._incoming.get(reply_id)
        return request if request is not None and request.replier is client else None

    def _send_reply(self, client: Task, body: bytes, now: float) -> None:
        request = self._served_request(client, body)
        if request is None:
            self._ack(client, cmd.ack_send_reply(st.ACNET_NO_SUCH))
            return
        _, flags, status = struct.unpack_from(">HHh", body)
        self._ack(client, cmd.ack_send_reply(0))
        self.reply(request, status, body[6:], bool(flags & c.REPLY_ENDMULT), now)

    def _request_ack(self, client: Task, body: bytes, now: float) -> None:
        found = self._served_request(client, body) is not None
        self._ack(client, cmd.ack(0 if found else st.ACNET_NO_SUCH))

    def _ignore(self, client: Task, body: bytes, now: float) -> None:
        """The replier drops the request: the requester hears nothing (until its timeout)."""
        request = self._served_request(client, body)
        if request is None:
            self._ack(client, cmd.ack(st.ACNET_NO_SUCH))
            return
        self._ack(client, cmd.ack(0))
        self._incoming.pop(request.reply_id, None)
        client.incoming.discard(request.reply_id)
        request.replier, request.reply_id = None, 0

    def _cancel_command(self, client: Task, body: bytes, now: float) -> None:
        request = client.requests.get(struct.unpack_from(">H", body)[0])
        if request is None:
            self._ack(client, cmd.ack(st.ACNET_NO_SUCH))
            return
        self._ack(client, cmd.ack(0))
        self._withdraw(request)
