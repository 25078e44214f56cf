"""Mapping between DMQ messages and library values, both directions."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.types import BasicControl, Reading, ValueType
from pacsys_dmq.codec import (
    AnalogAlarm,
    AnalogAlarmArraySample,
    AnalogAlarmSample,
    BasicControlSample,
    BasicStatus,
    BasicStatusArraySample,
    BasicStatusSample,
    BinarySample,
    BooleanArraySample,
    BooleanSample,
    DigitalAlarm,
    DigitalAlarmSample,
    DoubleArraySample,
    DoubleSample,
    ErrorSample,
    IntegerArraySample,
    IntegerSample,
    LongArraySample,
    LongSample,
    Message,
    OpenListReply,
    ServiceDiscoveryReply,
    ShortArraySample,
    ShortSample,
    StringArraySample,
    StringSample,
    WireControl,
    encode_message,
    is_pending,
    reading_to_reply,
    reply_to_reading,
    setting_to_value,
    value_to_setting,
)

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTORS = {v["name"]: v for v in json.loads((VECTORS_DIR / "dmq_vectors.json").read_text())}
ACNET_CODES = json.loads((VECTORS_DIR / "acnet_errors.json").read_text())["codes"]

T_MS = 1704067200000
T_UTC = datetime(2024, 1, 1, tzinfo=timezone.utc)
DRF = "M:OUTTMP.READING@I"
NO_FLAGS = (False, False, False, False)  # alarm_enable, alarm_status, abort, abort_inhibit


# --- reply -> Reading ---------------------------------------------------------------------


def test_double_sample_reading() -> None:
    reading = reply_to_reading(DoubleSample(72.5, T_MS, ref_id=1), DRF)
    assert reading == Reading(
        drf=DRF, value_type=ValueType.SCALAR, value=72.5, timestamp=T_UTC, cycle=0
    )
    assert reading.ok


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        (ShortSample(-5, T_MS), -5),
        (IntegerSample(70000, T_MS), 70000),
        (LongSample(1 << 40, T_MS), 1 << 40),
        (BooleanSample(True, T_MS), True),
        (BasicControlSample(WireControl.ON, T_MS), 13987),
    ],
)
def test_scalar_replies(reply: Message, value: Any) -> None:
    reading = reply_to_reading(reply, DRF)
    assert reading.value_type is ValueType.SCALAR
    assert reading.value == value
    assert type(reading.value) is type(value)


@pytest.mark.parametrize(
    ("reply", "dtype"),
    [
        (DoubleArraySample([1.0, 2.5], T_MS), np.float64),
        (ShortArraySample([1, -2], T_MS), np.int16),
        (IntegerArraySample([1, 1 << 20], T_MS), np.int32),
        (LongArraySample([1, 1 << 40], T_MS), np.int64),
        (BooleanArraySample([True, False], T_MS), np.bool_),
    ],
)
def test_array_replies(reply: Any, dtype: type) -> None:
    reading = reply_to_reading(reply, DRF)
    assert reading.value_type is ValueType.SCALAR_ARRAY
    assert isinstance(reading.value, np.ndarray)
    assert reading.value.dtype == np.dtype(dtype)
    assert reading.value.tolist() == list(reply.value)


def test_empty_array_reply() -> None:
    reading = reply_to_reading(DoubleArraySample([], T_MS), DRF)
    assert reading.value.shape == (0,)  # type: ignore[union-attr]


def test_text_raw_and_struct_replies() -> None:
    assert reply_to_reading(StringSample("\u00b5A", T_MS), DRF).value == "\u00b5A"
    text_array = reply_to_reading(StringArraySample(["a", ""], T_MS), DRF)
    assert (text_array.value_type, text_array.value) == (ValueType.TEXT_ARRAY, ["a", ""])
    raw = reply_to_reading(BinarySample(b"\x9f\x2c", T_MS), DRF)
    assert (raw.value_type, raw.value) == (ValueType.RAW, b"\x9f\x2c")
    status = reply_to_reading(BasicStatusSample(BasicStatus(on=False, remote=True), T_MS), DRF)
    assert (status.value_type, status.value) == (
        ValueType.BASIC_STATUS,
        {"on": False, "remote": True},
    )
    analog = AnalogAlarm(-1.0, 1.0, True, False, False, True, 3, 0)
    reading = reply_to_reading(AnalogAlarmSample(analog, T_MS), DRF)
    assert reading.value_type is ValueType.ANALOG_ALARM
    assert reading.value == {
        "minimum": -1.0,
        "maximum": 1.0,
        "alarm_enable": True,
        "alarm_status": False,
        "abort": False,
        "abort_inhibit": True,
        "tries_needed": 3,
        "tries_now": 0,
    }
    digital = DigitalAlarm(255, 15, False, True, True, False, 1, 1)
    reading = reply_to_reading(DigitalAlarmSample(digital, T_MS), DRF)
    assert reading.value_type is ValueType.DIGITAL_ALARM
    assert list(reading.value) == [  # type: ignore[arg-type]
        "nominal",
        "mask",
        "alarm_enable",
        "alarm_status",
        "abort",
        "abort_inhibit",
        "tries_needed",
        "tries_now",
    ]


def test_timestamp_and_cycle() -> None:
    assert reply_to_reading(DoubleSample(1.0, 0), DRF).timestamp is None
    assert reply_to_reading(DoubleSample(1.0, (1 << 63) - 1), DRF).timestamp is None
    reading = reply_to_reading(DoubleSample(1.0, T_MS, cycle_time=T_MS - 500), DRF)
    assert (reading.timestamp, reading.cycle) == (T_UTC, T_MS - 500)


def test_error_sample_with_server_message() -> None:
    reply = ErrorSample(16, -13, T_MS, message="DBM_NOPROP", ref_id=1)
    reading = reply_to_reading(reply, DRF)
    assert reading == Reading(
        drf=DRF, facility_code=16, error_code=-13, message="DBM_NOPROP", timestamp=T_UTC, cycle=0
    )
    assert reading.is_error and not reading.ok


@pytest.mark.parametrize("message", [None, ""])
def test_error_sample_without_message_has_none(message: str | None) -> None:
    """Spec 0.3.0: ``message = message or None`` (no locally generated text)."""
    reading = reply_to_reading(ErrorSample(72, -99, T_MS, message=message), DRF)
    assert (reading.facility_code, reading.error_code) == (72, -99)
    assert reading.message is None


@pytest.mark.parametrize(
    ("reply", "name"),
    [
        (BasicStatusArraySample([BasicStatus()], T_MS), "BasicStatusArraySample_reply"),
        (AnalogAlarmArraySample([], T_MS), "AnalogAlarmArraySample_reply"),
        (ServiceDiscoveryReply(3), "ServiceDiscovery_reply"),
        (OpenListReply(7), "OpenList_reply"),
    ],
)
def test_unknown_reply_types_become_error_readings(reply: Message, name: str) -> None:
    reading = reply_to_reading(reply, DRF)
    assert (reading.facility_code, reading.error_code) == (1, -1)
    assert reading.message == f"Unknown reply type: {name}"
    assert reading.value is None


def test_is_pending() -> None:
    assert is_pending(ErrorSample(72, 1, 0))
    assert not is_pending(ErrorSample(72, 0, 0))
    assert not is_pending(ErrorSample(17, 1, 0))
    assert not is_pending(DoubleSample(1.0, 0))


# --- value -> SETTING body ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "vector"),
    [
        (True, "integer_sample_write_body_bool_true"),
        (["hello", "world"], "string_array_sample_write_body"),
        (
            {"minimum": 1.5, "maximum": 99.0, "alarm_enable": True, "tries_needed": 3},
            "analog_alarm_sample_write_body",
        ),
        (BasicControl.LOCAL, "double_sample_control_local"),
        (BasicControl.RESET, "basic_control_sample_reset"),
        (BasicControl.ON, "basic_control_sample_on"),
        (BasicControl.OFF, "basic_control_sample_off"),
        (BasicControl.POSITIVE, "basic_control_sample_positive"),
        (BasicControl.NEGATIVE, "basic_control_sample_negative"),
        (BasicControl.RAMP, "basic_control_sample_ramp"),
        (BasicControl.DC, "basic_control_sample_dc"),
        (72.5, "double_sample_ref_id"),
        (np.float64(72.5), "double_sample_ref_id"),
        (np.bool_(True), "integer_sample_write_body_bool_true"),
        (np.array(["hello", "world"]), "string_array_sample_write_body"),
        (np.int32(1), "integer_sample_write_body_bool_true"),
    ],
)
def test_setting_bodies_match_vectors(value: Any, vector: str) -> None:
    body = encode_message(value_to_setting(value, time_ms=T_MS))
    assert body.hex() == VECTORS[vector]["hex"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (BasicControl.REMOTE, DoubleSample(8.0, T_MS, ref_id=1)),
        (BasicControl.TRIP, DoubleSample(9.0, T_MS, ref_id=1)),
        (False, IntegerSample(0, T_MS, ref_id=1)),
        (-(1 << 31), IntegerSample(-(1 << 31), T_MS, ref_id=1)),
        (np.int64(5), IntegerSample(5, T_MS, ref_id=1)),
        (np.float32(1.5), DoubleSample(1.5, T_MS, ref_id=1)),
        (np.array(2.5), DoubleSample(2.5, T_MS, ref_id=1)),
        ("caf\u00e9", StringSample("caf\u00e9", T_MS, ref_id=1)),
        ([], DoubleArraySample([], T_MS, ref_id=1)),
        ([1, 2.5, True], DoubleArraySample([1.0, 2.5, 1.0], T_MS, ref_id=1)),
        ((1, 2), DoubleArraySample([1.0, 2.0], T_MS, ref_id=1)),
        (np.arange(3, dtype=np.int16), DoubleArraySample([0.0, 1.0, 2.0], T_MS, ref_id=1)),
        (
            {"nominal": 3, "mask": 7},
            DigitalAlarmSample(DigitalAlarm(3, 7, *NO_FLAGS, 0, 0), T_MS, ref_id=1),
        ),
        (
            {"maximum": 5},
            AnalogAlarmSample(AnalogAlarm(0.0, 5.0, *NO_FLAGS, 0, 0), T_MS, ref_id=1),
        ),
    ],
)
def test_value_to_setting(value: Any, expected: Message) -> None:
    setting = value_to_setting(value, time_ms=T_MS)
    assert type(setting) is type(expected)
    assert setting == expected


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (b"\x01", TypeError, "bytes"),
        (bytearray(b"\x01"), TypeError, "bytes"),
        (1 << 31, ValueError, "32-bit"),
        (-(1 << 31) - 1, ValueError, "32-bit"),
        (np.uint64(1 << 63), ValueError, "32-bit"),
        (["a", 1], TypeError, "mix"),
        ([[1.0, 2.0]], TypeError, "1-D"),
        (np.zeros((2, 2)), TypeError, "1-D"),
        (["x", "\u0100"], ValueError, "ISO-8859-1"),
        ("\u20ac", ValueError, "ISO-8859-1"),
        (object(), TypeError, "Unsupported value type for DMQ write: object"),
        (None, TypeError, "Unsupported value type for DMQ write: NoneType"),
        (1 + 2j, TypeError, "Unsupported value type"),
        ({"minimum": 1.0, "abort": True}, ValueError, "read-only"),
        ({"minimum": 1.0, "bogus": 1}, ValueError, "Unknown"),
        ({"minimum": 1.0, "mask": 1}, ValueError, "mix"),
        ({"alarm_enable": True}, ValueError, "at least one"),
        ({"nominal": 1 << 40}, ValueError, "32-bit"),
    ],
)
def test_value_to_setting_rejects(value: Any, error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        value_to_setting(value, time_ms=T_MS)


# --- server side: SETTING body -> value, Reading -> reply ---------------------------------


@pytest.mark.parametrize(
    "value",
    [
        *list(BasicControl),
        5,
        -1.25,
        "text",
        ["a", "b"],
        {
            "minimum": 1.0,
            "maximum": 2.0,
            "alarm_enable": True,
            "abort_inhibit": False,
            "tries_needed": 2,
        },
        {"nominal": 1, "mask": 3, "alarm_enable": False, "abort_inhibit": True, "tries_needed": 0},
    ],
)
def test_setting_to_value_inverts_value_to_setting(value: Any) -> None:
    recovered = setting_to_value(value_to_setting(value, time_ms=T_MS))
    if isinstance(value, BasicControl) and value > BasicControl.DC:
        assert recovered == float(value)
    else:
        assert recovered == value
        assert type(recovered) is type(value)


def test_setting_to_value_arrays_and_errors() -> None:
    array = setting_to_value(value_to_setting([1, 2], time_ms=T_MS))
    assert isinstance(array, np.ndarray)
    assert array.tolist() == [1.0, 2.0]
    assert setting_to_value(BinarySample(b"\x01", 0)) == b"\x01"
    with pytest.raises(TypeError, match="ErrorSample"):
        setting_to_value(ErrorSample(72, 1, 0))
    with pytest.raises(TypeError, match="OpenList"):
        setting_to_value(OpenListReply(1))


@pytest.mark.parametrize(
    "reading",
    [
        Reading(drf=DRF, value_type=ValueType.SCALAR, value=72.5, timestamp=T_UTC, cycle=0),
        Reading(drf=DRF, value_type=ValueType.SCALAR, value=7, timestamp=T_UTC, cycle=0),
        Reading(drf=DRF, value_type=ValueType.SCALAR, value=1 << 40, timestamp=T_UTC, cycle=0),
        Reading(drf=DRF, value_type=ValueType.SCALAR, value=False, timestamp=T_UTC, cycle=0),
        Reading(
            drf=DRF,
            value_type=ValueType.SCALAR_ARRAY,
            value=np.array([1.5, 2.0]),
            timestamp=T_UTC,
            cycle=12,
        ),
        Reading(
            drf=DRF,
            value_type=ValueType.SCALAR_ARRAY,
            value=np.array([1, -2], dtype=np.int32),
            timestamp=T_UTC,
            cycle=0,
        ),
        Reading(drf=DRF, value_type=ValueType.TEXT, value="hi", timestamp=T_UTC, cycle=0),
        Reading(
            drf=DRF, value_type=ValueType.TEXT_ARRAY, value=["a", "b"], timestamp=T_UTC, cycle=0
        ),
        Reading(drf=DRF, value_type=ValueType.RAW, value=b"\x00\xff", timestamp=T_UTC, cycle=0),
        Reading(
            drf=DRF,
            value_type=ValueType.BASIC_STATUS,
            value={"on": True, "ramp": False},
            timestamp=T_UTC,
            cycle=0,
        ),
        Reading(
            drf=DRF,
            value_type=ValueType.ANALOG_ALARM,
            value={
                "minimum": 0.5,
                "maximum": 1.5,
                "alarm_enable": True,
                "alarm_status": False,
                "abort": False,
                "abort_inhibit": False,
                "tries_needed": 1,
                "tries_now": 0,
            },
            timestamp=T_UTC,
            cycle=0,
        ),
        Reading(
            drf=DRF,
            facility_code=16,
            error_code=-13,
            message="DBM_NOPROP",
            timestamp=T_UTC,
            cycle=0,
        ),
    ],
)
def test_reading_round_trips_through_reply(reading: Reading) -> None:
    reply = reading_to_reply(reading, ref_id=3, time_ms=0)
    assert reply.ref_id == 3
    assert reply_to_reading(reply, DRF) == reading


def test_reading_to_reply_details() -> None:
    reading = Reading(drf=DRF, value_type=ValueType.SCALAR, value=1.0)
    reply = reading_to_reply(reading, ref_id=40000, time_ms=T_MS)
    assert reply == DoubleSample(1.0, T_MS)
    error = reading_to_reply(Reading(drf=DRF, facility_code=1, error_code=-6), ref_id=1, time_ms=5)
    assert error == ErrorSample(1, -6, 5, ref_id=1)
    unicode = Reading(drf=DRF, value_type=ValueType.TEXT, value="\u20ac1")
    assert reading_to_reply(unicode, ref_id=1, time_ms=0).value == "?1"  # type: ignore[attr-defined]
