"""Every message of the DAQData protocol used by DMQ, in both directions.

Requests travel client -> server (INIT bodies); replies travel server -> client, and the
reply-type samples also serve as SETTING bodies client -> server. Here: the requests, the
list protocol's replies and the type tables; the samples (:mod:`.samples`) and the base
classes (:mod:`.message_base`) are re-exported, so every message class imports from here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from pacsys.wire import MessageTable
from pacsys_dmq.codec.message_base import (
    F_DATA_REQUEST,
    F_DRF_REQUEST,
    F_LIST_ID,
    F_LOAD,
    F_REF_ID,
    Message,
    Reply,
    Request,
    Sample,
)
from pacsys_dmq.codec.samples import (
    AnalogAlarmArraySample,
    AnalogAlarmSample,
    BasicControlSample,
    BasicStatusArraySample,
    BasicStatusSample,
    BinarySample,
    BooleanArraySample,
    BooleanSample,
    DigitalAlarmArraySample,
    DigitalAlarmSample,
    DoubleArraySample,
    DoubleSample,
    ErrorSample,
    IntegerArraySample,
    IntegerSample,
    LongArraySample,
    LongSample,
    ShortArraySample,
    ShortSample,
    StringArraySample,
    StringSample,
)
from pacsys_dmq.codec.schema import INT16, INT32, STRING, ArrayType, wire_field

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


# --- replies of the list protocol (unused by DMQ) ---------------------------------------


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

_TABLES: dict[str, MessageTable[Any]] = {
    "request": MessageTable("request message type"),
    "reply": MessageTable("reply message type"),
}
for _cls in (*_REQUESTS, *_REPLIES):
    _TABLES[_cls.KIND].add(_cls, _cls.SDD_NAME, _cls.TYPE_ID)

REQUEST_TYPES: dict[int, type[Request]] = _TABLES["request"].by_id
"""Request table: type id -> class."""

REPLY_TYPES: dict[int, type[Reply]] = _TABLES["reply"].by_id
"""Reply table: type id -> class."""

ALL_MESSAGE_TYPES: tuple[type[Message], ...] = _REQUESTS + _REPLIES


def message_class(kind: str, sdd_name: str) -> type[Message]:
    """The class of protocol type ``sdd_name`` (e.g. ``"OpenList"``) in table ``kind``.

    ``kind`` is ``"request"`` or ``"reply"``; raises KeyError for unknown names.
    """
    table = _TABLES.get(kind)
    if table is None:
        raise KeyError(f"no message table {kind!r} (expected 'request' or 'reply')")
    return table.named(sdd_name)
