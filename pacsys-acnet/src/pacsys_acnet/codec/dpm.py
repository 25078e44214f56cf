"""DPM over ACNET: DPM's PC-encoded messages as ACNET payloads (no length prefix).

``docs/protocols/acnet.md`` §10. The message codec is pacsys-dpm's; this module adds what
the ACNET carriage changes: the immediate-read DRF and the readings of the list stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pacsys.acnet.status import parse_error, status_message
from pacsys.backends import timestamp_from_millis
from pacsys.drf3 import parse_request
from pacsys.types import DeviceMeta, Reading, ValueType
from pacsys_dpm.codec import (
    BASIC_STATUS_BITS,
    AnalogAlarmReply,
    BasicStatusReply,
    DeviceInfoReply,
    DigitalAlarmReply,
    RawReply,
    ScalarArrayReply,
    ScalarReply,
    StatusReply,
    TextArrayReply,
    TextReply,
    TimedScalarArrayReply,
    decode_reply,
    decode_request,
    encode_message,
)

__all__ = [
    "DPMError",
    "DPMReading",
    "backend_reading",
    "decode_reply",
    "decode_request",
    "device_meta",
    "encode_message",
    "read_drf",
    "reading_from_reply",
]

DPM_TASK = "DPMD"
DEFAULT_DPM_NODE = "DPM06"
_VALUES = (
    ScalarReply,
    ScalarArrayReply,
    RawReply,
    TextReply,
    TextArrayReply,
    TimedScalarArrayReply,
)
_BLOCKS = (AnalogAlarmReply, DigitalAlarmReply, BasicStatusReply)


class DPMError(Exception):
    """DPM refused a request (``status`` is its DPM status; -1 for a local failure)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"DPM error {self.status}: {self.message}"


@dataclass
class DPMReading:
    """One reading of the list stream, as DPM sent it (timestamp in ms since the epoch)."""

    ref_id: int
    timestamp: int = 0
    cycle: int = 0
    status: int = 0
    data: Any = None
    meta: dict[str, Any] | None = None
    micros: np.ndarray | None = None


def read_drf(drf: str) -> str:
    """The DRF an immediate read sends: ``@I`` instead of no or the default event."""
    request = parse_request(drf)
    if request.extra is not None or (request.event is not None and request.event.mode != "U"):
        return drf
    return f"{request.to_canonical()}@I"


def meta_of(info: DeviceInfoReply) -> dict[str, Any]:
    return {
        "di": info.di,
        "name": info.name,
        "desc": info.description,
        "units": info.units,
        "format_hint": info.format_hint,
    }


def reading_from_reply(reply: Any, meta: dict[int, dict[str, Any]]) -> DPMReading | None:
    """The reading a stream reply carries (``meta`` collects DeviceInfo by ref id), or None."""
    if isinstance(reply, DeviceInfoReply):
        meta[reply.ref_id] = meta_of(reply)
        return None
    if isinstance(reply, StatusReply):
        return DPMReading(reply.ref_id, status=reply.status, meta=meta.get(reply.ref_id))
    if isinstance(reply, _VALUES):
        data = list(reply.data) if isinstance(reply.data, tuple) else reply.data
        micros = None
        if isinstance(reply, TimedScalarArrayReply) and len(reply.micros):
            micros = reply.micros
        return DPMReading(
            reply.ref_id,
            reply.timestamp,
            reply.cycle,
            reply.status,
            data,
            meta.get(reply.ref_id),
            micros,
        )
    if isinstance(reply, _BLOCKS):
        fields = {
            f.name: value
            for f in reply.__wire_fields__
            if (value := getattr(reply, f.name)) is not None
        }
        return DPMReading(reply.ref_id, reply.timestamp, data=fields)
    return None


def _block(reply: Any) -> tuple[dict[str, Any], ValueType]:
    if isinstance(reply, BasicStatusReply):
        bits = {k: bool(v) for k in BASIC_STATUS_BITS if (v := getattr(reply, k)) is not None}
        return bits, ValueType.BASIC_STATUS
    analog = isinstance(reply, AnalogAlarmReply)
    value = (
        {"minimum": float(reply.minimum), "maximum": float(reply.maximum)}
        if analog
        else {"nominal": int(reply.nominal), "mask": int(reply.mask)}
    )
    for key in ("alarm_enable", "alarm_status", "abort", "abort_inhibit"):
        value[key] = bool(getattr(reply, key))
    value.update(tries_needed=int(reply.tries_needed), tries_now=int(reply.tries_now))
    return value, ValueType.ANALOG_ALARM if analog else ValueType.DIGITAL_ALARM


def _value(reply: Any) -> tuple[Any, ValueType]:
    if isinstance(reply, ScalarReply):
        return float(reply.data), ValueType.SCALAR
    if isinstance(reply, TimedScalarArrayReply) and len(reply.micros):
        return {"data": reply.data, "micros": reply.micros}, ValueType.TIMED_SCALAR_ARRAY
    if isinstance(reply, ScalarArrayReply | TimedScalarArrayReply):
        return reply.data, ValueType.SCALAR_ARRAY
    if isinstance(reply, RawReply):
        return bytes(reply.data), ValueType.RAW
    if isinstance(reply, TextReply):
        return reply.data, ValueType.TEXT
    if isinstance(reply, TextArrayReply):
        return list(reply.data), ValueType.TEXT_ARRAY
    return _block(reply)


def backend_reading(drf: str, reply: Any, meta: DeviceMeta | None) -> Reading | None:
    """The pacsys Reading a data or Status reply of the list stream gives for ``drf``."""
    if not isinstance(reply, (StatusReply, *_VALUES, *_BLOCKS)):
        return None
    value, value_type = (None, None) if isinstance(reply, StatusReply) else _value(reply)
    status = getattr(reply, "status", 0)
    facility, error = parse_error(status) if status else (0, 0)
    return Reading(
        drf=drf,
        value_type=value_type,
        facility_code=facility,
        error_code=error,
        value=value,
        message=status_message(facility, error) if status else None,
        timestamp=timestamp_from_millis(reply.timestamp) if reply.timestamp else None,
        cycle=reply.cycle,
        meta=meta,
    )


def device_meta(info: DeviceInfoReply) -> DeviceMeta:
    return DeviceMeta(info.di, info.name, info.description, info.units, info.format_hint)
