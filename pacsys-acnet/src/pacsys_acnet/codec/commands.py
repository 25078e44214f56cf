"""acnetd commands (client -> daemon) and their ACKs (daemon -> client), both directions.

``docs/protocols/acnet.md`` §3. Everything here is big-endian: a 10-byte header
``u16 code | u32 handle | u32 vnode`` then the command's fields; an ACK starts with
``u16 ack_code | i16 status``. Builders check their integers before packing, so a bad
argument raises before anything is sent.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pacsys.acnet.errors import AcnetError, AcnetRequestRejectedError, AcnetUnavailableError
from pacsys.acnet.status import ACNET_REQREJ
from pacsys_acnet import constants as c

__all__ = [
    "Command",
    "NodeStats",
    "ack",
    "ack_connect",
    "ack_name_lookup",
    "ack_node_lookup",
    "ack_node_stats",
    "ack_send_reply",
    "ack_send_request",
    "ack_status",
    "ack_task_pid",
    "check_status",
    "command",
    "parse_command",
    "read_connect",
    "read_name_lookup",
    "read_node_lookup",
    "read_node_stats",
    "read_send_request",
    "read_task_pid",
]

_HEAD = struct.Struct(">HII")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class NodeStats(NamedTuple):
    """acnetd's counters (NODE_STATS)."""

    usm_received: int
    requests_received: int
    replies_received: int
    usm_sent: int
    requests_sent: int
    replies_sent: int
    request_queue_limit: int


class Command(NamedTuple):
    """A command as the daemon reads it: code, sender's handle and vnode, then its fields."""

    code: int
    handle: int
    vnode: int
    body: bytes


def _u16(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise ValueError(f"{name} must be 0..65535, got {value!r}")
    return value


def command(code: int, handle: int, vnode: int, body: bytes = b"") -> bytes:
    """The raw bytes of one command (the UDP datagram; the TCP frame's payload)."""
    return _HEAD.pack(code, handle, vnode) + body


def connect(handle: int, vnode: int, pid: int = 0, data_port: int = 0) -> bytes:
    return command(c.CMD_CONNECT, handle, vnode, struct.pack(">IH", pid, _u16(data_port, "port")))


def send_request(
    handle: int, vnode: int, task: int, node: int, multiple: bool, timeout: int, data: bytes
) -> bytes:
    body = struct.pack(">IHHI", task, _u16(node, "node"), 1 if multiple else 0, timeout)
    return command(c.CMD_SEND_REQUEST_TIMEOUT, handle, vnode, body + data)


def send_message(handle: int, vnode: int, task: int, node: int, data: bytes) -> bytes:
    return command(c.CMD_SEND, handle, vnode, struct.pack(">IH", task, _u16(node, "node")) + data)


def send_reply(
    handle: int, vnode: int, reply_id: int, last: bool, status: int, data: bytes
) -> bytes:
    body = struct.pack(">HHh", reply_id & 0xFFFF, c.REPLY_ENDMULT if last else 0, status)
    return command(c.CMD_SEND_REPLY, handle, vnode, body + data)


def with_u16(code: int, handle: int, vnode: int, value: int) -> bytes:
    """CANCEL, REQUEST_ACK, IGNORE_REQUEST (an id, low 16 bits) and NODE_LOOKUP."""
    return command(code, handle, vnode, _U16.pack(value & 0xFFFF))


def with_name(code: int, handle: int, vnode: int, name: int) -> bytes:
    """RENAME_TASK, NAME_LOOKUP and TASK_PID (a RAD50 name)."""
    return command(code, handle, vnode, _U32.pack(name))


def parse_command(payload: bytes) -> Command:
    """Daemon side: the header and body of one command; ValueError when under 10 bytes."""
    if len(payload) < _HEAD.size:
        raise ValueError(f"command too short: {len(payload)} bytes")
    code, handle, vnode = _HEAD.unpack_from(payload)
    return Command(code, handle, vnode, bytes(payload[_HEAD.size :]))


# --- ACKs, daemon side --------------------------------------------------------------------


def ack(status: int = 0, code: int = c.ACK_ACK) -> bytes:
    return struct.pack(">Hh", code, status)


def ack_connect(status: int, task_id: int, handle: int) -> bytes:
    return struct.pack(">HhBI", c.ACK_CONNECT, status, task_id & 0xFF, handle)


def ack_send_request(status: int, request_id: int) -> bytes:
    return struct.pack(">HhH", c.ACK_SEND_REQUEST, status, request_id & 0xFFFF)


def ack_send_reply(status: int = 0) -> bytes:
    return struct.pack(">HhH", c.ACK_SEND_REPLY, status, 0)


def ack_name_lookup(status: int, node: int) -> bytes:
    return struct.pack(">HhBB", c.ACK_NAME_LOOKUP, status, (node >> 8) & 0xFF, node & 0xFF)


def ack_node_lookup(status: int, name: int) -> bytes:
    return struct.pack(">HhI", c.ACK_NODE_LOOKUP, status, name)


def ack_task_pid(status: int, pid: int) -> bytes:
    return struct.pack(">HhI", c.ACK_TASK_PID, status, pid)


def ack_node_stats(status: int, stats: NodeStats) -> bytes:
    return struct.pack(">Hh7I", c.ACK_NODE_STATS, status, *stats)


# --- ACKs, client side --------------------------------------------------------------------


def ack_status(payload: bytes) -> int:
    """The status of an ACK (0 when it is too short to carry one)."""
    return struct.unpack_from(">h", payload, 2)[0] if len(payload) >= 4 else 0


def check_status(payload: bytes, what: str, minimum: int = 4) -> int:
    """The ACK's status; Unavailable when shorter than ``minimum``, AcnetError when negative."""
    if len(payload) < minimum:
        raise AcnetUnavailableError()
    status = ack_status(payload)
    if status < 0:
        raise AcnetError(status, what)
    return status


def read_connect(payload: bytes) -> int:
    """The handle a CONNECT ACK assigns (positive statuses are success)."""
    if len(payload) < 9:
        raise AcnetUnavailableError()
    status = ack_status(payload)
    if status < 0:
        raise AcnetError(status, f"CONNECT failed with status {status}")
    return int(_U32.unpack_from(payload, 5)[0])


def read_send_request(payload: bytes, task: str) -> int:
    """The request id of a SEND_REQUEST ACK; a short error ACK with REQREJ is a rejection."""
    size = len(payload)
    if size < 4:
        raise AcnetUnavailableError()
    status = ack_status(payload)
    if size < 6:
        if status == ACNET_REQREJ:
            raise AcnetRequestRejectedError(task)
        if status < 0:
            raise AcnetError(status, f"SEND_REQUEST to '{task}' failed")
        raise AcnetUnavailableError()
    if status < 0:
        raise AcnetError(status, f"SEND_REQUEST to '{task}' failed")
    return int(_U16.unpack_from(payload, 4)[0])


def read_name_lookup(payload: bytes, what: str) -> int:
    """``trunk << 8 | node`` from a NAME_LOOKUP, LOCAL_NODE or DEFAULT_NODE ACK."""
    check_status(payload, what, 6)
    return payload[4] << 8 | payload[5]


def read_node_lookup(payload: bytes, what: str) -> int:
    """The RAD50 node name of a NODE_LOOKUP ACK."""
    check_status(payload, what, 8)
    return int(_U32.unpack_from(payload, 4)[0])


def read_task_pid(payload: bytes, what: str) -> int:
    check_status(payload, what, 8)
    return int(_U32.unpack_from(payload, 4)[0])


def read_node_stats(payload: bytes) -> NodeStats:
    check_status(payload, "GET_NODE_STATS failed", 32)
    return NodeStats(*struct.unpack_from(">7I", payload, 4))
