"""Client side: ``ReadingReply`` messages -> pacsys Readings (docs/protocols/grpc.md §5.4).

Pure: where a reply carries no time, the caller's ``now`` stands in (a datetime, or a clock
called only then: the driver injects the wall clock, tests a fixed instant).
"""

from __future__ import annotations

from pacsys.types import Reading, ValueType
from pacsys_grpc._proto.common import status_pb2
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.codec.statuses import (
    EMPTY_VALUE_MESSAGE,
    NO_RESPONSE_MESSAGE,
    STATUS_REPLY_FALLBACK,
    failure_reading,
    normalize_status_code,
)
from pacsys_grpc.codec.timed import timed_array_from_samples
from pacsys_grpc.codec.timestamps import Now, datetime_from_parts, resolve_now
from pacsys_grpc.codec.values import value_from_proto

__all__ = [
    "missing_reply_reading",
    "reading_from_oneshot_reply",
    "reading_from_proto",
    "reading_from_status",
    "readings_from_reply",
]

_SCALAR = ValueType.SCALAR


def reading_from_proto(drf: str, sample: daq_pb2.Reading, *, now: Now) -> Reading:
    """One sample as a Reading (docs/protocols/grpc.md §5.4.3); ``now`` replaces a missing time.

    A negative status is an error (data ignored), a positive one a warning that keeps the
    value; no data with status 0 is reported as facility 1, error -1.  This runs once per
    streamed sample, so it reads each field once (an unset sub-message reads as zeros).
    """
    stamp = sample.timestamp
    seconds, nanos = stamp.seconds, stamp.nanos
    timestamp = datetime_from_parts(seconds, nanos) if seconds or nanos else resolve_now(now)
    status = sample.status
    code = status.status_code
    if code > 127:
        code -= 256
    data = sample.data
    kind = data.WhichOneof("value")
    if code < 0 or (code > 0 and kind is None):
        return Reading(
            drf=drf,
            facility_code=status.facility_code,
            error_code=code,
            message=status.message or None,
            timestamp=timestamp,
        )
    if kind is None:
        return failure_reading(drf, EMPTY_VALUE_MESSAGE, timestamp)
    if kind == "scalar":
        value, value_type = data.scalar, _SCALAR
    else:
        value, value_type = value_from_proto(data)
    return Reading(
        drf=drf,
        value_type=value_type,
        value=value,
        facility_code=status.facility_code,
        error_code=code,
        message=status.message or None,
        timestamp=timestamp,
    )


def reading_from_status(drf: str, status: status_pb2.Status, *, now: Now) -> Reading:
    """A status-only reply as an error Reading, even for code 0 (docs/protocols/grpc.md §5.4.2)."""
    code = normalize_status_code(status.status_code)
    message = status.message or STATUS_REPLY_FALLBACK
    timestamp = resolve_now(now)
    if code == 0:
        return failure_reading(drf, message, timestamp)
    return Reading(
        drf=drf,
        facility_code=status.facility_code,
        error_code=code,
        message=message,
        timestamp=timestamp,
    )


def readings_from_reply(drf: str, reply: daq_pb2.ReadingReply, *, now: Now) -> list[Reading]:
    """Stream path: one Reading per sample, or one error Reading for a status reply.

    A reply with neither member, or with zero samples, gives an empty list.
    """
    kind = reply.WhichOneof("value")
    if kind == "status":
        return [reading_from_status(drf, reply.status, now=now)]
    if kind == "readings":
        return [reading_from_proto(drf, sample, now=now) for sample in reply.readings.reading]
    return []


def reading_from_oneshot_reply(
    drf: str, reply: daq_pb2.ReadingReply, *, now: Now
) -> Reading | None:
    """One-shot path: the slot's result, or None when the reply gives no result.

    Several samples in one reply become one TIMED_SCALAR_ARRAY (docs/protocols/grpc.md §5.4.4).
    """
    kind = reply.WhichOneof("value")
    if kind == "status":
        return reading_from_status(drf, reply.status, now=now)
    if kind != "readings" or not reply.readings.reading:
        return None
    samples = reply.readings.reading
    if len(samples) == 1:
        return reading_from_proto(drf, samples[0], now=now)
    return timed_array_from_samples(drf, samples, now=now)


def missing_reply_reading(drf: str, *, now: Now) -> Reading:
    """The result of a slot the server never answered before ending the stream."""
    return failure_reading(drf, NO_RESPONSE_MESSAGE, resolve_now(now))
