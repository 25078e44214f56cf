"""ACNET statuses on the wire: ``common.status.Status`` and the codes our peers agree on.

Rules of docs/protocols/grpc.md §3.2 and §5.4.1; the gRPC status codes of a failed RPC are
the driver layer's business (:mod:`pacsys_grpc.rpc_status`), not this module's.
"""

from __future__ import annotations

from datetime import datetime

from pacsys.acnet.status import ERR_QUEFULL, ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET
from pacsys.types import Reading, WriteResult
from pacsys_grpc._proto.common import status_pb2

__all__ = [
    "EMPTY_VALUE_MESSAGE",
    "ERR_QUEFULL",
    "ERR_RETRY",
    "ERR_TIMEOUT",
    "FACILITY_ACNET",
    "NO_DATA_MESSAGE",
    "NO_RESPONSE_MESSAGE",
    "NO_STATUS_MESSAGE",
    "STATUS_REPLY_FALLBACK",
    "failure_reading",
    "failure_write_result",
    "is_loss_notice",
    "normalize_status_code",
    "status_from_proto",
    "status_to_proto",
]

# Re-exported from core, the one home of ACNET numbers: ERR_RETRY is a transport failure
# (retry may help), ERR_TIMEOUT a timeout, ERR_QUEFULL the server's notice of dropped readings.

EMPTY_VALUE_MESSAGE = "Proto Value has no value set (empty oneof)"
NO_RESPONSE_MESSAGE = "No response received"
NO_STATUS_MESSAGE = "No status received from server"
STATUS_REPLY_FALLBACK = "gRPC error"
NO_DATA_MESSAGE = "No data"


def normalize_status_code(code: int) -> int:
    """Read an error number sent as an unsigned byte as signed (243 -> -13)."""
    return code - 256 if code > 127 else code


def status_from_proto(status: status_pb2.Status) -> tuple[int, int, str | None]:
    """(facility, signed error number, message) of a Status; an absent one reads 0/0/None.

    An empty wire message stays None (docs/protocols/grpc.md §5.4.1): the server's text is
    passed through unchanged and never replaced by a locally generated description.
    """
    code = normalize_status_code(status.status_code)
    return status.facility_code, code, status.message or None


def status_to_proto(facility: int, code: int, message: str | None = None) -> status_pb2.Status:
    """A Status message; an empty or None message is left unset."""
    return status_pb2.Status(facility_code=facility, status_code=code, message=message or "")


def is_loss_notice(reading: Reading) -> bool:
    """True for the error Reading of a server's dropped-readings notice (1, -7)."""
    return reading.facility_code == FACILITY_ACNET and reading.error_code == ERR_QUEFULL


def failure_reading(drf: str, message: str, timestamp: datetime | None = None) -> Reading:
    """A Reading without value for a local or transport failure (facility 1, error -1)."""
    return Reading(
        drf=drf,
        facility_code=FACILITY_ACNET,
        error_code=ERR_RETRY,
        message=message,
        timestamp=timestamp,
    )


def failure_write_result(drf: str, message: str) -> WriteResult:
    """The WriteResult of a setting that failed locally or got no status (facility 1, -1)."""
    return WriteResult(drf, facility_code=FACILITY_ACNET, error_code=ERR_RETRY, message=message)
