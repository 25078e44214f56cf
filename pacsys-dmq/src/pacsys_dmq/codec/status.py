"""Error numbers of facility 72 (DMQ) on the DMQ wire.

Facility numbers and ACNET error numbers (FACILITY_ACNET, ERR_RETRY, ERR_TIMEOUT) come from
:mod:`pacsys.acnet.status` (docs/protocols/semantics.md §2).
"""

from __future__ import annotations

__all__ = [
    "DMQ_CHANNEL_NOT_READY",
    "DMQ_INVALID_DATA_TYPE",
    "DMQ_INVALID_REQUEST",
    "DMQ_LOGIN_REQUIRED",
    "DMQ_OK",
    "DMQ_PENDING",
    "DMQ_SECURITY_VIOLATION",
    "DMQ_SETTING_DISABLED",
    "DMQ_SYSTEM_ERROR",
]

# Error numbers of facility 72 (DMQ).
DMQ_PENDING = 1
DMQ_OK = 0
DMQ_INVALID_DATA_TYPE = -93
DMQ_SETTING_DISABLED = -94
DMQ_SYSTEM_ERROR = -95
DMQ_CHANNEL_NOT_READY = -96
DMQ_LOGIN_REQUIRED = -97
DMQ_INVALID_REQUEST = -98
DMQ_SECURITY_VIOLATION = -99
