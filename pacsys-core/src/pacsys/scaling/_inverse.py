"""Common transforms, inverse: engineering units -> primary units.

Most transforms have a closed-form inverse. The others are inverted numerically, as ACNET
does: a bracketing binary search over the primary range of the property's ``p_index`` (so
the answer depends on ``p_index``), or a root bisection for the vapour-pressure transform.
The searches reproduce ACNET's iteration exactly, including where they give up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from math import cos, exp, log, log10, sqrt

from pacsys.scaling._base import TransformFailure
from pacsys.scaling._common import (
    MULTIFUNCTION_MESSAGE,
    SUBTRANSFORM_MESSAGE,
    TABLE_MESSAGE,
    forward,
)

__all__ = ["inverse"]

Constants = Sequence[float]

#: Not the true binary32 maximum: the constant ACNET's searches use.
FLT_MAX = 1.7014117e38
_ITERATIONS = 1000

#: Primary-unit search limits, indexed by ``p_index // 2`` (p_index 0..80).
_LIMITS: tuple[tuple[float, float], ...] = (
    (-10.24, 10.235),  # 0
    (-10.0, 9.995),  # 2
    (-5.0, 4.998),  # 4
    (-2.5, 2.499),  # 6
    (0.0, 65536.0),  # 8
    (-4.295e9, 4.295e9),  # 10
    (0.0, 102.35),  # 12
    (100.0, 10.0e9),  # 14
    (-FLT_MAX, FLT_MAX),  # 16
    (0.0, 25.0),  # 18
    (0.0, 65535.0),  # 20
    (-4.295e9, 4.295e9),  # 22
    (-FLT_MAX, FLT_MAX),  # 24
    (-0.310269935, 3.10269935),  # 26
    (-4.295e9, 4.295e9),  # 28
    (-128.0, 127.0),  # 30
    (-128.0, 127.0),  # 32
    (0.0, 255.0),  # 34
    (0.0, 255.0),  # 36
    (-0.310269935, 3.10269935),  # 38
    (-8388608.0, 8388607.996),  # 40
    (0.0, 10.0),  # 42
    (0.0, 9999999.0),  # 44
    (0.0, 4294967295.0),  # 46
    (-6.125e36, 6.125e36),  # 48
    (0.0, 10.0),  # 50
    (-FLT_MAX, FLT_MAX),  # 52
    (4.0, 20.0),  # 54
    (-10.0, 10.0),  # 56
    (0.0, 256.0),  # 58
    (-FLT_MAX / 500.0, FLT_MAX / 500.0),  # 60
    (0.0, 10.24),  # 62
    (-1.0, 1.0),  # 64
    (0.0, 10.235),  # 66
    (0.0, 0.0),  # 68
    (-10.24, 10.235),  # 70
    (-10.24, 10.235),  # 72
    (0.0, 21.0),  # 74
    (0.0, 4294967295.0),  # 76
    (0.0, 5.0),  # 78
    (0.0, 10.0),  # 80
)


def search_limits(p_index: int) -> tuple[float, float]:
    row = p_index // 2
    if not 0 <= row < len(_LIMITS):
        raise TransformFailure(f"Unsupported p_index {p_index} for inverse transform search limits")
    return _LIMITS[row]


# --- numeric inversion --------------------------------------------------------------------


def _guarded(f: Callable[[float], float]) -> Callable[[float], float]:
    """``f`` with arithmetic errors read as values: overflow -> +inf, domain errors -> NaN."""

    def g(p: float) -> float:
        try:
            return f(p)
        except TransformFailure:
            raise
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            return math.nan

    return g


def _same_sign(a: float, b: float) -> bool:
    return (a > 0 and b > 0) or (a < 0 and b < 0)


def binary_search(
    f: Callable[[float], float], target: float, lo: float, hi: float, tol: float
) -> float:
    """The primary value whose forward transform ``f`` meets ``target`` (ACNET's search)."""
    F = _guarded(f)
    tol = min(tol, 0.0001)
    du, dl = F(hi) - target, F(lo) - target
    for _ in range(_ITERATIONS):  # widen/shrink until the interval brackets the target
        if not _same_sign(du, dl):
            break
        m = (lo + hi) / 2
        dm = F(m) - target
        if abs(hi) < FLT_MAX / 2 and abs(lo) < FLT_MAX / 2 and abs(hi - lo) <= tol:
            raise TransformFailure("Interval not found")
        if m in (lo, hi):
            raise TransformFailure("Interval not found")
        if (dm > 0 and du < 0) or (dm < 0 and du > 0):
            hi, du = m, dm
            break
        if abs(du) > abs(dm) and abs(du) >= abs(dl):
            hi, du = m, dm
        elif abs(dl) > abs(dm) and abs(dl) >= abs(du):
            lo, dl = m, dm
        else:
            raise TransformFailure("Interval not found")
    for _ in range(_ITERATIONS):  # bisect
        m = (lo + hi) / 2
        if (abs(hi) < FLT_MAX / 2 or abs(lo) < FLT_MAX / 2) and abs(hi - lo) <= tol:
            return m
        if m in (lo, hi):
            return m
        u, v = F(hi), F(m)
        if v == target:
            return m
        if (v > target and u >= target) or (v < target and u <= target):
            hi = m
        elif (v < target and u >= target) or (v > target and u <= target):
            lo = m
    raise TransformFailure("Binary search did not converge")


def _root_bisection(
    f: Callable[[float], float], target: float, x1: float, x2: float, xacc: float
) -> float:
    F = _guarded(f)
    f1, f2 = F(x1) - target, F(x2) - target
    if f1 * f2 >= 0:
        raise TransformFailure("Value not bracketed")
    if f1 < 0:
        r, dx = x1, x2 - x1
    else:
        r, dx = x2, x1 - x2
    for _ in range(30):
        dx *= 0.5
        m = r + dx
        fm = F(m) - target
        if fm <= 0:
            r = m
        if abs(dx) < xacc or fm == 0:
            return r
    return r


def _searched(c_index: int, xx: float, C: Constants, p_index: int) -> float:
    lo, hi = search_limits(p_index)
    return binary_search(lambda p: forward(c_index, p, C), xx, lo, hi, hi / 131072.0)


# --- closed forms -------------------------------------------------------------------------


def _i2(xx: float, C: Constants, p: int) -> float:
    return ((xx - C[2]) * C[1]) / C[0]


def _i4(xx: float, C: Constants, p: int) -> float:
    return xx * C[1] + C[0]


def _i6(xx: float, C: Constants, p: int) -> float:
    return (xx * C[1]) / C[0]


def _i8(xx: float, C: Constants, p: int) -> float:
    d = C[0] - C[1] * (xx - C[3])
    if d == 0:
        raise TransformFailure("Division by zero")
    return (C[2] * (xx - C[3])) / d


def _i10(xx: float, C: Constants, p: int) -> float:
    d = (xx - C[2]) * C[0]
    if d == 0:
        raise TransformFailure("Division by zero")
    return C[1] / d


def _i12(xx: float, C: Constants, p: int) -> float:
    if C[0] == 0 and C[1] == 0 and C[2] != 0:  # a quadratic: solve it
        a, b, c = C[2], C[3], C[4] - xx
        discriminant = b * b - 4.0 * a * c
        if discriminant < 0:
            raise TransformFailure("Negative discriminant")
        return (-b + sqrt(discriminant)) / (2.0 * a)
    return _searched(12, xx, C, p)


def _i20(xx: float, C: Constants, p: int) -> float:
    t = xx if C[2] == 0 else xx - C[2]
    a = ((-4 * t) * C[0]) * C[1] + 1
    if a < 0 or t == 0:
        raise TransformFailure("Domain error")
    b = ((1 - ((2 * t) * C[0]) * C[1] + sqrt(a)) / ((2 * t) * (C[0] ** 2))) / 0.43429
    return exp(b)


def _i28(xx: float, C: Constants, p: int) -> float:
    d = C[0] * (xx - C[3])
    if d == 0:
        raise TransformFailure("Division by zero")
    return C[2] / d - C[1] / C[0]


def _i32(xx: float, C: Constants, p: int) -> float:
    return exp((xx - C[2]) / C[1]) / C[0] - C[3]


def _i34(xx: float, C: Constants, p: int) -> float:
    d = C[0] - C[2] * xx
    if d == 0:
        raise TransformFailure("Division by zero")
    return (C[3] * xx - C[1]) / d


def _i36(xx: float, C: Constants, p: int) -> float:
    return ((xx - C[2]) / C[1]) ** 2 - C[0]


def _i38(xx: float, C: Constants, p: int) -> float:
    if xx == 760000.0:
        return C[5]
    if xx > 760000.0 or xx <= 0:
        raise TransformFailure("Value out of range")
    if C[2] == 0 and C[3] == 0 and C[4] == 0 and C[1] != 0:
        return (log10(xx) - C[0]) / C[1]
    if p == 16:
        low, high = 1.00001 * C[5], 15.0
    else:
        low = 0.00001 if C[5] == 0 else 1.00001 * C[5]
        high = search_limits(p)[1]
    return _root_bisection(lambda x: forward(38, x, C), xx, low, high, high / 131072.0)


def _i50(xx: float, C: Constants, p: int) -> float:
    return C[1] * cos(xx / C[0])


def _i62(xx: float, C: Constants, p: int) -> float:
    if C[0] == 0 or C[1] == 0:
        raise TransformFailure("Zero constant")
    t = xx / C[1] - C[2]
    if t < 0:
        raise TransformFailure("Logarithm of negative value")
    return C[0] * log10(t)


def _i64(xx: float, C: Constants, p: int) -> float:
    lo, hi = -1.75489, 5.05
    if xx < 0 or xx > forward(64, hi, C):
        raise TransformFailure("Value out of range")
    return binary_search(lambda v: forward(64, v, C), xx, lo, hi, (hi - lo) / 131072.0)


def _i66(xx: float, C: Constants, p: int) -> float:
    return (log((xx - C[3]) / C[0]) / 0.6931471805599453 - C[2]) / C[1]


def _i68(xx: float, C: Constants, p: int) -> float:
    lo, hi = search_limits(p)[0], 0.0
    if xx < 0 or xx > forward(68, lo, C):
        raise TransformFailure("Value out of range")
    return binary_search(lambda v: forward(68, v, C), xx, lo, hi, (0.0 - lo) / 131072.0)


def _i74(xx: float, C: Constants, p: int) -> float:
    lo, hi = search_limits(p)
    a = xx * C[5] - C[2]
    b = xx * C[4] - C[1]
    g = xx * C[3] - C[0]
    discriminant = b * b - 4 * a * g
    if discriminant < 0:
        raise TransformFailure("Negative discriminant")
    r = sqrt(discriminant)
    t = (-b + r) / (2 * a)
    if not lo <= t <= hi:
        t = (-b - r) / (2 * a)
    if not lo <= t <= hi:
        raise TransformFailure("Value out of range")
    return t


def _i76(xx: float, C: Constants, p: int) -> float:
    A = C[1] * math.pow(C[0], C[2])
    B = C[3] * C[4]

    def power() -> float:
        return math.pow(xx / C[1], 1.0 / C[2])

    def exponential() -> float:
        return (log(xx / C[3]) - C[5]) / C[4]

    if C[1] > 0 and B > 0:
        return power() if xx < A else exponential()
    if C[1] < 0 and B < 0:
        return power() if xx >= A else exponential()
    if C[1] > 0 and B < 0:
        if xx < A:
            return power()
        raise TransformFailure("Value out of range")
    if xx >= A:
        return power()
    raise TransformFailure("Value out of range")


def _i78(xx: float, C: Constants, p: int) -> float:
    return (log10((xx - C[3]) / C[0]) - C[2]) / C[1]


def _i86(xx: float, C: Constants, p: int) -> float:
    y0 = C[2] * C[0] + C[3]
    y1 = exp(C[4] * C[1] + C[5])
    if y0 < y1:
        if xx < y0:
            return (xx - C[3]) / C[2]
        if xx > y1:
            return (log(xx) - C[5]) / C[4]
    else:
        if xx > y0:
            return (xx - C[3]) / C[2]
        if xx < y1:
            return (log(xx) - C[5]) / C[4]
    return ((C[1] - C[0]) * log(xx / y0)) / log(y1 / y0) + C[0]


def _identity(xx: float, C: Constants, p: int) -> float:
    return xx


def _failing(message: str) -> Callable[[float, Constants, int], float]:
    def transform(xx: float, C: Constants, p: int) -> float:
        raise TransformFailure(message)

    return transform


_CLOSED: dict[int, Callable[[float, Constants, int], float]] = {
    0: _identity,
    2: _i2,
    4: _i4,
    6: _i6,
    8: _i8,
    10: _i10,
    12: _i12,
    20: _i20,
    28: _i28,
    32: _i32,
    34: _i34,
    36: _i36,
    38: _i38,
    40: _i2,
    50: _i50,
    56: _failing(TABLE_MESSAGE),
    58: _failing(TABLE_MESSAGE),
    60: _identity,
    62: _i62,
    64: _i64,
    66: _i66,
    68: _i68,
    74: _i74,
    76: _i76,
    78: _i78,
    80: _identity,
    86: _i86,
    90: _failing(MULTIFUNCTION_MESSAGE),
    201: _failing(SUBTRANSFORM_MESSAGE),
}


def inverse(c_index: int, xx: float, C: Constants, p_index: int) -> float:
    """Engineering ``xx`` in primary units: closed form, else ACNET's numeric search.

    c84 and unknown indices take the search, whose first forward evaluation fails.
    """
    closed = _CLOSED.get(c_index)
    if closed is not None:
        return closed(xx, C, p_index)
    return _searched(c_index, xx, C, p_index)
