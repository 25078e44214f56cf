"""Fuzzing the gRPC codec (DAQ and DevDB): any well-formed protobuf a peer sends maps cleanly.

Replies come from the network: whatever their fields hold (extreme timestamps, status codes,
odd data members, several samples of mixed kinds), the client turns them into Readings, never
into an unexpected exception.  Byte strings that are not protobuf are DecodeError, which the
grpc layer reports before any mapping runs.  ``--fuzz`` runs 10,000 inputs per target.
"""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf.message import DecodeError
from hypothesis import example, given
from hypothesis import strategies as st

from pacsys.types import Reading
from pacsys_grpc import codec
from pacsys_grpc._proto.common import device_pb2, status_pb2
from pacsys_grpc._proto.services import daq_pb2, devdb_pb2
from pacsys_grpc.codec import devdb as codec_devdb

NOW = datetime(2030, 1, 2, tzinfo=timezone.utc)
INT64 = st.integers(-(2**63), 2**63 - 1)
INT32 = st.integers(-(2**31), 2**31 - 1)
UINT32 = st.integers(0, 2**32 - 1)
DOUBLES = st.floats(allow_nan=True, allow_infinity=True)
TEXT = st.text(max_size=40)


@st.composite
def values(draw: st.DrawFn) -> device_pb2.Value:
    value = device_pb2.Value()
    kind = draw(
        st.sampled_from(
            [None, "scalar", "scalarArr", "raw", "text", "textArr", "ana", "dig", "status"]
        )
    )
    if kind == "scalar":
        value.scalar = draw(DOUBLES)
    elif kind == "scalarArr":
        value.scalarArr.value.extend(draw(st.lists(DOUBLES, max_size=8)))
    elif kind == "raw":
        value.raw = draw(st.binary(max_size=32))
    elif kind == "text":
        value.text = draw(TEXT)
    elif kind == "textArr":
        value.textArr.value.extend(draw(st.lists(TEXT, max_size=4)))
    elif kind == "ana":
        block = value.anaAlarm
        block.minimum, block.maximum = draw(DOUBLES), draw(DOUBLES)
        block.alarmEnable, block.abort = draw(st.booleans()), draw(st.booleans())
        block.triesNeeded, block.triesNow = draw(UINT32), draw(UINT32)
    elif kind == "dig":
        block = value.digAlarm
        block.nominal, block.mask = draw(INT32), draw(UINT32)
        block.alarmStatus, block.abortInhibit = draw(st.booleans()), draw(st.booleans())
    elif kind == "status":
        for key, item in draw(st.dictionaries(TEXT, TEXT, max_size=6)).items():
            value.basicStatus.value[key] = item
    return value


@st.composite
def samples(draw: st.DrawFn) -> daq_pb2.Reading:
    sample = daq_pb2.Reading()
    if draw(st.booleans()):
        sample.timestamp.seconds = draw(INT64)
        sample.timestamp.nanos = draw(INT32)
    if draw(st.booleans()):
        sample.data.CopyFrom(draw(values()))
    if draw(st.booleans()):
        sample.status.facility_code = draw(INT32)
        sample.status.status_code = draw(INT32)
        sample.status.message = draw(TEXT)
    return sample


@st.composite
def replies(draw: st.DrawFn) -> daq_pb2.ReadingReply:
    reply = daq_pb2.ReadingReply(index=draw(UINT32))
    kind = draw(st.sampled_from([None, "readings", "status"]))
    if kind == "readings":
        reply.readings.reading.extend(draw(st.lists(samples(), max_size=5)))
    elif kind == "status":
        reply.status.CopyFrom(
            status_pb2.Status(
                facility_code=draw(INT32), status_code=draw(INT32), message=draw(TEXT)
            )
        )
    return reply


def _check(readings: list[Reading | None]) -> None:
    for reading in readings:
        assert reading is None or isinstance(reading, Reading)
        if reading is not None:
            str(reading)  # printing a reading never fails either


def _far_future_pair() -> daq_pb2.ReadingReply:
    """Found by fuzzing: two samples whose microseconds overflow int64."""
    reply = daq_pb2.ReadingReply()
    for _ in range(2):
        sample = reply.readings.reading.add()
        sample.timestamp.seconds = 9_223_372_036_855
        sample.data.scalar = 0.0
    return reply


@given(replies())
@example(_far_future_pair())
def test_any_reply_maps_to_readings(reply: daq_pb2.ReadingReply) -> None:
    _check(codec.readings_from_reply("M:OUTTMP", reply, now=NOW))
    _check([codec.reading_from_oneshot_reply("M:OUTTMP", reply, now=NOW)])
    if reply.WhichOneof("value") == "readings":
        samples_ = reply.readings.reading
        _check([codec.timed_array_from_samples("M:X", samples_, now=NOW, allow_arrays=True)])


@given(st.binary(max_size=200))
def test_any_bytes_decode_and_map_or_are_decode_errors(data: bytes) -> None:
    try:
        reply = daq_pb2.ReadingReply.FromString(data)
    except DecodeError:
        return
    _check(codec.readings_from_reply("M:OUTTMP", reply, now=NOW))
    _check([codec.reading_from_oneshot_reply("M:OUTTMP", reply, now=NOW)])


@given(values())
def test_any_setting_value_decodes_or_is_empty(value: device_pb2.Value) -> None:
    try:
        codec.value_from_proto(value)
    except codec.EmptyValueError:
        assert value.WhichOneof("value") is None


@given(st.binary(max_size=300))
def test_any_devdb_reply_maps(data: bytes) -> None:
    for message, convert in (
        (devdb_pb2.DeviceInfo, codec_devdb.device_info_from_proto),
        (devdb_pb2.AlarmInfo, codec_devdb.alarm_info_from_proto),
        (devdb_pb2.DeviceAlarmText, codec_devdb.alarm_text_from_proto),
    ):
        try:
            decoded = message.FromString(data)
        except DecodeError:
            continue
        try:
            convert(decoded)
        except ValueError:
            pass  # the documented refusal of a malformed record


def test_timed_array_with_an_impossible_time_is_an_error_reading() -> None:
    reading = codec.reading_from_oneshot_reply("M:X", _far_future_pair(), now=NOW)
    assert reading is not None and not reading.ok and reading.value is None
    assert reading.message == "Sample 0 has a timestamp out of range (9223372036855 s)"


@given(st.lists(st.tuples(TEXT, values()), max_size=4))
def test_any_setting_list_decodes_or_is_refused(items: list[tuple[str, device_pb2.Value]]) -> None:
    """Server side: a SettingList gives (device, value) pairs, or EmptyValueError."""
    request = daq_pb2.SettingList(setting=[daq_pb2.Setting(device=d, value=v) for d, v in items])
    try:
        pairs = codec.settings_from_request(request)
    except codec.EmptyValueError:
        assert any(value.WhichOneof("value") is None for _, value in items)
        return
    assert [device for device, _ in pairs] == [device for device, _ in items]


@given(replies())
@example(_far_future_pair())
def test_any_decoded_reading_encodes_back(reply: daq_pb2.ReadingReply) -> None:
    """Server side: whatever the client side made of a reply, the proxy can send it on."""
    for reading in codec.readings_from_reply("M:X", reply, now=NOW):
        out = codec.reading_to_replies(3, reading)
        assert out and all(r.index == 3 for r in out)
        daq_pb2.ReadingReply.FromString(out[0].SerializeToString())
