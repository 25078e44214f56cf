"""Primitive values of the PC ("SDD") encoding (docs/protocols/dpm.md §2.1-§2.4).

Every value is a one-byte tag followed by its payload. Writers return the
complete tagged ``bytes``; readers take ``(buf, pos)`` and return
``(value, next_pos)``. Readers work on ``bytes`` and check every length before
slicing (slices never raise on their own); a read of a single byte past the end
raises ``IndexError``, which the message decoder turns into
:class:`DPMProtocolError`. Arrays of doubles and int64 are decoded in bulk with
numpy strided views instead of a per-element loop; numpy is imported by the
array readers and writers only, so scalar traffic never loads it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from pacsys._arrays import loaded_numpy

from .errors import DPMEncodeError, DPMProtocolError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# High nibble of each variable-width tag; the low nibble is a byte count 1..8.
INT_BASE: Final = 0x10
BLOB_BASE: Final = 0x30
STRING_BASE: Final = 0x40
ARRAY_BASE: Final = 0x50
DOUBLE_TAG: Final = 0x28
FALSE_TAG: Final = 0x70
TRUE_TAG: Final = 0x71

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

_DOUBLE = struct.Struct(">d")
_DOUBLE_TAG_BYTE: Final = bytes((DOUBLE_TAG,))
_pack_double = _DOUBLE.pack
_unpack_double = _DOUBLE.unpack_from
_BE_F64: Final = ">f8"
_BE_I64: Final = ">i8"

# Minimal encodings of -128..127, the most common integers on the wire.
_SMALL_INTS: Final = tuple(bytes((INT_BASE | 1, v & 0xFF)) for v in range(-128, 128))
_EMPTY_ARRAY: Final = bytes((ARRAY_BASE | 1, 0))


def _tag_error(tag: int, pos: int, expected: str) -> DPMProtocolError:
    return DPMProtocolError(f"bad tag or length 0x{tag:02x} at offset {pos}, expected {expected}")


def _truncated(pos: int) -> DPMProtocolError:
    return DPMProtocolError(f"truncated message (value at offset {pos} runs past the end)")


# --------------------------------------------------------------------------- writers


def _int_width(value: int) -> int:
    """Byte count of the shortest two's-complement form of ``value``."""
    bits = value.bit_length() if value >= 0 else (~value).bit_length()
    return (bits + 8) >> 3


def encode_int(value: int) -> bytes:
    """Minimal signed big-endian integer with tag ``0x1n`` (int64 range)."""
    if -128 <= value <= 127:
        return _SMALL_INTS[value + 128]
    width = _int_width(value)
    if width > 8:
        raise DPMEncodeError(f"integer {value} does not fit in int64")
    return bytes((INT_BASE | width,)) + value.to_bytes(width, "big", signed=True)


def encode_size(base: int, size: int) -> bytes:
    """Tag ``base|n`` followed by ``size`` (a length or count) in minimal signed form."""
    if 0 <= size <= 127:
        return bytes((base | 1, size))
    if size < 0:
        raise DPMEncodeError(f"negative length {size}")
    width = _int_width(size)
    if width > 8:
        raise DPMEncodeError(f"length {size} does not fit in 8 bytes")
    return bytes((base | width,)) + size.to_bytes(width, "big", signed=True)


def encode_double(value: float) -> bytes:
    """``0x28`` plus the 8 IEEE-754 bytes (NaN, infinities and -0.0 bit-exact)."""
    try:
        return b"\x28" + _pack_double(value)
    except struct.error as exc:
        raise DPMEncodeError(f"expected a float, got {type(value).__name__}") from exc


def encode_bool(value: bool) -> bytes:
    """``0x71`` for true, ``0x70`` for false; only real booleans are accepted."""
    np = loaded_numpy()  # a numpy bool can only exist once numpy is loaded
    if not isinstance(value, bool) and not (np is not None and isinstance(value, np.bool_)):
        raise DPMEncodeError(f"expected a bool, got {type(value).__name__}")
    return b"\x71" if value else b"\x70"


def encode_string(value: str) -> bytes:
    """Tag, character count, then one Latin-1 byte per character."""
    if not isinstance(value, str):
        raise DPMEncodeError(f"expected a str, got {type(value).__name__}")
    try:
        data = value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise DPMEncodeError(f"string {value!r} has characters above U+00FF") from exc
    return encode_size(STRING_BASE, len(data)) + data


def encode_binary(value: bytes | bytearray | memoryview) -> bytes:
    """Tag, byte count, then the raw bytes."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DPMEncodeError(f"expected bytes, got {type(value).__name__}")
    data = bytes(value)
    return encode_size(BLOB_BASE, len(data)) + data


def encode_array_header(count: int) -> bytes:
    """Array/struct header ``0x5n`` with ``count`` elements."""
    return _EMPTY_ARRAY if count == 0 else encode_size(ARRAY_BASE, count)


def encode_double_array(values: npt.ArrayLike) -> bytes:
    """Array of tagged doubles, built in one numpy pass (9 bytes per element).

    Before numpy is imported (a script writing a scalar) a list or tuple is packed element
    by element instead, with the same bytes: one write must not pay numpy's import.
    """
    if isinstance(values, (list, tuple)) and loaded_numpy() is None:
        return _encode_double_sequence(values)
    import numpy as np

    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DPMEncodeError(f"expected a sequence of floats: {exc}") from exc
    if array.ndim != 1:
        raise DPMEncodeError(f"expected a 1-D sequence of floats, got shape {array.shape}")
    count = array.shape[0]
    if count == 0:
        return _EMPTY_ARRAY
    out = np.empty((count, 9), dtype=np.uint8)
    out[:, 0] = DOUBLE_TAG
    out[:, 1:] = array.astype(_BE_F64).view(np.uint8).reshape(count, 8)
    return encode_array_header(count) + out.tobytes()


def _encode_double_sequence(values: Sequence[Any]) -> bytes:
    try:
        parts = [_DOUBLE_TAG_BYTE + _DOUBLE.pack(float(v)) for v in values]
    except (TypeError, ValueError) as exc:
        raise DPMEncodeError(f"expected a sequence of floats: {exc}") from exc
    return encode_array_header(len(parts)) + b"".join(parts)


def encode_int64_array(values: Sequence[int] | npt.NDArray[np.integer[Any]]) -> bytes:
    """Array of minimal integers (each element tagged and sized on its own)."""
    if isinstance(values, (str, bytes)):
        raise DPMEncodeError("expected a sequence of integers")
    try:
        parts = [encode_int(int(v)) for v in values]
    except (TypeError, ValueError, OverflowError) as exc:
        raise DPMEncodeError(f"expected a sequence of int64: {exc}") from exc
    return encode_array_header(len(parts)) + b"".join(parts)


def encode_string_array(values: Sequence[str]) -> bytes:
    """Array of tagged Latin-1 strings."""
    if isinstance(values, (str, bytes)):
        raise DPMEncodeError("expected a sequence of strings, got a single string")
    parts = [encode_string(v) for v in values]
    return encode_array_header(len(parts)) + b"".join(parts)


# --------------------------------------------------------------------------- readers


def read_int(buf: bytes, pos: int) -> tuple[int, int]:
    """Signed integer of 1..8 bytes (non-minimal forms accepted)."""
    width = buf[pos] - INT_BASE
    if width == 1:
        value = buf[pos + 1]
        return (value - 256 if value > 127 else value), pos + 2
    if not 1 < width < 9:
        raise _tag_error(buf[pos], pos, "integer")
    end = pos + 1 + width
    if end > len(buf):
        raise _truncated(pos)
    return int.from_bytes(buf[pos + 1 : end], "big", signed=True), end


def read_size(buf: bytes, pos: int, base: int) -> tuple[int, int]:
    """Tag ``base|n`` and a non-negative length/count of ``n`` bytes."""
    width = buf[pos] - base
    if width == 1:
        size = buf[pos + 1]
        if size > 127:
            raise DPMProtocolError(f"negative length at offset {pos}")
        return size, pos + 2
    if not 1 < width < 9:
        raise _tag_error(buf[pos], pos, _SIZE_NAMES[base])
    end = pos + 1 + width
    if end > len(buf):
        raise _truncated(pos)
    size = int.from_bytes(buf[pos + 1 : end], "big", signed=True)
    if size < 0:
        raise DPMProtocolError(f"negative length at offset {pos}")
    return size, end


_SIZE_NAMES: Final = {BLOB_BASE: "binary", STRING_BASE: "string", ARRAY_BASE: "array or struct"}


def read_int16(buf: bytes, pos: int) -> tuple[int, int]:
    """Integer that must fit in int16."""
    value, end = read_int(buf, pos)
    if not INT16_MIN <= value <= INT16_MAX:
        raise DPMProtocolError(f"value out of range for int16 at offset {pos}: {value}")
    return value, end


def read_int32(buf: bytes, pos: int) -> tuple[int, int]:
    """Integer that must fit in int32."""
    value, end = read_int(buf, pos)
    if not INT32_MIN <= value <= INT32_MAX:
        raise DPMProtocolError(f"value out of range for int32 at offset {pos}: {value}")
    return value, end


def read_double(buf: bytes, pos: int) -> tuple[float, int]:
    """Exactly tag ``0x28`` and 8 bytes."""
    if buf[pos] != DOUBLE_TAG:
        raise _tag_error(buf[pos], pos, "double")
    end = pos + 9
    if end > len(buf):
        raise _truncated(pos)
    return _unpack_double(buf, pos + 1)[0], end


def read_bool(buf: bytes, pos: int) -> tuple[bool, int]:
    """``0x70``/``0x71``; any other byte is an error."""
    tag = buf[pos]
    if tag == TRUE_TAG:
        return True, pos + 1
    if tag == FALSE_TAG:
        return False, pos + 1
    raise _tag_error(tag, pos, "boolean")


def read_string(buf: bytes, pos: int) -> tuple[str, int]:
    """Latin-1 string (one byte per character)."""
    size, start = read_size(buf, pos, STRING_BASE)
    end = start + size
    if end > len(buf):
        raise _truncated(pos)
    return buf[start:end].decode("latin-1"), end


def read_binary(buf: bytes, pos: int) -> tuple[bytes, int]:
    """Raw blob."""
    size, start = read_size(buf, pos, BLOB_BASE)
    end = start + size
    if end > len(buf):
        raise _truncated(pos)
    return buf[start:end], end


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array


def read_double_array(buf: bytes, pos: int) -> tuple[npt.NDArray[np.float64], int]:
    """Array of doubles as a read-only native float64 ndarray (one bulk copy)."""
    import numpy as np

    count, start = read_size(buf, pos, ARRAY_BASE)
    end = start + 9 * count
    if end > len(buf):
        raise _truncated(pos)
    if count == 0:
        return _frozen(np.empty(0, dtype=np.float64)), end
    if buf[start:end:9].count(DOUBLE_TAG) != count:
        bad = next(i for i in range(start, end, 9) if buf[i] != DOUBLE_TAG)
        raise _tag_error(buf[bad], bad, "double")
    view = np.ndarray((count,), dtype=_BE_F64, buffer=buf, offset=start + 1, strides=(9,))
    return _frozen(view.astype(np.float64)), end


def read_int64_array(buf: bytes, pos: int) -> tuple[npt.NDArray[np.int64], int]:
    """Array of integers as a read-only int64 ndarray.

    When every element has the same width (the usual case, e.g. timestamps in
    µs) the array is converted in bulk; otherwise element by element.
    """
    import numpy as np

    count, start = read_size(buf, pos, ARRAY_BASE)
    if count == 0:
        return _frozen(np.empty(0, dtype=np.int64)), start
    tag = buf[start]
    width = tag - INT_BASE
    stride = width + 1
    end = start + stride * count
    if 0 < width < 9 and end <= len(buf) and buf[start:end:stride].count(tag) == count:
        return _frozen(_bulk_ints(buf, start + 1, count, width)), end
    if count > len(buf) - start:  # each element takes at least 2 bytes
        raise _truncated(pos)
    values = []
    pos = start
    for _ in range(count):
        value, pos = read_int(buf, pos)
        values.append(value)
    return _frozen(np.array(values, dtype=np.int64)), pos


def _bulk_ints(buf: bytes, offset: int, count: int, width: int) -> npt.NDArray[np.int64]:
    """Sign-extend ``count`` big-endian integers of ``width`` bytes, ``width+1`` apart."""
    import numpy as np

    stride = width + 1
    if width == 8:
        view = np.ndarray((count,), dtype=_BE_I64, buffer=buf, offset=offset, strides=(stride,))
        return view.astype(np.int64)
    raw = np.ndarray((count, width), dtype=np.uint8, buffer=buf, offset=offset, strides=(stride, 1))
    wide = np.empty((count, 8), dtype=np.uint8)
    wide[:, : 8 - width] = np.where(raw[:, :1] >= 0x80, 0xFF, 0).astype(np.uint8)
    wide[:, 8 - width :] = raw
    return wide.view(_BE_I64).reshape(count).astype(np.int64)


def read_string_array(buf: bytes, pos: int) -> tuple[tuple[str, ...], int]:
    """Array of Latin-1 strings as a tuple."""
    count, pos = read_size(buf, pos, ARRAY_BASE)
    if count > len(buf) - pos:  # each element takes at least 2 bytes
        raise _truncated(pos)
    values = []
    for _ in range(count):
        value, pos = read_string(buf, pos)
        values.append(value)
    return tuple(values), pos
