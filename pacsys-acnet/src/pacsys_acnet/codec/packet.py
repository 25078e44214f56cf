"""ACNET packets: the 18-byte header (mixed byte order) and the message kinds.

``docs/protocols/acnet.md`` §4. Flags, status, task, task id, message id and length are
little-endian; the two node fields are read big-endian (trunk byte first).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from pacsys_acnet.codec.rad50 import decode_stripped
from pacsys_acnet.constants import (
    ACNET_FLG_CAN,
    ACNET_FLG_MLT,
    ACNET_FLG_REQ,
    ACNET_FLG_RPY,
    ACNET_FLG_USM,
    ACNET_HEADER_SIZE,
    MULTICAST_NODE,
)

__all__ = [
    "AcnetCancel",
    "AcnetMessage",
    "AcnetPacket",
    "AcnetReply",
    "AcnetRequest",
    "PacketWalk",
    "ReplyId",
    "RequestId",
    "encode_packet",
    "node_parts",
    "node_value",
    "walk",
]

_HEADER = struct.Struct("<Hh2s2sIHHH")
_CLASS_MASK = ACNET_FLG_CAN | 0x000E


def node_value(trunk: int, node: int) -> int:
    """The 16-bit node address ``trunk << 8 | node``."""
    return (trunk & 0xFF) << 8 | (node & 0xFF)


def node_parts(value: int) -> tuple[int, int]:
    """``(trunk, node)`` of a 16-bit node address."""
    return (value >> 8) & 0xFF, value & 0xFF


class RequestId:
    """The id acnetd gave one of our outgoing requests (16 bits)."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:
        self.id = id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RequestId) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("RequestId", self.id))

    def __repr__(self) -> str:
        return f"RequestId({self.id})"


class ReplyId:
    """The id under which we answer an incoming request (its low 16 bits go to acnetd)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    @classmethod
    def from_client_and_id(cls, client: int, msg_id: int) -> ReplyId:
        return cls((client & 0xFFFF) << 16 | (msg_id & 0xFFFF))

    @classmethod
    def from_packet(cls, status: int, client: int, msg_id: int) -> ReplyId:
        """acnetd writes the reply id into the status field; 0 means "use client and id"."""
        if status != 0:
            return cls(status & 0xFFFF)
        return cls.from_client_and_id(client, msg_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReplyId) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("ReplyId", self.value))

    def __repr__(self) -> str:
        return f"ReplyId({self.value})"


class AcnetPacket:
    """One ACNET packet; :meth:`parse` picks the subclass from ``flags & 0x020E``."""

    __slots__ = (
        "client",
        "client_task_id",
        "data",
        "flags",
        "id",
        "length",
        "server",
        "server_task",
        "status",
    )

    def __init__(
        self,
        flags: int,
        status: int,
        server: int,
        client: int,
        server_task: int,
        client_task_id: int,
        msg_id: int,
        length: int,
        data: bytes,
    ) -> None:
        self.flags = flags
        self.status = status
        self.server = server
        self.client = client
        self.server_task = server_task
        self.client_task_id = client_task_id
        self.id = msg_id
        self.length = length
        self.data = data

    @staticmethod
    def parse(data: bytes) -> AcnetPacket:
        """The packet at the start of ``data`` (bytes after its declared length are ignored)."""
        size = len(data)
        if size < ACNET_HEADER_SIZE:
            raise ValueError(f"Packet too short: {size} < {ACNET_HEADER_SIZE}")
        length = data[16] | data[17] << 8
        if length < ACNET_HEADER_SIZE or length > size:
            raise ValueError(f"Bad packet length: declared {length}, got {size} bytes")
        return _make(data, 0, length)

    @property
    def msg_id(self) -> int:
        return self.id

    @property
    def server_task_name(self) -> str:
        return decode_stripped(self.server_task)

    @property
    def server_trunk(self) -> int:
        return self.server >> 8

    @property
    def server_node(self) -> int:
        return self.server & 0xFF

    @property
    def client_trunk(self) -> int:
        return self.client >> 8

    @property
    def client_node(self) -> int:
        return self.client & 0xFF

    def is_request(self) -> bool:
        return False

    def is_reply(self) -> bool:
        return False

    def is_message(self) -> bool:
        return False

    def is_cancel(self) -> bool:
        return False

    def encode(self) -> bytes:
        """The packet's bytes (header with its ``length`` field as stored, then the data)."""
        return encode_packet(
            self.flags,
            self.status,
            self.server,
            self.client,
            self.server_task,
            self.client_task_id,
            self.id,
            self.data,
            length=self.length,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(flags=0x{self.flags:04x}, status={self.status}, "
            f"server=0x{self.server:04x}, client=0x{self.client:04x}, "
            f"task={self.server_task_name!r}, id={self.id}, data={len(self.data)} bytes)"
        )


class AcnetReply(AcnetPacket):
    """A reply to one of our requests; :attr:`last` when no more replies follow."""

    __slots__ = ()

    @property
    def request_id(self) -> int:
        return self.id

    @property
    def last(self) -> bool:
        return not self.flags & ACNET_FLG_MLT

    def success(self) -> bool:
        return self.status == 0

    def is_reply(self) -> bool:
        return True


class AcnetRequest(AcnetPacket):
    """A request addressed to our task; answered through the connection's ``send_reply``."""

    __slots__ = ("_cancelled", "reply_id", "user_object")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reply_id = ReplyId.from_packet(self.status, self.client, self.id).value
        self._cancelled = False
        self.user_object: Any = None

    @property
    def multiple_reply(self) -> bool:
        return bool(self.flags & ACNET_FLG_MLT)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Mark the request as cancelled (replies to it are then refused locally)."""
        self._cancelled = True

    def is_multicast(self) -> bool:
        return self.server == MULTICAST_NODE

    def is_request(self) -> bool:
        return True


class AcnetMessage(AcnetPacket):
    """An unsolicited message (USM) to our task."""

    __slots__ = ()

    def is_message(self) -> bool:
        return True


class AcnetCancel(AcnetPacket):
    """The requester cancelled a request we were serving (``reply_id`` names it)."""

    __slots__ = ()

    @property
    def reply_id(self) -> int:
        return ReplyId.from_packet(self.status, self.client, self.id).value

    def is_cancel(self) -> bool:
        return True


_CLASSES: dict[int, type[AcnetPacket]] = {
    ACNET_FLG_RPY: AcnetReply,
    ACNET_FLG_REQ: AcnetRequest,
    ACNET_FLG_USM: AcnetMessage,
    ACNET_FLG_CAN: AcnetCancel,
}


def _make(data: bytes, pos: int, length: int) -> AcnetPacket:
    flags, status, server, client, task, task_id, msg_id, _ = _HEADER.unpack_from(data, pos)
    cls = _CLASSES.get(flags & _CLASS_MASK, AcnetPacket)
    return cls(
        flags,
        status,
        server[0] << 8 | server[1],
        client[0] << 8 | client[1],
        task,
        task_id,
        msg_id,
        length,
        bytes(data[pos + ACNET_HEADER_SIZE : pos + length]),
    )


def encode_packet(
    flags: int,
    status: int,
    server: int,
    client: int,
    server_task: int,
    client_task_id: int,
    msg_id: int,
    data: bytes = b"",
    *,
    length: int | None = None,
    pad: bool = False,
) -> bytes:
    """A packet's bytes; ``pad`` adds acnetd's zero byte to an odd payload (counted in length)."""
    if pad and len(data) & 1:
        data = bytes(data) + b"\0"
    if length is None:
        length = ACNET_HEADER_SIZE + len(data)
    head = _HEADER.pack(
        flags,
        status,
        bytes(node_parts(server)),
        bytes(node_parts(client)),
        server_task,
        client_task_id,
        msg_id,
        length,
    )
    return head + bytes(data)


class PacketWalk:
    """The packets of one DATA unit, and why the walk stopped early (``problem``)."""

    __slots__ = ("packets", "problem")

    def __init__(self) -> None:
        self.packets: list[AcnetPacket] = []
        self.problem: str | None = None

    def __iter__(self) -> Iterator[AcnetPacket]:
        return iter(self.packets)


def walk(payload: bytes) -> PacketWalk:
    """Split a DATA unit into packets (each advanced to an even offset).

    Packets before a malformed one are kept; ``problem`` then says what stopped the walk.
    """
    result = PacketWalk()
    size = len(payload)
    pos = 0
    while pos < size:
        rest = size - pos
        if rest < ACNET_HEADER_SIZE:
            result.problem = f"Trailing short ACNET packet: {rest} bytes"
            break
        length = payload[pos + 16] | payload[pos + 17] << 8
        if length < ACNET_HEADER_SIZE or length > rest:
            result.problem = f"Invalid ACNET packet length {length} in {rest}-byte payload"
            break
        result.packets.append(_make(payload, pos, length))
        pos += length + (length & 1)
    return result
