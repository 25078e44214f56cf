"""DPM over ACNET: DPM's PC-encoded messages as ACNET payloads (no length prefix).

``docs/protocols/acnet.md`` §10. The message codec is pacsys-dpm's; this module adds what
the ACNET carriage changes: the immediate-read DRF and the readings of the list stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import attrs
import numpy as np

from pacsys.drf3 import parse_request
from pacsys_dpm.codec import (
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
    "decode_reply",
    "decode_request",
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
        data = reply.data
        if isinstance(data, tuple):
            data = list(data)
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
        fields = {k: v for k, v in attrs.asdict(reply, recurse=False).items() if v is not None}
        return DPMReading(reply.ref_id, reply.timestamp, data=fields)
    return None
