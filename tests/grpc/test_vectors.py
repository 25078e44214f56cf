"""Every entry of tests/vectors/grpc_vectors.json, plus the mapping rules around them.

Each message vector is checked three ways: the message built from its ``fields`` serializes
(deterministically) to exactly ``hex``; ``hex`` decodes back to exactly ``fields``; and,
where the vector gives a ``client_mapping`` or backend input, ``pacsys_grpc.codec``
produces exactly that.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pacsys.types import BasicControl, Reading, ValueType, WriteResult
from pacsys_grpc import codec, rpc_status
from pacsys_grpc._proto.common import device_pb2, status_pb2
from pacsys_grpc._proto.services import daq_pb2, devdb_pb2

NOW = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def _vectors_path() -> Path:
    return Path(__file__).resolve().parents[1] / "vectors" / "grpc_vectors.json"


@cache
def _vectors() -> dict[str, Any]:
    return json.loads(_vectors_path().read_text(encoding="utf-8"))


def _entries(section: str) -> list[Any]:
    return [pytest.param(e, id=e.get("name", str(i))) for i, e in enumerate(_vectors()[section])]


CLIENT_DRFS: list[str] = _vectors()["conventions"]["client_drfs_for_index"]


# --- message <-> "fields" helpers -------------------------------------------------------


_PROTO_FILES = (
    device_pb2.DESCRIPTOR,
    status_pb2.DESCRIPTOR,
    daq_pb2.DESCRIPTOR,
    devdb_pb2.DESCRIPTOR,
)


def _message_class(full_name: str) -> type[Message]:
    package, _, name = full_name.rpartition(".")
    (file,) = (f for f in _PROTO_FILES if f.package == package)
    return message_factory.GetMessageClass(file.message_types_by_name[name])


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _scalar_in(value: Any) -> Any:
    return bytes.fromhex(value["bytes_hex"]) if isinstance(value, dict) else value


def _fill(message: Message, fields: dict[str, Any]) -> Message:
    """Set exactly the given fields (vector convention) on ``message``."""
    descriptor = message.DESCRIPTOR
    for name, value in fields.items():
        field = descriptor.fields_by_name[name]
        target = getattr(message, name)
        if _is_map(field):
            target.update(value)
        elif field.is_repeated and field.message_type is not None:
            for item in value:
                _fill(target.add(), item)
        elif field.is_repeated:
            target.extend(_scalar_in(v) for v in value)
        elif field.message_type is not None:
            target.SetInParent()
            _fill(target, value)
        else:
            setattr(message, name, _scalar_in(value))
    return message


def _fields(message: Message) -> dict[str, Any]:
    """The present fields of ``message`` in the vector convention."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        if _is_map(field):
            out[field.name] = dict(value)
        elif field.is_repeated and field.message_type is not None:
            out[field.name] = [_fields(item) for item in value]
        elif field.is_repeated:
            out[field.name] = list(value)
        elif field.message_type is not None:
            out[field.name] = _fields(value)
        elif field.type == FieldDescriptor.TYPE_BYTES:
            out[field.name] = {"bytes_hex": value.hex()}
        else:
            out[field.name] = value
    return out


def _serialize(message: Message) -> str:
    return message.SerializeToString(deterministic=True).hex()


def _check_wire(full_name: str, fields: dict[str, Any], hex_: str) -> Message:
    cls = _message_class(full_name)
    built = _fill(cls(), fields)
    assert _serialize(built) == hex_
    decoded = cls.FromString(bytes.fromhex(hex_))
    assert _fields(decoded) == fields
    assert decoded == built
    assert _serialize(decoded) == hex_
    return decoded


# --- vector values -> library objects ---------------------------------------------------


def _value(raw: Any) -> Any:
    if isinstance(raw, dict):
        if "ndarray" in raw:
            return np.array(raw["ndarray"], dtype=raw["dtype"])
        if "bytes_hex" in raw:
            return bytes.fromhex(raw["bytes_hex"])
        return {key: _value(item) for key, item in raw.items()}
    return raw


def _reading(raw: dict[str, Any]) -> Reading:
    stamp = raw["timestamp"]
    return Reading(
        drf=raw["drf"],
        value_type=ValueType(raw["value_type"]) if raw["value_type"] else None,
        value=_value(raw["value"]),
        facility_code=raw["facility_code"],
        error_code=raw["error_code"],
        message=raw["message"],
        timestamp=NOW if stamp == "CLIENT_NOW_UTC" else datetime.fromisoformat(stamp),
    )


def _assert_reading(actual: Reading | None, raw: dict[str, Any]) -> None:
    assert actual is not None
    assert actual == _reading(raw)
    assert actual.ok is raw["ok"]


# --- daq --------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", _entries("daq"))
def test_daq_wire(vector: dict[str, Any]) -> None:
    _check_wire(vector["message"], vector["fields"], vector["hex"])


def _replies() -> list[Any]:
    return [
        pytest.param(v, id=v["name"])
        for v in _vectors()["daq"]
        if v["message"] == "services.daq.ReadingReply"
    ]


@pytest.mark.parametrize("vector", _replies())
def test_reading_reply_stream_mapping(vector: dict[str, Any]) -> None:
    reply = daq_pb2.ReadingReply.FromString(bytes.fromhex(vector["hex"]))
    drf = CLIENT_DRFS[reply.index]
    readings = codec.readings_from_reply(drf, reply, now=NOW)
    expected = vector.get("client_mapping", [])
    assert len(readings) == len(expected)
    for actual, raw in zip(readings, expected, strict=True):
        _assert_reading(actual, raw)


@pytest.mark.parametrize("vector", _replies())
def test_reading_reply_oneshot_mapping(vector: dict[str, Any]) -> None:
    reply = daq_pb2.ReadingReply.FromString(bytes.fromhex(vector["hex"]))
    drf = CLIENT_DRFS[reply.index]
    result = codec.reading_from_oneshot_reply(drf, reply, now=NOW)
    if "client_mapping_oneshot" in vector:
        _assert_reading(result, vector["client_mapping_oneshot"])
    elif vector.get("client_mapping"):
        (expected,) = vector["client_mapping"]
        _assert_reading(result, expected)
    else:
        assert result is None  # e.g. the empty terminator: the slot stays pending


SETTING_INPUTS: dict[str, list[Any]] = {
    "SettingList.single_scalar": [72.5],
    "SettingList.mixed": [5, [1, 2.5, 3], BasicControl.ON, "text value", b"\x00\x10", ["a", "b"]],
}
SETTING_DECODED: dict[str, list[tuple[Any, ValueType]]] = {
    "SettingList.single_scalar": [(72.5, ValueType.SCALAR)],
    "SettingList.mixed": [
        (5.0, ValueType.SCALAR),
        (np.array([1.0, 2.5, 3.0]), ValueType.SCALAR_ARRAY),
        (1.0, ValueType.SCALAR),
        ("text value", ValueType.TEXT),
        (b"\x00\x10", ValueType.RAW),
        (["a", "b"], ValueType.TEXT_ARRAY),
    ],
}


def _setting_lists() -> list[Any]:
    return [
        pytest.param(v, id=v["name"])
        for v in _vectors()["daq"]
        if v["message"] == "services.daq.SettingList"
    ]


@pytest.mark.parametrize("vector", _setting_lists())
def test_setting_list_from_python_values(vector: dict[str, Any]) -> None:
    drfs = [s["device"] for s in vector["fields"]["setting"]]
    values = SETTING_INPUTS[vector["name"]]
    request = daq_pb2.SettingList(
        setting=[codec.setting_to_proto(d, v) for d, v in zip(drfs, values, strict=True)]
    )
    assert _serialize(request) == vector["hex"]


@pytest.mark.parametrize("vector", _setting_lists())
def test_setting_list_decoded_by_server(vector: dict[str, Any]) -> None:
    request = daq_pb2.SettingList.FromString(bytes.fromhex(vector["hex"]))
    decoded = [codec.value_from_proto(s.value) for s in request.setting]
    expected = SETTING_DECODED[vector["name"]]
    assert [t for _, t in decoded] == [t for _, t in expected]
    for (actual, _), (wanted, _) in zip(decoded, expected, strict=True):
        if isinstance(wanted, np.ndarray):
            assert actual.dtype == np.float64
            assert np.array_equal(actual, wanted)
        else:
            assert actual == wanted and type(actual) is type(wanted)


def _setting_replies() -> list[Any]:
    return [
        pytest.param(v, id=v["name"])
        for v in _vectors()["daq"]
        if v["message"] == "services.daq.SettingReply"
    ]


@pytest.mark.parametrize("vector", _setting_replies())
def test_setting_reply_to_write_results(vector: dict[str, Any]) -> None:
    reply = daq_pb2.SettingReply.FromString(bytes.fromhex(vector["hex"]))
    statuses = vector["fields"]["status"]
    drfs = [f"Z:DEV{i}.SETTING@N" for i in range(len(statuses))]
    results = codec.write_results_from_reply(drfs, reply)
    assert [r.drf for r in results] == drfs
    for result, status in zip(results, statuses, strict=True):
        assert result.facility_code == status.get("facility_code", 0)
        assert result.error_code == status.get("status_code", 0)
        assert result.ok is (status.get("status_code", 0) == 0)
        if status.get("message"):
            assert result.message == status["message"]
        elif result.error_code == 0:
            assert result.message is None


@pytest.mark.parametrize("vector", _setting_replies())
def test_setting_reply_empty_messages_stay_none(vector: dict[str, Any]) -> None:
    """Spec 5.4.1: an empty wire message is None, even for an error (no local description)."""
    reply = daq_pb2.SettingReply.FromString(bytes.fromhex(vector["hex"]))
    statuses = vector["fields"]["status"]
    results = codec.write_results_from_reply(["X"] * len(statuses), reply)
    for result, status in zip(results, statuses, strict=True):
        if not status.get("message"):
            assert result.message is None


# --- supervised server ------------------------------------------------------------------


@pytest.mark.parametrize("vector", _entries("supervised_server_replies"))
def test_supervised_reading_to_replies(vector: dict[str, Any]) -> None:
    backend = _reading(vector["backend_reading"])
    assert backend.ok is vector["backend_reading"]["ok"]
    replies = codec.reading_to_replies(
        vector["index"], backend, complete_history=vector["complete_history"]
    )
    assert [_serialize(r) for r in replies] == [r["hex"] for r in vector["replies"]]
    for expected in vector["replies"]:
        _check_wire("services.daq.ReadingReply", expected["fields"], expected["hex"])


@pytest.mark.parametrize("vector", _entries("supervised_server_replies"))
def test_supervised_replies_read_back_by_client(vector: dict[str, Any]) -> None:
    """What the client makes of the proxy's replies carries the backend's value/status."""
    backend = _reading(vector["backend_reading"])
    replies = [daq_pb2.ReadingReply.FromString(bytes.fromhex(r["hex"])) for r in vector["replies"]]
    if vector["complete_history"]:
        assert not replies[-1].readings.reading  # terminator
        samples = [s for r in replies[:-1] for s in r.readings.reading]
        result = codec.timed_array_from_samples(backend.drf, samples, now=NOW, allow_arrays=True)
    else:
        (reply,) = replies
        result = codec.reading_from_oneshot_reply(backend.drf, reply, now=NOW)
    assert result is not None
    if backend.ok:
        assert result.value_type is backend.value_type
        assert result == Reading(
            drf=backend.drf,
            value_type=backend.value_type,
            value=backend.value,
            facility_code=backend.facility_code,
            error_code=backend.error_code,
            message=backend.message,
            timestamp=result.timestamp,
        )
        if backend.value_type is not ValueType.TIMED_SCALAR_ARRAY:
            assert result.timestamp == backend.timestamp
    elif backend.error_code != 0:
        assert (result.facility_code, result.error_code) == (
            backend.facility_code,
            backend.error_code,
        )
        assert result.message == backend.message and result.value is None
    else:
        assert (result.facility_code, result.error_code, result.message) == (1, -1, "No data")


@pytest.mark.parametrize("vector", _entries("supervised_write_status"))
def test_supervised_write_status(vector: dict[str, Any]) -> None:
    raw = vector["write_result"]
    result = WriteResult(
        raw["drf"],
        facility_code=raw["facility_code"],
        error_code=raw["error_code"],
        message=raw["message"],
    )
    status = codec.write_result_to_status(result)
    assert _serialize(status) == vector["status"]["hex"]
    _check_wire("common.status.Status", vector["status"]["fields"], vector["status"]["hex"])


# --- devdb ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", _entries("devdb"))
def test_devdb_wire(vector: dict[str, Any]) -> None:
    _check_wire(vector["message"], vector["fields"], vector["hex"])


# Dataclass field -> proto field, where the names differ (docs/protocols/grpc.md §6.3).
_RENAMES = {"mask": "mask_val", "match": "match_val"}


def _assert_direct(message: Message, expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        actual = getattr(message, _RENAMES.get(key, key))
        if isinstance(value, list):
            actual = list(actual)
        assert actual == value, key


def _assert_property(prop: Any, expected: dict[str, Any] | None) -> None:
    if expected is None:
        return
    for units in ("primary_units", "common_units"):
        if expected[units] is None:
            assert not prop.HasField(units)
        else:
            assert prop.HasField(units) and getattr(prop, units) == expected[units]
    _assert_direct(prop, {k: v for k, v in expected.items() if not k.endswith("_units")})


def _assert_device_info(info: Any, expected: dict[str, Any]) -> None:
    _assert_direct(info, {k: expected[k] for k in ("device_index", "description")})
    for name in ("reading", "setting"):
        assert info.HasField(name) is (expected[name] is not None)
        _assert_property(getattr(info, name), expected[name])
    assert info.HasField("control") is (expected["control"] is not None)
    for command, wanted in zip(info.control.cmds, expected["control"] or [], strict=True):
        _assert_direct(command, wanted)
    assert info.HasField("status") is (expected["status_bits"] is not None)
    assert (expected["status_bits"] is None) is (expected["ext_status_bits"] is None)
    for bit, wanted in zip(info.status.bits, expected["status_bits"] or [], strict=True):
        _assert_direct(bit, wanted)
    for bit, wanted in zip(info.status.ext_bits, expected["ext_status_bits"] or [], strict=True):
        _assert_direct(bit, wanted)


def _assert_alarm_info(info: Any, expected: dict[str, Any]) -> None:
    assert info.device_name == expected["device_name"]
    _assert_direct(info.alarm_block, expected["alarm_block"])
    analog = expected["analog_alarm_text_id"]
    assert info.HasField("device_analog_alarm") is (analog is not None)
    if analog is not None:
        assert info.device_analog_alarm.alarm_text_id == analog
    digital = info.device_digital_alarm
    assert info.HasField("device_digital_alarm") is (expected["digital_alarm_mask"] is not None)
    if info.HasField("device_digital_alarm"):
        assert (digital.condition, digital.mask, digital.alarm_text_id) == (
            expected["digital_alarm_condition"],
            expected["digital_alarm_mask"],
            expected["digital_alarm_text_id"],
        )


def _devdb_mapped() -> list[Any]:
    return [pytest.param(v, id=v["name"]) for v in _vectors()["devdb"] if "client_mapping" in v]


@pytest.mark.parametrize("vector", _devdb_mapped())
def test_devdb_client_mapping_is_carried_by_the_message(vector: dict[str, Any]) -> None:
    """The bytes hold the presence and values the mapping of docs/protocols/grpc.md §6.3 needs."""
    message = _message_class(vector["message"]).FromString(bytes.fromhex(vector["hex"]))
    expected = vector["client_mapping"]
    if vector["message"] == "services.devdb.DeviceInfoReply":
        entries = {entry.name: entry for entry in message.set}
        for name, wanted in expected.items():
            if name == "raises":
                failing = wanted.split("drf='")[1].split("'")[0]
                entry = entries[failing]
                if entry.WhichOneof("result") == "errMsg":
                    assert f"message='{entry.errMsg}'" in wanted
                else:  # a present but all-default device counts as unknown
                    assert entry.WhichOneof("result") == "device"
                    assert entry.device.ByteSize() == 0
            else:
                assert entries[name].WhichOneof("result") == "device"
                _assert_device_info(entries[name].device, wanted)
    elif vector["message"] == "services.devdb.AlarmInfoReply":
        assert len(message.alarm_info) == len(expected)
        for info, wanted in zip(message.alarm_info, expected, strict=True):
            _assert_alarm_info(info, wanted)
    else:
        assert vector["message"] == "services.devdb.DeviceAlarmTextList"
        assert len(message.device_alarm_text) == len(expected)
        for text, wanted in zip(message.device_alarm_text, expected, strict=True):
            _assert_direct(text, wanted)


# --- audit framing and JWT --------------------------------------------------------------

AUDIT_TAGS = {
    0: "services.daq.ReadingList",
    1: "services.daq.ReadingReply",
    2: "services.daq.SettingList",
    3: "services.daq.SettingReply",
}


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        result |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            return result, position
        shift += 7


@pytest.mark.parametrize("vector", _entries("audit_proto_framing"))
def test_audit_frame(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["framed_hex"])
    assert frame[0] == vector["tag"]
    assert AUDIT_TAGS[frame[0]] == vector["message"]
    length, start = _read_varint(frame, 1)
    payload = frame[start:]
    assert len(payload) == length
    assert start - 1 == (1 if length < 128 else 2)
    message = _message_class(vector["message"]).FromString(payload)
    assert message.SerializeToString(deterministic=True) == payload
    from pacsys_grpc.supervised.audit import frame as audit_frame
    from pacsys_grpc.supervised.audit import read_frames

    assert audit_frame(message) == frame
    ((tag, decoded),) = list(read_frames(frame))
    assert (tag, decoded) == (vector["tag"], message)
    with pytest.raises(ValueError):
        list(read_frames(frame[:-1]))


def test_jwt_metadata() -> None:
    jwt = _vectors()["jwt"]
    assert codec.bearer_metadata(jwt["token"]) == tuple(tuple(p) for p in jwt["metadata"])
    assert codec.bearer_metadata(None) == ()


def test_jwt_principal() -> None:
    auth = pytest.importorskip("pacsys.auth")
    jwt = _vectors()["jwt"]
    assert auth.JWTAuth(jwt["token"]).principal == jwt["principal"]


# --- mapping rules beyond the vectors ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "signed"), [(0, 0), (1, 1), (127, 127), (128, -128), (243, -13), (255, -1), (-6, -6)]
)
def test_normalize_status_code(raw: int, signed: int) -> None:
    assert codec.normalize_status_code(raw) == signed


def _sample(seconds: int = 1_700_000_000, nanos: int = 0, **fields: Any) -> daq_pb2.Reading:
    sample = daq_pb2.Reading(**fields)
    sample.timestamp.seconds, sample.timestamp.nanos = seconds, nanos
    return sample


def test_zero_timestamp_uses_client_clock() -> None:
    sample = daq_pb2.Reading(data=device_pb2.Value(scalar=1.0))
    sample.timestamp.SetInParent()
    assert codec.reading_from_proto("M:X", sample, now=NOW).timestamp == NOW


def test_timestamp_keeps_microseconds() -> None:
    sample = _sample(nanos=123_456_789, data=device_pb2.Value(scalar=1.0))
    stamp = codec.reading_from_proto("M:X", sample, now=NOW).timestamp
    assert stamp is not None and stamp.microsecond == 123_457 and stamp.tzinfo is timezone.utc


@pytest.mark.parametrize("seconds", [1 << 62, 253_402_300_800, -(1 << 62)])
def test_timestamp_no_datetime_can_hold_keeps_the_value(seconds: int) -> None:
    sample = _sample(seconds=seconds, data=device_pb2.Value(scalar=1.5))
    reading = codec.reading_from_proto("M:X", sample, now=NOW)
    assert (reading.value, reading.timestamp, reading.ok) == (1.5, None, True)
    assert codec.sample_time(sample) is None


def test_positive_status_without_data_is_not_ok() -> None:
    sample = _sample(status=status_pb2.Status(facility_code=17, status_code=1, message="pend"))
    reading = codec.reading_from_proto("M:X", sample, now=NOW)
    assert (reading.facility_code, reading.error_code, reading.message) == (17, 1, "pend")
    assert reading.value is None and not reading.ok


def test_reply_without_oneof_gives_nothing() -> None:
    reply = daq_pb2.ReadingReply(index=1)
    assert codec.readings_from_reply("M:X", reply, now=NOW) == []
    assert codec.reading_from_oneshot_reply("M:X", reply, now=NOW) is None


def _samples(*values: float, status: status_pb2.Status | None = None) -> list[daq_pb2.Reading]:
    out = [
        _sample(seconds=1_700_000_000 + k, data=device_pb2.Value(scalar=v))
        for k, v in enumerate(values)
    ]
    if status is not None:
        out[1].status.CopyFrom(status)
    return out


def test_aggregation_takes_first_warning() -> None:
    warn = status_pb2.Status(facility_code=17, status_code=2, message="late")
    result = codec.timed_array_from_samples("M:X", _samples(1, 2, 3, status=warn), now=NOW)
    assert (result.facility_code, result.error_code, result.message) == (17, 2, "late")
    assert result.ok and np.array_equal(result.value["data"], [1.0, 2.0, 3.0])
    assert result.value["micros"].dtype == np.int64


def test_aggregation_error_sample_wins() -> None:
    error = status_pb2.Status(facility_code=16, status_code=-13, message="bad")
    result = codec.timed_array_from_samples("M:X", _samples(1, 2, 3, status=error), now=NOW)
    assert (result.facility_code, result.error_code, result.message) == (16, -13, "bad")
    assert result.value is None
    assert result.timestamp == datetime.fromtimestamp(1_700_000_001, tz=timezone.utc)


def test_aggregation_rejects_non_numeric_sample() -> None:
    samples = _samples(1, 2)
    samples[1].data.text = "x"
    result = codec.timed_array_from_samples("M:X", samples, now=NOW)
    assert (result.facility_code, result.error_code, result.value) == (1, -1, None)
    assert "text" in (result.message or "")


def test_logger_array_chunks_need_equal_lengths() -> None:
    good = [_sample(data=device_pb2.Value(scalarArr={"value": [1, 2]})) for _ in range(2)]
    result = codec.timed_array_from_samples("M:X", good, now=NOW, allow_arrays=True)
    assert result.ok and result.value["data"].shape == (2, 2)
    ragged = [*good, _sample(data=device_pb2.Value(scalarArr={"value": [1]}))]
    failed = codec.timed_array_from_samples("M:X", ragged, now=NOW, allow_arrays=True)
    assert (failed.facility_code, failed.error_code) == (1, -1)
    assert not codec.timed_array_from_samples("M:X", good, now=NOW).ok


def test_empty_history_is_an_empty_timed_array() -> None:
    result = codec.timed_array_from_samples("M:X", [], now=NOW, allow_arrays=True)
    assert result.ok and result.timestamp == NOW
    assert result.value["data"].shape == (0,) and result.value["micros"].dtype == np.int64


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"minimum": 1.0}, NotImplementedError),
        (np.zeros((2, 2)), ValueError),
        (np.array(["a"]), ValueError),
        ([1, "a"], ValueError),
        (object(), TypeError),
        (1j, TypeError),
    ],
)
def test_unwritable_values(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        codec.value_to_proto(value)


def test_empty_list_is_a_present_scalar_array() -> None:
    assert _serialize(codec.value_to_proto([])) == "1200"
    assert _serialize(codec.value_to_proto(np.array([1, 2], dtype=np.int16))) == _serialize(
        codec.value_to_proto([1.0, 2.0])
    )


def test_alarm_dicts_round_trip_on_the_server_side() -> None:
    analog = {
        "minimum": -1.5,
        "maximum": 10.0,
        "alarm_enable": True,
        "alarm_status": False,
        "abort": True,
        "abort_inhibit": False,
        "tries_needed": 3,
        "tries_now": 1,
    }
    digital = {
        "nominal": 5,
        "mask": 255,
        "alarm_enable": True,
        "alarm_status": True,
        "abort": False,
        "abort_inhibit": True,
        "tries_needed": 2,
        "tries_now": 0,
    }
    for block, kind in ((analog, ValueType.ANALOG_ALARM), (digital, ValueType.DIGITAL_ALARM)):
        proto = codec.value_to_proto(block, allow_dicts=True)
        assert codec.value_from_proto(proto) == (block, kind)
    with pytest.raises(ValueError):
        codec.value_to_proto({"bogus": 1}, allow_dicts=True)


def test_unencodable_reading_becomes_status_reply() -> None:
    reading = Reading("M:X", value_type=ValueType.SCALAR, value=object(), timestamp=NOW)  # type: ignore[arg-type]
    (reply,) = codec.reading_to_replies(4, reading)
    assert reply.index == 4 and reply.WhichOneof("value") == "status"
    assert (reply.status.facility_code, reply.status.status_code) == (1, -1)
    assert reply.status.message.startswith("Cannot encode reading: ")


def test_complete_history_is_chunked() -> None:
    count = codec.LOGGER_CHUNK_SIZE + 3
    value = {
        "data": np.arange(count, dtype=np.float64),
        "micros": np.arange(count, dtype=np.int64) * 1000 + 1_700_000_000_000_000,
    }
    reading = Reading("M:X<-LOGGER:1:2", value_type=ValueType.TIMED_SCALAR_ARRAY, value=value)
    replies = codec.reading_to_replies(2, reading, complete_history=True)
    assert [len(r.readings.reading) for r in replies] == [codec.LOGGER_CHUNK_SIZE, 3, 0]
    assert all(r.index == 2 and r.WhichOneof("value") == "readings" for r in replies)
    samples = [s for r in replies for s in r.readings.reading]
    assert samples[0].HasField("status") and not any(s.HasField("status") for s in samples[1:])
    back = codec.timed_array_from_samples("M:X", samples, now=NOW, allow_arrays=True)
    assert back.value is not None
    assert np.array_equal(back.value["data"], value["data"])
    assert np.array_equal(back.value["micros"], value["micros"])


def test_naive_timestamp_is_taken_as_utc() -> None:
    naive = datetime(2023, 11, 14, 22, 13, 20, 123456)
    stamp = codec.timestamp_to_proto(naive)
    assert (stamp.seconds, stamp.nanos) == (1_700_000_000, 123_456_000)
    aware = naive.replace(tzinfo=timezone(timedelta(hours=-6))) + timedelta(hours=-6)
    assert codec.timestamp_to_proto(aware) == stamp


def test_missing_write_status() -> None:
    results = codec.write_results_from_reply(["A", "B"], daq_pb2.SettingReply(status=[{}]))
    assert results[0].ok
    assert (results[1].facility_code, results[1].error_code) == (1, -1)
    assert results[1].message == codec.NO_STATUS_MESSAGE


def test_missing_reply_reading() -> None:
    reading = codec.missing_reply_reading("M:X", now=NOW)
    assert (reading.facility_code, reading.error_code, reading.message) == (
        1,
        -1,
        "No response received",
    )


@pytest.mark.parametrize("code", list(grpc.StatusCode))
def test_rpc_status_rules(code: grpc.StatusCode) -> None:
    expected = -6 if code is grpc.StatusCode.DEADLINE_EXCEEDED else -1
    assert rpc_status.rpc_error_code(code) == expected
    retryable = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert rpc_status.is_retryable_stream_status(code) is retryable
    reading = rpc_status.rpc_failure_reading("M:X", "h:1", code, "boom", now=NOW)
    assert (reading.facility_code, reading.error_code, reading.timestamp) == (1, expected, NOW)
    assert reading.message == f"gRPC error (h:1): {code.name}: boom"
    result = rpc_status.rpc_failure_write_result("M:X.SETTING@N", "h:1", code, "boom")
    assert (result.facility_code, result.error_code, result.message) == (
        1,
        expected,
        reading.message,
    )


def test_stream_error_message() -> None:
    text = rpc_status.stream_error_message("h:1", grpc.StatusCode.INTERNAL, "x", ["A", "B"])
    assert text == "gRPC stream error (h:1): INTERNAL: x (devices: A, B)"


def test_exception_to_rpc_status() -> None:
    errors = pytest.importorskip("pacsys.errors")
    assert rpc_status.exception_to_rpc_status(ValueError("v")) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "v",
    )
    assert rpc_status.exception_to_rpc_status(NotImplementedError()) == (
        grpc.StatusCode.UNIMPLEMENTED,
        "Backend does not support this operation",
    )
    assert rpc_status.exception_to_rpc_status(errors.AuthenticationError("no")) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "no",
    )
    assert rpc_status.exception_to_rpc_status(RuntimeError("r")) == (
        grpc.StatusCode.INTERNAL,
        "Backend error: r",
    )


_finite = st.floats(allow_nan=False, allow_infinity=False)
_stamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)
_values = st.one_of(
    st.tuples(_finite, st.just(ValueType.SCALAR)),
    st.tuples(st.text(), st.just(ValueType.TEXT)),
    st.tuples(st.binary(), st.just(ValueType.RAW)),
    st.tuples(st.lists(st.text(), min_size=1), st.just(ValueType.TEXT_ARRAY)),
    st.tuples(
        st.lists(_finite).map(lambda v: np.array(v, dtype=np.float64)),
        st.just(ValueType.SCALAR_ARRAY),
    ),
)


@settings(max_examples=200, deadline=None)
@given(value=_values, stamp=_stamps, code=st.integers(0, 127), facility=st.integers(0, 255))
def test_server_reply_read_back_by_client(
    value: tuple[Any, ValueType], stamp: datetime, code: int, facility: int
) -> None:
    data, value_type = value
    message = "warn" if code else None
    backend = Reading(
        "M:X",
        value_type=value_type,
        value=data,
        facility_code=facility,
        error_code=code,
        message=message,
        timestamp=stamp,
    )
    (reply,) = codec.reading_to_replies(0, backend)
    wire = daq_pb2.ReadingReply.FromString(reply.SerializeToString())
    (client,) = codec.readings_from_reply("M:X", wire, now=NOW)
    assert client.value_type is value_type
    assert (client.facility_code, client.error_code, client.message) == (facility, code, message)
    assert client.timestamp is not None
    assert abs(client.timestamp - stamp) <= timedelta(microseconds=1)
    if isinstance(data, float):
        assert client.value == data or (math.isnan(data) and math.isnan(client.value))
    else:
        assert client == Reading(
            "M:X",
            value_type=value_type,
            value=data,
            facility_code=facility,
            error_code=code,
            message=message,
            timestamp=client.timestamp,
        )
