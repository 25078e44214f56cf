"""Message bodies <-> message objects (spec §2.5).

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
from typing import Final

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
