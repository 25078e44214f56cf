"""``common.device.Value`` <-> Python values (docs/protocols/grpc.md §3.1, §5.6 and §7.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pacsys.types import ValueType
from pacsys_grpc._proto.common import device_pb2
from pacsys_grpc.codec.statuses import EMPTY_VALUE_MESSAGE

__all__ = [
    "ANALOG_ALARM_FIELDS",
    "DIGITAL_ALARM_FIELDS",
    "EmptyValueError",
    "fill_value",
    "value_from_proto",
    "value_to_proto",
]

# (dict key, proto field) pairs of the alarm blocks, in the order the dicts are built.
ANALOG_ALARM_FIELDS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("alarm_enable", "alarmEnable"),
    ("alarm_status", "alarmStatus"),
    ("abort", "abort"),
    ("abort_inhibit", "abortInhibit"),
    ("tries_needed", "triesNeeded"),
    ("tries_now", "triesNow"),
)
DIGITAL_ALARM_FIELDS = (
    ("nominal", "nominal"),
    ("mask", "mask"),
    *ANALOG_ALARM_FIELDS[2:],
)
_BASIC_STATUS_BOOL_KEYS = frozenset({"on", "ready", "remote", "positive", "ramp"})
_BOOL_TEXT = {"True": True, "False": False}
_NUMERIC_KINDS = frozenset("biuf")


class EmptyValueError(ValueError):
    """A ``common.device.Value`` with no oneof member set (a protocol error)."""

    def __init__(self) -> None:
        super().__init__(EMPTY_VALUE_MESSAGE)


# --- Value -> Python --------------------------------------------------------------------


def _basic_status_value(entries: Mapping[str, str]) -> dict[str, Any]:
    """Bools when the map is DPM's bool-as-text form, else the plain text map."""
    if (
        entries
        and set(entries) <= _BASIC_STATUS_BOOL_KEYS
        and all(text in _BOOL_TEXT for text in entries.values())
    ):
        return {key: _BOOL_TEXT[text] for key, text in entries.items()}
    return dict(entries)


def value_from_proto(value: device_pb2.Value) -> tuple[Any, ValueType]:
    """The Python value and its ValueType; EmptyValueError when no member is set.

    scalar -> float, scalarArr -> float64 ndarray, raw -> bytes, text -> str,
    textArr -> list[str], alarms -> snake_case dicts, basicStatus -> dict.
    """
    kind = value.WhichOneof("value")
    if kind is None:
        raise EmptyValueError()
    if kind == "scalar":
        return float(value.scalar), ValueType.SCALAR
    if kind == "scalarArr":
        return np.array(list(value.scalarArr.value), dtype=np.float64), ValueType.SCALAR_ARRAY
    if kind == "raw":
        return bytes(value.raw), ValueType.RAW
    if kind == "text":
        return value.text, ValueType.TEXT
    if kind == "textArr":
        return list(value.textArr.value), ValueType.TEXT_ARRAY
    if kind == "anaAlarm":
        block = value.anaAlarm
        return {key: getattr(block, field) for key, field in ANALOG_ALARM_FIELDS}, (
            ValueType.ANALOG_ALARM
        )
    if kind == "digAlarm":
        digital = value.digAlarm
        return {key: getattr(digital, field) for key, field in DIGITAL_ALARM_FIELDS}, (
            ValueType.DIGITAL_ALARM
        )
    return _basic_status_value(value.basicStatus.value), ValueType.BASIC_STATUS


# --- Python -> Value --------------------------------------------------------------------


def is_number(item: Any) -> bool:
    """True for the values sent as ``scalar``: bool, int (IntEnum), float, numpy numbers."""
    return isinstance(item, int | float | np.integer | np.floating | np.bool_)


def _alarm_to_proto(block: Any, fields: tuple[tuple[str, str], ...], value: Mapping) -> None:
    known = {key: field for key, field in fields}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"Unknown alarm keys: {', '.join(map(str, unknown))}")
    for key, item in value.items():
        setattr(block, known[key], item)


def _dict_to_proto(out: device_pb2.Value, value: Mapping, value_type: ValueType | None) -> None:
    if value_type is ValueType.BASIC_STATUS:
        out.basicStatus.SetInParent()
        for key, item in value.items():
            out.basicStatus.value[str(key)] = str(item)
        return
    digital = value_type is ValueType.DIGITAL_ALARM or (
        value_type is None and bool({"nominal", "mask"} & set(value))
    )
    analog = value_type is ValueType.ANALOG_ALARM or (
        value_type is None and bool({"minimum", "maximum"} & set(value))
    )
    if digital and not analog:
        out.digAlarm.SetInParent()
        _alarm_to_proto(out.digAlarm, DIGITAL_ALARM_FIELDS, value)
    elif analog and not digital:
        out.anaAlarm.SetInParent()
        _alarm_to_proto(out.anaAlarm, ANALOG_ALARM_FIELDS, value)
    else:
        raise ValueError("Dict value is neither an analog nor a digital alarm block")


def _sequence_to_proto(out: device_pb2.Value, items: Sequence, text_hint: bool) -> None:
    if not items and text_hint:
        out.textArr.SetInParent()
    elif all(is_number(item) for item in items):
        out.scalarArr.SetInParent()
        out.scalarArr.value.extend(float(item) for item in items)
    elif all(isinstance(item, str) for item in items):
        out.textArr.value.extend(items)
    else:
        raise ValueError("List values must be all numbers or all strings")


def value_to_proto(
    value: Any, *, value_type: ValueType | None = None, allow_dicts: bool = False
) -> device_pb2.Value:
    """A Python value as a Value message (docs/protocols/grpc.md §5.6 and §7.4).

    Numbers (bool, int, IntEnum, numpy scalars) become ``scalar``; str ``text``; bytes
    ``raw``; numeric sequences and 1-D numeric arrays ``scalarArr`` (an empty list too);
    string sequences ``textArr``.  Dicts are refused with NotImplementedError unless
    ``allow_dicts`` (server side): then BASIC_STATUS dicts become ``basicStatus`` and alarm
    dicts ``anaAlarm``/``digAlarm``.  ``value_type`` only disambiguates dicts and empty
    lists.  Other types raise TypeError; bad shapes and mixed lists ValueError.
    """
    out = device_pb2.Value()
    fill_value(out, value, value_type, allow_dicts)
    return out


def fill_value(
    out: device_pb2.Value, value: Any, value_type: ValueType | None, allow_dicts: bool
) -> None:
    """Set ``out`` (an empty Value, possibly a sub-message) to ``value``; see value_to_proto."""
    if type(value) is float:  # the common case first
        out.scalar = value
    elif isinstance(value, bytes | bytearray):
        out.raw = bytes(value)
    elif isinstance(value, str):
        out.text = value
    elif is_number(value):
        out.scalar = float(value)
    elif isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(
                f"Only 1-D numeric arrays can be sent, got {value.ndim}-D {value.dtype}"
            )
        out.scalarArr.SetInParent()
        out.scalarArr.value.extend(value.astype(np.float64).tolist())
    elif isinstance(value, list | tuple):
        _sequence_to_proto(out, value, value_type is ValueType.TEXT_ARRAY)
    elif isinstance(value, Mapping):
        if not allow_dicts:
            raise NotImplementedError("Dict values (alarm or status blocks) cannot be written")
        _dict_to_proto(out, value, value_type)
    else:
        raise TypeError(f"Unsupported value type {type(value).__name__}")
    out.SetInParent()
