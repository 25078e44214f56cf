"""GETS32 payloads: raw property reads on a named event, with a 34-byte reply header.

``docs/protocols/acnet.md`` §7.3 and §7.4. Little-endian except the target node in the
request (big-endian).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from typing import NamedTuple

from pacsys.drf3.events import ClockEvent, PeriodicEvent, StateEvent, parse_event
from pacsys_acnet.codec.reads import ReadDevice, ReadValue, ReplyLayout
from pacsys_acnet.codec.retdat import check_devices, check_limits, check_sizes, split_values
from pacsys_acnet.constants import MAX_ACNET_MESSAGE_SIZE

__all__ = [
    "HEADER_SIZE",
    "Gets32Event",
    "Gets32Header",
    "Gets32Reply",
    "Gets32Request",
    "build_header",
    "build_reply",
    "build_request",
    "parse_reply",
    "parse_request",
]

HEADER_SIZE = 34
_HEADER = struct.Struct("<hBBBBIQQQ")
_REQ_HEAD = struct.Struct("<BBBBBBBBIHHH")
_DEVICE = struct.Struct("<I8sII")
_STATE_NAME = re.compile(r"[A-Z0-9][:?_|&@$~^#!][A-Z0-9_:]{1,62}")


class Gets32Event:
    """The event a GETS32 request names: wire text, classic FTD (-1: none), repetitive."""

    __slots__ = ("classic_ftd", "repetitive", "text")
    text: str
    classic_ftd: int
    repetitive: bool

    def __init__(self, text: str, classic_ftd: int, repetitive: bool) -> None:
        if (
            not isinstance(text, str)
            or not text.strip()
            or not all(32 <= ord(ch) <= 126 for ch in text)
        ):
            raise ValueError("event text must be nonempty printable ASCII")
        if isinstance(classic_ftd, bool) or not isinstance(classic_ftd, int):
            raise TypeError("classic_ftd must be an integer")
        if classic_ftd != -1 and not 0 <= classic_ftd <= 0xFFFF:
            raise ValueError(f"classic_ftd must be 0..65535, got {classic_ftd}")
        if not isinstance(repetitive, bool):
            raise TypeError("repetitive must be a bool")
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "classic_ftd", classic_ftd)
        object.__setattr__(self, "repetitive", repetitive)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Gets32Event is immutable: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Gets32Event) and (
            other.text,
            other.classic_ftd,
            other.repetitive,
        ) == (self.text, self.classic_ftd, self.repetitive)

    def __hash__(self) -> int:
        return hash((self.text, self.classic_ftd, self.repetitive))

    def __repr__(self) -> str:
        return f"Gets32Event({self.text!r}, {self.classic_ftd}, {self.repetitive})"

    @classmethod
    def from_string(cls, text: str) -> Gets32Event:
        """Canonical wire form of a DRF event string (``I``, ``N``, ``P``/``Q``, ``E``, ``S``)."""
        event = parse_event(text)
        mode = event.mode if event is not None else "U"
        if mode == "I":
            return cls("I", 0, False)
        if mode == "N":
            return cls("N", 2, False)
        if isinstance(event, PeriodicEvent):
            ms = event.freq
            if ms <= 0:
                raise ValueError("period must be positive")
            flag = "true" if event.imm else "false"
            ftd = max(4, 60 * ms // 1000) if event.cont else -1
            if ftd > 0x7FFF:
                ftd = -1
            return cls(f"{'P' if event.cont else 'Q'},{ms},{flag}", ftd, True)
        if isinstance(event, ClockEvent):
            if event.evt > 0xFF:
                raise ValueError(f"clock event must be 0..255, got {event.evt}")
            clock = "E" if event.clock_type == "either" else event.clock_type.upper()
            ftd = 0x8000 | event.evt if event.delay == 0 and clock != "S" else -1
            return cls(f"E,{event.evt:X},{clock},{event.delay}", ftd, True)
        if isinstance(event, StateEvent):
            return cls(_state_text(event), -1, True)
        raise ValueError(
            "Use an explicit I, P/Q, E, S, or N event, or construct Gets32Event for a wire event"
        )


def _state_text(event: StateEvent) -> str:
    target = event.device.upper()
    if target.isdecimal():
        index = int(target)
        if index > 0xFFFFFF:
            raise ValueError(f"state device index must be 0..16777215, got {index}")
        target = str(index)
    elif not _STATE_NAME.fullmatch(target) or target[1] != ":":
        raise ValueError(
            "state target must be a device name or index, without property/range/event"
        )
    if not 0 <= event.value <= 0xFFFF:
        raise ValueError(f"state value must be 0..65535, got {event.value}")
    return f"S,{target},{event.value},{event.delay},{event.expression}"


def _event(event: str | Gets32Event) -> Gets32Event:
    return event if isinstance(event, Gets32Event) else Gets32Event.from_string(event)


class Gets32Header(NamedTuple):
    global_status: int
    type_code: int
    major_version: int
    minor_version: int
    order_flag: int
    sequence: int
    cycle_timestamp: int
    collection_timestamp: int
    reply_timestamp: int


class Gets32Reply(NamedTuple):
    header: Gets32Header
    values: Sequence[ReadValue]
    acnet_status: int | None = None
    received_at_ns: int | None = None


class Gets32Request(NamedTuple):
    """A GETS32 request as the front end reads it."""

    node: int
    priority: int
    repetitive: bool
    reply_size: int
    classic_ftd: int
    event: str
    devices: list[ReadDevice]


def _padded_text(text: str) -> bytes:
    raw = text.encode("ascii")
    return raw + b" " if len(raw) & 1 else raw


def build_request(
    node: int,
    devices: Sequence[ReadDevice],
    event: str | Gets32Event = "I",
    *,
    priority: int = 1,
    max_request_size: int = MAX_ACNET_MESSAGE_SIZE,
    max_reply_size: int = MAX_ACNET_MESSAGE_SIZE,
    repetitive: bool | None = None,
) -> bytes:
    """The request payload; ``repetitive`` overrides the event's (``read()`` forces False)."""
    check_limits(max_request_size, max_reply_size)
    if isinstance(node, bool) or not isinstance(node, int) or not 0 <= node <= 0xFFFF:
        raise ValueError(f"node must be 0..65535, got {node}")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 2:
        raise ValueError(f"priority must be 0..2, got {priority}")
    items = check_devices(devices)
    wire = _event(event)
    text = _padded_text(wire.text)
    reply = HEADER_SIZE + sum(d._slot for d in items)
    request = _REQ_HEAD.size + len(text) + _DEVICE.size * len(items)
    check_sizes(request, reply, max_request_size, max_reply_size)
    rep = wire.repetitive if repetitive is None else repetitive
    head = _REQ_HEAD.pack(
        1, 1, 0, node >> 8, node & 0xFF, 0, priority, 1 if rep else 0,
        reply, len(items), wire.classic_ftd & 0xFFFF, len(text),
    )  # fmt: skip
    return head + text + b"".join(d._gets32 for d in items)


def parse_reply(
    data: bytes,
    devices: Sequence[ReadDevice],
    *,
    acnet_status: int | None = None,
    received_at_ns: int | None = None,
    layout: ReplyLayout | None = None,
) -> Gets32Reply:
    """The reply for ``devices``: header (type 1, version 1.0, order 0) then the values.

    ``layout`` (``ReplyLayout(devices, HEADER_SIZE)``) saves recomputing it per reply.
    """
    if len(data) < HEADER_SIZE:
        raise ValueError(f"GETS32 reply too short: {len(data)} bytes, expected at least 34")
    header = Gets32Header(*_HEADER.unpack_from(data))
    if header[1:5] != (1, 1, 0, 0):
        raise ValueError(f"Unsupported GETS32 reply header: {header}")
    if layout is None:
        layout = ReplyLayout(devices, HEADER_SIZE)
    if len(data) != layout.total:
        raise ValueError(f"Read reply size {len(data)} does not match expected {layout.total}")
    return Gets32Reply(header, split_values(data, layout), acnet_status, received_at_ns)


# --- front-end side ----------------------------------------------------------------------


def parse_request(data: bytes) -> Gets32Request:
    """A request as the front end (emulator) reads it; ValueError when malformed."""
    if len(data) < _REQ_HEAD.size:
        raise ValueError(f"GETS32 request too short: {len(data)} bytes")
    head = _REQ_HEAD.unpack_from(data)
    node = head[3] << 8 | head[4]
    reply_size, count, ftd, text_len = head[8:12]
    pos = _REQ_HEAD.size + text_len
    if len(data) < pos + count * _DEVICE.size:
        raise ValueError(f"GETS32 request for {count} devices is {len(data)} bytes")
    event = bytes(data[_REQ_HEAD.size : pos]).decode("ascii", "replace").rstrip(" ")
    devices = []
    for i in range(count):
        dipi, ssdn, length, offset = _DEVICE.unpack_from(data, pos + i * _DEVICE.size)
        devices.append(ReadDevice(dipi & 0xFFFFFF, dipi >> 24, ssdn, length, offset))
    return Gets32Request(
        node, head[6], bool(head[7]), reply_size, -1 if ftd == 0xFFFF else ftd, event, devices
    )


def build_header(header: Gets32Header) -> bytes:
    """The reply's 34-byte header (the values follow, as in a RETDAT reply)."""
    return _HEADER.pack(*header)


def build_reply(
    header: Gets32Header, values: Sequence[tuple[int, bytes]], devices: Sequence[ReadDevice]
) -> bytes:
    from pacsys_acnet.codec.retdat import build_reply as body

    return build_header(header) + body(values, devices)
