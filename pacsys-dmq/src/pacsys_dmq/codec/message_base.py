"""What every DAQData message shares: the base classes and the field ids on the wire.

Request and reply type ids live in separate tables, so a receiver must know which one it
expects. Array values are tuples; doubles compare bit-for-bit (NaN equals NaN, -0.0
differs from 0.0), so two messages are equal exactly when they encode to the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from pacsys_dmq.codec.schema import INT16, INT64, STRING, wire_field

__all__ = ["Message", "Reply", "Request", "Sample"]

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


def time_field() -> Any:
    return wire_field(F_TIME, INT64)


def return_time_field() -> Any:
    return wire_field(F_RETURN_TIME, INT64, optional=True)


def cycle_time_field() -> Any:
    return wire_field(F_CYCLE_TIME, INT64, optional=True)


def unit_field() -> Any:
    return wire_field(F_UNIT, STRING, optional=True)


def format_hint_field() -> Any:
    return wire_field(F_FORMAT_HINT, INT16, optional=True)


def ref_id_field() -> Any:
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
