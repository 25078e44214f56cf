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
    """Message id -> message class for one set of message classes.

    Struct layouts are compiled on first use of each class (:func:`spec_of`), not
    here, so importing the codec stays cheap.
    """

    __slots__ = ("by_bytes", "by_id", "fields_by_bytes", "label")

    def __init__(self, label: str, classes: Iterable[type[Message]]) -> None:
        self.label = label
        self.by_id: dict[int, type[Message]] = {cls.MESSAGE_ID: cls for cls in classes}
        # Minimal 3-byte encodings (almost every id) skip integer parsing.
        self.by_bytes = {
            encoded: cls
            for message_id, cls in self.by_id.items()
            if len(encoded := wire.encode_int(message_id)) == 3
        }
        # Minimal encodings (2 or 3 bytes) for the fields-only fast lane.
        self.fields_by_bytes = {
            wire.encode_int(message_id): cls for message_id, cls in self.by_id.items()
        }


_REQUESTS: Final = _IdTable("request", REQUEST_TYPES.values())
_REPLIES: Final = _IdTable("reply", REPLY_TYPES.values())
_ANY: Final = _IdTable("message", [*REQUEST_TYPES.values(), *REPLY_TYPES.values()])
_MessageFields = tuple[type, tuple[Any, ...]]
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


def encode_fields(cls: type[Message], *values: Any) -> bytes:
    """``encode_message(cls(*values))`` without building the message (same bytes, same errors).

    For hot paths that already hold the field values (the server's data replies).
    """
    prefix = _PREFIXES.get(cls)
    if prefix is not None:
        pack = spec_of(cls).pack
        if pack is not None:
            encoded = pack(*values)
            if encoded is not None:
                return prefix + encoded
    return encode_message(cls(*values))


def decode_reply_fields(body: bytes) -> _MessageFields | None:
    """``(class, field values in wire order)`` of a reply body in the usual form, else None.

    A fast lane that skips building the message object: None does not mean the
    body is bad, only that :func:`decode_reply` must decode it (and report any
    error). Absent optional fields are None; values are as read, before the struct
    converters (arrays are already read-only ndarrays).
    """
    return _fields(body, _REPLIES)


def decode_request_fields(body: bytes) -> _MessageFields | None:
    """The request twin of :func:`decode_reply_fields`."""
    return _fields(body, _REQUESTS)


def _fields(body: bytes, table: _IdTable) -> _MessageFields | None:
    if not body.startswith(_ENVELOPE) or len(body) <= _ENVELOPE_LEN:
        return None
    end = _ENVELOPE_LEN + 1 + body[_ENVELOPE_LEN] - wire.INT_BASE  # after the message id
    cls = table.fields_by_bytes.get(body[_ENVELOPE_LEN:end])
    if cls is None:
        return None
    read = spec_of(cls).fast_fields
    if read is None:
        return None
    try:
        result = read(body, end)
    except (IndexError, struct.error, DPMProtocolError):
        return None
    return None if result is None else (cls, result[0])


def _decode(body: bytes | bytearray | memoryview, table: _IdTable) -> Message:
    buf = body if type(body) is bytes else bytes(body)
    try:
        pos = _ENVELOPE_LEN if buf.startswith(_ENVELOPE) else _read_envelope(buf)
        cls = table.by_bytes.get(buf[pos : pos + 3])
        if cls is None:
            message_id, pos = wire.read_int(buf, pos)
            cls = table.by_id.get(message_id)
            if cls is None:
                raise DPMProtocolError(f"unknown {table.label} type {message_id}")
        else:
            pos += 3
        message, _ = read_struct(buf, pos, spec_of(cls))
    except (IndexError, struct.error):
        raise DPMProtocolError(f"truncated message ({len(buf)} bytes)") from None
    return message


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
