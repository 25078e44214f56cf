"""The drivers' view of the codec (:mod:`pacsys_grpc.wire`): the wall clock where no time came."""

from __future__ import annotations

from datetime import datetime, timezone

import grpc

from pacsys_grpc import codec, rpc_status, wire
from pacsys_grpc._proto.common import status_pb2
from pacsys_grpc._proto.services import daq_pb2

NOW = datetime(2031, 5, 6, tzinfo=timezone.utc)


def _status_reply() -> daq_pb2.ReadingReply:
    return daq_pb2.ReadingReply(status=status_pb2.Status(facility_code=1, status_code=-7))


def test_clocked_decoders_stamp_with_the_wall_clock() -> None:
    before = datetime.now(timezone.utc)
    (streamed,) = wire.readings_from_reply("M:X", _status_reply())
    oneshot = wire.reading_from_oneshot_reply("M:X", _status_reply())
    missing = wire.missing_reply_reading("M:X")
    failed = wire.rpc_failure_reading("M:X", "h:1", grpc.StatusCode.UNAVAILABLE, "gone")
    after = datetime.now(timezone.utc)
    for reading in (streamed, oneshot, missing, failed):
        assert reading is not None and reading.timestamp is not None
        assert before <= reading.timestamp <= after


def test_clocked_decoders_take_an_explicit_now() -> None:
    (reading,) = wire.readings_from_reply("M:X", _status_reply(), now=NOW)
    assert reading == codec.readings_from_reply("M:X", _status_reply(), now=NOW)[0]
    assert wire.timed_array_from_samples("M:X", [], now=NOW).timestamp == NOW


def test_wire_offers_every_codec_and_status_name() -> None:
    for name in (*codec.__all__, *rpc_status.__all__):
        assert hasattr(wire, name), name


def test_an_injected_clock_is_read_only_for_a_reply_without_time() -> None:
    calls: list[int] = []

    def clock() -> datetime:
        calls.append(1)
        return NOW

    timed = daq_pb2.ReadingReply()
    sample = timed.readings.reading.add(data={"scalar": 1.0})
    sample.timestamp.seconds = 1_700_000_000
    (reading,) = codec.readings_from_reply("M:X", timed, now=clock)
    assert calls == [] and reading.timestamp != NOW
    untimed = daq_pb2.ReadingReply()
    untimed.readings.reading.add(data={"scalar": 1.0})
    (reading,) = codec.readings_from_reply("M:X", untimed, now=clock)
    assert calls == [1] and reading.timestamp == NOW
