"""Readings -> DPM reply messages (the inverse of :mod:`.values`), and the status helpers.

Pure functions: the server decides *when* to send, this module decides *what*. Every value
type of :class:`~pacsys.types.ValueType` maps to one data reply; a reading without a usable
value becomes a ``Status`` reply carrying its ACNET status, stamped by the ``clock`` the
caller passes (wall-clock milliseconds; the engine reads no clock itself).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import numpy as np

from pacsys.acnet import status as acnet_status
from pacsys.drf3 import parse_request
from pacsys.errors import DeviceError
from pacsys.metadata import DeviceInfoResult
from pacsys.types import DeviceMeta, Reading, ValueType
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
    encode_fields,
    encode_message,
)
from pacsys_dpm.codec.framing import SERVER_FRAME_SIZE
from pacsys_dpm.codec.wire import INT16_MAX, INT16_MIN, INT32_MAX, INT32_MIN

__all__ = [
    "LOGGER_CHUNK",
    "Clock",
    "chunked_replies",
    "data_reply",
    "device_info_for_meta",
    "device_info_from_source",
    "encode_device_info",
    "encode_reply",
    "encode_safely",
    "exception_status",
    "reading_reply",
    "reading_status",
    "status_of",
    "status_reply",
    "to_ms",
]

log = logging.getLogger("pacsys_dpm.server.replies")

DPM_PRIV: Final = acnet_status.lookup_name("DPM_PRIV").composite
DPM_BAD_REQUEST: Final = acnet_status.lookup_name("DPM_BAD_REQUEST").composite
DPM_BAD_EVENT: Final = acnet_status.lookup_name("DPM_BAD_EVENT").composite
DPM_INTERNAL_ERROR: Final = acnet_status.lookup_name("DPM_INTERNAL_ERROR").composite
DPM_REPLY_OVERFLOW: Final = acnet_status.lookup_name("DPM_REPLY_OVERFLOW").composite
DPM_NO_SUCH_DEVICE: Final = acnet_status.lookup_name("DPM_NO_SUCH_DEVICE").composite
ACNET_SYS: Final = acnet_status.lookup_name("ACNET_SYS").composite

LOGGER_CHUNK: Final = 487
"""Points per TimedScalarArray chunk of a logger reply (what production sends)."""


Clock = Callable[[], int]
"""Wall-clock milliseconds since the Unix epoch: the timestamp of Status replies."""


_last_ms: tuple[datetime | None, int] = (None, 0)


def to_ms(timestamp: datetime | None) -> int:
    """A reading's timestamp as epoch milliseconds; 0 means "no timestamp"."""
    global _last_ms
    if timestamp is None:
        return 0
    last = _last_ms  # readings of one batch often share their timestamp object
    if last[0] is timestamp:
        return last[1]
    ms = math.floor(timestamp.timestamp() * 1000)
    _last_ms = (timestamp, ms)
    return ms


def status_of(facility: int, error: int) -> int:
    """Composite int16 status; codes that do not fit become DPM_INTERNAL_ERROR."""
    if error == 0:
        return 0
    if not (0 <= facility <= 255 and -128 <= error <= 127):
        return DPM_INTERNAL_ERROR
    return acnet_status.make_error(facility, error)


def reading_status(reading: Reading) -> int:
    """The int16 status a reading carries (0 for success)."""
    return status_of(reading.facility_code, reading.error_code)


def exception_status(exc: BaseException) -> int:
    """ACNET status for a backend exception (DeviceError keeps its own)."""
    if isinstance(exc, DeviceError):
        return status_of(exc.facility_code, exc.error_code) or ACNET_SYS
    return ACNET_SYS


def status_reply(ref_id: int, status: int, clock: Clock, *, cycle: int = 0) -> StatusReply:
    """A ``Status`` reply for ``ref_id`` stamped with ``clock()``."""
    return StatusReply(ref_id, clock(), cycle, status)


def _int32(value: Mapping[str, Any], key: str) -> int:
    """``value[key]`` (0 when absent) as an int32; ValueError when out of range."""
    number = int(value.get(key, 0))
    if not INT32_MIN <= number <= INT32_MAX:
        raise ValueError(f"{key} {number} is out of range")
    return number


def _latin1(text: str) -> str:
    """Text the wire can carry: characters above U+00FF become '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _alarm_common(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "alarm_enable": bool(value.get("alarm_enable", False)),
        "alarm_status": bool(value.get("alarm_status", False)),
        "abort": bool(value.get("abort", False)),
        "abort_inhibit": bool(value.get("abort_inhibit", False)),
        "tries_needed": _int32(value, "tries_needed"),
        "tries_now": _int32(value, "tries_now"),
    }


def data_reply(ref_id: int, reading: Reading) -> Reply:
    """The data reply for a reading that has a value (raises ValueError if it cannot be sent)."""
    value, kind = reading.value, reading.value_type
    ts, cycle = to_ms(reading.timestamp), int(reading.cycle or 0)
    status = reading_status(reading) if reading.error_code > 0 else 0
    head = (ref_id, ts, cycle)
    if kind is ValueType.SCALAR:
        if isinstance(value, (list, tuple, np.ndarray, dict, str, bytes)):
            raise ValueError(f"scalar reading holds a {type(value).__name__}")
        return ScalarReply(*head, status, float(value))  # type: ignore[arg-type]
    if kind is ValueType.SCALAR_ARRAY:
        array = np.asarray(value, dtype=np.float64)
        return ScalarArrayReply(*head, status, array.ravel())
    if kind is ValueType.TIMED_SCALAR_ARRAY:
        if not isinstance(value, Mapping):
            raise ValueError("timed scalar array reading is not a {data, micros} dict")
        data = np.asarray(value["data"], dtype=np.float64).ravel()
        micros = np.asarray(value["micros"], dtype=np.int64).ravel()
        if data.shape != micros.shape:
            raise ValueError("timed scalar array data and micros differ in length")
        return TimedScalarArrayReply(*head, status, data, micros)
    if kind is ValueType.RAW:
        return RawReply(*head, status, bytes(value))  # type: ignore[arg-type]
    if kind is ValueType.TEXT:
        return TextReply(*head, status, _latin1(str(value)))
    if kind is ValueType.TEXT_ARRAY:
        return TextArrayReply(*head, status, tuple(_latin1(str(v)) for v in value))  # type: ignore[union-attr]
    if kind is ValueType.ANALOG_ALARM:
        assert isinstance(value, Mapping)
        return AnalogAlarmReply(
            *head,
            minimum=float(value.get("minimum", 0.0)),
            maximum=float(value.get("maximum", 0.0)),
            **_alarm_common(value),
        )
    if kind is ValueType.DIGITAL_ALARM:
        assert isinstance(value, Mapping)
        return DigitalAlarmReply(
            *head,
            nominal=_int32(value, "nominal"),
            mask=_int32(value, "mask"),
            **_alarm_common(value),
        )
    if kind is ValueType.BASIC_STATUS:
        if not isinstance(value, Mapping):
            raise ValueError("basic status reading is not a dict")
        bits = {k: (None if value.get(k) is None else bool(value[k])) for k in BASIC_STATUS_BITS}
        return BasicStatusReply(*head, **bits)
    raise ValueError(f"no DPM reply for value type {kind}")


def chunked_replies(
    ref_id: int, reading: Reading, clock: Clock, chunk: int = LOGGER_CHUNK
) -> list[Reply]:
    """Logger (chunked historical) answer: data chunks, then an empty terminator."""
    if not reading.ok:
        return [status_reply(ref_id, reading_status(reading) or DPM_INTERNAL_ERROR, clock)]
    ts, value = to_ms(reading.timestamp), reading.value
    if isinstance(value, Mapping) and "data" in value and "micros" in value:
        data = np.asarray(value["data"], dtype=np.float64)
        micros = np.asarray(value["micros"], dtype=np.int64).ravel()
        if data.ndim == 2:  # array device: one ScalarArray per record, timestamp in µs
            records: list[Reply] = [
                ScalarArrayReply(ref_id, int(us), 0, 0, row)
                for row, us in zip(data, micros, strict=True)
            ]
            return [*records, ScalarArrayReply(ref_id, ts, 0, 0, np.empty(0))]
        data = data.ravel()
    elif reading.value_type in (ValueType.SCALAR, ValueType.SCALAR_ARRAY):
        data = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
        micros = np.full(data.shape, to_ms(reading.timestamp) * 1000, dtype=np.int64)
    else:
        return [status_reply(ref_id, DPM_INTERNAL_ERROR, clock)]
    if data.shape != micros.shape:
        return [status_reply(ref_id, DPM_INTERNAL_ERROR, clock)]
    out: list[Reply] = [
        TimedScalarArrayReply(ref_id, ts, seq, 0, data[i : i + chunk], micros[i : i + chunk])
        for seq, i in enumerate(range(0, len(data), chunk))
    ]
    out.append(TimedScalarArrayReply(ref_id, ts, len(out), 0, np.empty(0), np.empty(0, np.int64)))
    return out


def reading_reply(ref_id: int, reading: Reading, clock: Clock) -> Reply:
    """The one reply a reading becomes: data when it has a value, else a Status."""
    if reading.value is None or reading.error_code < 0:
        status = reading_status(reading) or DPM_INTERNAL_ERROR
        return status_reply(ref_id, status, clock, cycle=int(reading.cycle or 0))
    return data_reply(ref_id, reading)


def encode_safely(
    ref_id: int, reply: Reply, clock: Clock, max_size: int = SERVER_FRAME_SIZE
) -> bytes:
    """Body of ``reply``; a Status instead when it cannot be encoded or exceeds ``max_size``."""
    try:
        body = encode_message(reply)
    except ValueError:
        return encode_message(status_reply(ref_id, DPM_INTERNAL_ERROR, clock))
    if len(body) > max_size:
        return encode_message(status_reply(ref_id, DPM_REPLY_OVERFLOW, clock))
    return body


def encode_reply(
    ref_id: int, reading: Reading, clock: Clock, max_size: int = SERVER_FRAME_SIZE
) -> bytes:
    """Body of the one reply ``reading`` becomes for ``ref_id`` (never raises for bad values)."""
    value = reading.value
    if (
        value.__class__ is float
        and reading.error_code == 0
        and reading.value_type is ValueType.SCALAR
    ):  # the commonest reading: packed without building the reply object
        try:
            return encode_fields(
                ScalarReply, ref_id, to_ms(reading.timestamp), reading.cycle or 0, 0, value
            )
        except (ValueError, TypeError):
            pass  # e.g. a cycle out of range: the general path answers with a Status
    try:
        reply = reading_reply(ref_id, reading, clock)
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("cannot send the value of %s: %s", reading.drf, exc)
        reply = status_reply(ref_id, DPM_INTERNAL_ERROR, clock)
    return encode_safely(ref_id, reply, clock, max_size)


def _device_name(drf: str) -> str:
    try:
        return parse_request(drf).device
    except (ValueError, TypeError):
        return drf


def _hint(format_hint: int | None) -> int | None:
    if format_hint is None or not INT16_MIN <= format_hint <= INT16_MAX:
        return None
    return format_hint


def encode_device_info(ref_id: int, drf: str, meta: DeviceMeta | None) -> bytes:
    """Body of :func:`device_info_for_meta`, packed directly when no field needs fixing."""
    if meta is not None:
        try:
            return encode_fields(
                DeviceInfoReply,
                ref_id,
                meta.device_index,
                meta.name,
                meta.description,
                meta.units,
                meta.format_hint,
            )
        except ValueError:
            pass  # out of range or not Latin-1: device_info_for_meta fixes it up
    return encode_message(device_info_for_meta(ref_id, drf, meta))


def device_info_for_meta(ref_id: int, drf: str, meta: DeviceMeta | None) -> DeviceInfoReply:
    """``DeviceInfo`` from a reading's metadata, or a minimal one naming the device."""
    if meta is None:
        return DeviceInfoReply(ref_id, 0, _latin1(_device_name(drf)), "")
    di = meta.device_index if INT32_MIN <= meta.device_index <= INT32_MAX else 0
    units = None if meta.units is None else _latin1(meta.units)
    return DeviceInfoReply(
        ref_id, di, _latin1(meta.name), _latin1(meta.description), units, _hint(meta.format_hint)
    )


def device_info_from_source(
    ref_id: int, drf: str, info: DeviceInfoResult | None, *, setting: bool
) -> DeviceInfoReply:
    """``DeviceInfo`` from DevDB-shaped metadata (used for ``@N`` entries, which never read)."""
    name = _device_name(drf)
    if info is None:
        return device_info_for_meta(ref_id, drf, None)
    prop = (info.setting or info.reading) if setting else (info.reading or info.setting)
    units = None if prop is None else (prop.common_units or prop.primary_units)
    return device_info_for_meta(
        ref_id, drf, DeviceMeta(info.device_index, name, info.description, units)
    )
