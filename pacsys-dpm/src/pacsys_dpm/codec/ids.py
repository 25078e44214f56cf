"""Numeric identifiers of the DPM protocol (docs/protocols/dpm.md §2.5, §3.1, §3.2).

Requests and replies have separate message-id spaces; the same name (for
example ``OpenList``) has a different id in each. Field ids are shared by every
message and struct that uses the field name.
"""

from __future__ import annotations

from typing import Final, Literal

Direction = Literal["request", "reply"]
REQUEST: Final = "request"
REPLY: Final = "reply"

PROTOCOL_ID: Final = -1321570246
"""Identifies the DPM protocol in every message envelope (0xB13A703A as int32)."""

REQUEST_IDS: Final[dict[str, int]] = {
    "ServiceDiscovery": -8230,
    "OpenList": 2076,
    "AddToList": 97,
    "Authenticate": -15277,
    "EnableSettings": 21346,
    "RemoveFromList": -3807,
    "StartList": -8779,
    "ClearList": -15607,
    "StopList": 21417,
    "ApplySettings": -14728,
}

REPLY_IDS: Final[dict[str, int]] = {
    "ServiceDiscovery": -12930,
    "OpenList": 13470,
    "AddToList": -29780,
    "RemoveFromList": -3046,
    "StartList": -27136,
    "ListStatus": 29552,
    "Status": -10579,
    "DeviceInfo": 28653,
    "Scalar": -10581,
    "ScalarArray": 23036,
    "Raw": -12450,
    "Text": -28878,
    "TextArray": 12923,
    "AnalogAlarm": 30088,
    "DigitalAlarm": -14437,
    "BasicStatus": -3335,
    "TimedScalarArray": 31282,
    "ApplySettings": 17344,
    "Authenticate": 7286,
}

FIELD_IDS: Final[dict[str, int]] = {
    "list_id": -6112,
    "ref_id": 7851,
    "drf_request": 25380,
    "location": -25120,
    "model": 24163,
    "token": -29279,
    "MIC": 8141,
    "message": 12546,
    "user_name": 22088,
    "raw_array": 769,
    "scaled_array": 25550,
    "text_array": -12657,
    "status": 17492,
    "timestamp": -10917,
    "cycle": 1856,
    "data": 32568,
    "micros": 13357,
    "load": 7859,
    "serviceLocation": 4527,
    "serviceName": 25400,
    "di": -32035,
    "name": -27876,
    "description": -1748,
    "units": 15867,
    "format_hint": 32450,
    "minimum": 9036,
    "maximum": -7544,
    "nominal": 20253,
    "mask": 4587,
    "alarm_enable": -28896,
    "alarm_status": 24630,
    "abort": 18972,
    "abort_inhibit": -32398,
    "tries_needed": 306,
    "tries_now": 11070,
    "on": 23553,
    "ready": -21725,
    "remote": -7034,
    "positive": 10006,
    "ramp": -28104,
}
"""Wire field name -> field id (the wire names keep the schema's spelling)."""
