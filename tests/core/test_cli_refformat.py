"""The pacsys 0.3.0 output rules the tools keep (docs/cli.md, "Compatibility"): pure functions."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from pacsys.cli._refformat import (
    json_value,
    parse_range,
    reading_line,
    ref_value,
    slice_value,
    write_result_line,
)
from pacsys.types import DeviceMeta, Reading, ValueType, WriteResult

WHEN = datetime(2026, 12, 7, 18, 42, 31, 552000, tzinfo=timezone.utc)


def _reading(drf: str, value: object, units: str | None = "DegF") -> Reading:
    return Reading(
        drf=drf,
        value_type=ValueType.SCALAR,
        value=value,  # type: ignore[arg-type]
        timestamp=WHEN,
        meta=DeviceMeta(1, drf.split(".", 1)[0].split("@", 1)[0], "d", units),
    )


def _error(drf: str) -> Reading:
    return Reading(drf=drf, facility_code=17, error_code=-26, message="DPM_NO_SUCH_DEVICE: gone")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("-1", -1),
        ("0:5", slice(0, 5)),
        ("-3:", slice(-3, None)),
        ("::256", slice(None, None, 256)),
        ("1:10:2", slice(1, 10, 2)),
    ],
)
def test_parse_range(text: str, expected: object) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["1:2:3:4", "a", "", "1:x", "::0"])
def test_parse_range_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid slice"):
        parse_range(text)


def test_slice_value_arrays_only() -> None:
    wave = np.arange(10.0)
    assert slice_value(wave, slice(0, 3)).tolist() == [0.0, 1.0, 2.0]
    assert slice_value(wave, -1).tolist() == [9.0]
    assert slice_value(wave, 99).tolist() == []
    assert slice_value(72.5, slice(0, 3)) == 72.5
    assert slice_value({"data": [1, 2, 3], "micros": [0]}, 1)["data"] == [2]


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (70.79921234, None, "70.7992"),
        (10.0, None, "10"),
        (123456789.0, None, "1.23457e+08"),
        (70.79921234, ".2f", "70.80"),
        (14.0, "x", "e"),  # an integral float becomes int for the spec
        (14.0, "d", "14"),
        (np.array([1.5, 2.25]), None, "1.5 2.25"),
        ([1.0, 2.0], "08.3f", "0001.000 0002.000"),
        ({"on": True, "ready": False}, None, "on=T ready=F"),
        ({"minimum": 0.0, "alarm_enable": True}, None, '{"minimum":0.0,"alarm_enable":true}'),
        (bytes(range(4)), None, "00010203"),
        ("Hello", ".2f", "Hello"),
        (True, None, "True"),
    ],
)
def test_ref_value(value: object, spec: str | None, expected: str) -> None:
    assert ref_value(value, spec) == expected


def test_ref_value_spec_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="Unknown format code 'x'"):
        ref_value(1.5, "x")


def test_json_value_bytes_base64_arrays_lists() -> None:
    assert json_value(bytes.fromhex("00112233")) == "ABEiMw=="
    assert json_value(np.array([1, 2])) == [1, 2]
    assert json_value({"a": np.float64(1.5)}) == {"a": 1.5}


def test_reading_lines_text_terse_json() -> None:
    good = _reading("M:OUTTMP", 70.79921234)
    assert reading_line(good, "text") == "M:OUTTMP  70.7992 DegF  2026-12-07 18:42:31.552"
    assert reading_line(good, "terse") == "70.7992"
    assert reading_line(good, "text", spec=".1f", stamp="0.000") == "M:OUTTMP  70.8 DegF  0.000"
    record = json.loads(reading_line(good, "json"))
    assert record == {
        "device": "M:OUTTMP",
        "ok": True,
        "value": 70.79921234,
        "units": "DegF",
        "timestamp": "2026-12-07T18:42:31.552000+00:00",
    }
    assert json.loads(reading_line(good, "json", stamp=1.5))["timestamp"] == 1.5
    text = _reading("Z:SIMTXT.DESCRIPTION", "hi", units=None)
    assert reading_line(text, "text") == "Z:SIMTXT  hi  2026-12-07 18:42:31.552"


def test_error_reading_lines() -> None:
    bad = _error("Z:NOSUCH")
    assert reading_line(bad, "text") == f"{'Z:NOSUCH':<28} [ERROR] DPM_NO_SUCH_DEVICE: gone"
    assert reading_line(bad, "terse") == "[ERROR] DPM_NO_SUCH_DEVICE: gone"
    assert json.loads(reading_line(bad, "json")) == {
        "device": "Z:NOSUCH",
        "ok": False,
        "error": "DPM_NO_SUCH_DEVICE: gone",
    }


def test_write_result_lines() -> None:
    ok = WriteResult(drf="Z:ACLTST.SETTING@N")
    assert write_result_line(ok, "text", False) == "Z:ACLTST ok"
    assert write_result_line(ok, "terse", False) == "ok"
    assert json.loads(write_result_line(ok, "json", False)) == {
        "device": "Z:ACLTST",
        "ok": True,
        "confirmed": True,
    }
    verified = WriteResult(drf="Z:ACLTST.SETTING@N", verified=True, readback=44.0, attempts=1)
    assert write_result_line(verified, "text", True) == "Z:ACLTST ok (verified, readback=44.0)"
    assert write_result_line(verified, "terse", True) == "ok (verified)"
    assert json.loads(write_result_line(verified, "json", True))["readback"] == 44.0
    unconfirmed = WriteResult(drf="Z:ACLTST", verified=False, readback=40.0, attempts=3)
    assert write_result_line(unconfirmed, "text", True) == (
        "Z:ACLTST ok (verify FAILED, readback=40.0)"
    )
    assert write_result_line(unconfirmed, "terse", True) == "VERIFY FAILED (readback: 40.0)"
    assert json.loads(write_result_line(unconfirmed, "json", True))["confirmed"] is False
    failed = WriteResult(drf="Z:ACLTST", facility_code=14, error_code=-58, message="too big")
    assert write_result_line(failed, "text", False) == "Z:ACLTST  FAILED: too big"
    assert write_result_line(failed, "terse", False) == "FAILED: too big"
    assert json.loads(write_result_line(failed, "json", False))["error"] == "too big"
