"""SDD ("self-describing data") primitives: tag bytes, integers, doubles, strings, blobs.

Every SDD value starts with a tag byte. For the integer, blob, string, array/struct and
enum families the low nibble ``n`` (1..8) is the byte width of a big-endian two's
complement integer that follows. The writer always picks the narrowest width;
the reader accepts any width 1..8.
"""

from __future__ import annotations

import struct

from pacsys_dmq.codec.errors import DMQProtocolError

__all__ = [
    "INT16_RANGE",
    "INT32_RANGE",
    "INT64_RANGE",
    "TAG_ARRAY",
    "TAG_BINARY",
    "TAG_DOUBLE",
    "TAG_ENUM",
    "TAG_FALSE",
    "TAG_INT",
    "TAG_STRING",
    "TAG_TRUE",
    "SDDReader",
    "SDDWriter",
    "int_width",
]

# Tag families (high nibble); the low nibble carries the integer width.
TAG_INT = 0x10
TAG_BINARY = 0x30
TAG_STRING = 0x40
TAG_ARRAY = 0x50
TAG_ENUM = 0x80
# Tags without a width.
TAG_DOUBLE = 0x28
TAG_FALSE = 0x70
TAG_TRUE = 0x71

INT16_RANGE = (-(1 << 15), (1 << 15) - 1)
INT32_RANGE = (-(1 << 31), (1 << 31) - 1)
INT64_RANGE = (-(1 << 63), (1 << 63) - 1)

_FAMILY_NAMES = {
    TAG_INT: "integer",
    TAG_BINARY: "binary",
    TAG_STRING: "string",
    TAG_ARRAY: "array/struct",
    TAG_ENUM: "enum",
}
_DOUBLE = struct.Struct(">d")


def int_width(value: int) -> int:
    """Fewest bytes (1..8) whose two's complement holds ``value``."""
    for width in range(1, 9):
        if -(1 << (8 * width - 1)) <= value < (1 << (8 * width - 1)):
            return width
    raise ValueError(f"integer {value} does not fit in 64 bits")


class SDDWriter:
    """Appends SDD-encoded values to a growing buffer."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self._buffer)

    def raw(self, data: bytes) -> None:
        """Append bytes verbatim (the message header)."""
        self._buffer += data

    def _tagged_int(self, family: int, value: int) -> None:
        width = int_width(value)
        self._buffer.append(family | width)
        self._buffer += value.to_bytes(width, "big", signed=True)

    def integer(self, value: int) -> None:
        self._tagged_int(TAG_INT, value)

    def enum(self, value: int) -> None:
        self._tagged_int(TAG_ENUM, value)

    def double(self, value: float) -> None:
        self._buffer.append(TAG_DOUBLE)
        self._buffer += _DOUBLE.pack(value)

    def boolean(self, value: bool) -> None:
        self._buffer.append(TAG_TRUE if value else TAG_FALSE)

    def binary(self, value: bytes) -> None:
        self._tagged_int(TAG_BINARY, len(value))
        self._buffer += value

    def string(self, value: str) -> None:
        """One byte per character (ISO-8859-1); raises ValueError above U+00FF."""
        try:
            encoded = value.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"string {value!r} has characters above U+00FF, which SDD cannot encode"
            ) from exc
        self._tagged_int(TAG_STRING, len(encoded))
        self._buffer += encoded

    def array_header(self, count: int) -> None:
        """Start an array of ``count`` values or a struct of ``count // 2`` fields."""
        self._tagged_int(TAG_ARRAY, count)


class SDDReader:
    """Reads SDD values from a byte string, raising DMQProtocolError on any defect.

    Lengths and counts are checked against the remaining input before anything is
    allocated, so hostile sizes fail fast instead of hanging or exhausting memory.
    """

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = data
        self.offset = offset

    @property
    def remaining(self) -> int:
        return len(self._data) - self.offset

    def take(self, size: int) -> bytes:
        """The next ``size`` bytes; 'unexpected end of input' when fewer are left."""
        if size > self.remaining:
            raise DMQProtocolError(
                f"unexpected end of input: need {size} byte(s) at offset {self.offset}, "
                f"{self.remaining} left"
            )
        start = self.offset
        self.offset += size
        return self._data[start : start + size]

    def peek_tag(self) -> int:
        if self.remaining < 1:
            raise DMQProtocolError(
                f"unexpected end of input: expected a tag byte at offset {self.offset}"
            )
        return self._data[self.offset]

    def _tagged_int(self, family: int) -> int:
        at = self.offset
        tag = self.take(1)[0]
        width = tag & 0x0F
        if tag & 0xF0 != family or not 1 <= width <= 8:
            raise DMQProtocolError(
                f"bad tag or length: expected {_FAMILY_NAMES[family]} tag, "
                f"found 0x{tag:02x} at offset {at}"
            )
        return int.from_bytes(self.take(width), "big", signed=True)

    def integer(self, bounds: tuple[int, int] = INT64_RANGE, what: str = "integer") -> int:
        """A signed integer, checked against the inclusive ``bounds``."""
        at = self.offset
        value = self._tagged_int(TAG_INT)
        if not bounds[0] <= value <= bounds[1]:
            raise DMQProtocolError(
                f"value out of range: {what} {value} at offset {at} "
                f"is outside {bounds[0]}..{bounds[1]}"
            )
        return value

    def enum(self) -> int:
        return self._tagged_int(TAG_ENUM)

    def double(self) -> float:
        at = self.offset
        tag = self.take(1)[0]
        if tag != TAG_DOUBLE:
            raise DMQProtocolError(
                f"bad tag or length: expected double tag 0x28, found 0x{tag:02x} at offset {at}"
            )
        value: float = _DOUBLE.unpack(self.take(8))[0]
        return value

    def boolean(self) -> bool:
        at = self.offset
        tag = self.take(1)[0]
        if tag not in (TAG_FALSE, TAG_TRUE):
            raise DMQProtocolError(
                f"bad tag or length: expected boolean tag 0x70/0x71, found 0x{tag:02x} "
                f"at offset {at}"
            )
        return tag == TAG_TRUE

    def _length(self, family: int, unit_size: int = 1) -> int:
        """A length or count; each counted unit needs at least ``unit_size`` bytes."""
        at = self.offset
        length = self._tagged_int(family)
        if length < 0:
            raise DMQProtocolError(f"bad tag or length: negative length {length} at offset {at}")
        if length * unit_size > self.remaining:
            raise DMQProtocolError(
                f"unexpected end of input: {_FAMILY_NAMES[family]} of {length} at offset {at} "
                f"needs at least {length * unit_size} byte(s), {self.remaining} left"
            )
        return length

    def binary(self) -> bytes:
        return bytes(self.take(self._length(TAG_BINARY)))

    def string(self) -> str:
        return bytes(self.take(self._length(TAG_STRING))).decode("latin-1")

    def array_header(self) -> int:
        """Element count of an array (or entry count of a struct: 2 x fields)."""
        return self._length(TAG_ARRAY)
