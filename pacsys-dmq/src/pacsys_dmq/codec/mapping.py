"""Client-side mapping between DMQ messages and library values.

* reply message -> ``Reading`` (reads and subscriptions);
* Python value -> SETTING body (writes).

The clock stays outside: callers pass the SETTING time in milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from pacsys.acnet.status import ERR_RETRY, FACILITY_ACNET, FACILITY_DMQ
from pacsys.backends import timestamp_from_millis, validate_alarm_dict
from pacsys.types import BasicControl, Reading, Value, ValueType
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
    ShortArraySample,
    ShortSample,
    StringArraySample,
    StringSample,
)
from pacsys_dmq.codec.sdd import INT32_RANGE
from pacsys_dmq.codec.status import DMQ_PENDING
from pacsys_dmq.codec.structs import AnalogAlarm, BasicStatus, DigitalAlarm, WireControl

__all__ = [
    "SETTING_REF_ID",
    "alarm_to_dict",
    "basic_status_to_dict",
    "is_pending",
    "reply_timestamp",
    "reply_to_reading",
    "reply_value",
    "value_to_setting",
]


SETTING_REF_ID = 1
"""``ref_id`` of every SETTING body."""

_SCALAR_TYPES = (DoubleSample, ShortSample, IntegerSample, LongSample, BooleanSample)
_ARRAY_DTYPES: dict[type[Sample], type[np.generic]] = {
    DoubleArraySample: np.float64,
    ShortArraySample: np.int16,
    IntegerArraySample: np.int32,
    LongArraySample: np.int64,
    BooleanArraySample: np.bool_,
}
_ARRAY_TYPES = (
    DoubleArraySample,
    ShortArraySample,
    IntegerArraySample,
    LongArraySample,
    BooleanArraySample,
)
_BASIC_STATUS_KEYS = ("on", "ready", "remote", "positive", "ramp")
_ALARM_SHARED_KEYS = (
    "alarm_enable",
    "alarm_status",
    "abort",
    "abort_inhibit",
    "tries_needed",
    "tries_now",
)


def is_pending(message: Message) -> bool:
    """True for DMQ_PENDING (72, 1): confirms an INIT, never a reading."""
    return (
        isinstance(message, ErrorSample)
        and message.facility_code == FACILITY_DMQ
        and message.error_number == DMQ_PENDING
    )


def basic_status_to_dict(status: BasicStatus) -> dict[str, bool]:
    """Only the attributes present on the wire."""
    return {key: value for key in _BASIC_STATUS_KEYS if (value := getattr(status, key)) is not None}


def alarm_to_dict(alarm: AnalogAlarm | DigitalAlarm) -> dict[str, Any]:
    """All eight members of an alarm block."""
    head = ("minimum", "maximum") if isinstance(alarm, AnalogAlarm) else ("nominal", "mask")
    return {key: getattr(alarm, key) for key in head + _ALARM_SHARED_KEYS}


def reply_value(reply: Message) -> tuple[Value, ValueType] | None:
    """The library value and its ValueType, or None for replies without a mappable value."""
    if isinstance(reply, _SCALAR_TYPES):
        return reply.value, ValueType.SCALAR
    if isinstance(reply, BasicControlSample):
        return int(reply.value), ValueType.SCALAR
    if isinstance(reply, _ARRAY_TYPES):
        dtype = _ARRAY_DTYPES[type(reply)]
        return np.array(reply.value, dtype=dtype), ValueType.SCALAR_ARRAY
    if isinstance(reply, StringSample):
        return reply.value, ValueType.TEXT
    if isinstance(reply, StringArraySample):
        return list(reply.value), ValueType.TEXT_ARRAY
    if isinstance(reply, BinarySample):
        return reply.value, ValueType.RAW
    if isinstance(reply, BasicStatusSample):
        return basic_status_to_dict(reply.value), ValueType.BASIC_STATUS
    if isinstance(reply, AnalogAlarmSample):
        return alarm_to_dict(reply.value), ValueType.ANALOG_ALARM
    if isinstance(reply, DigitalAlarmSample):
        return alarm_to_dict(reply.value), ValueType.DIGITAL_ALARM
    return None


def reply_timestamp(reply: Sample) -> datetime | None:
    """UTC time of ``reply.time``; None for 0 or a value no datetime can hold."""
    return timestamp_from_millis(reply.time) if reply.time else None


def reply_to_reading(reply: Message, drf: str) -> Reading:
    """The Reading for one decoded reply to the request ``drf``.

    ErrorSample -> status-only reading whose message is the server's text, or None when it
    sent none (as pacsys 0.3.0). Reply types that carry no mappable value become an error
    reading (1, -1) naming the type.
    """
    if isinstance(reply, ErrorSample):
        return Reading(
            drf=drf,
            facility_code=reply.facility_code,
            error_code=reply.error_number,
            message=reply.message or None,
            timestamp=reply_timestamp(reply),
            cycle=reply.cycle_time or 0,
        )
    mapped = reply_value(reply)
    if mapped is None or not isinstance(reply, Sample):
        return Reading(
            drf=drf,
            facility_code=FACILITY_ACNET,
            error_code=ERR_RETRY,
            message=f"Unknown reply type: {reply.SDD_NAME}_{reply.KIND}",
        )
    value, value_type = mapped
    return Reading(
        drf=drf,
        value_type=value_type,
        value=value,
        timestamp=reply_timestamp(reply),
        cycle=reply.cycle_time or 0,
    )


# --- value -> SETTING body ----------------------------------------------------------------


def _int32(value: int, what: str) -> int:
    if not INT32_RANGE[0] <= value <= INT32_RANGE[1]:
        raise ValueError(f"{what} {value} does not fit a signed 32-bit integer for a DMQ write")
    return value


def _latin1(text: str) -> str:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"DMQ strings are ISO-8859-1; {text!r} has characters above U+00FF"
        ) from None
    return text


def _alarm_sample(settings: dict[str, Any], time_ms: int) -> Sample:
    kind = validate_alarm_dict(settings)
    shared: dict[str, Any] = {
        "alarm_enable": bool(settings.get("alarm_enable", False)),
        "alarm_status": False,
        "abort": False,
        "abort_inhibit": bool(settings.get("abort_inhibit", False)),
        "tries_needed": _int32(int(settings.get("tries_needed", 0)), "tries_needed"),
        "tries_now": 0,
    }
    if kind == "analog":
        analog = AnalogAlarm(
            minimum=float(settings.get("minimum", 0.0)),
            maximum=float(settings.get("maximum", 0.0)),
            **shared,
        )
        return AnalogAlarmSample(value=analog, time=time_ms, ref_id=SETTING_REF_ID)
    digital = DigitalAlarm(
        nominal=_int32(int(settings.get("nominal", 0)), "nominal"),
        mask=_int32(int(settings.get("mask", 0)), "mask"),
        **shared,
    )
    return DigitalAlarmSample(value=digital, time=time_ms, ref_id=SETTING_REF_ID)


def _array_sample(items: list[Any], time_ms: int) -> Sample:
    strings = [isinstance(item, str) for item in items]
    if any(strings):
        if not all(strings):
            raise TypeError("DMQ array writes cannot mix strings and numbers")
        return StringArraySample(
            value=tuple(_latin1(item) for item in items), time=time_ms, ref_id=SETTING_REF_ID
        )
    numbers = []
    for item in items:
        if isinstance(item, list | tuple | np.ndarray | dict | bytes | bytearray | complex):
            raise TypeError(
                f"DMQ array writes take 1-D numeric or string lists; element {item!r} "
                f"of type {type(item).__name__} is not a number"
            )
        try:
            numbers.append(float(item))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"DMQ array element {item!r} is not a number") from exc
    return DoubleArraySample(value=tuple(numbers), time=time_ms, ref_id=SETTING_REF_ID)


def value_to_setting(value: Any, *, time_ms: int) -> Sample:
    """The SETTING body for writing ``value``; ``ref_id`` is 1, ``time`` = time_ms.

    Raises TypeError for values DMQ cannot write (bytes, 2-D arrays, mixed lists, other
    types) and ValueError for out-of-range integers, non-Latin-1 text or bad alarm dicts.
    """
    if isinstance(value, BasicControl):
        if value <= BasicControl.DC:
            return BasicControlSample(
                value=WireControl[value.name], time=time_ms, ref_id=SETTING_REF_ID
            )
        return DoubleSample(value=float(value.value), time=time_ms, ref_id=SETTING_REF_ID)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool | np.bool_):
        return IntegerSample(value=int(bool(value)), time=time_ms, ref_id=SETTING_REF_ID)
    if isinstance(value, int | np.integer):
        number = _int32(int(value), "Integer value")
        return IntegerSample(value=number, time=time_ms, ref_id=SETTING_REF_ID)
    if isinstance(value, float | np.floating):
        return DoubleSample(value=float(value), time=time_ms, ref_id=SETTING_REF_ID)
    if isinstance(value, str):
        return StringSample(value=_latin1(value), time=time_ms, ref_id=SETTING_REF_ID)
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(
            "DMQ cannot write bytes (the server rejects BinarySample); "
            "write an integer to a .RAW property instead"
        )
    if isinstance(value, dict):
        return _alarm_sample(value, time_ms)
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise TypeError(f"DMQ array writes take 1-D arrays, got a {value.ndim}-D array")
        return _array_sample(value.tolist(), time_ms)
    if isinstance(value, list | tuple):
        return _array_sample(list(value), time_ms)
    raise TypeError(f"Unsupported value type for DMQ write: {type(value).__name__}")
