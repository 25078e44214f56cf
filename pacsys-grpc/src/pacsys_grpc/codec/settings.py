"""Settings on the wire: ``SettingList``/``SettingReply`` <-> (DRF, value) pairs and
WriteResults (docs/protocols/grpc.md §5.6 and §7.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pacsys.types import WriteResult
from pacsys_grpc._proto.common import status_pb2
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.codec.statuses import (
    NO_STATUS_MESSAGE,
    failure_write_result,
    status_from_proto,
    status_to_proto,
)
from pacsys_grpc.codec.values import value_from_proto, value_to_proto

__all__ = [
    "setting_reply",
    "setting_to_proto",
    "settings_from_request",
    "write_result_to_status",
    "write_results_from_reply",
]


def setting_to_proto(drf: str, value: Any) -> daq_pb2.Setting:
    """Client side: one (write-prepared DRF, value) pair as a Setting."""
    return daq_pb2.Setting(device=drf, value=value_to_proto(value))


def write_results_from_reply(drfs: Sequence[str], reply: daq_pb2.SettingReply) -> list[WriteResult]:
    """Client side: one WriteResult per sent DRF, status k for setting k.

    Extra statuses are ignored; missing ones become facility 1, error -1.
    """
    results = []
    for position, drf in enumerate(drfs):
        if position < len(reply.status):
            facility, code, message = status_from_proto(reply.status[position])
            results.append(
                WriteResult(drf, facility_code=facility, error_code=code, message=message)
            )
        else:
            results.append(failure_write_result(drf, NO_STATUS_MESSAGE))
    return results


def settings_from_request(request: daq_pb2.SettingList) -> list[tuple[str, Any]]:
    """Server side: the (device, value) pairs of a SettingList; EmptyValueError for an unset
    value (docs/protocols/grpc.md §7.3 step 3)."""
    return [(setting.device, value_from_proto(setting.value)[0]) for setting in request.setting]


def write_result_to_status(result: WriteResult) -> status_pb2.Status:
    """Server side: one WriteResult as the Status of its SettingReply slot."""
    return status_to_proto(result.facility_code, result.error_code, result.message)


def setting_reply(results: Sequence[WriteResult]) -> daq_pb2.SettingReply:
    """Server side: the SettingReply of the backend's results, in order."""
    return daq_pb2.SettingReply(status=[write_result_to_status(r) for r in results])
