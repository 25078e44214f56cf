"""RETDAT payloads: a list of raw property reads, answered with status + bytes per device.

``docs/protocols/acnet.md`` §7.2. All fields little-endian; the reply has no header.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

from pacsys_acnet.codec.reads import (
    ReadDevice,
    ReadValue,
    ReadValues,
    ReplyLayout,
    check_int,
)
from pacsys_acnet.constants import MAX_ACNET_MESSAGE_SIZE

__all__ = [
    "MAX_REPLY_SIZE_CAP",
    "MAX_REQUEST_SIZE_CAP",
    "RetdatReply",
    "RetdatRequest",
    "build_reply",
    "build_request",
    "check_devices",
    "check_limits",
    "check_sizes",
    "parse_reply",
    "parse_request",
    "split_values",
]

MAX_REQUEST_SIZE_CAP = 65484
MAX_REPLY_SIZE_CAP = 65488
_HEAD = struct.Struct("<HHH")
_DEVICE = struct.Struct("<I8sHH")


class RetdatReply(NamedTuple):
    """One RETDAT answer: a :class:`ReadValue` per device, the ACNET status, local receipt time."""

    values: Sequence[ReadValue]
    acnet_status: int | None = None
    received_at_ns: int | None = None


class RetdatRequest(NamedTuple):
    """A RETDAT request as a front end reads it."""

    reply_size: int
    ftd: int
    devices: list[ReadDevice]


def check_devices(devices: Sequence[ReadDevice]) -> list[ReadDevice]:
    items = list(devices)
    if not items:
        raise ValueError("devices must not be empty")
    if not all(isinstance(d, ReadDevice) for d in items):
        raise TypeError("devices must contain ReadDevice objects")
    if len(items) > 0xFFFF:
        raise ValueError(f"at most 65535 devices per request, got {len(items)}")
    return items


def check_limits(max_request_size: int, max_reply_size: int) -> None:
    check_int(max_request_size, "max_request_size", MAX_REQUEST_SIZE_CAP)
    check_int(max_reply_size, "max_reply_size", MAX_REPLY_SIZE_CAP)


def check_sizes(request: int, reply: int, max_request: int, max_reply: int) -> None:
    if reply > max_reply:
        raise ValueError(
            f"reply size {reply} exceeds configured limit {max_reply}; "
            "split the request or raise the limit"
        )
    if request > max_request:
        raise ValueError(
            f"request size {request} exceeds configured limit {max_request}; "
            "split the request or raise the limit"
        )


def build_request(
    devices: Sequence[ReadDevice],
    ftd: int = 0,
    *,
    max_request_size: int = MAX_ACNET_MESSAGE_SIZE,
    max_reply_size: int = MAX_ACNET_MESSAGE_SIZE,
) -> bytes:
    """The request payload; ValueError/TypeError before anything could be sent."""
    check_limits(max_request_size, max_reply_size)
    items = check_devices(devices)
    check_int(ftd, "ftd", 0xFFFF)
    records = [d._retdat for d in items]
    if None in records:
        for d in items:
            check_int(d.length, "length", 0xFFFF)
            check_int(d.offset, "offset", 0xFFFF)
    reply = sum(d._slot for d in items)
    check_sizes(_HEAD.size + _DEVICE.size * len(items), reply, max_request_size, max_reply_size)
    if reply > 0xFFFF:
        raise ValueError(f"reply size {reply} does not fit RETDAT's 16-bit field")
    return _HEAD.pack(reply, len(items), ftd) + b"".join(records)  # type: ignore[arg-type]


def split_values(data: bytes, layout: ReplyLayout) -> ReadValues:
    """Status + padded data per device; the caller has checked the size."""
    return ReadValues(bytes(data), layout)


def parse_reply(
    data: bytes,
    devices: Sequence[ReadDevice],
    *,
    acnet_status: int | None = None,
    received_at_ns: int | None = None,
    layout: ReplyLayout | None = None,
) -> RetdatReply:
    """The reply to :func:`build_request` for ``devices``; its size must match exactly.

    ``layout`` (of ``devices``) saves recomputing it for every reply of a stream.
    """
    if layout is None:
        layout = ReplyLayout(devices)
    if len(data) != layout.total:
        raise ValueError(f"Read reply size {len(data)} does not match expected {layout.total}")
    return RetdatReply(split_values(data, layout), acnet_status, received_at_ns)


# --- front-end side ----------------------------------------------------------------------


def parse_request(data: bytes) -> RetdatRequest:
    """A request as the front end (emulator) reads it; ValueError when malformed."""
    if len(data) < _HEAD.size:
        raise ValueError(f"RETDAT request too short: {len(data)} bytes")
    reply_size, count, ftd = _HEAD.unpack_from(data)
    if len(data) < _HEAD.size + count * _DEVICE.size:
        raise ValueError(f"RETDAT request for {count} devices is {len(data)} bytes")
    devices = []
    for i in range(count):
        dipi, ssdn, length, offset = _DEVICE.unpack_from(data, _HEAD.size + i * _DEVICE.size)
        devices.append(ReadDevice(dipi & 0xFFFFFF, dipi >> 24, ssdn, length, offset))
    return RetdatRequest(reply_size, ftd, devices)


def build_reply(values: Sequence[tuple[int, bytes]], devices: Sequence[ReadDevice]) -> bytes:
    """The front end's answer: each value cut or zero-filled to its device's length, padded."""
    parts = []
    for (status, raw), d in zip(values, devices, strict=True):
        size = d.length + (d.length & 1)
        parts.append(struct.pack("<h", status) + bytes(raw[: d.length]).ljust(size, b"\0"))
    return b"".join(parts)
