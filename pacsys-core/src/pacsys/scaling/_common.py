"""Common transforms, forward: primary units -> engineering (common) units, by ``c_index``.

``forward(c_index, x, C)`` evaluates the transform with the DevDB constants ``C`` (C1..C6
are ``C[0]..C[5]``). Expressions are written exactly in ACNET's evaluation order, with
Python's float ``**`` where ACNET calls ``pow``; keep them that way, results are compared to
the bit. A documented failure raises TransformFailure; an arithmetic error the reference
does not catch (``math domain error``, overflow, a zero denominator where no check exists)
propagates as the built-in exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from math import acos, exp, log, log10, sqrt

from pacsys.scaling._base import TransformFailure

__all__ = ["MIN_CONSTANTS", "forward", "ready"]

Constants = Sequence[float]

TABLE_MESSAGE = "Requires interpolation table data. See Common.java in DPM"
ALTERNATE_MESSAGE = "Alternate Scaling Required"
MULTIFUNCTION_MESSAGE = "Requires multifunction table data. See Common.java mfcTransform() in DPM"
SUBTRANSFORM_MESSAGE = (
    "Only valid as sub-transform of index 90 (multifunction). See Common.java in DPM"
)


def _real(value: float | complex) -> float:
    """A complex result of ``**`` (negative base, fractional exponent) reads as NaN."""
    return math.nan if isinstance(value, complex) else value


def _horner(x: float, coefficients: Constants) -> float:
    r = 0.0
    for c in coefficients:
        r = c + r * x
    return r


def _c2(x: float, C: Constants) -> float:
    if C[1] == 0:
        raise TransformFailure("Invalid constant C2 (zero)")
    return ((C[0] * x) / C[1]) + C[2]


def _c4(x: float, C: Constants) -> float:
    if C[1] == 0:
        raise TransformFailure("Invalid constant C2 (zero)")
    return (x - C[0]) / C[1]


def _c6(x: float, C: Constants) -> float:
    if C[1] == 0:
        raise TransformFailure("Invalid constant C2 (zero)")
    return (C[0] * x) / C[1]


def _c8(x: float, C: Constants) -> float:
    d = C[2] + C[1] * x
    if d == 0:
        raise TransformFailure("Division by zero")
    return C[3] + (C[0] * x) / d


def _c10(x: float, C: Constants) -> float:
    d = C[0] * x
    if d == 0:
        raise TransformFailure("Division by zero")
    return C[2] + C[1] / d


def _c12(x: float, C: Constants) -> float:
    return _horner(x, C[:5])


def _c14(x: float, C: Constants) -> float:
    return exp(_horner(x, C[:5])) - C[5]


def _c16(x: float, C: Constants) -> float:
    if C[0] == 0 or C[2] == 0:
        raise TransformFailure("Zero C1 or C3 constant")
    return C[1] * exp(-x / C[0]) + C[3] * exp(-x / C[2])


def _c18(x: float, C: Constants) -> float:
    return C[2] * exp(C[1] * (x + C[0])) + C[5] * exp(C[4] * (x + C[3]))


def _c20(x: float, C: Constants) -> float:
    L = log10(x)
    d = (C[0] * L + C[1]) ** 2
    if d == 0:
        raise TransformFailure("Division by zero")
    return L / d + C[2]


def _c22(x: float, C: Constants) -> float:
    if C[0] == 0:
        raise TransformFailure("Zero C1 constant")
    return C[1] * (10.0 ** (x / C[0]))


def _c24(x: float, C: Constants) -> float:
    if x < C[0]:
        return C[1] * (C[2] * x + C[3])
    return C[1] * exp(C[4] * x + C[5])


def _c26(x: float, C: Constants) -> float:
    return _horner(x, C[:6])


def _c28(x: float, C: Constants) -> float:
    d = C[1] + C[0] * x
    if d == 0:
        raise TransformFailure("Division by zero")
    return C[2] / d + C[3]


def _c30(x: float, C: Constants) -> float:
    if x < C[0]:
        return C[5]
    return ((C[4] + C[3] * x) + C[2] * x**2) + C[1] * x**3


def _c32(x: float, C: Constants) -> float:
    return C[1] * log(C[0] * x + C[3]) + C[2]


def _c34(x: float, C: Constants) -> float:
    d = C[3] + C[2] * x
    if d == 0:
        raise TransformFailure("Division by zero")
    return (C[1] + C[0] * x) / d


def _c36(x: float, C: Constants) -> float:
    a = x + C[0]
    if a < 0:
        raise TransformFailure("Square root of negative")
    return C[1] * sqrt(a) + C[2]


def _c38(x: float, C: Constants) -> float:
    """Vapour pressure; at or below C6 the gauge reads one atmosphere (760000)."""
    if not x > C[5]:
        return 760000.0
    if x == 0:
        raise TransformFailure("Division by zero")
    if C[2] == 0:
        e = ((C[0] + C[1] * x) + C[3] / x) + C[4] / x**2
    else:
        e = (((C[0] + C[1] * x) + C[2] * exp(x)) + C[3] / x) + C[4] / x**2
    return 10.0**e


def _c40(x: float, C: Constants) -> float:
    if C[1] == 0:
        raise TransformFailure("Zero C2 constant")
    return ((C[0] * x) / C[1]) + C[2]


def _c42(x: float, C: Constants) -> float:
    if x < C[0]:
        return (C[1] * x**2 + C[2] * x) + C[3]
    return C[1] * exp(C[4] * x + C[5])


def _c44(x: float, C: Constants) -> float:
    if x < C[0]:
        return C[1] * exp(C[2] * x)
    return C[3] * exp(C[4] * x)


def _c46(x: float, C: Constants) -> float:
    if x < C[0]:
        return C[1] * exp(C[2] * x**2 + C[3] * x)
    return C[4] * exp(C[5] * x)


def _c48(x: float, C: Constants) -> float:
    return _real((C[0] * _real(C[1] ** (1.0 / x))) * _real(x ** C[2]))


def _c50(x: float, C: Constants) -> float:
    return C[0] * acos(x / C[1])


def _c52(x: float, C: Constants) -> float:
    if x < C[0]:
        return exp(C[1] * x + C[2])
    return exp(C[3] * x + C[4])


def _c54(x: float, C: Constants) -> float:
    if x < C[0]:
        return exp((C[1] * x**2 + C[2] * x) + C[3])
    return exp(C[4] * x + C[5])


def _c62(x: float, C: Constants) -> float:
    if C[0] == 0:
        raise TransformFailure("Zero C1 constant")
    return C[1] * (C[2] + 10.0 ** (x / C[0]))


def _c64(x: float, C: Constants) -> float:
    """Vapour-pressure thermometer: C1 = 0 for nitrogen, 1 for helium."""
    kind = int(C[0])
    if kind == 0:
        if x <= 4.825:
            return 77.4 + 13.463 * x - 8.2465 * x**2 + 3.6896 * x**3 - 0.7824 * x**4 + 0.0608 * x**5
        return (
            -0.5451
            - 428.2927 * x
            - 210274.8806 * x**2
            + 129913.0267 * x**3
            - 26741.8467 * x**4
            + 1834.8285 * x**5
        )
    if kind == 1:
        if x <= 0.9148:
            return 4.2 + 1.443 * x - 0.40755 * x**2 + 0.3005 * x**3 - 1.5166 * x**4 + 1.3716 * x**5
        return 4.271 + 2.89 * x - 4.11 * x**2 + 3.27 * x**3 - 1.26 * x**4 + 0.202 * x**5
    raise TransformFailure("Invalid constant C1 for VPT")


def _c66(x: float, C: Constants) -> float:
    return C[0] * (2.0 ** (C[1] * (x + C[2]))) + C[3]


def _c68(x: float, C: Constants) -> float:
    a = C[0] * x + C[3]
    if C[0] != 0 and a <= 0:
        return 0.0
    return C[5] * _real((C[1] * log(a) + C[2] * x) ** C[4])


def _c70(x: float, C: Constants) -> float:
    if C[1] == 0 or C[3] == 0 or C[5] == 0:
        raise TransformFailure("Zero divisor constant")
    return ((C[0] * exp(-x / C[1]) + C[2] * exp(-x / C[3])) + C[4] * exp(-x / C[5])) + 4


def _c72(x: float, C: Constants) -> float:
    L = log10(x)
    return C[0] * (10.0 ** (C[1] + C[2] * L + C[3] * L**2 + C[4] * L**3)) + C[5]


def _c74(x: float, C: Constants) -> float:
    d = C[3] + C[4] * x + C[5] * x * x
    if d == 0:
        raise TransformFailure("Division by zero")
    return (C[0] + C[1] * x + C[2] * x * x) / d


def _c76(x: float, C: Constants) -> float:
    if x < C[0]:
        try:
            return C[1] * math.pow(x, C[2])
        except ValueError:
            return math.nan
    return C[3] * exp(C[4] * x + C[5])


def _c78(x: float, C: Constants) -> float:
    return C[0] * (10 ** (C[1] * x + C[2])) + C[3]


def _c82(x: float, C: Constants) -> float:
    return C[1] * log10(C[0] * x + C[3]) + C[2]


def _c86(x: float, C: Constants) -> float:
    """Linear below C1, exponential above C2, log-linear in between."""
    if x < C[0]:
        return C[2] * x + C[3]
    if x > C[1]:
        return exp(C[4] * x + C[5])
    y0 = C[2] * C[0] + C[3]
    y1 = exp(C[4] * C[1] + C[5])
    return exp(((log(y1 / y0) * (x - C[0])) / (C[1] - C[0])) + log(y0))


def _c88(x: float, C: Constants) -> float:
    return (C[0] + x * (C[1] + x * C[2])) / (1.0 + x * (C[3] + x * (C[4] + x * C[5])))


def _identity(x: float, C: Constants) -> float:
    return x


def _failing(message: str) -> Callable[[float, Constants], float]:
    def transform(x: float, C: Constants) -> float:
        raise TransformFailure(message)

    return transform


#: c_index -> (minimum number of constants, forward function)
_TRANSFORMS: dict[int, tuple[int, Callable[[float, Constants], float]]] = {
    0: (0, _identity),
    2: (3, _c2),
    4: (2, _c4),
    6: (2, _c6),
    8: (4, _c8),
    10: (3, _c10),
    12: (5, _c12),
    14: (6, _c14),
    16: (4, _c16),
    18: (6, _c18),
    20: (3, _c20),
    22: (2, _c22),
    24: (6, _c24),
    26: (6, _c26),
    28: (4, _c28),
    30: (6, _c30),
    32: (4, _c32),
    34: (4, _c34),
    36: (3, _c36),
    38: (6, _c38),
    40: (6, _c40),
    42: (6, _c42),
    44: (5, _c44),
    46: (6, _c46),
    48: (3, _c48),
    50: (2, _c50),
    52: (5, _c52),
    54: (6, _c54),
    56: (0, _failing(TABLE_MESSAGE)),
    58: (0, _failing(TABLE_MESSAGE)),
    60: (0, _failing(ALTERNATE_MESSAGE)),
    62: (3, _c62),
    64: (1, _c64),
    66: (4, _c66),
    68: (6, _c68),
    70: (6, _c70),
    72: (6, _c72),
    74: (6, _c74),
    76: (6, _c76),
    78: (4, _c78),
    80: (0, _identity),
    82: (4, _c82),
    84: (0, _failing(ALTERNATE_MESSAGE)),
    86: (6, _c86),
    88: (6, _c88),
    90: (0, _failing(MULTIFUNCTION_MESSAGE)),
    201: (0, _failing(SUBTRANSFORM_MESSAGE)),
}

MIN_CONSTANTS: dict[int, int] = {c: n for c, (n, _) in _TRANSFORMS.items()}


def forward(c_index: int, x: float, C: Constants) -> float:
    """Primary ``x`` in engineering units through common transform ``c_index``."""
    entry = _TRANSFORMS.get(c_index)
    if entry is None:
        raise TransformFailure(f"Common transform {c_index} not found")
    needed, transform = entry
    if len(C) < needed:
        raise TransformFailure("Insufficient constants")
    return transform(x, C)


def ready(c_index: int, C: Constants) -> bool:
    """Whether ``forward(c_index, ..., C)`` can run at all (known index, enough constants)."""
    needed = MIN_CONSTANTS.get(c_index)
    return needed is not None and len(C) >= needed
