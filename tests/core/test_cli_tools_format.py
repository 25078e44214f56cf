"""Pure helpers of the ac* tools: value/status formatting, tables, JSON/CSV, acput parsing."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import numpy as np
import pytest

from pacsys.acnet.status import lookup_name
from pacsys.cli._format import (
    device_error,
    format_scalar,
    format_timestamp,
    format_value,
    jsonable,
    progress_text,
    reading_record,
    render_csv,
    render_json,
    render_table,
    short_error,
    status_name,
    status_text,
    table_row,
)
from pacsys.cli._values import CONTROL_WORDS, parse_number, parse_put_value, parse_word
from pacsys.drf3 import DRF_PROPERTY
from pacsys.types import BasicControl, DeviceMeta, Reading, ValueType

# --- statuses ------------------------------------------------------------------------------


def test_status_name_ok_named_and_unnamed() -> None:
    code = lookup_name("DPM_NO_SUCH_DEVICE")
    assert status_name(0, 0) == "OK"
    assert status_name(code.facility, code.error) == "DPM_NO_SUCH_DEVICE"
    assert status_name(99, -7) == "[99 -7]"


def test_status_text_adds_name_once() -> None:
    code = lookup_name("DPM_NO_SUCH_DEVICE")
    assert status_text(code.facility, code.error, "gone") == "DPM_NO_SUCH_DEVICE: gone"
    already = "DPM_NO_SUCH_DEVICE: device not found"
    assert status_text(code.facility, code.error, already) == already
    assert status_text(code.facility, code.error, None).startswith("DPM_NO_SUCH_DEVICE")


def test_device_error_does_not_repeat_the_label() -> None:
    code = lookup_name("DPM_NO_SUCH_DEVICE")
    message = "M:NOPE: DPM_NO_SUCH_DEVICE: device not found"
    assert device_error("M:NOPE", code.facility, code.error, message) == message
    assert device_error("M:NOPE@p,1000", code.facility, code.error, "gone") == (
        "M:NOPE@p,1000: DPM_NO_SUCH_DEVICE: gone"
    )


def test_short_error_is_one_line() -> None:
    text = short_error(RuntimeError("first line\nsecond line"))
    assert text == "RuntimeError: first line"
    assert len(short_error(ValueError("x" * 500), limit=50)) == 50


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (72.5, "72.5"),
        (45.0, "45"),
        (np.float64(1.25), "1.25"),
        (7, "7"),
        (True, "true"),
        ("hello", "hello"),
        (b"\x00\xff", "00 ff"),
        (float("nan"), "nan"),
        (1e20, "1e+20"),
    ],
)
def test_format_scalar(value: object, text: str) -> None:
    assert format_scalar(value) == text


def test_format_scalar_precision() -> None:
    assert format_scalar(3.14159265, precision=3) == "3.14"


def test_short_arrays_whole_long_arrays_compacted() -> None:
    assert format_value(np.array([1.0, 2.0, 3.0])) == "[1 2 3]"
    long = np.arange(100, dtype=float)
    assert format_value(long) == "[0 1 2 ... 97 98 99] (100 values)"
    full = format_value(long, full=True)
    assert full.startswith("[0 1 2 3") and full.endswith("98 99]")
    assert len(full.strip("[]").split()) == 100


def test_compacted_array_elements_are_shortened() -> None:
    text = format_value(np.full(20, 1.0 / 3.0))
    assert text.startswith("[0.333333 0.333333") and "(20 values)" in text
    assert format_value(np.full(3, 1.0 / 3.0)) == f"[{1.0 / 3.0!r} {1.0 / 3.0!r} {1.0 / 3.0!r}]"


def test_bytes_dicts_lists_and_none() -> None:
    assert format_value(bytes(range(4))) == "00 01 02 03"
    data = bytes(range(40))
    assert format_value(data).endswith("(40 bytes)")
    assert format_value(data, full=True).count(" ") == 39
    assert format_value({"on": True, "ready": False}) == "on=true ready=false"
    assert format_value(["a", "b"]) == "[a b]"
    assert format_value(None) == "-"


def test_jsonable_converts_numpy_bytes_and_nan() -> None:
    out = jsonable({"a": np.arange(3), "b": b"\x01\x02", "c": np.float32(1.5), "d": float("nan")})
    assert out == {"a": [0, 1, 2], "b": "0102", "c": 1.5, "d": "nan"}
    json.dumps(out)


def test_format_timestamp_utc_and_missing() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    assert format_timestamp(when, utc=True) == "2024-05-06 07:08:09.123"
    assert format_timestamp(None) == "-"


# --- readings, tables, JSON, CSV ------------------------------------------------------------


def _reading(drf: str, value: object, units: str | None = "DegF", error: int = 0) -> Reading:
    if error:
        return Reading(drf=drf, facility_code=17, error_code=error, message="bad")
    return Reading(
        drf=drf,
        value_type=ValueType.SCALAR,
        value=value,  # type: ignore[arg-type]
        timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc),
        meta=DeviceMeta(1, drf.split("@", maxsplit=1)[0], "d", units),
    )


def test_table_rows_align_columns() -> None:
    rows = [
        table_row("M:OUTTMP", _reading("M:OUTTMP", 72.5)),
        table_row("G:AMANDA.SETTING", _reading("G:AMANDA", 1.0, units="V")),
        table_row("M:NOPE", _reading("M:NOPE", None, error=-26)),
    ]
    text = render_table(rows, ("NAME", "VALUE", "UNITS", "STATUS"))
    lines = text.splitlines()
    assert len(lines) == 4
    value_col = lines[0].index("VALUE")
    assert all(line[value_col - 2 : value_col] == "  " for line in lines)
    assert lines[1][value_col:].startswith("72.5")
    assert lines[3].split() == ["M:NOPE", "-", "DPM_NO_SUCH_DEVICE"]
    assert all(line == line.rstrip() for line in lines)


def test_json_one_record_per_line_parses() -> None:
    records = [reading_record("M:OUTTMP", _reading("M:OUTTMP", 72.5))]
    text = render_json(records)
    assert text.count("\n") == 2
    parsed = json.loads(text)
    assert parsed[0]["value"] == 72.5 and parsed[0]["status"] == "OK"
    assert json.loads(render_json(records, lines=True))["units"] == "DegF"
    assert render_json([]) == "[]"


def test_error_record_has_no_value() -> None:
    record = reading_record("M:NOPE", _reading("M:NOPE", None, error=-26))
    assert record["value"] is None and record["status"] == "DPM_NO_SUCH_DEVICE"
    assert record["error_code"] == -26


def test_csv_arrays_in_one_cell() -> None:
    records = [{"drf": "B:WAVE", "value": [1.0, 2.5], "status": "OK"}]
    text = render_csv(records, ("drf", "value", "status"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["drf", "value", "status"], ["B:WAVE", "1 2.5", "OK"]]


def test_progress_text() -> None:
    assert progress_text(0, 10, width=10) == "[..........]  0/10"
    assert progress_text(5, 10, width=10) == "[#####.....]  5/10"
    assert progress_text(99, 10, width=10) == "[##########] 10/10"


# --- acput values --------------------------------------------------------------------------


def test_scalar_values() -> None:
    assert parse_put_value(["45"]).value == 45.0
    assert parse_put_value(["-1.5e3"]).value == -1500.0
    assert parse_put_value([" 5 "]).value == 5.0
    assert parse_put_value(["45"]).kind == "scalar"


@pytest.mark.parametrize(
    ("word", "kind", "value"),
    [  # pacsys 0.3.0's acput: what is not a number, array or command is text
        ("0x10", "text", "0x10"),
        ("4x5", "text", "4x5"),
        ("hello world", "text", "hello world"),
        ("a,b", "text", "a,b"),
        ("beam on, target", "text", "beam on, target"),
        ("", "text", ""),
        ("1, 2 ,3", "array", [1.0, 2.0, 3.0]),
        ("1e3", "scalar", 1000.0),
        ("Off", "control", BasicControl.OFF),
    ],
)
def test_reference_value_words(word: str, kind: str, value: object) -> None:
    parsed = parse_word(word)
    assert parsed.kind == kind
    got = parsed.value.tolist() if isinstance(parsed.value, np.ndarray) else parsed.value
    assert got == value


@pytest.mark.parametrize(
    "words", [["1", "2", "3"], ["1,2,3"], ["[1 2 3]"], ["[1,", "2,", "3]"], ["1, 2,3"]]
)
def test_array_values(words: list[str]) -> None:
    parsed = parse_put_value(words)
    assert parsed.kind == "array"
    assert isinstance(parsed.value, np.ndarray)
    assert parsed.value.tolist() == [1.0, 2.0, 3.0]


def test_array_flag_makes_one_element_array() -> None:
    parsed = parse_put_value(["7"], array=True)
    assert parsed.kind == "array" and parsed.value.tolist() == [7.0]  # type: ignore[union-attr]


def test_text_values_verbatim() -> None:
    assert parse_put_value(["beam", "on", "target"], text=True).value == "beam on target"
    assert parse_put_value(["on"], text=True).value == "on"


def test_control_words() -> None:
    assert parse_put_value(["ON"]).value is BasicControl.ON
    assert parse_put_value(["reset"]).value is BasicControl.RESET
    assert set(CONTROL_WORDS) >= {"on", "off", "reset"}
    parsed = parse_put_value(["off"], prop=DRF_PROPERTY.CONTROL)
    assert parsed.kind == "control" and parsed.describe() == "OFF"


@pytest.mark.parametrize(
    ("words", "kwargs", "match"),
    [
        (["nan"], {}, "non-finite value not allowed: 'nan'"),
        (["1,inf"], {}, "non-finite value not allowed: 'inf'"),
        (["1", "two"], {}, "array element 'two' is not a number"),
        (["[]"], {}, "empty array"),
        ([], {}, "no value given"),
        (["45"], {"prop": DRF_PROPERTY.CONTROL}, "control command must be one of"),
        (["hi"], {"text": True, "prop": DRF_PROPERTY.STATUS}, "text cannot be written"),
        (["1"], {"text": True, "array": True}, "cannot be combined"),
    ],
)
def test_parse_errors_name_the_problem(words: list[str], kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match.replace("[", r"\[")):
        parse_put_value(words, **kwargs)


def test_parse_number_rejects_inf() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        parse_number("inf")
