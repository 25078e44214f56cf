"""Nested SDD structs and the BasicControl enum of the DAQData protocol."""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from pacsys_dmq.codec.schema import BOOL, DOUBLE, INT32, EnumType, wire_field

__all__ = [
    "BASIC_CONTROL",
    "AnalogAlarm",
    "BasicStatus",
    "DigitalAlarm",
    "WireControl",
    "signed16",
]


def signed16(raw: int) -> int:
    """A 16-bit id written as unsigned hex (``0xab23``) -> its signed wire value."""
    return raw - 0x10000 if raw >= 0x8000 else raw


class WireControl(enum.IntEnum):
    """BasicControl enum values as they travel on the wire.

    The names match the library's ``pacsys.types.BasicControl`` members RESET..DC; the
    library's LOCAL, REMOTE and TRIP have no wire value.
    """

    RESET = 26767
    ON = 13987
    OFF = 1495
    POSITIVE = 10612
    NEGATIVE = 13679
    RAMP = -15441
    DC = -6841


BASIC_CONTROL = EnumType("BasicControl", WireControl)


@attrs.frozen
class BasicStatus:
    """Basic status bits; every attribute is optional and None when absent."""

    SDD_NAME: ClassVar[str] = "BasicStatus"

    on: bool | None = wire_field(signed16(0x5C01), BOOL, optional=True)
    ready: bool | None = wire_field(signed16(0xAB23), BOOL, optional=True)
    remote: bool | None = wire_field(signed16(0xE486), BOOL, optional=True)
    positive: bool | None = wire_field(signed16(0x2716), BOOL, optional=True)
    ramp: bool | None = wire_field(signed16(0x9238), BOOL, optional=True)


@attrs.frozen
class AnalogAlarm:
    """Analog alarm block; all eight members are always on the wire."""

    SDD_NAME: ClassVar[str] = "AnalogAlarm"

    minimum: float = wire_field(signed16(0x234C), DOUBLE)
    maximum: float = wire_field(signed16(0xE288), DOUBLE)
    alarm_enable: bool = wire_field(signed16(0x8F20), BOOL)
    alarm_status: bool = wire_field(signed16(0x6036), BOOL)
    abort: bool = wire_field(signed16(0x4A1C), BOOL)
    abort_inhibit: bool = wire_field(signed16(0x8172), BOOL)
    tries_needed: int = wire_field(signed16(0x0132), INT32)
    tries_now: int = wire_field(signed16(0x2B3E), INT32)


@attrs.frozen
class DigitalAlarm:
    """Digital alarm block; all eight members are always on the wire."""

    SDD_NAME: ClassVar[str] = "DigitalAlarm"

    nominal: int = wire_field(signed16(0x4F1D), INT32)
    mask: int = wire_field(signed16(0x11EB), INT32)
    alarm_enable: bool = wire_field(signed16(0x8F20), BOOL)
    alarm_status: bool = wire_field(signed16(0x6036), BOOL)
    abort: bool = wire_field(signed16(0x4A1C), BOOL)
    abort_inhibit: bool = wire_field(signed16(0x8172), BOOL)
    tries_needed: int = wire_field(signed16(0x0132), INT32)
    tries_now: int = wire_field(signed16(0x2B3E), INT32)
