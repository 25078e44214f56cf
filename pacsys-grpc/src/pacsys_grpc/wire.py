"""The codec as the gRPC drivers use it: the pure :mod:`pacsys_grpc.codec` with the wall
clock supplied, plus the gRPC status rules of :mod:`pacsys_grpc.rpc_status`.

The clocked functions take ``now`` like their codec counterparts but default it to the
wall clock (:func:`utc_now`), which the codec reads only for a reply without a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import grpc

from pacsys.types import Reading
from pacsys_grpc import codec, rpc_status
from pacsys_grpc._proto.common import status_pb2
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.codec import (
    EMPTY_VALUE_MESSAGE,
    ERR_QUEFULL,
    ERR_RETRY,
    ERR_TIMEOUT,
    FACILITY_ACNET,
    LOGGER_CHUNK_SIZE,
    NO_RESPONSE_MESSAGE,
    NO_STATUS_MESSAGE,
    EmptyValueError,
    bearer_metadata,
    failure_reading,
    failure_write_result,
    is_loss_notice,
    loss_notice_replies,
    loss_notice_text,
    normalize_status_code,
    reading_to_replies,
    sample_time,
    setting_reply,
    setting_to_proto,
    settings_from_request,
    split_metadata,
    status_from_proto,
    status_to_proto,
    timestamp_to_proto,
    value_from_proto,
    value_to_proto,
    write_result_to_status,
    write_results_from_reply,
)
from pacsys_grpc.codec.timestamps import Now
from pacsys_grpc.rpc_status import (
    RETRYABLE_STREAM_CODES,
    Abort,
    exception_to_rpc_status,
    is_retryable_stream_status,
    rpc_error_code,
    rpc_error_message,
    rpc_failure_write_result,
    stream_error_message,
)

__all__ = [
    "EMPTY_VALUE_MESSAGE",
    "ERR_QUEFULL",
    "ERR_RETRY",
    "ERR_TIMEOUT",
    "FACILITY_ACNET",
    "LOGGER_CHUNK_SIZE",
    "NO_RESPONSE_MESSAGE",
    "NO_STATUS_MESSAGE",
    "RETRYABLE_STREAM_CODES",
    "Abort",
    "EmptyValueError",
    "bearer_metadata",
    "exception_to_rpc_status",
    "failure_reading",
    "failure_write_result",
    "is_loss_notice",
    "is_retryable_stream_status",
    "loss_notice_replies",
    "loss_notice_text",
    "missing_reply_reading",
    "normalize_status_code",
    "reading_from_oneshot_reply",
    "reading_from_proto",
    "reading_from_status",
    "reading_to_replies",
    "readings_from_reply",
    "rpc_error_code",
    "rpc_error_message",
    "rpc_failure_reading",
    "rpc_failure_write_result",
    "sample_time",
    "setting_reply",
    "setting_to_proto",
    "settings_from_request",
    "split_metadata",
    "status_from_proto",
    "status_to_proto",
    "stream_error_message",
    "timed_array_from_samples",
    "timestamp_to_proto",
    "utc_now",
    "value_from_proto",
    "value_to_proto",
    "write_result_to_status",
    "write_results_from_reply",
]


def utc_now() -> datetime:
    """The wall clock, in UTC: the ``now`` the drivers give the codec."""
    return datetime.now(timezone.utc)


def reading_from_proto(drf: str, sample: daq_pb2.Reading, *, now: Now | None = None) -> Reading:
    """:func:`pacsys_grpc.codec.reading_from_proto`, ``now`` defaulting to the wall clock."""
    return codec.reading_from_proto(drf, sample, now=now or utc_now)


def reading_from_status(drf: str, status: status_pb2.Status, *, now: Now | None = None) -> Reading:
    """:func:`pacsys_grpc.codec.reading_from_status`, ``now`` defaulting to the wall clock."""
    return codec.reading_from_status(drf, status, now=now or utc_now)


def readings_from_reply(
    drf: str, reply: daq_pb2.ReadingReply, *, now: Now | None = None
) -> list[Reading]:
    """:func:`pacsys_grpc.codec.readings_from_reply`, ``now`` defaulting to the wall clock."""
    return codec.readings_from_reply(drf, reply, now=now or utc_now)


def reading_from_oneshot_reply(
    drf: str, reply: daq_pb2.ReadingReply, *, now: Now | None = None
) -> Reading | None:
    """:func:`pacsys_grpc.codec.reading_from_oneshot_reply`, ``now`` defaulting to the clock."""
    return codec.reading_from_oneshot_reply(drf, reply, now=now or utc_now)


def timed_array_from_samples(
    drf: str,
    samples: Sequence[daq_pb2.Reading],
    *,
    now: Now | None = None,
    allow_arrays: bool = False,
) -> Reading:
    """:func:`pacsys_grpc.codec.timed_array_from_samples`, ``now`` defaulting to the clock."""
    return codec.timed_array_from_samples(
        drf, samples, now=now or utc_now, allow_arrays=allow_arrays
    )


def missing_reply_reading(drf: str, *, now: Now | None = None) -> Reading:
    """:func:`pacsys_grpc.codec.missing_reply_reading`, ``now`` defaulting to the clock."""
    return codec.missing_reply_reading(drf, now=now or utc_now)


def rpc_failure_reading(
    drf: str,
    target: str,
    code: grpc.StatusCode,
    details: str | None,
    *,
    now: datetime | None = None,
) -> Reading:
    """:func:`pacsys_grpc.rpc_status.rpc_failure_reading`, ``now`` defaulting to the clock."""
    return rpc_status.rpc_failure_reading(drf, target, code, details, now=now or utc_now())
