"""Every message of the DAQData protocol used by DMQ, in both directions.

Requests travel client -> server (INIT bodies); replies travel server -> client, and the
reply-type samples also serve as SETTING bodies client -> server. Request and reply type
ids live in separate tables, so a receiver must know which one it expects.

Array values are tuples; doubles compare bit-for-bit (NaN equals NaN, -0.0 differs from
0.0), so two messages are equal exactly when they encode to the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from pacsys_dmq.codec.schema import (
    BINARY,
    BOOL,
    DOUBLE,
    INT16,
    INT32,
    INT64,
    STRING,
    ArrayType,
    StructType,
    wire_field,
)
from pacsys_dmq.codec.structs import BASIC_CONTROL, AnalogAlarm, BasicStatus, DigitalAlarm

__all__ = [
    "ALL_MESSAGE_TYPES",
    "REPLY_TYPES",
    "REQUEST_TYPES",
    "AddToListRequest",
    "AnalogAlarmArraySample",
    "AnalogAlarmSample",
    "BasicControlSample",
    "BasicStatusArraySample",
    "BasicStatusSample",
    "BinarySample",
    "BooleanArraySample",
    "BooleanSample",
    "ClearListRequest",
    "DigitalAlarmArraySample",
    "DigitalAlarmSample",
    "DoubleArraySample",
    "DoubleSample",
    "ErrorSample",
    "IntegerArraySample",
    "IntegerSample",
    "LongArraySample",
    "LongSample",
    "Message",
    "OpenListReply",
    "OpenListRequest",
    "ProcListRequest",
    "ReadingRequest",
    "RemoveFromListRequest",
    "Reply",
    "Request",
    "Sample",
    "ServiceDiscoveryReply",
    "ServiceDiscoveryRequest",
    "SettingRequest",
    "ShortArraySample",
    "ShortSample",
    "StringArraySample",
    "StringSample",
    "message_class",
]

# Field ids.
F_LIST_ID = -6112
F_REF_ID = 7851
F_DRF_REQUEST = 25380
F_DATA_REQUEST = 25212
F_LOAD = 7859
F_FACILITY_CODE = -22154
F_ERROR_NUMBER = 24367
F_VALUE = -16032
F_TIME = 26955
F_RETURN_TIME = 21190
F_CYCLE_TIME = 4487
F_UNIT = -16917
F_FORMAT_HINT = 32450
F_MESSAGE = 12546


_BASIC_STATUS = StructType(BasicStatus)
_ANALOG_ALARM = StructType(AnalogAlarm)
_DIGITAL_ALARM = StructType(DigitalAlarm)


def _time() -> Any:
    return wire_field(F_TIME, INT64)


def _return_time() -> Any:
    return wire_field(F_RETURN_TIME, INT64, optional=True)


def _cycle_time() -> Any:
    return wire_field(F_CYCLE_TIME, INT64, optional=True)


def _unit() -> Any:
    return wire_field(F_UNIT, STRING, optional=True)


def _format_hint() -> Any:
    return wire_field(F_FORMAT_HINT, INT16, optional=True)


def _ref_id() -> Any:
    return wire_field(F_REF_ID, INT16, optional=True)


@attrs.frozen
class Message:
    """Base of all messages: ``SDD_NAME`` and ``TYPE_ID`` identify the type on the wire."""

    SDD_NAME: ClassVar[str]
    TYPE_ID: ClassVar[int]
    KIND: ClassVar[str]


@attrs.frozen
class Request(Message):
    """A message decoded with the request table (server side)."""

    KIND: ClassVar[str] = "request"


@attrs.frozen
class Reply(Message):
    """A message decoded with the reply table (client side, and SETTING bodies)."""

    KIND: ClassVar[str] = "reply"


@attrs.frozen
class Sample(Reply):
    """A reply carrying data or status for one request: every one has ``time`` and ``ref_id``."""

    if TYPE_CHECKING:
        time: int
        return_time: int | None
        cycle_time: int | None
        ref_id: int | None


# --- requests -----------------------------------------------------------------------------


@attrs.frozen
class ServiceDiscoveryRequest(Request):
    """Service discovery probe (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "ServiceDiscovery"
    TYPE_ID: ClassVar[int] = -8230


@attrs.frozen
class OpenListRequest(Request):
    """Open a request list (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "OpenList"
    TYPE_ID: ClassVar[int] = 2076


@attrs.frozen
class AddToListRequest(Request):
    """Add a DRF to a list (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "AddToList"
    TYPE_ID: ClassVar[int] = 97

    list_id: int = wire_field(F_LIST_ID, INT32)
    ref_id: int = wire_field(F_REF_ID, INT32)
    drf_request: str = wire_field(F_DRF_REQUEST, STRING)


@attrs.frozen
class RemoveFromListRequest(Request):
    """Remove an entry from a list (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "RemoveFromList"
    TYPE_ID: ClassVar[int] = -3807

    list_id: int = wire_field(F_LIST_ID, INT32)
    ref_id: int = wire_field(F_REF_ID, INT32)


@attrs.frozen
class ClearListRequest(Request):
    """Clear a list (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "ClearList"
    TYPE_ID: ClassVar[int] = -15607

    list_id: int = wire_field(F_LIST_ID, INT32)


@attrs.frozen
class ProcListRequest(Request):
    """Start processing a list (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "ProcList"
    TYPE_ID: ClassVar[int] = 12593

    list_id: int = wire_field(F_LIST_ID, INT32)


@attrs.frozen
class ReadingRequest(Request):
    """INIT body of a one-shot read or a subscription."""

    SDD_NAME: ClassVar[str] = "ReadingRequest"
    TYPE_ID: ClassVar[int] = -22510

    data_request: tuple[str, ...] = wire_field(
        F_DATA_REQUEST, ArrayType(STRING), wire_name="dataRequest"
    )


@attrs.frozen
class SettingRequest(Request):
    """INIT body of a write session: exactly one prepared write DRF in practice."""

    SDD_NAME: ClassVar[str] = "SettingRequest"
    TYPE_ID: ClassVar[int] = 20446

    data_request: tuple[str, ...] = wire_field(
        F_DATA_REQUEST, ArrayType(STRING), wire_name="dataRequest"
    )


# --- replies ------------------------------------------------------------------------------


@attrs.frozen
class ServiceDiscoveryReply(Reply):
    """Service discovery answer (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "ServiceDiscovery"
    TYPE_ID: ClassVar[int] = -12930

    load: int = wire_field(F_LOAD, INT16)


@attrs.frozen
class OpenListReply(Reply):
    """Answer to OpenList (list protocol; unused by DMQ)."""

    SDD_NAME: ClassVar[str] = "OpenList"
    TYPE_ID: ClassVar[int] = 13470

    list_id: int = wire_field(F_LIST_ID, INT32)


@attrs.frozen
class BinarySample(Sample):
    """Raw bytes (``.RAW`` readings)."""

    SDD_NAME: ClassVar[str] = "BinarySample"
    TYPE_ID: ClassVar[int] = -27130

    value: bytes = wire_field(F_VALUE, BINARY)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class BooleanSample(Sample):
    """One boolean."""

    SDD_NAME: ClassVar[str] = "BooleanSample"
    TYPE_ID: ClassVar[int] = -12404

    value: bool = wire_field(F_VALUE, BOOL)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class BooleanArraySample(Sample):
    """An array of booleans."""

    SDD_NAME: ClassVar[str] = "BooleanArraySample"
    TYPE_ID: ClassVar[int] = 9042

    value: tuple[bool, ...] = wire_field(F_VALUE, ArrayType(BOOL))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class ShortSample(Sample):
    """One 16-bit integer."""

    SDD_NAME: ClassVar[str] = "ShortSample"
    TYPE_ID: ClassVar[int] = 29694

    value: int = wire_field(F_VALUE, INT16)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class ShortArraySample(Sample):
    """An array of 16-bit integers."""

    SDD_NAME: ClassVar[str] = "ShortArraySample"
    TYPE_ID: ClassVar[int] = -13728

    value: tuple[int, ...] = wire_field(F_VALUE, ArrayType(INT16))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class IntegerSample(Sample):
    """One 32-bit integer (also the SETTING body for ints and bools)."""

    SDD_NAME: ClassVar[str] = "IntegerSample"
    TYPE_ID: ClassVar[int] = 32100

    value: int = wire_field(F_VALUE, INT32)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class IntegerArraySample(Sample):
    """An array of 32-bit integers."""

    SDD_NAME: ClassVar[str] = "IntegerArraySample"
    TYPE_ID: ClassVar[int] = 27856

    value: tuple[int, ...] = wire_field(F_VALUE, ArrayType(INT32))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class LongSample(Sample):
    """One 64-bit integer."""

    SDD_NAME: ClassVar[str] = "LongSample"
    TYPE_ID: ClassVar[int] = 13506

    value: int = wire_field(F_VALUE, INT64)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class LongArraySample(Sample):
    """An array of 64-bit integers."""

    SDD_NAME: ClassVar[str] = "LongArraySample"
    TYPE_ID: ClassVar[int] = -8876

    value: tuple[int, ...] = wire_field(F_VALUE, ArrayType(INT64))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class DoubleSample(Sample):
    """One double (scalar readings and float settings)."""

    SDD_NAME: ClassVar[str] = "DoubleSample"
    TYPE_ID: ClassVar[int] = -32303

    value: float = wire_field(F_VALUE, DOUBLE)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class DoubleArraySample(Sample):
    """An array of doubles."""

    SDD_NAME: ClassVar[str] = "DoubleArraySample"
    TYPE_ID: ClassVar[int] = 16395

    value: tuple[float, ...] = wire_field(F_VALUE, ArrayType(DOUBLE))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    unit: str | None = _unit()
    format_hint: int | None = _format_hint()
    ref_id: int | None = _ref_id()


@attrs.frozen
class StringSample(Sample):
    """One ISO-8859-1 string."""

    SDD_NAME: ClassVar[str] = "StringSample"
    TYPE_ID: ClassVar[int] = -29238

    value: str = wire_field(F_VALUE, STRING)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class StringArraySample(Sample):
    """An array of strings."""

    SDD_NAME: ClassVar[str] = "StringArraySample"
    TYPE_ID: ClassVar[int] = -32478

    value: tuple[str, ...] = wire_field(F_VALUE, ArrayType(STRING))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class BasicStatusSample(Sample):
    """A basic status block."""

    SDD_NAME: ClassVar[str] = "BasicStatusSample"
    TYPE_ID: ClassVar[int] = -17277

    value: BasicStatus = wire_field(F_VALUE, _BASIC_STATUS)  # noqa: RUF009 (an attrs field)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class BasicStatusArraySample(Sample):
    """An array of basic status blocks."""

    SDD_NAME: ClassVar[str] = "BasicStatusArraySample"
    TYPE_ID: ClassVar[int] = 13956

    value: tuple[BasicStatus, ...] = wire_field(F_VALUE, ArrayType(_BASIC_STATUS))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class AnalogAlarmSample(Sample):
    """An analog alarm block."""

    SDD_NAME: ClassVar[str] = "AnalogAlarmSample"
    TYPE_ID: ClassVar[int] = 9249

    value: AnalogAlarm = wire_field(F_VALUE, _ANALOG_ALARM)  # noqa: RUF009 (an attrs field)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class AnalogAlarmArraySample(Sample):
    """An array of analog alarm blocks."""

    SDD_NAME: ClassVar[str] = "AnalogAlarmArraySample"
    TYPE_ID: ClassVar[int] = 6328

    value: tuple[AnalogAlarm, ...] = wire_field(F_VALUE, ArrayType(_ANALOG_ALARM))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class DigitalAlarmSample(Sample):
    """A digital alarm block."""

    SDD_NAME: ClassVar[str] = "DigitalAlarmSample"
    TYPE_ID: ClassVar[int] = -13831

    value: DigitalAlarm = wire_field(F_VALUE, _DIGITAL_ALARM)  # noqa: RUF009 (an attrs field)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class DigitalAlarmArraySample(Sample):
    """An array of digital alarm blocks."""

    SDD_NAME: ClassVar[str] = "DigitalAlarmArraySample"
    TYPE_ID: ClassVar[int] = 25840

    value: tuple[DigitalAlarm, ...] = wire_field(F_VALUE, ArrayType(_DIGITAL_ALARM))
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class BasicControlSample(Sample):
    """A control command as its wire enum value (see ``WireControl``)."""

    SDD_NAME: ClassVar[str] = "BasicControlSample"
    TYPE_ID: ClassVar[int] = 25157

    value: int = wire_field(F_VALUE, BASIC_CONTROL)
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    ref_id: int | None = _ref_id()


@attrs.frozen
class ErrorSample(Sample):
    """A status without data: per-device errors, PENDING and job-level failures."""

    SDD_NAME: ClassVar[str] = "ErrorSample"
    TYPE_ID: ClassVar[int] = 1791

    facility_code: int = wire_field(F_FACILITY_CODE, INT32, wire_name="facilityCode")
    error_number: int = wire_field(F_ERROR_NUMBER, INT32, wire_name="errorNumber")
    time: int = _time()
    return_time: int | None = _return_time()
    cycle_time: int | None = _cycle_time()
    message: str | None = wire_field(F_MESSAGE, STRING, optional=True)
    ref_id: int | None = _ref_id()


# --- registries ---------------------------------------------------------------------------

_REQUESTS: tuple[type[Request], ...] = (
    ServiceDiscoveryRequest,
    OpenListRequest,
    AddToListRequest,
    RemoveFromListRequest,
    ClearListRequest,
    ProcListRequest,
    ReadingRequest,
    SettingRequest,
)
_REPLIES: tuple[type[Reply], ...] = (
    ServiceDiscoveryReply,
    OpenListReply,
    BinarySample,
    BooleanSample,
    BooleanArraySample,
    ShortSample,
    ShortArraySample,
    IntegerSample,
    IntegerArraySample,
    LongSample,
    LongArraySample,
    DoubleSample,
    DoubleArraySample,
    StringSample,
    StringArraySample,
    BasicStatusSample,
    BasicStatusArraySample,
    AnalogAlarmSample,
    AnalogAlarmArraySample,
    DigitalAlarmSample,
    DigitalAlarmArraySample,
    BasicControlSample,
    ErrorSample,
)

REQUEST_TYPES: dict[int, type[Request]] = {cls.TYPE_ID: cls for cls in _REQUESTS}
"""Request table: type id -> class."""

REPLY_TYPES: dict[int, type[Reply]] = {cls.TYPE_ID: cls for cls in _REPLIES}
"""Reply table: type id -> class."""

ALL_MESSAGE_TYPES: tuple[type[Message], ...] = _REQUESTS + _REPLIES

_BY_NAME: dict[tuple[str, str], type[Message]] = {
    (cls.KIND, cls.SDD_NAME): cls for cls in ALL_MESSAGE_TYPES
}


def message_class(kind: str, sdd_name: str) -> type[Message]:
    """The class of protocol type ``sdd_name`` (e.g. ``"OpenList"``) in table ``kind``.

    ``kind`` is ``"request"`` or ``"reply"``; raises KeyError for unknown names.
    """
    try:
        return _BY_NAME[(kind, sdd_name)]
    except KeyError:
        raise KeyError(f"no {kind} message type named {sdd_name!r}") from None
