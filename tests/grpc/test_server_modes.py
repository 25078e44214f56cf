"""The threaded and aio supervised servers, the fast mapping paths and the client options."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import numpy as np
import pytest

from pacsys.testing import AsyncFakeBackend, FakeBackend
from pacsys.types import Reading, ValueType
from pacsys_grpc import codec
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.backend import CHANNEL_OPTIONS, FAST_CHANNEL_OPTIONS
from pacsys_grpc.devdb import DevDBClient
from pacsys_grpc.supervised import SupervisedServer

from .catalogue import ALARM, OUTTMP, TEXT, Catalogue


class RecordingFake(FakeBackend):
    """A FakeBackend that keeps every subscription handle it hands out."""

    def __init__(self) -> None:
        super().__init__()
        self.handles: list[Any] = []
        self.stopped = threading.Event()

    def _forget(self, handle: Any) -> None:  # the handle's on_stop hook
        super()._forget(handle)
        self.stopped.set()

    def _new_handle(self, drfs: list[str], callback: Any, on_error: Any) -> Any:
        # Recorded before FakeBackend registers it: a test that saw the subscription sees it.
        handle = super()._new_handle(drfs, callback, on_error)
        self.handles.append(handle)
        return handle


def _stream(port: int, drf: str) -> Any:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    call = channel.unary_stream(
        "/services.daq.DAQ/Read",
        request_serializer=daq_pb2.ReadingList.SerializeToString,
        response_deserializer=daq_pb2.ReadingReply.FromString,
    )(daq_pb2.ReadingList(drf=[drf]), timeout=30)
    return channel, call


# --- choosing the server ----------------------------------------------------------------


def test_server_mode_choice_and_validation(fake: FakeBackend) -> None:
    assert SupervisedServer(fake, port=0).server_mode == "threaded"
    assert SupervisedServer(fake, port=0, server_mode="aio").server_mode == "aio"
    assert "aio" in repr(SupervisedServer(fake, port=0, server_mode="aio"))
    backend = AsyncFakeBackend()
    try:
        assert SupervisedServer(backend, port=0).server_mode == "aio"
        with pytest.raises(ValueError, match="needs a sync Backend"):
            SupervisedServer(backend, port=0, server_mode="threaded")
    finally:
        backend.sync.close()
    with pytest.raises(ValueError, match="server_mode must be one of"):
        SupervisedServer(fake, port=0, server_mode="fast")
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="max_rpcs"):
            SupervisedServer(fake, port=0, max_rpcs=bad)


def test_threaded_server_refuses_rpcs_beyond_max_rpcs(fake: FakeBackend) -> None:
    with SupervisedServer(fake, port=0, host="127.0.0.1", max_rpcs=1) as server:
        channel, call = _stream(server.port, "M:OUTTMP@p,1000")
        try:
            assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
            other = grpc.insecure_channel(server.address)
            read = other.unary_stream("/services.daq.DAQ/Read")
            request = daq_pb2.ReadingList(drf=["M:OUTTMP@I"]).SerializeToString()
            with pytest.raises(grpc.RpcError) as caught:
                list(read(request, timeout=5))
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            other.close()
        finally:
            call.cancel()
            channel.close()


@pytest.mark.parametrize("mode", ["threaded", "aio"])
def test_client_cancel_stops_the_backend_subscription(mode: str) -> None:
    fake = RecordingFake()
    with SupervisedServer(fake, port=0, host="127.0.0.1", server_mode=mode) as server:
        channel, call = _stream(server.port, "G:AMANDA@p,1000")
        assert fake.wait_for_subscription("G:AMANDA@p,1000", timeout=5)
        fake.emit_reading("G:AMANDA@p,1000", 1.0)
        assert next(call).readings.reading[0].data.scalar == 1.0
        call.cancel()
        channel.close()
        assert fake.stopped.wait(5)  # the server stops the subscription on cancellation
        assert fake.handles[0].stopped
    fake.close()


@pytest.mark.parametrize("mode", ["threaded", "aio"])
def test_server_stop_stops_every_backend_subscription_before_returning(mode: str) -> None:
    """No wait after stop(): a restarted server must not find the old subscriptions alive."""
    fake = RecordingFake()
    drfs = ["G:AMANDA@p,1000", "M:OUTTMP@p,1000", "Z:ACLTST@p,1000"]
    server = SupervisedServer(fake, port=0, host="127.0.0.1", server_mode=mode).start()
    streams = [_stream(server.port, drf) for drf in drfs]
    try:
        for drf in drfs:
            assert fake.wait_for_subscription(drf, timeout=10)
        fake.emit_reading(drfs[0], 1.0)
        assert next(streams[0][1]).readings.reading[0].data.scalar == 1.0
        server.stop()
        assert len(fake.handles) == len(drfs)
        assert all(handle.stopped for handle in fake.handles)
    finally:
        server.stop()
        for channel, call in streams:
            call.cancel()
            channel.close()
        fake.close()


def test_live_subscriptions_stop_each_handle_once_and_late_ones_at_once() -> None:
    from pacsys_grpc.supervised.servicer import LiveSubscriptions

    class Handle:
        def __init__(self) -> None:
            self.stops = 0

        def stop(self) -> None:
            self.stops += 1

    live = LiveSubscriptions()
    released, left = Handle(), Handle()
    live.add(released)
    live.add(left)
    live.release(released)
    live.release(released)
    assert len(live) == 1
    live.close()
    live.release(left)  # the stream's own clean-up, after the server stop
    late = live.add(Handle())  # a subscribe that completed after the server stop
    assert (released.stops, left.stops, late.stops, len(live)) == (1, 1, 1, 0)


@pytest.mark.parametrize("mode", ["threaded", "aio"])
def test_flat_out_stream_arrives_complete_and_in_order(mode: str) -> None:
    fake = FakeBackend()
    count = 5000
    with SupervisedServer(fake, port=0, host="127.0.0.1", server_mode=mode) as server:
        channel, call = _stream(server.port, "Z:FLAT@p,1")
        try:
            assert fake.wait_for_subscription("Z:FLAT@p,1", timeout=5)
            for k in range(count):
                fake.emit_reading("Z:FLAT@p,1", float(k))
            values = []
            for reply in call:
                values.extend(sample.data.scalar for sample in reply.readings.reading)
                if len(values) == count:
                    break
            assert values == [float(k) for k in range(count)]
        finally:
            call.cancel()
            channel.close()
    fake.close()


@pytest.mark.parametrize("mode", ["threaded", "aio"])
def test_a_client_that_stops_reading_does_not_stall_another(mode: str) -> None:
    fake = FakeBackend()
    count = 8_000  # about 200 kB of replies: well past the stalled stream's HTTP/2 window
    with SupervisedServer(fake, port=0, host="127.0.0.1", server_mode=mode) as server:
        stalled_channel, stalled = _stream(server.port, "Z:FLAT@p,1")
        channel, call = _stream(server.port, "Z:FLAT@p,1")
        try:
            # ``stalled`` is never read: its HTTP/2 window fills and its server side blocks.
            assert fake.wait_for_subscription("Z:FLAT@p,1", timeout=5, count=2)
            for k in range(count):
                fake.emit_reading("Z:FLAT@p,1", float(k))
            values: list[float] = []
            for reply in call:
                values.extend(sample.data.scalar for sample in reply.readings.reading)
                if len(values) == count:
                    break
            assert values == [float(k) for k in range(count)]
        finally:
            for abandoned, its_channel in ((stalled, stalled_channel), (call, channel)):
                abandoned.cancel()
                its_channel.close()
    fake.close()


@pytest.mark.parametrize("mode", ["threaded", "aio"])
def test_devdb_served_on_either_server(mode: str) -> None:
    fake = FakeBackend()
    source = Catalogue()
    with (
        SupervisedServer(
            fake, port=0, host="127.0.0.1", metadata_source=source, server_mode=mode
        ) as server,
        DevDBClient("127.0.0.1", server.port, tls=False) as db,
    ):
        assert db.get_device_info(["M:OUTTMP"]) == {"M:OUTTMP": OUTTMP}
        assert db.get_alarm_info(["Z:ACLTST"]) == [ALARM]
        assert db.get_alarm_text([1234]) == [TEXT]
        channel = grpc.insecure_channel(server.address)
        plot = channel.unary_unary("/services.devdb.DevDB/getPlotConfiguration")
        with pytest.raises(grpc.RpcError) as caught:
            plot(b"", timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
        channel.close()
    fake.close()


# --- fast mapping paths match the plain construction -----------------------------------

STAMP = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "value_type", "timestamp", "message", "code"),
    [
        (72.5, ValueType.SCALAR, STAMP, None, 0),
        (3, ValueType.SCALAR, STAMP.replace(tzinfo=None), "warn", 5),
        (np.float32(1.5), ValueType.SCALAR, None, None, 0),
        (True, ValueType.SCALAR, STAMP, None, 0),
        ("text", ValueType.TEXT, STAMP, None, 0),
        ("", ValueType.TEXT, STAMP, None, 0),
        (b"\x01\x02", ValueType.RAW, STAMP, None, 0),
        (np.array([1.0, 2.0]), ValueType.SCALAR_ARRAY, STAMP, None, 0),
        ([], ValueType.TEXT_ARRAY, STAMP, None, 0),
        (["a", "b"], ValueType.TEXT_ARRAY, STAMP, None, 0),
        ({"on": True, "ready": False}, ValueType.BASIC_STATUS, STAMP, None, 0),
        ({"minimum": 1.0, "maximum": 2.0}, ValueType.ANALOG_ALARM, STAMP, None, 0),
        (0.0, ValueType.SCALAR, datetime(1970, 1, 1, tzinfo=timezone.utc), None, 0),
        (1.0, ValueType.SCALAR, STAMP.astimezone(timezone(timedelta(hours=-5))), None, 0),
    ],
)
def test_fast_reply_matches_plain_construction(
    value: Any, value_type: ValueType, timestamp: datetime | None, message: str | None, code: int
) -> None:
    reading = Reading(
        drf="Z:X",
        value=value,
        value_type=value_type,
        timestamp=timestamp,
        message=message,
        error_code=code,
        facility_code=1 if code else 0,
    )
    sample = daq_pb2.Reading(
        data=codec.value_to_proto(value, value_type=value_type, allow_dicts=True),
        status=codec.status_to_proto(reading.facility_code, code, message),
    )
    if timestamp is not None:
        sample.timestamp.CopyFrom(codec.timestamp_to_proto(timestamp))
    expected = daq_pb2.ReadingReply(index=3)
    expected.readings.reading.append(sample)
    (reply,) = codec.reading_to_replies(3, reading)
    assert reply.SerializeToString() == expected.SerializeToString()


def test_fast_reply_unencodable_value_is_a_status_reply() -> None:
    reading = Reading(drf="Z:X", value={"bogus": 1}, value_type=ValueType.ANALOG_ALARM)
    (reply,) = codec.reading_to_replies(0, reading)
    assert reply.WhichOneof("value") == "status"
    assert reply.status.message.startswith("Cannot encode reading: Unknown alarm keys")


def test_fast_decode_matches_every_status_and_data_case() -> None:
    now = datetime(2020, 1, 1, tzinfo=timezone.utc)
    sample = daq_pb2.Reading()
    assert codec.reading_from_proto("Z:X", sample, now=now).message == (codec.EMPTY_VALUE_MESSAGE)
    sample.status.status_code = 250  # -6 as an unsigned byte: error, data ignored
    sample.data.scalar = 1.0
    error = codec.reading_from_proto("Z:X", sample, now=now)
    assert (error.error_code, error.value, error.timestamp) == (-6, None, now)
    sample.status.status_code = 3
    sample.timestamp.seconds, sample.timestamp.nanos = 1, 500_000_000
    warning = codec.reading_from_proto("Z:X", sample, now=now)
    assert (warning.error_code, warning.value, warning.value_type) == (3, 1.0, ValueType.SCALAR)
    assert warning.timestamp == datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=timezone.utc)


def test_only_reads_the_server_ends_use_single_threaded_unary_stream() -> None:
    assert ("SingleThreadedUnaryStream", 1) in FAST_CHANNEL_OPTIONS
    assert ("SingleThreadedUnaryStream", 1) not in CHANNEL_OPTIONS


@pytest.mark.parametrize("drf", ["M:OUTTMP", "M:OUTTMP@p,100"])
def test_close_leaves_nothing(drf: str) -> None:
    """A read the server ends, one the client cancels, then a stream: close() frees all."""
    from pacsys.sim import SimBackend
    from pacsys.testing.resources import PROCESS_WIDE_THREADS, leaves_nothing
    from pacsys_grpc.backend import GRPCBackend

    def session(port: int) -> None:
        backend = GRPCBackend("127.0.0.1", port, timeout=5)
        assert backend.get(drf).ok
        with backend.subscribe(["M:OUTTMP@p,100"]) as handle:
            next(iter(handle.readings(timeout=5)))
        backend.close()

    with SimBackend() as sim, SupervisedServer(sim, port=0, host="127.0.0.1") as server:
        session(server.port)  # the server's own threads start on first use and stay
        for _ in range(3):
            # The server's worker pool may grow by a thread when it gets busier: the server's.
            with leaves_nothing(allow_threads=(*PROCESS_WIDE_THREADS, r"pacsys-supervised_\d+")):
                session(server.port)
