"""How FakeBackend files state: normalised DRF keys, event offsets, ranges, value checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from pacsys.drf3 import (
    ARRAY_RANGE,
    ClockEvent,
    DataRequest,
    PeriodicEvent,
    get_default_field,
    parse_request,
)
from pacsys.types import ValueType

__all__ = [
    "apply_range",
    "assign_range",
    "check_value_type",
    "event_offset",
    "infer_value_type",
    "is_partial_range",
    "perturb",
    "storage_keys",
]


def _head(request: DataRequest) -> str:
    if not request.is_acnet:
        words = [w for w in request.epics_fields if w]
        return ".".join([request.device, *words])
    head = f"{request.device}.{request.property.name}"
    if request.field is not None and request.field != get_default_field(request.property):
        head += f".{request.field.name}"
    return head


def storage_keys(drf: str) -> tuple[str, str]:
    """``(base key, full key)``: device, property, non-default field, event (full only), extra.

    Range and event never separate slots in the base key; a DRF that does not parse is
    its own key.
    """
    try:
        request = parse_request(drf)
    except (ValueError, TypeError):
        return drf, drf
    head = _head(request)
    extra = f"<-{request.extra_raw}" if request.extra_raw is not None else ""
    event = "" if request.event.mode == "U" else f"@{request.event.raw_string}"
    return head + extra, head + event + extra


def event_offset(request: DataRequest) -> float:
    """The deterministic per-event offset FakeBackend adds on a base-key fallback."""
    event = request.event
    mode = event.mode
    if isinstance(event, PeriodicEvent):  # modes P and Q
        return event.freq / 1000
    if isinstance(event, ClockEvent):  # mode E
        return -(event.evt + event.delay / 1000) / 100
    if mode == "S":
        return 2.0 + (sum(event.raw_string.encode("utf-8")) % 1000) / 1000
    return 0.0


def perturb(value: Any, offset: float) -> Any:
    """Shift floats and float arrays by ``offset``; everything else is returned unchanged."""
    if offset == 0.0:
        return value
    if isinstance(value, float):  # numpy float64 included
        return value + offset
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value + offset
    return value


def _slice_of(rng: Any) -> slice | int:
    if isinstance(rng, ARRAY_RANGE):
        if rng.mode == "full":
            return slice(None)
        if rng.mode == "single":
            return rng.low or 0
        low = rng.low or 0
        return slice(low, None if rng.high is None else rng.high + 1)
    if rng.mode == "full":
        return slice(None)
    offset = rng.offset or 0
    if rng.mode == "single":
        return slice(offset, offset + 1)
    return slice(offset, None if rng.length is None else offset + rng.length)


def apply_range(value: Any, rng: Any) -> Any:
    """The part of ``value`` a DRF range selects (array indices inclusive, bytes offset:len)."""
    if rng is None:
        return value
    return value[_slice_of(rng)]


def is_partial_range(rng: Any) -> bool:
    """False for no range and for ranges that cover the whole value."""
    if rng is None or rng.mode == "full":
        return False
    if isinstance(rng, ARRAY_RANGE):
        return not (rng.mode != "single" and (rng.low or 0) == 0 and rng.high is None)
    return not (rng.mode != "single" and (rng.offset or 0) == 0 and rng.length is None)


def assign_range(stored: Any, rng: Any, value: Any) -> Any:
    """A copy of ``stored`` with the ranged part replaced by ``value``."""
    index = _slice_of(rng)
    if isinstance(stored, np.ndarray):
        merged = stored.copy()
        merged[index] = value
        return merged
    if isinstance(stored, list):
        merged_list = list(stored)
        if isinstance(index, int):
            merged_list[index] = value
        else:
            merged_list[index] = list(value)
        return merged_list
    if isinstance(stored, bytes | bytearray):
        buffer = bytearray(stored)
        if isinstance(index, slice):
            buffer[index] = value
        else:
            buffer[index] = int(value)
        return bytes(buffer) if isinstance(stored, bytes) else buffer
    raise TypeError(f"cannot assign a range into a stored {type(stored).__name__}")


_ACCEPTED: dict[ValueType, tuple[tuple[type, ...], str]] = {
    ValueType.RAW: ((bytes, bytearray), "bytes/bytearray"),
    ValueType.TEXT: ((str,), "str"),
    ValueType.TEXT_ARRAY: ((list,), "list of str"),
    ValueType.SCALAR: ((int, float, np.integer, np.floating, bool), "numeric (int/float)"),
    ValueType.SCALAR_ARRAY: ((list, tuple, np.ndarray), "array-like (list/tuple/ndarray)"),
    ValueType.TIMED_SCALAR_ARRAY: (
        (list, tuple, np.ndarray, dict),
        "array-like or timed data dict (list/tuple/ndarray/dict)",
    ),
    ValueType.ANALOG_ALARM: ((dict,), "dict"),
    ValueType.DIGITAL_ALARM: ((dict,), "dict"),
    ValueType.BASIC_STATUS: ((dict,), "dict"),
}


def check_value_type(value: Any, value_type: ValueType) -> None:
    """TypeError when ``value`` cannot be a reading of ``value_type``."""
    accepted, label = _ACCEPTED[value_type]
    if not isinstance(value, accepted):
        raise TypeError(
            f"FakeBackend: value {type(value).__name__} incompatible with "
            f"ValueType.{value_type.name} (expected {label})"
        )


def infer_value_type(value: Any) -> ValueType:
    """The ValueType a freshly written value gets."""
    if isinstance(value, str):
        return ValueType.TEXT
    if isinstance(value, bytes | bytearray):
        return ValueType.RAW
    if isinstance(value, dict):
        return ValueType.BASIC_STATUS
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) for v in value):
            return ValueType.TEXT_ARRAY
        return ValueType.SCALAR_ARRAY
    if isinstance(value, np.ndarray):
        return ValueType.SCALAR_ARRAY
    return ValueType.SCALAR
