"""Primary transforms: raw integer <-> primary units (volts, counts...), by ``p_index``.

Each transform is a pair of plain functions ``forward(raw, n) -> float`` and
``inverse(v, n) -> int`` over Python numbers, where ``n`` is the raw width in bytes. The
arithmetic follows ACNET's front-end conventions to the bit (evaluation order included), so
do not "simplify" an expression: ``x / 3276.8`` is not ``x * (1 / 3276.8)``.

A documented failure raises TransformFailure; arithmetic errors (``int(nan)``, binary32
overflow...) propagate as the built-in exception. The public Scaler wraps both.
"""

from __future__ import annotations

from collections.abc import Callable

from pacsys.scaling._base import (
    TransformFailure,
    bits32,
    bswap,
    check_signed,
    check_unsigned,
    f32,
    jint,
    need_width,
    s32,
    sext8,
    sign_extend,
    wswap,
)

__all__ = ["FORWARD", "INVERSE", "LINEAR_DIVISORS"]

_MASK32 = 0xFFFFFFFF

# --- linear scales: x / K forward, checkS(trunc(v * K)) inverse -------------------------------

#: p_index -> K for the plain ``x / K`` transforms (also used by the vectorised path).
LINEAR_DIVISORS: dict[int, float] = {
    0: 3200.0,
    2: 3276.8,
    4: 6553.6,
    6: 13107.2,
    12: 320.0,
    70: 1000.0,
}


def _linear(k: float) -> tuple[Callable[[int, int], float], Callable[[float, int], int]]:
    def forward(raw: int, n: int) -> float:
        return sign_extend(raw, n) / k

    def inverse(v: float, n: int) -> int:
        return check_signed(int(v * k), n)

    return forward, inverse


# --- the other transforms -------------------------------------------------------------------


def _f8(raw: int, n: int) -> float:
    return sign_extend(raw, n) + 32768.0


def _i8(v: float, n: int) -> int:
    return check_signed(int(v - 32768.0), n)


def _f10(raw: int, n: int) -> float:
    return float(sign_extend(raw, n))


def _i10(v: float, n: int) -> int:
    return check_signed(int(v), n)


def _f14(raw: int, n: int) -> float:
    x = sign_extend(raw, n)
    value = float(x & 0x3FF)
    for _ in range((x & 0x1C00) >> 10):
        value *= 10.0
    return value


def _i14(v: float, n: int) -> int:
    if not 0 <= v <= 1023e7:
        raise TransformFailure("Out of valid range")
    mantissa, exponent = v, 0
    while mantissa > 1023.0:
        mantissa /= 10.0
        exponent += 1
    if exponent > 7:
        raise TransformFailure("Out of valid range")
    return int(mantissa) | exponent << 10 | 0xC000


def _f16(raw: int, n: int) -> float:
    return f32(sign_extend(raw, n))


def _i16(v: float, n: int) -> int:
    return bits32(v)


def _f18(raw: int, n: int) -> float:
    return sign_extend(raw, n) * 0.0010406


def _i18(v: float, n: int) -> int:
    return check_signed(int(v / 0.001040625), n)


def _f20(raw: int, n: int) -> float:
    x = sign_extend(raw, n)
    if x >= 0:
        return float(x)
    return x + 256.0 if n == 1 else x + 65536.0


def _i20(v: float, n: int) -> int:
    if v < 0 or (n == 1 and v > 255) or (n == 2 and v > 65535):
        raise TransformFailure("Corrupt data")
    if n == 4:
        raise TransformFailure("Bad scale")
    return jint(v)


def _f22(raw: int, n: int) -> float:
    return f32(wswap(sign_extend(raw, n))) / 4.0


def _i22(v: float, n: int) -> int:
    return s32(wswap(bits32(v * 4.0)))


def _f24(raw: int, n: int) -> float:
    return f32(wswap(sign_extend(raw, n)))


def _i24(v: float, n: int) -> int:
    return s32(wswap(bits32(v)))


def _f26(raw: int, n: int) -> float:
    return ((sign_extend(raw, n) >> 8) & 0xFF) / 82.1865 - 0.310269935


def _i26(v: float, n: int) -> int:
    return int(abs(((v + 0.310269935) * 82.1865) * 256.0))


def _f28(raw: int, n: int) -> float:
    return float(s32(wswap(sign_extend(raw, n))))


def _i28(v: float, n: int) -> int:
    return s32(wswap(int(v)))


def _f30(raw: int, n: int) -> float:
    return float(sext8(sign_extend(raw, n)))


def _i30(v: float, n: int) -> int:
    return check_signed(int(v), 1)


def _f32(raw: int, n: int) -> float:
    return float(sext8(sign_extend(raw, n) >> 8))


def _i32(v: float, n: int) -> int:
    return (check_signed(int(v), 1) & 0xFF) << 8


def _f34(raw: int, n: int) -> float:
    return float(sign_extend(raw, n) & 0xFF)


def _i34(v: float, n: int) -> int:
    return check_unsigned(int(abs(v)), 1)


def _f36(raw: int, n: int) -> float:
    return float((sign_extend(raw, n) >> 8) & 0xFF)


def _i36(v: float, n: int) -> int:
    if not 0 <= v < 256:
        raise TransformFailure("Overflow")
    return int(v) << 8


def _f38(raw: int, n: int) -> float:
    return (sign_extend(raw, n) & 0xFF) / 82.1865 - 0.310269935


def _i38(v: float, n: int) -> int:
    return int(abs((v + 0.310269935) * 82.1865)) & 0xFF


def _f40(raw: int, n: int) -> float:
    return sign_extend(raw, n) / 256.0


def _i40(v: float, n: int) -> int:
    return check_signed(int(v * 256.0), 1)


def _f42(raw: int, n: int) -> float:
    return (sign_extend(raw, n) & 0xFFFF) / 6553.6


def _wrap16(t: float) -> int:
    if t > 32768.0:
        t -= 65536.0
    return int(t) & 0xFFFF


def _i42(v: float, n: int) -> int:
    return _wrap16(v * 6553.6)


def _f44(raw: int, n: int) -> float:
    x = sign_extend(raw, n)
    value = 0.0
    for nibble in range(6, -1, -1):
        value = value * 10.0 + ((x >> (4 * nibble)) & 0xF)
    return value


def _i44(v: float, n: int) -> int:
    t, s = int(v), 0
    for i in range(7, 0, -1):
        h = t // 10**i
        if h != 0:
            t -= h * 10**i
            s += h * 16**i
    return s + t


def _f46(raw: int, n: int) -> float:
    x = sign_extend(raw, n)
    return float(x if x >= 0 else x + 0x100000000)


def _i46(v: float, n: int) -> int:
    if not 0 <= v < 4294967296.0:
        raise TransformFailure("Corrupt data")
    return s32(int(v))


def _f48(raw: int, n: int) -> float:
    return f32(sign_extend(raw, n)) / 0.036


def _i48(v: float, n: int) -> int:
    return bits32(v * 0.036)


def _clamped(low: float, high: float) -> tuple[Callable[..., float], Callable[..., int]]:
    """IEEE single clamped to [low, high] (NaN reads as ``high``); the inverse range-checks."""

    def forward(raw: int, n: int) -> float:
        return max(low, min(high, f32(sign_extend(raw, n))))

    def inverse(v: float, n: int) -> int:
        if v < low or v > high:
            raise TransformFailure("Out of valid range")
        return bits32(v)

    return forward, inverse


def _f52(raw: int, n: int) -> float:
    x = sign_extend(raw, n)
    if n == 2:
        return float(sign_extend(((x & 0xFF) << 8) | ((x >> 8) & 0xFF), 2))
    if n == 4:
        return float(s32(bswap(x)))
    return 0.0


def _i52(v: float, n: int) -> int:
    s = check_signed(int(v), n)
    if n == 2:
        return ((s & 0xFF) << 8) | ((s >> 8) & 0xFF)
    if n == 4:
        return s32(bswap(s))
    return 0


def _f54(raw: int, n: int) -> float:
    if n != 2 or raw & 0x8000:
        raise TransformFailure("Corrupt data")
    return sign_extend(raw, n) * 0.0004882961516 + 4.0


def _i54(v: float, n: int) -> int:
    if n != 2 or v < 4 or v > 20:
        raise TransformFailure("Value out of range")
    s = check_unsigned(int((v - 4.0) / 0.0004882961516), n)
    if s & 0x8000:
        raise TransformFailure("Value out of range")
    return s


def _offset_binary(
    k: float, inverse_message: str
) -> tuple[Callable[..., float], Callable[..., int]]:
    """Two-byte offset binary: ``(raw - 32768) / k``."""

    def forward(raw: int, n: int) -> float:
        need_width(n, 2, "Must be two byte quantity")
        return (float(raw & 0xFFFF) - 32768.0) / k

    def inverse(v: float, n: int) -> int:
        need_width(n, 2, inverse_message)
        return check_unsigned(int(v * k + 32768.0), n)

    return forward, inverse


def _f58(raw: int, n: int) -> float:
    return (raw & _MASK32) / 256.0


def _i58(v: float, n: int) -> int:
    r = jint(v * 256.0)
    return -r if r < 0 else r


def _f60(raw: int, n: int) -> float:
    return 500.0 * f32(sign_extend(raw, n))


def _i60(v: float, n: int) -> int:
    return bits32(v / 500.0)


def _f62(raw: int, n: int) -> float:
    return sign_extend(raw, n) / 6400.0


def _i62(v: float, n: int) -> int:
    return _wrap16(v * 6400.0)


_P64_SCALE = {1: 128.0, 2: 32768.0, 4: 2147483648.0}


def _f64(raw: int, n: int) -> float:
    return sign_extend(raw, n) / _P64_SCALE[n]


def _i64(v: float, n: int) -> int:
    if v < -1 or v > 1:
        raise TransformFailure("Value out of range")
    t = v * _P64_SCALE[n]
    return jint(t) if n == 4 else int(t)


def _f66(raw: int, n: int) -> float:
    need_width(n, 2, "Must be two byte quantity")
    x = sign_extend(raw, n)
    if x <= 0:
        raise TransformFailure("Corrupt data")
    return x / 3200.0


def _i66(v: float, n: int) -> int:
    if v <= 0:
        raise TransformFailure("Value out of range")
    return int(v * 3200.0)


def _f68(raw: int, n: int) -> float:
    raise TransformFailure("Alternate Scaling Required")


def _i68(v: float, n: int) -> int:
    return int(v)


def _f74(raw: int, n: int) -> float:
    need_width(n, 2, "Data length error")
    return sign_extend(raw, n) * 0.00064088


def _i74(v: float, n: int) -> int:
    if n != 2 or abs(v) > 21:
        raise TransformFailure("Data range invalid")
    return check_unsigned(int(v / 0.00064088), n)


def _f76(raw: int, n: int) -> float:
    need_width(n, 4, "Data length error")
    return float(wswap(sign_extend(raw, n)))


def _i76(v: float, n: int) -> int:
    need_width(n, 4, "Data length invalid")
    if v >= 4294967296.0 or v < 0:
        raise TransformFailure("Data range invalid")
    s = int(v - 2147483648.0) | 0x80000000 if v >= 2147483648.0 else int(v)
    return s32(wswap(s))


def _f82(raw: int, n: int) -> float:
    need_width(n, 2, "Must be two byte quantity")
    x = sign_extend(raw, n)
    if x & 0xF000:
        raise TransformFailure("Corrupted input data")
    return x / 409.5


def _i82(v: float, n: int) -> int:
    need_width(n, 2, "Data length invalid")
    if v < 0 or v > 10:
        raise TransformFailure("Out of valid range")
    return int(v * 409.5)


def _f84(raw: int, n: int) -> float:
    need_width(n, 4, "Must be four byte quantity")
    return f32(bswap(sign_extend(raw, n)))


def _i84(v: float, n: int) -> int:
    need_width(n, 4, "Data length invalid")
    return s32(bswap(bits32(v)))


_PAIRS: dict[int, tuple[Callable[[int, int], float], Callable[[float, int], int]]] = {
    **{p: _linear(k) for p, k in LINEAR_DIVISORS.items()},
    8: (_f8, _i8),
    10: (_f10, _i10),
    14: (_f14, _i14),
    16: (_f16, _i16),
    18: (_f18, _i18),
    20: (_f20, _i20),
    22: (_f22, _i22),
    24: (_f24, _i24),
    26: (_f26, _i26),
    28: (_f28, _i28),
    30: (_f30, _i30),
    32: (_f32, _i32),
    34: (_f34, _i34),
    36: (_f36, _i36),
    38: (_f38, _i38),
    40: (_f40, _i40),
    42: (_f42, _i42),
    44: (_f44, _i44),
    46: (_f46, _i46),
    48: (_f48, _i48),
    50: _clamped(-10.24, 10.235),
    52: (_f52, _i52),
    54: (_f54, _i54),
    56: _offset_binary(3276.8, "Data size invalid"),
    58: (_f58, _i58),
    60: (_f60, _i60),
    62: (_f62, _i62),
    64: (_f64, _i64),
    66: (_f66, _i66),
    68: (_f68, _i68),
    72: _offset_binary(3200.0, "Data length invalid"),
    74: (_f74, _i74),
    76: (_f76, _i76),
    78: _clamped(0.0, 5.0),
    80: _clamped(0.0, 10.0),
    82: (_f82, _i82),
    84: (_f84, _i84),
}

FORWARD: dict[int, Callable[[int, int], float]] = {p: f for p, (f, _) in _PAIRS.items()}
INVERSE: dict[int, Callable[[float, int], int]] = {p: i for p, (_, i) in _PAIRS.items()}
