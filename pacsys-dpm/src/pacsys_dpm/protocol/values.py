"""DPM replies -> pacsys values and Readings (the inverse of :mod:`.replies`).

Pure functions: no I/O. A data reply becomes a value plus its ValueType, a
DeviceInfo becomes DeviceMeta, and a 16-bit ACNET status becomes facility,
error number and message text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pacsys.acnet.status import (
    parse_error,
    status_message,
)
from pacsys.backends import timestamp_from_millis
from pacsys.types import DeviceMeta, Reading, ValueType

if TYPE_CHECKING:
    import numpy as np

from pacsys_dpm.codec import (
    BASIC_STATUS_BITS,
    AnalogAlarmReply,
    BasicStatusReply,
    DeviceInfoReply,
    DigitalAlarmReply,
    RawReply,
    Reply,
    ScalarArrayReply,
    ScalarReply,
    StatusReply,
    TextArrayReply,
    TextReply,
    TimedScalarArrayReply,
)

__all__ = [
    "data_value",
    "error_reading",
    "meta_from_device_info",
    "meta_from_fields",
    "reading_from_reply",
    "scalar_reading",
    "split_status",
    "timestamp",
]

_ALARM_COMMON = ("alarm_enable", "alarm_status", "abort", "abort_inhibit")


def split_status(status: int) -> tuple[int, int, str | None]:
    """``(facility, error, message)`` of a wire status; success is ``(0, 0, None)``."""
    if status == 0:
        return 0, 0, None
    facility, error = parse_error(status)
    return facility, error, status_message(facility, error)


_last_timestamp: tuple[int, datetime | None] = (0, None)


def timestamp(ms: int) -> datetime | None:
    """Milliseconds since the epoch -> UTC datetime; 0 means "no timestamp"."""
    global _last_timestamp
    last = _last_timestamp  # replies of one batch often share it; datetimes are immutable
    if last[0] == ms:
        return last[1]
    value = timestamp_from_millis(ms)
    _last_timestamp = (ms, value)
    return value


def meta_from_device_info(info: DeviceInfoReply) -> DeviceMeta:
    """DeviceMeta of a decoded DeviceInfo reply."""
    return DeviceMeta(info.di, info.name, info.description, info.units, info.format_hint)


def meta_from_fields(fields: tuple[Any, ...]) -> DeviceMeta:
    """DeviceMeta from the field values of a DeviceInfo reply (``decode_reply_fields``)."""
    _, di, name, description, units, format_hint = fields
    return DeviceMeta(di, name, description, units, format_hint)


def scalar_reading(drf: str, fields: tuple[Any, ...], meta: DeviceMeta | None) -> Reading:
    """What :func:`reading_from_reply` gives for a Scalar reply, from its field values."""
    _, ms, cycle, status, data = fields
    return _reading(drf, ValueType.SCALAR, float(data), status, ms, cycle, meta)


def _reading(
    drf: str,
    value_type: ValueType | None,
    value: Any,
    status: int,
    ms: int,
    cycle: int,
    meta: DeviceMeta | None,
) -> Reading:
    facility, error, message = split_status(status)
    return Reading(
        drf=drf,
        value_type=value_type,
        facility_code=facility,
        error_code=error,
        value=value,
        message=message,
        timestamp=timestamp(ms),
        cycle=cycle,
        meta=meta,
    )


def _alarm_tail(reply: AnalogAlarmReply | DigitalAlarmReply) -> dict[str, Any]:
    out: dict[str, Any] = {key: bool(getattr(reply, key)) for key in _ALARM_COMMON}
    out["tries_needed"] = int(reply.tries_needed)
    out["tries_now"] = int(reply.tries_now)
    return out


def data_value(reply: Reply) -> tuple[Any, ValueType] | None:
    """The value and type a data reply carries, or None for a non-data reply."""
    kind = type(reply)
    if kind is ScalarReply:
        return float(reply.data), ValueType.SCALAR  # type: ignore[attr-defined]
    if kind is ScalarArrayReply:
        return reply.data, ValueType.SCALAR_ARRAY  # type: ignore[attr-defined]
    if kind is TimedScalarArrayReply:
        assert isinstance(reply, TimedScalarArrayReply)
        if len(reply.micros):
            return {"data": reply.data, "micros": reply.micros}, ValueType.TIMED_SCALAR_ARRAY
        return reply.data, ValueType.SCALAR_ARRAY
    if kind is RawReply:
        return bytes(reply.data), ValueType.RAW  # type: ignore[attr-defined]
    if kind is TextReply:
        return reply.data, ValueType.TEXT  # type: ignore[attr-defined]
    if kind is TextArrayReply:
        return list(reply.data), ValueType.TEXT_ARRAY  # type: ignore[attr-defined]
    if kind is AnalogAlarmReply:
        assert isinstance(reply, AnalogAlarmReply)
        value = {"minimum": float(reply.minimum), "maximum": float(reply.maximum)}
        value.update(_alarm_tail(reply))
        return value, ValueType.ANALOG_ALARM
    if kind is DigitalAlarmReply:
        assert isinstance(reply, DigitalAlarmReply)
        value = {"nominal": int(reply.nominal), "mask": int(reply.mask)}
        value.update(_alarm_tail(reply))
        return value, ValueType.DIGITAL_ALARM
    if kind is BasicStatusReply:
        bits = {key: bool(v) for key in BASIC_STATUS_BITS if (v := getattr(reply, key)) is not None}
        return bits, ValueType.BASIC_STATUS
    return None


def reading_from_reply(drf: str, reply: Reply, meta: DeviceMeta | None) -> Reading | None:
    """The Reading a data or Status reply gives for ``drf``; None for other replies."""
    if type(reply) is StatusReply:
        value, value_type = None, None
    else:
        decoded = data_value(reply)
        if decoded is None:
            return None
        value, value_type = decoded
    status = getattr(reply, "status", 0)
    return _reading(drf, value_type, value, status, reply.timestamp, reply.cycle, meta)  # type: ignore[attr-defined]


def error_reading(
    drf: str, facility: int, error: int, message: str | None, meta: DeviceMeta | None = None
) -> Reading:
    """A Reading without value carrying an error status."""
    return Reading(drf=drf, facility_code=facility, error_code=error, message=message, meta=meta)


def concat_timed(chunks: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate logger chunks of (data, micros) into one timed dict."""
    import numpy as np

    if not chunks:
        return {"data": np.empty(0, np.float64), "micros": np.empty(0, np.int64)}
    return {
        "data": np.concatenate([c[0] for c in chunks]),
        "micros": np.concatenate([c[1] for c in chunks]),
    }


def stack_records(records: list[tuple[np.ndarray, int]]) -> dict[str, np.ndarray]:
    """Array-device logger records (one ScalarArray each, µs timestamp) -> 2-D timed dict."""
    import numpy as np

    if not records:
        return {"data": np.empty((0, 0), np.float64), "micros": np.empty(0, np.int64)}
    width = max(len(r[0]) for r in records)
    data = np.full((len(records), width), np.nan)
    for row, (values, _) in enumerate(records):
        data[row, : len(values)] = values
    return {"data": data, "micros": np.array([r[1] for r in records], dtype=np.int64)}
