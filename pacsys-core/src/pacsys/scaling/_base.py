"""What the transforms share: their failure type and ACNET's integer and bit helpers."""

from __future__ import annotations

import math
import struct

__all__ = [
    "SIGNED_RANGE",
    "TransformFailure",
    "bits32",
    "bswap",
    "check_signed",
    "check_unsigned",
    "f32",
    "jint",
    "need_width",
    "s32",
    "sext8",
    "sign_extend",
    "wswap",
]

_PACK_F = struct.Struct("<f")
_PACK_I = struct.Struct("<I")
_PACK_SI = struct.Struct("<i")
_MASK32 = 0xFFFFFFFF
SIGNED_RANGE = {1: (-0x80, 0x7F), 2: (-0x8000, 0x7FFF), 4: (-0x80000000, 0x7FFFFFFF)}
_UNSIGNED = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}


class TransformFailure(Exception):
    """A transform refused its input; the text is the ACNET reason (e.g. ``"Overflow"``)."""


def sign_extend(raw: int, n: int) -> int:
    """The low ``n`` bytes of ``raw`` read as a two's-complement integer."""
    bits = 8 * n
    value = raw & ((1 << bits) - 1)
    return value - (1 << bits) if value >> (bits - 1) else value


def sext8(value: int) -> int:
    value &= 0xFF
    return value - 0x100 if value & 0x80 else value


def s32(u: int) -> int:
    u &= _MASK32
    return u - 0x100000000 if u & 0x80000000 else u


def wswap(u: int) -> int:
    u &= _MASK32
    return ((u & 0xFFFF) << 16) | (u >> 16)


def bswap(u: int) -> int:
    return int.from_bytes((u & _MASK32).to_bytes(4, "little"), "big")


def f32(bits: int) -> float:
    """The low 32 bits of ``bits`` as an IEEE binary32, widened to double."""
    return _PACK_F.unpack(_PACK_I.pack(bits & _MASK32))[0]


def bits32(v: float) -> int:
    """``v`` rounded to binary32, as a signed 32-bit pattern (OverflowError past the range)."""
    return _PACK_SI.unpack(_PACK_F.pack(v))[0]


def check_signed(v: int, n: int) -> int:
    low, high = SIGNED_RANGE[n]
    if not low <= v <= high:
        raise TransformFailure("Overflow")
    return v


def check_unsigned(v: int, n: int) -> int:
    if not 0 <= v <= _UNSIGNED[n]:
        raise TransformFailure("Overflow")
    return v


def jint(v: float) -> int:
    """Java's narrowing ``(int)`` cast: NaN -> 0, saturating at the int32 bounds."""
    if math.isnan(v):
        return 0
    if v >= 2147483647.0:
        return 2147483647
    if v <= -2147483648.0:
        return -2147483648
    return int(v)


def need_width(n: int, want: int, message: str) -> None:
    if n != want:
        raise TransformFailure(message)
