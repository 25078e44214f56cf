"""Server-side mapping, the inverse of :mod:`mapping`.

* ``Reading`` -> reply sample published to the client;
* SETTING body -> Python value handed to the serving Backend's write.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pacsys.types import BasicControl, Reading, Value, ValueType
from pacsys_dmq.codec.mapping import reply_value
from pacsys_dmq.codec.messages import (
    AnalogAlarmSample,
    BasicControlSample,
    BasicStatusSample,
    BinarySample,
    BooleanArraySample,
    BooleanSample,
    DigitalAlarmSample,
    DoubleArraySample,
    DoubleSample,
    ErrorSample,
    IntegerArraySample,
    IntegerSample,
    LongArraySample,
    LongSample,
    Message,
    Sample,
    StringArraySample,
    StringSample,
)
from pacsys_dmq.codec.sdd import INT16_RANGE, INT32_RANGE, INT64_RANGE
from pacsys_dmq.codec.structs import AnalogAlarm, BasicStatus, DigitalAlarm, WireControl

__all__ = ["reading_to_reply", "setting_to_value"]

_WRITABLE_ALARM_KEYS = {
    AnalogAlarmSample: ("minimum", "maximum", "alarm_enable", "abort_inhibit", "tries_needed"),
    DigitalAlarmSample: ("nominal", "mask", "alarm_enable", "abort_inhibit", "tries_needed"),
}
_BASIC_STATUS_KEYS = ("on", "ready", "remote", "positive", "ramp")
_ALARM_DEFAULTS: dict[str, Any] = {
    "minimum": 0.0,
    "maximum": 0.0,
    "nominal": 0,
    "mask": 0,
    "alarm_enable": False,
    "alarm_status": False,
    "abort": False,
    "abort_inhibit": False,
    "tries_needed": 0,
    "tries_now": 0,
}


def setting_to_value(sample: Message) -> Value:
    """The value a decoded SETTING body asks to write.

    BasicControlSample becomes the library's ``BasicControl`` member; alarm samples become
    dicts of their writable members; BinarySample stays bytes (servers usually reject it).
    Raises TypeError for messages that are not a writable sample (e.g. ErrorSample).
    """
    if isinstance(sample, BasicControlSample):
        return BasicControl[WireControl(sample.value).name]
    if isinstance(sample, AnalogAlarmSample | DigitalAlarmSample):
        alarm = sample.value
        return {key: getattr(alarm, key) for key in _WRITABLE_ALARM_KEYS[type(sample)]}
    mapped = reply_value(sample) if not isinstance(sample, ErrorSample) else None
    if mapped is None:
        raise TypeError(f"{sample.SDD_NAME} is not a writable setting body")
    return mapped[0]


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _scalar_sample(value: Any, **common: Any) -> Sample:
    if isinstance(value, bool | np.bool_):
        return BooleanSample(value=bool(value), **common)
    if isinstance(value, int | np.integer):
        number = int(value)
        if INT32_RANGE[0] <= number <= INT32_RANGE[1]:
            return IntegerSample(value=number, **common)
        if INT64_RANGE[0] <= number <= INT64_RANGE[1]:
            return LongSample(value=number, **common)
    return DoubleSample(value=float(value), **common)


def _array_sample(value: Any, **common: Any) -> Sample:
    array = np.asarray(value).ravel()
    if array.dtype.kind == "b":
        return BooleanArraySample(value=array.tolist(), **common)
    if array.dtype.kind in "iu":
        items = array.tolist()
        if all(INT32_RANGE[0] <= item <= INT32_RANGE[1] for item in items):
            return IntegerArraySample(value=items, **common)
        if all(INT64_RANGE[0] <= item <= INT64_RANGE[1] for item in items):
            return LongArraySample(value=items, **common)
    return DoubleArraySample(value=array.astype(np.float64).tolist(), **common)


def _alarm(cls: type[AnalogAlarm] | type[DigitalAlarm], value: dict[str, Any]) -> Any:
    names = [field.name for field in cls.__attrs_attrs__]
    return cls(**{name: value.get(name, _ALARM_DEFAULTS[name]) for name in names})


def _data_sample(reading: Reading, **common: Any) -> Sample:
    value, value_type = reading.value, reading.value_type
    if value_type is ValueType.SCALAR:
        return _scalar_sample(value, **common)
    if value_type is ValueType.SCALAR_ARRAY:
        return _array_sample(value, **common)
    if value_type is ValueType.TIMED_SCALAR_ARRAY and isinstance(value, dict):
        return _array_sample(value.get("data", ()), **common)
    if value_type is ValueType.RAW:
        return BinarySample(value=bytes(value), **common)  # type: ignore[arg-type]
    if value_type is ValueType.TEXT:
        return StringSample(value=_latin1(str(value)), **common)
    if value_type is ValueType.TEXT_ARRAY and isinstance(value, list | tuple | np.ndarray):
        return StringArraySample(value=tuple(_latin1(str(v)) for v in value), **common)
    if value_type is ValueType.BASIC_STATUS and isinstance(value, dict):
        bits = {k: bool(v) for k, v in value.items() if k in _BASIC_STATUS_KEYS}
        return BasicStatusSample(value=BasicStatus(**bits), **common)
    if value_type is ValueType.ANALOG_ALARM and isinstance(value, dict):
        return AnalogAlarmSample(value=_alarm(AnalogAlarm, value), **common)
    if value_type is ValueType.DIGITAL_ALARM and isinstance(value, dict):
        return DigitalAlarmSample(value=_alarm(DigitalAlarm, value), **common)
    raise TypeError(f"cannot send a {value_type} value of type {type(value).__name__} over DMQ")


def reading_to_reply(reading: Reading, *, ref_id: int | None, time_ms: int) -> Sample:
    """The reply sample a DMQ server publishes for ``reading``.

    Error readings and readings without a value become ErrorSample (with the reading's
    message); data readings become the sample type the client maps back to the same
    ValueType. ``time`` is the reading's timestamp, else ``time_ms``. A ``ref_id`` beyond
    the 16-bit range is left off (the routing key alone then identifies the request).
    """
    time = int(reading.timestamp.timestamp() * 1000) if reading.timestamp else time_ms
    if ref_id is not None and not INT16_RANGE[0] <= ref_id <= INT16_RANGE[1]:
        ref_id = None
    common: dict[str, Any] = {"time": time, "ref_id": ref_id}
    if reading.cycle:
        common["cycle_time"] = reading.cycle
    if reading.error_code < 0 or reading.value is None:
        return ErrorSample(
            facility_code=reading.facility_code,
            error_number=reading.error_code,
            message=_latin1(reading.message) if reading.message else None,
            **common,
        )
    return _data_sample(reading, **common)
