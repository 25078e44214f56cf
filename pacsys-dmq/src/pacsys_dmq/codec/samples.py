"""The reply-type samples of the DAQData protocol: data and status for one request.

Servers send them as replies; clients send them as SETTING bodies. "Numeric" samples also
carry ``unit`` and ``format_hint``; every sample has ``time`` and the optional tail.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from pacsys_dmq.codec.message_base import (
    F_ERROR_NUMBER,
    F_FACILITY_CODE,
    F_MESSAGE,
    F_VALUE,
    Sample,
    cycle_time_field,
    format_hint_field,
    ref_id_field,
    return_time_field,
    time_field,
    unit_field,
)
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
    "AnalogAlarmArraySample",
    "AnalogAlarmSample",
    "BasicControlSample",
    "BasicStatusArraySample",
    "BasicStatusSample",
    "BinarySample",
    "BooleanArraySample",
    "BooleanSample",
    "DigitalAlarmArraySample",
    "DigitalAlarmSample",
    "DoubleArraySample",
    "DoubleSample",
    "ErrorSample",
    "IntegerArraySample",
    "IntegerSample",
    "LongArraySample",
    "LongSample",
    "ShortArraySample",
    "ShortSample",
    "StringArraySample",
    "StringSample",
]

_BASIC_STATUS = StructType(BasicStatus)
_ANALOG_ALARM = StructType(AnalogAlarm)
_DIGITAL_ALARM = StructType(DigitalAlarm)


@attrs.frozen
class BinarySample(Sample):
    """Raw bytes (``.RAW`` readings)."""

    SDD_NAME: ClassVar[str] = "BinarySample"
    TYPE_ID: ClassVar[int] = -27130

    value: bytes = wire_field(F_VALUE, BINARY)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class BooleanSample(Sample):
    """One boolean."""

    SDD_NAME: ClassVar[str] = "BooleanSample"
    TYPE_ID: ClassVar[int] = -12404

    value: bool = wire_field(F_VALUE, BOOL)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class BooleanArraySample(Sample):
    """An array of booleans."""

    SDD_NAME: ClassVar[str] = "BooleanArraySample"
    TYPE_ID: ClassVar[int] = 9042

    value: tuple[bool, ...] = wire_field(F_VALUE, ArrayType(BOOL))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class ShortSample(Sample):
    """One 16-bit integer."""

    SDD_NAME: ClassVar[str] = "ShortSample"
    TYPE_ID: ClassVar[int] = 29694

    value: int = wire_field(F_VALUE, INT16)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class ShortArraySample(Sample):
    """An array of 16-bit integers."""

    SDD_NAME: ClassVar[str] = "ShortArraySample"
    TYPE_ID: ClassVar[int] = -13728

    value: tuple[int, ...] = wire_field(F_VALUE, ArrayType(INT16))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class IntegerSample(Sample):
    """One 32-bit integer (also the SETTING body for ints and bools)."""

    SDD_NAME: ClassVar[str] = "IntegerSample"
    TYPE_ID: ClassVar[int] = 32100

    value: int = wire_field(F_VALUE, INT32)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class IntegerArraySample(Sample):
    """An array of 32-bit integers."""

    SDD_NAME: ClassVar[str] = "IntegerArraySample"
    TYPE_ID: ClassVar[int] = 27856

    value: tuple[int, ...] = wire_field(F_VALUE, ArrayType(INT32))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class LongSample(Sample):
    """One 64-bit integer."""

    SDD_NAME: ClassVar[str] = "LongSample"
    TYPE_ID: ClassVar[int] = 13506

    value: int = wire_field(F_VALUE, INT64)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class LongArraySample(Sample):
    """An array of 64-bit integers."""

    SDD_NAME: ClassVar[str] = "LongArraySample"
    TYPE_ID: ClassVar[int] = -8876

    value: tuple[int, ...] = wire_field(F_VALUE, ArrayType(INT64))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class DoubleSample(Sample):
    """One double (scalar readings and float settings)."""

    SDD_NAME: ClassVar[str] = "DoubleSample"
    TYPE_ID: ClassVar[int] = -32303

    value: float = wire_field(F_VALUE, DOUBLE)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class DoubleArraySample(Sample):
    """An array of doubles."""

    SDD_NAME: ClassVar[str] = "DoubleArraySample"
    TYPE_ID: ClassVar[int] = 16395

    value: tuple[float, ...] = wire_field(F_VALUE, ArrayType(DOUBLE))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    unit: str | None = unit_field()
    format_hint: int | None = format_hint_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class StringSample(Sample):
    """One ISO-8859-1 string."""

    SDD_NAME: ClassVar[str] = "StringSample"
    TYPE_ID: ClassVar[int] = -29238

    value: str = wire_field(F_VALUE, STRING)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class StringArraySample(Sample):
    """An array of strings."""

    SDD_NAME: ClassVar[str] = "StringArraySample"
    TYPE_ID: ClassVar[int] = -32478

    value: tuple[str, ...] = wire_field(F_VALUE, ArrayType(STRING))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class BasicStatusSample(Sample):
    """A basic status block."""

    SDD_NAME: ClassVar[str] = "BasicStatusSample"
    TYPE_ID: ClassVar[int] = -17277

    value: BasicStatus = wire_field(F_VALUE, _BASIC_STATUS)  # noqa: RUF009 (an attrs field)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class BasicStatusArraySample(Sample):
    """An array of basic status blocks."""

    SDD_NAME: ClassVar[str] = "BasicStatusArraySample"
    TYPE_ID: ClassVar[int] = 13956

    value: tuple[BasicStatus, ...] = wire_field(F_VALUE, ArrayType(_BASIC_STATUS))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class AnalogAlarmSample(Sample):
    """An analog alarm block."""

    SDD_NAME: ClassVar[str] = "AnalogAlarmSample"
    TYPE_ID: ClassVar[int] = 9249

    value: AnalogAlarm = wire_field(F_VALUE, _ANALOG_ALARM)  # noqa: RUF009 (an attrs field)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class AnalogAlarmArraySample(Sample):
    """An array of analog alarm blocks."""

    SDD_NAME: ClassVar[str] = "AnalogAlarmArraySample"
    TYPE_ID: ClassVar[int] = 6328

    value: tuple[AnalogAlarm, ...] = wire_field(F_VALUE, ArrayType(_ANALOG_ALARM))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class DigitalAlarmSample(Sample):
    """A digital alarm block."""

    SDD_NAME: ClassVar[str] = "DigitalAlarmSample"
    TYPE_ID: ClassVar[int] = -13831

    value: DigitalAlarm = wire_field(F_VALUE, _DIGITAL_ALARM)  # noqa: RUF009 (an attrs field)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class DigitalAlarmArraySample(Sample):
    """An array of digital alarm blocks."""

    SDD_NAME: ClassVar[str] = "DigitalAlarmArraySample"
    TYPE_ID: ClassVar[int] = 25840

    value: tuple[DigitalAlarm, ...] = wire_field(F_VALUE, ArrayType(_DIGITAL_ALARM))
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class BasicControlSample(Sample):
    """A control command as its wire enum value (see ``WireControl``)."""

    SDD_NAME: ClassVar[str] = "BasicControlSample"
    TYPE_ID: ClassVar[int] = 25157

    value: int = wire_field(F_VALUE, BASIC_CONTROL)
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    ref_id: int | None = ref_id_field()


@attrs.frozen
class ErrorSample(Sample):
    """A status without data: per-device errors, PENDING and job-level failures."""

    SDD_NAME: ClassVar[str] = "ErrorSample"
    TYPE_ID: ClassVar[int] = 1791

    facility_code: int = wire_field(F_FACILITY_CODE, INT32, wire_name="facilityCode")
    error_number: int = wire_field(F_ERROR_NUMBER, INT32, wire_name="errorNumber")
    time: int = time_field()
    return_time: int | None = return_time_field()
    cycle_time: int | None = cycle_time_field()
    message: str | None = wire_field(F_MESSAGE, STRING, optional=True)
    ref_id: int | None = ref_id_field()
