"""DPM messages (docs/protocols/dpm.md §3) as frozen structs (:mod:`.frozen`).

Every request class ends in ``Request`` and every reply class in ``Reply``,
because requests and replies with the same name have different ids and
layouts. Attributes are the schema's field names in snake case (``mic`` for
``MIC``, ``service_name`` for ``serviceName``) and appear in wire order.
Optional fields default to ``None`` and are then left out of the struct.

Values are not range-checked on construction (that happens on encoding) so
that decoding stays cheap. Double arrays are read-only float64 ndarrays,
int64 arrays read-only int64 ndarrays, other sequences tuples; numpy is
imported when the first array message is built, not with this module (a setting's
doubles stay a tuple of floats until something has imported numpy).

The classes live in :mod:`.message_base`, :mod:`.request_messages` and
:mod:`.reply_messages`; this module is their one import path.
"""

from __future__ import annotations

from typing import Any

from pacsys.wire import MessageTable

from .ids import REQUEST, Direction
from .message_base import (
    REPLIES,
    REPLY_TYPES,
    REQUEST_TYPES,
    REQUESTS,
    Message,
    Reply,
    Request,
)
from .reply_messages import (
    BASIC_STATUS_BITS,
    AddToListReply,
    AnalogAlarmReply,
    ApplySettingsReply,
    AuthenticateReply,
    BasicStatusReply,
    DeviceInfoReply,
    DigitalAlarmReply,
    ListStatusReply,
    OpenListReply,
    RawReply,
    RemoveFromListReply,
    ScalarArrayReply,
    ScalarReply,
    ServiceDiscoveryReply,
    StartListReply,
    StatusReply,
    TextArrayReply,
    TextReply,
    TimedScalarArrayReply,
)
from .request_messages import (
    AddToListRequest,
    ApplySettingsRequest,
    AuthenticateRequest,
    ClearListRequest,
    EnableSettingsRequest,
    OpenListRequest,
    RawSetting,
    RemoveFromListRequest,
    ScaledSetting,
    ServiceDiscoveryRequest,
    SettingStatus,
    StartListRequest,
    StopListRequest,
    TextSetting,
)

__all__ = [
    "BASIC_STATUS_BITS",
    "REPLY_TYPES",
    "REQUEST_TYPES",
    "AddToListReply",
    "AddToListRequest",
    "AnalogAlarmReply",
    "ApplySettingsReply",
    "ApplySettingsRequest",
    "AuthenticateReply",
    "AuthenticateRequest",
    "BasicStatusReply",
    "ClearListRequest",
    "DeviceInfoReply",
    "DigitalAlarmReply",
    "EnableSettingsRequest",
    "ListStatusReply",
    "Message",
    "OpenListReply",
    "OpenListRequest",
    "RawReply",
    "RawSetting",
    "RemoveFromListReply",
    "RemoveFromListRequest",
    "Reply",
    "Request",
    "ScalarArrayReply",
    "ScalarReply",
    "ScaledSetting",
    "ServiceDiscoveryReply",
    "ServiceDiscoveryRequest",
    "SettingStatus",
    "StartListReply",
    "StartListRequest",
    "StatusReply",
    "StopListRequest",
    "TextArrayReply",
    "TextReply",
    "TextSetting",
    "TimedScalarArrayReply",
    "message_type",
]


def message_type(direction: Direction, name: str) -> type[Message]:
    """The class of the ``direction`` message named ``name`` (e.g. ``("reply", "Scalar")``)."""
    table: MessageTable[Any] = REQUESTS if direction == REQUEST else REPLIES
    return table.named(name)
