"""Message bodies <-> message objects (docs/protocols/dpm.md §2.5).

A body is the signature ``SDD`` + version 2, then a 3-element list: the DPM
protocol id, the message id and the message struct. Request and reply ids do
not overlap, so :func:`decode_message` can decode either direction; a peer that
only accepts one direction uses :func:`decode_request` or :func:`decode_reply`.
Every decode failure raises :class:`DPMProtocolError`. As in the reference,
bytes after the message struct are ignored.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, Final

from . import wire
from .errors import DPMProtocolError
from .ids import PROTOCOL_ID, REPLY, REQUEST, Direction
from .messages import REPLY_TYPES, REQUEST_TYPES, Message, Reply, Request
from .schema import encode_struct, read_struct, spec_of

SIGNATURE: Final = b"SDD\x02"
"""Magic ``SDD`` and format version 2."""

# Signature, 3-element envelope list and protocol id, as every sender writes them.
_ENVELOPE: Final = SIGNATURE + wire.encode_array_header(3) + wire.encode_int(PROTOCOL_ID)
_ENVELOPE_LEN: Final = len(_ENVELOPE)


class _IdTable:
    """Message id -> struct spec for one set of message classes."""

    __slots__ = ("by_bytes", "by_id", "label")

    def __init__(self, label: str, classes: Iterable[type[Message]]) -> None:
        self.label = label
        self.by_id = {cls.MESSAGE_ID: spec_of(cls) for cls in classes}
        # Minimal 3-byte encodings (almost every id) skip integer parsing.
        self.by_bytes = {
            encoded: spec
            for message_id, spec in self.by_id.items()
            if len(encoded := wire.encode_int(message_id)) == 3
        }


_REQUESTS: Final = _IdTable("request", REQUEST_TYPES.values())
_REPLIES: Final = _IdTable("reply", REPLY_TYPES.values())
_ANY: Final = _IdTable("message", [*REQUEST_TYPES.values(), *REPLY_TYPES.values()])
_MessageFields = tuple[type, tuple[Any, ...]]
_FIELD_READERS: Final[dict[str, dict[bytes, tuple[type, Any]]]] = {
    table.label: {  # keyed by the minimal encoding of the message id (2 or 3 bytes)
        wire.encode_int(message_id): (spec.cls, spec.fast_fields)
        for message_id, spec in table.by_id.items()
        if spec.fast_fields is not None
    }
    for table in (_REQUESTS, _REPLIES)
}
_PREFIXES: Final[dict[type, bytes]] = {
    cls: _ENVELOPE + wire.encode_int(cls.MESSAGE_ID)
    for cls in (*REQUEST_TYPES.values(), *REPLY_TYPES.values())
}


def encode_message(message: Message) -> bytes:
    """The body (no length prefix) of ``message``.

    Raises :class:`DPMEncodeError` (a ``ValueError``) when a field cannot be
    encoded: out of range for its schema type, wrong type, text above U+00FF.
    """
    try:
        prefix = _PREFIXES[type(message)]
    except KeyError:
        raise TypeError(f"not a DPM message: {type(message).__name__}") from None
    return prefix + encode_struct(message)


def decode_message(
    body: bytes | bytearray | memoryview, direction: Direction | None = None
) -> Message:
    """Decode a body of ``direction`` ("request"/"reply"), or of either when None."""
    if direction is None:
        return _decode(body, _ANY)
    if direction == REQUEST:
        return _decode(body, _REQUESTS)
    if direction == REPLY:
        return _decode(body, _REPLIES)
    raise ValueError(f"direction must be 'request', 'reply' or None, not {direction!r}")


def decode_request(body: bytes | bytearray | memoryview) -> Request:
    """Decode a client -> server body; a reply id is an "unknown request type"."""
    return _decode(body, _REQUESTS)  # type: ignore[return-value]


def decode_reply(body: bytes | bytearray | memoryview) -> Reply:
    """Decode a server -> client body; a request id is an "unknown reply type"."""
    return _decode(body, _REPLIES)  # type: ignore[return-value]


_PACKERS: Final[dict[type, tuple[bytes, Any]]] = {
    cls: (prefix, spec_of(cls).pack) for cls, prefix in _PREFIXES.items() if spec_of(cls).pack
}


def encode_fields(cls: type[Message], *values: Any) -> bytes:
    """``encode_message(cls(*values))`` without building the message (same bytes, same errors).

    For hot paths that already hold the field values (the server's data replies).
    """
    packer = _PACKERS.get(cls)
    if packer is not None:
        encoded = packer[1](*values)
        if encoded is not None:
            return packer[0] + encoded
    return encode_message(cls(*values))


def decode_reply_fields(body: bytes) -> _MessageFields | None:
    """``(class, field values in wire order)`` of a reply body in the usual form, else None.

    A fast lane that skips building the message object: None does not mean the
    body is bad, only that :func:`decode_reply` must decode it (and report any
    error). Absent optional fields are None; values are as read, before attrs
    converters (arrays are already read-only ndarrays).
    """
    return _fields(body, _FIELD_READERS[REPLY])


def decode_request_fields(body: bytes) -> _MessageFields | None:
    """The request twin of :func:`decode_reply_fields`."""
    return _fields(body, _FIELD_READERS[REQUEST])


def _fields(body: bytes, readers: dict[bytes, tuple[type, Any]]) -> _MessageFields | None:
    if not body.startswith(_ENVELOPE) or len(body) <= _ENVELOPE_LEN:
        return None
    end = _ENVELOPE_LEN + 1 + body[_ENVELOPE_LEN] - wire.INT_BASE  # after the message id
    entry = readers.get(body[_ENVELOPE_LEN:end])
    if entry is None:
        return None
    try:
        result = entry[1](body, end)
    except (IndexError, struct.error, DPMProtocolError):
        return None
    return None if result is None else (entry[0], result[0])


def _decode(body: bytes | bytearray | memoryview, table: _IdTable) -> Message:
    buf = body if type(body) is bytes else bytes(body)
    try:
        pos = _ENVELOPE_LEN if buf.startswith(_ENVELOPE) else _read_envelope(buf)
        spec = table.by_bytes.get(buf[pos : pos + 3])
        if spec is None:
            message_id, pos = wire.read_int(buf, pos)
            spec = table.by_id.get(message_id)
            if spec is None:
                raise DPMProtocolError(f"unknown {table.label} type {message_id}")
        else:
            pos += 3
        message, _ = read_struct(buf, pos, spec)
    except (IndexError, struct.error):
        raise DPMProtocolError(f"truncated message ({len(buf)} bytes)") from None
    return message  # type: ignore[no-any-return]


def _read_envelope(buf: bytes) -> int:
    """Slow path for envelopes written with non-minimal integers; returns the id offset."""
    if not buf.startswith(SIGNATURE):
        raise DPMProtocolError("invalid header: missing SDD signature")
    if buf[4] & 0xF0 != wire.ARRAY_BASE:
        raise DPMProtocolError("invalid header: no envelope list")
    count, pos = wire.read_size(buf, 4, wire.ARRAY_BASE)
    if count != 3:
        raise DPMProtocolError(f"invalid header: envelope has {count} elements, not 3")
    protocol_id, pos = wire.read_int(buf, pos)
    if protocol_id != PROTOCOL_ID:
        raise DPMProtocolError(f"incorrect protocol specified: {protocol_id}")
    return pos
