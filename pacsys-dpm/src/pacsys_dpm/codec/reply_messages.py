"""DPM reply messages (docs/protocols/dpm.md §3).

Re-exported by :mod:`.messages`; see there for the naming and value conventions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .frozen import struct
from .message_base import (
    Reply,
    arrays_equal,
    as_bytes,
    as_tuple,
    f64_array,
    i64_array,
    register_reply,
)
from .request_messages import SettingStatus
from .schema import (
    BINARY,
    BOOL,
    DOUBLE,
    DOUBLE_ARRAY,
    INT16,
    INT32,
    INT64,
    INT64_ARRAY,
    STRING,
    STRING_ARRAY,
    struct_array,
    wire_field,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Float64Array = npt.NDArray[np.float64]
    Int64Array = npt.NDArray[np.int64]


@register_reply("ServiceDiscovery")
@struct
class ServiceDiscoveryReply(Reply):
    """One DPM answering discovery (ACNET only)."""

    load: int = wire_field(INT16)
    service_location: str = wire_field(STRING, wire_name="serviceLocation")


@register_reply("OpenList")
@struct
class OpenListReply(Reply):
    """The list of this connection; always the first frame over TCP."""

    list_id: int = wire_field(INT32)


@register_reply("AddToList")
@struct
class AddToListReply(Reply):
    """Acknowledgement of one AddToList (non-zero status: that entry failed)."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)
    status: int = wire_field(INT16)


@register_reply("RemoveFromList")
@struct
class RemoveFromListReply(Reply):
    """Acknowledgement of one RemoveFromList (ACNET only)."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)
    status: int = wire_field(INT16)


@register_reply("StartList")
@struct
class StartListReply(Reply):
    """Answer to StartList."""

    list_id: int = wire_field(INT32)
    status: int = wire_field(INT16)


@register_reply("ListStatus")
@struct
class ListStatusReply(Reply):
    """Heartbeat of an idle list."""

    list_id: int = wire_field(INT32)
    status: int = wire_field(INT16)


@register_reply("Status")
@struct
class StatusReply(Reply):
    """Error or warning in place of data (``ref_id`` 0: the whole list or job)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)


@register_reply("DeviceInfo")
@struct
class DeviceInfoReply(Reply):
    """Metadata of an entry, sent before its data."""

    ref_id: int = wire_field(INT64)
    di: int = wire_field(INT32)
    name: str = wire_field(STRING)
    description: str = wire_field(STRING)
    units: str | None = wire_field(STRING, optional=True)
    format_hint: int | None = wire_field(INT16, optional=True)


@register_reply("Scalar")
@struct
class ScalarReply(Reply):
    """One double value."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: float = wire_field(DOUBLE)


@register_reply("ScalarArray")
@struct
class ScalarArrayReply(Reply):
    """An array of doubles."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: Float64Array = wire_field(DOUBLE_ARRAY, converter=f64_array, eq=arrays_equal)


@register_reply("Raw")
@struct
class RawReply(Reply):
    """Raw bytes."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: bytes = wire_field(BINARY, converter=as_bytes)


@register_reply("Text")
@struct
class TextReply(Reply):
    """A Latin-1 string."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: str = wire_field(STRING)


@register_reply("TextArray")
@struct
class TextArrayReply(Reply):
    """A list of Latin-1 strings."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: tuple[str, ...] = wire_field(STRING_ARRAY, converter=as_tuple)


@register_reply("TimedScalarArray")
@struct
class TimedScalarArrayReply(Reply):
    """Doubles with a µs timestamp each (logger chunks; empty ``data`` ends the request)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: Float64Array = wire_field(DOUBLE_ARRAY, converter=f64_array, eq=arrays_equal)
    micros: Int64Array = wire_field(INT64_ARRAY, converter=i64_array, eq=arrays_equal)


@register_reply("AnalogAlarm")
@struct
class AnalogAlarmReply(Reply):
    """Analog alarm block (no status field)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    minimum: float = wire_field(DOUBLE)
    maximum: float = wire_field(DOUBLE)
    alarm_enable: bool = wire_field(BOOL)
    alarm_status: bool = wire_field(BOOL)
    abort: bool = wire_field(BOOL)
    abort_inhibit: bool = wire_field(BOOL)
    tries_needed: int = wire_field(INT32)
    tries_now: int = wire_field(INT32)


@register_reply("DigitalAlarm")
@struct
class DigitalAlarmReply(Reply):
    """Digital alarm block (no status field)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    nominal: int = wire_field(INT32)
    mask: int = wire_field(INT32)
    alarm_enable: bool = wire_field(BOOL)
    alarm_status: bool = wire_field(BOOL)
    abort: bool = wire_field(BOOL)
    abort_inhibit: bool = wire_field(BOOL)
    tries_needed: int = wire_field(INT32)
    tries_now: int = wire_field(INT32)


@register_reply("BasicStatus")
@struct
class BasicStatusReply(Reply):
    """Basic status bits; an attribute the device does not define is ``None``."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    on: bool | None = wire_field(BOOL, optional=True)
    ready: bool | None = wire_field(BOOL, optional=True)
    remote: bool | None = wire_field(BOOL, optional=True)
    positive: bool | None = wire_field(BOOL, optional=True)
    ramp: bool | None = wire_field(BOOL, optional=True)


BASIC_STATUS_BITS: tuple[str, ...] = ("on", "ready", "remote", "positive", "ramp")
"""The optional bit attributes of :class:`BasicStatusReply`, in wire order."""


@register_reply("ApplySettings")
@struct
class ApplySettingsReply(Reply):
    """One result per setting of the ApplySettings request."""

    status: tuple[SettingStatus, ...] = wire_field(struct_array(SettingStatus), converter=as_tuple)


@register_reply("Authenticate")
@struct
class AuthenticateReply(Reply):
    """Service name and, while the GSS context is incomplete, a continuation token."""

    service_name: str | None = wire_field(STRING, wire_name="serviceName", optional=True)
    token: bytes | None = wire_field(BINARY, optional=True, converter=as_bytes)
