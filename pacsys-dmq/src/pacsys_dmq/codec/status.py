"""Status codes that appear on the DMQ wire or are synthesised by DMQ clients."""

from __future__ import annotations

__all__ = [
    "ACNET_QUEFULL",
    "ACNET_REQTMO",
    "ACNET_RETRY",
    "DMQ_CHANNEL_NOT_READY",
    "DMQ_INVALID_DATA_TYPE",
    "DMQ_INVALID_REQUEST",
    "DMQ_LOGIN_REQUIRED",
    "DMQ_OK",
    "DMQ_PENDING",
    "DMQ_SECURITY_VIOLATION",
    "DMQ_SETTING_DISABLED",
    "DMQ_SYSTEM_ERROR",
    "FACILITY_ACNET",
    "FACILITY_DMQ",
]

FACILITY_ACNET = 1
FACILITY_DMQ = 72

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

# Error numbers of facility 1 (ACNET) that DMQ clients synthesise.
ACNET_RETRY = -1
ACNET_REQTMO = -6
# Of facility 1 that our DMQ server sends: stream readings were dropped for this job.
ACNET_QUEFULL = -7
