"""Timestamps on the wire: ``google.protobuf.Timestamp`` <-> datetime and epoch microseconds.

Pure: no clock is read here.  A caller passes "now" in (:data:`Now`): a datetime, or a
clock function the codec calls only when a reply carries no time of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from pacsys_grpc._proto.services import daq_pb2

__all__ = [
    "Now",
    "datetime_from_parts",
    "epoch_parts",
    "micros_to_proto",
    "resolve_now",
    "sample_micros",
    "sample_time",
    "timestamp_to_proto",
]

Now = datetime | Callable[[], datetime]
"""The time a reply without one gets: a fixed datetime or a clock the caller injects."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UTC = timezone.utc
_INT64 = range(-(2**63), 2**63)
_from_timestamp = datetime.fromtimestamp


def resolve_now(now: Now) -> datetime:
    """``now`` itself, or what the injected clock says."""
    return now if isinstance(now, datetime) else now()


def datetime_from_parts(seconds: int, nanos: int) -> datetime | None:
    """UTC time of ``seconds + nanos / 1e9`` (microsecond resolution, as the reference client
    computes it); None when no datetime can hold it."""
    try:
        return _from_timestamp(seconds + nanos / 1e9, tz=_UTC)
    except (OverflowError, OSError, ValueError):  # a peer's time no datetime can hold
        return None


def sample_time(sample: daq_pb2.Reading) -> datetime | None:
    """UTC time of a sample, or None when the timestamp is absent, 0/0 or out of range."""
    if not sample.HasField("timestamp"):
        return None
    stamp = sample.timestamp
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return datetime_from_parts(stamp.seconds, stamp.nanos)


def sample_micros(sample: daq_pb2.Reading, position: int) -> int:
    """Microseconds since the epoch of a sample; ValueError when outside int64."""
    stamp = sample.timestamp
    micros = stamp.seconds * 1_000_000 + stamp.nanos // 1000
    if micros not in _INT64:
        raise ValueError(f"Sample {position} has a timestamp out of range ({stamp.seconds} s)")
    return micros


def epoch_parts(when: datetime) -> tuple[int, int]:
    """(seconds, nanos) since the epoch, exact to the microsecond; naive means UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    delta = when - _EPOCH
    return delta.days * 86_400 + delta.seconds, delta.microseconds * 1000


def timestamp_to_proto(when: datetime) -> Timestamp:
    """A datetime as a Timestamp; a naive datetime is taken as UTC."""
    seconds, nanos = epoch_parts(when)
    return Timestamp(seconds=seconds, nanos=nanos)


def micros_to_proto(micros: int) -> Timestamp:
    """Microseconds since the epoch as a Timestamp (``nanos = (micros % 10**6) * 1000``)."""
    seconds, rest = divmod(int(micros), 1_000_000)
    return Timestamp(seconds=seconds, nanos=rest * 1000)
