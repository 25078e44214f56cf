"""numpy kernels for the common transforms, bit-identical to the scalar path.

Only transforms made of ``+ - * /``, comparisons and bit operations are vectorised:
IEEE-754 makes those identical in numpy and in Python, so an array result equals the
element-wise one bit for bit. Transcendental ones (exp, log, pow) are left to the scalar
path, because numpy's exp/log need not round like the platform libm.

Each kernel returns ``(result, bad)``, where ``bad`` marks elements the scalar path would
reject (a deliberately generous mask), or None when it does not handle the case. The caller
re-runs a batch with any bad element through the scalar path, which raises the exact error
for the first failing element.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pacsys.scaling._common import MIN_CONSTANTS
from pacsys.scaling._primary import LINEAR_DIVISORS

__all__ = ["common_forward", "common_inverse", "primary_forward", "primary_inverse", "raw_ints"]

Array = np.ndarray
Result = tuple[Array, Array] | None

_SIGNED = {1: (-0x80, 0x7F), 2: (-0x8000, 0x7FFF), 4: (-0x80000000, 0x7FFFFFFF)}


def raw_ints(values: Array) -> Array | None:
    """``int()`` of every element as int64, or None when only Python ints can do it exactly.

    The primary transforms read only the low 32 bits of a raw value, so wrapping a uint64
    into int64 loses nothing.
    """
    kind = values.dtype.kind
    if kind in "iub":
        return values.astype(np.int64, copy=False)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            if not np.all(np.abs(values) < 2.0**63):  # NaN and inf fail this too
                return None
        return np.trunc(values).astype(np.int64)
    return None


_SIGNED_TYPES = {1: np.int8, 2: np.int16, 4: np.int32}


def _sign_extend(raw: Array, n: int) -> Array:
    """The low ``n`` bytes as signed integers: numpy's narrowing cast wraps, as wanted."""
    return raw.astype(_SIGNED_TYPES[n])


def _no_errors(shape: tuple[int, ...]) -> Array:
    return np.zeros(shape, dtype=bool)


def primary_forward(p_index: int, raw: Array, n: int) -> Result:
    k = LINEAR_DIVISORS.get(p_index)
    if k is None and p_index not in (8, 10, 16, 18, 40):
        return None
    x = _sign_extend(raw, n)
    with np.errstate(all="ignore"):  # a signalling NaN pattern is quietly converted
        result = _primary_forward(p_index, k, x)
    return result, _no_errors(result.shape)


def _primary_forward(p_index: int, k: float | None, x: Array) -> Array:
    if k is not None:
        return x / k
    if p_index == 8:
        return x + 32768.0
    if p_index == 10:
        return x.astype(np.float64)
    if p_index == 16:
        return x.astype(np.int32).view(np.float32).astype(np.float64)
    if p_index == 18:
        return x * 0.0010406
    return x / 256.0  # 40


def _checked_trunc(t: Array, n: int) -> tuple[Array, Array]:
    """``int(t)`` with ACNET's signed range check for ``n`` bytes; overwrites ``t``."""
    low, high = _SIGNED[n]
    np.trunc(t, out=t)
    bad = ~((t >= low) & (t <= high))  # NaN lands here too
    if bad.any():
        return t, bad  # the caller re-runs the scalar path, which raises
    return t.astype(np.int64), bad


def primary_inverse(p_index: int, v: Array, n: int) -> Result:
    """The raw values of primary ``v``, which it may overwrite (pass an array you own)."""
    with np.errstate(all="ignore"):  # overflow to inf and NaN are caught by the masks
        return _primary_inverse(p_index, v, n)


def _primary_inverse(p_index: int, v: Array, n: int) -> Result:
    k = LINEAR_DIVISORS.get(p_index)
    if k is not None:
        v *= k
        return _checked_trunc(v, n)
    if p_index == 8:
        v -= 32768.0
        return _checked_trunc(v, n)
    if p_index == 10:
        return _checked_trunc(v, n)
    if p_index == 18:
        return _checked_trunc(v / 0.001040625, n)
    if p_index == 40:
        return _checked_trunc(v * 256.0, 1)
    if p_index == 16:
        single = v.astype(np.float32)
        bad = np.isinf(single) & np.isfinite(v)  # too large for binary32
        return single.view(np.int32).astype(np.int64), bad | np.isnan(v)
    return None


def _divide(numerator: Array, denominator: Array) -> tuple[Array, Array]:
    """``numerator / denominator``; a zero denominator is bad (Python raises there)."""
    bad = denominator == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / np.where(bad, 1.0, denominator), bad


def _horner(x: Array, coefficients: Sequence[float]) -> Array:
    r = np.zeros_like(x)
    for c in coefficients:
        r = c + r * x
    return r


def common_forward(c_index: int, x: Array, C: Sequence[float]) -> Result:
    """The forward transform of ``x``, which it may overwrite (pass an array you own)."""
    if len(C) < MIN_CONSTANTS.get(c_index, 1 << 30):
        return None
    ok = _no_errors(x.shape)
    with np.errstate(all="ignore"):
        if c_index in (0, 80):
            return x, ok
        if c_index in (2, 6, 40) and C[1] != 0:  # (C1*x)/C2 [+ C3], in place
            x *= C[0]
            x /= C[1]
            if c_index != 6:
                x += C[2]
            return x, ok
        if c_index == 4 and C[1] != 0:
            x -= C[0]
            x /= C[1]
            return x, ok
        if c_index == 8:
            quotient, bad = _divide(C[0] * x, C[2] + C[1] * x)
            return C[3] + quotient, bad
        if c_index == 10:
            quotient, bad = _divide(np.full_like(x, C[1]), C[0] * x)
            return C[2] + quotient, bad
        if c_index in (12, 26):
            return _horner(x, C[: 5 if c_index == 12 else 6]), ok
        if c_index == 28:
            quotient, bad = _divide(np.full_like(x, C[2]), C[1] + C[0] * x)
            return quotient + C[3], bad
        if c_index == 34:
            return _divide(C[1] + C[0] * x, C[3] + C[2] * x)
        if c_index == 74:
            return _divide(C[0] + C[1] * x + C[2] * x * x, C[3] + C[4] * x + C[5] * x * x)
        if c_index == 88:
            return _divide(C[0] + x * (C[1] + x * C[2]), 1.0 + x * (C[3] + x * (C[4] + x * C[5])))
    return None


def common_inverse(c_index: int, xx: Array, C: Sequence[float]) -> Result:
    """The inverse transform of ``xx``, which it may overwrite (pass an array you own)."""
    ok = _no_errors(xx.shape)
    needed = {2: 3, 40: 3, 4: 2, 6: 2, 8: 4, 10: 3, 28: 4, 34: 4}.get(c_index, 0)
    if len(C) < needed:
        return None
    with np.errstate(all="ignore"):
        if c_index in (0, 60, 80):
            return xx, ok
        if c_index in (2, 6, 40) and C[0] != 0:  # ((xx [- C3]) * C2) / C1, in place
            if c_index != 6:
                xx -= C[2]
            xx *= C[1]
            xx /= C[0]
            return xx, ok
        if c_index == 4:
            xx *= C[1]
            xx += C[0]
            return xx, ok
        if c_index == 8:
            return _divide(C[2] * (xx - C[3]), C[0] - C[1] * (xx - C[3]))
        if c_index == 10:
            return _divide(np.full_like(xx, C[1]), (xx - C[2]) * C[0])
        if c_index == 28 and C[0] != 0:
            quotient, bad = _divide(np.full_like(xx, C[2]), C[0] * (xx - C[3]))
            return quotient - C[1] / C[0], bad
        if c_index == 34:
            return _divide(C[3] * xx - C[1], C[0] - C[2] * xx)
    return None
