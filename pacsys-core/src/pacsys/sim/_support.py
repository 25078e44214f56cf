"""What the simulator's device modules share: ACNET failures, numbers and DRF ranges.

Pure logic, like the rest of the device model: no clocks, locks or I/O.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pacsys import acnet
from pacsys.drf3 import ARRAY_RANGE, DataRequest

__all__ = ["SimError", "apply_range", "fail", "index", "merge", "number"]


class SimError(Exception):
    """An ACNET status for a failed read or write (``code`` is a named composite)."""

    def __init__(self, code: int, message: str) -> None:
        self.facility, self.error = acnet.parse_error(code)
        self.message = message
        super().__init__(message)


def fail(code: int, detail: str) -> SimError:
    """The SimError for ``code``: ``detail`` followed by the status's standard message."""
    facility, error = acnet.parse_error(code)
    text = acnet.status_message(facility, error) or ""
    return SimError(code, f"{detail}: {text}" if detail else text)


def index(request: DataRequest, size: int) -> slice | int | None:
    """The Python index a DRF range selects in a value of ``size`` items (bounds-checked)."""
    rng = request.range
    if rng is None or rng.mode == "full":
        return None
    if isinstance(rng, ARRAY_RANGE):
        low = rng.low or 0
        high = low if rng.mode == "single" else (size - 1 if rng.high is None else rng.high)
        if low >= size or high >= size:
            raise fail(acnet.DPM_OUT_OF_BOUNDS, f"range {rng} of {size} elements")
        return low if rng.mode == "single" else slice(low, high + 1)
    offset = rng.offset or 0
    length = 1 if rng.mode == "single" else (size - offset if rng.length is None else rng.length)
    if offset + length > size:
        raise fail(acnet.DPM_OUT_OF_BOUNDS, f"range {rng} of {size} bytes")
    return slice(offset, offset + length)


def apply_range(request: DataRequest, value: Any) -> Any:
    """The part of ``value`` the DRF range selects."""
    if request.range is None:
        return value
    if not isinstance(value, np.ndarray | bytes | str | list):
        raise fail(acnet.DPM_BAD_RANGE, f"{request.device} is a scalar")
    where = index(request, len(value))
    return value if where is None else value[where]


def number(value: Any, what: str) -> float:
    """``value`` as a finite float, else the ACNET status a front end gives."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise fail(acnet.DIO_NOT_A_NUMBER, f"{what} needs a finite number, got {result}")
    return result


def merge(current: Any, request: DataRequest, value: Any, what: str) -> Any:
    """``current`` with the DRF range replaced by ``value`` (same length required)."""
    where = index(request, len(current))
    if where is None:
        return value
    if isinstance(where, int):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.reshape(1)
        where = slice(where, where + 1)
    if len(value) != where.stop - where.start:
        raise fail(
            acnet.DPM_BAD_LENGTH,
            f"{what}: {len(value)} items for a range of {where.stop - where.start}",
        )
    if isinstance(current, np.ndarray):
        merged = current.copy()
        merged[where] = value
        return merged
    return current[: where.start] + value + current[where.stop :]
