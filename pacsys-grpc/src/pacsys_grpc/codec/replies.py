"""Server side: pacsys Readings -> ``ReadingReply`` messages (docs/protocols/grpc.md §7.4).

Also the loss notice a stream sends when it dropped readings for a slow client
(docs/protocols/grpc.md §7.2).
"""

from __future__ import annotations

from collections.abc import Iterable

from pacsys.types import Reading, ValueType
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.codec.statuses import (
    ERR_QUEFULL,
    ERR_RETRY,
    FACILITY_ACNET,
    NO_DATA_MESSAGE,
    status_to_proto,
)
from pacsys_grpc.codec.timed import timed_samples
from pacsys_grpc.codec.timestamps import epoch_parts
from pacsys_grpc.codec.values import fill_value

__all__ = ["LOGGER_CHUNK_SIZE", "loss_notice_replies", "loss_notice_text", "reading_to_replies"]

LOGGER_CHUNK_SIZE = 487
"""Most samples the server packs into one complete-history ``readings`` reply."""


def status_reply(index: int, facility: int, code: int, message: str | None) -> daq_pb2.ReadingReply:
    """A reply whose ``status`` member ends or flags slot ``index``."""
    return daq_pb2.ReadingReply(index=index, status=status_to_proto(facility, code, message))


def loss_notice_text(count: int) -> str:
    """The message of a loss notice: how many readings this stream lost."""
    return f"{count} reading(s) dropped: client too slow"


def loss_notice_replies(slots: Iterable[int], count: int) -> list[daq_pb2.ReadingReply]:
    """One status reply (1, -7 ACNET_QUEFULL) per slot: ``count`` readings were dropped."""
    text = loss_notice_text(count)
    return [status_reply(slot, FACILITY_ACNET, ERR_QUEFULL, text) for slot in slots]


def _fill_sample(sample: daq_pb2.Reading, reading: Reading) -> None:
    """One non-timed Reading into an empty sample: data, always a status, timestamp if any."""
    fill_value(sample.data, reading.value, reading.value_type, True)
    status = sample.status
    status.SetInParent()
    status.facility_code = reading.facility_code
    status.status_code = reading.error_code
    if reading.message:
        status.message = reading.message
    if reading.timestamp is not None:
        stamp = sample.timestamp
        stamp.SetInParent()
        stamp.seconds, stamp.nanos = epoch_parts(reading.timestamp)


def _chunks(samples: list[daq_pb2.Reading], size: int) -> Iterable[list[daq_pb2.Reading]]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def _readings_reply(index: int, samples: Iterable[daq_pb2.Reading]) -> daq_pb2.ReadingReply:
    reply = daq_pb2.ReadingReply(index=index)
    reply.readings.SetInParent()
    reply.readings.reading.extend(samples)
    return reply


def reading_to_replies(
    index: int, reading: Reading, *, complete_history: bool = False
) -> list[daq_pb2.ReadingReply]:
    """The ReadingReply messages carrying one Reading (docs/protocols/grpc.md §7.4).

    An unusable Reading becomes a status reply (error 0 is sent as 1/-1 "No data"); a
    timed array becomes one sample per element with the status on the first; anything
    else one sample whose status is always present.  ``complete_history`` (LOGGER slots
    of a one-shot request) splits the samples into chunks and appends an empty
    ``readings`` reply as terminator.  A value that cannot be encoded becomes a status
    reply 1/-1 "Cannot encode reading: ...".
    """
    if not reading.ok:
        if reading.error_code != 0:
            return [status_reply(index, reading.facility_code, reading.error_code, reading.message)]
        return [status_reply(index, FACILITY_ACNET, ERR_RETRY, reading.message or NO_DATA_MESSAGE)]
    try:
        if reading.value_type is ValueType.TIMED_SCALAR_ARRAY:
            samples = timed_samples(reading)
        elif complete_history:
            samples = [daq_pb2.Reading()]
            _fill_sample(samples[0], reading)
        else:  # the commonest reply: filled in place, no sample copied
            reply = daq_pb2.ReadingReply(index=index)
            _fill_sample(reply.readings.reading.add(), reading)
            return [reply]
    except (TypeError, ValueError, NotImplementedError, OverflowError) as exc:
        return [status_reply(index, FACILITY_ACNET, ERR_RETRY, f"Cannot encode reading: {exc}")]
    if not complete_history:
        return [_readings_reply(index, samples)]
    is_2d = bool(samples) and samples[0].data.WhichOneof("value") == "scalarArr"
    size = 1 if is_2d else LOGGER_CHUNK_SIZE
    replies = [_readings_reply(index, chunk) for chunk in _chunks(samples, size)]
    replies.append(_readings_reply(index, []))
    return replies
