"""Whole-message encoding and decoding: the SDD header around one message struct.

```
'S' 'D' 'D' 0x02   magic + format version
0x51 0x03          array of three elements:
<int>              protocol id -289864039 (DAQData)
<int>              message type id (request or reply table)
<struct>           the message fields
```
"""

from __future__ import annotations

from typing import Literal

from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.messages import REPLY_TYPES, REQUEST_TYPES, Message, Reply, Request
from pacsys_dmq.codec.schema import decode_struct, encode_struct
from pacsys_dmq.codec.sdd import TAG_ARRAY, SDDReader, SDDWriter

__all__ = [
    "MAGIC",
    "PROTOCOL_ID",
    "MessageKind",
    "decode_message",
    "decode_reply",
    "decode_request",
    "encode_message",
]

MAGIC = b"SDD\x02"
PROTOCOL_ID = -289864039
MessageKind = Literal["request", "reply"]

_TABLES: dict[str, dict[int, type[Message]]] = {
    "request": dict(REQUEST_TYPES),
    "reply": dict(REPLY_TYPES),
}


def encode_message(message: Message) -> bytes:
    """The complete SDD bytes of ``message``.

    Raises TypeError / ValueError when a field holds something the wire cannot carry
    (wrong type, integer out of range, character above U+00FF, unknown enum value).
    """
    if not isinstance(message, Message) or not hasattr(type(message), "TYPE_ID"):
        raise TypeError(f"not a DMQ message: {type(message).__name__}")
    writer = SDDWriter()
    writer.raw(MAGIC)
    writer.array_header(3)
    writer.integer(PROTOCOL_ID)
    writer.integer(message.TYPE_ID)
    encode_struct(writer, message)
    return writer.getvalue()


def _read_header(data: bytes) -> SDDReader:
    """Check magic, the three-element array and the protocol id; return a positioned reader."""
    if len(data) < len(MAGIC) and MAGIC.startswith(data):
        raise DMQProtocolError(f"unexpected end of input: {len(data)}-byte body has no header")
    if data[: len(MAGIC)] != MAGIC:
        raise DMQProtocolError(
            f"invalid header: expected {MAGIC.hex()} ('SDD' version 2), "
            f"found {data[: len(MAGIC)].hex()}"
        )
    reader = SDDReader(data, len(MAGIC))
    tag = reader.peek_tag()
    if tag & 0xF0 != TAG_ARRAY:
        raise DMQProtocolError(
            f"invalid header: expected a 3-element array at offset 4, found tag 0x{tag:02x}"
        )
    count = reader.array_header()
    if count != 3:
        raise DMQProtocolError(f"invalid header: expected a 3-element array, found {count}")
    protocol_id = reader.integer(what="protocol id")
    if protocol_id != PROTOCOL_ID:
        raise DMQProtocolError(
            f"incorrect protocol specified: id {protocol_id}, expected {PROTOCOL_ID} (DAQData)"
        )
    return reader


def decode_message(body: bytes | bytearray | memoryview, *, kind: MessageKind = "reply") -> Message:
    """Decode one SDD message using the ``kind`` type table.

    Clients decode replies (the default); servers decode INIT bodies with
    ``kind="request"`` and SETTING bodies with ``kind="reply"``. Bytes after the message
    are ignored. Any defect raises DMQProtocolError.
    """
    table = _TABLES.get(kind)
    if table is None:
        raise ValueError(f"kind must be 'request' or 'reply', got {kind!r}")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"body must be bytes, got {type(body).__name__}")
    data = bytes(body)
    reader = _read_header(data)
    id_at = reader.offset
    type_id = reader.integer(what="message type id")
    cls = table.get(type_id)
    if cls is None:
        other_kind = "request" if kind == "reply" else "reply"
        other = _TABLES[other_kind].get(type_id)
        hint = f" ({other.SDD_NAME} is a {other_kind} type)" if other is not None else ""
        raise DMQProtocolError(f"unknown {kind} type: id {type_id} at offset {id_at}{hint}")
    return decode_struct(reader, cls)


def decode_reply(body: bytes | bytearray | memoryview) -> Reply:
    """Decode a server reply or a SETTING body (reply table)."""
    message = decode_message(body, kind="reply")
    assert isinstance(message, Reply)
    return message


def decode_request(body: bytes | bytearray | memoryview) -> Request:
    """Decode an INIT body (request table)."""
    message = decode_message(body, kind="request")
    assert isinstance(message, Request)
    return message
