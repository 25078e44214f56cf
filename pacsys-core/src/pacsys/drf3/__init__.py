"""DRF3: parse Data Request Format strings (``M:OUTTMP.READING[0:3]@p,1000<-FTP``).

``parse_request`` returns an immutable :class:`DataRequest`; the grammar is in
docs/protocols/drf3.md.
"""

from pacsys.drf3.events import (
    ClockEvent,
    DefaultEvent,
    DrfEvent,
    ImmediateEvent,
    NeverEvent,
    PeriodicEvent,
    StateEvent,
    parse_event,
    parse_time_freq,
)
from pacsys.drf3.extras import (
    CHUNKED_HISTORICAL_EXTRAS,
    DRF_EXTRA,
    HISTORICAL_EXTRAS,
    parse_extra,
)
from pacsys.drf3.names import DeviceName, get_qualified_device, parse_device
from pacsys.drf3.parser import parse_request
from pacsys.drf3.properties import (
    DRF_FIELD,
    DRF_PROPERTY,
    allowed_fields,
    get_default_field,
    is_field_allowed,
    parse_field,
    parse_property,
)
from pacsys.drf3.ranges import ARRAY_RANGE, BYTE_RANGE, parse_range
from pacsys.drf3.request import DataRequest

__all__ = [
    "ARRAY_RANGE",
    "BYTE_RANGE",
    "CHUNKED_HISTORICAL_EXTRAS",
    "DRF_EXTRA",
    "DRF_FIELD",
    "DRF_PROPERTY",
    "HISTORICAL_EXTRAS",
    "ClockEvent",
    "DataRequest",
    "DefaultEvent",
    "DeviceName",
    "DrfEvent",
    "ImmediateEvent",
    "NeverEvent",
    "PeriodicEvent",
    "StateEvent",
    "allowed_fields",
    "get_default_field",
    "get_qualified_device",
    "is_field_allowed",
    "parse_device",
    "parse_event",
    "parse_extra",
    "parse_field",
    "parse_property",
    "parse_range",
    "parse_request",
    "parse_time_freq",
]
