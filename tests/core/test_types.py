"""Reading, WriteResult, DeviceMeta and the enums: fields, properties, equality, serialisation."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import pytest

from pacsys.types import (
    BackendCapability,
    BasicControl,
    DeviceMeta,
    DispatchMode,
    Reading,
    ValueType,
    WriteResult,
)

META = DeviceMeta(7, "M:OUTTMP", "Outdoor temperature", units="DegF")
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("error_code", "value", "success", "warning", "error", "ok"),
    [
        (0, 1.0, True, False, False, True),
        (0, None, True, False, False, False),
        (1, 1.0, False, True, False, True),
        (1, None, False, True, False, False),
        (-1, None, False, False, True, False),
        (-1, 1.0, False, False, True, False),
    ],
)
def test_reading_status_table(error_code, value, success, warning, error, ok) -> None:
    vt = ValueType.SCALAR if value is not None else None
    reading = Reading("M:OUTTMP", vt, error_code=error_code, value=value)
    assert (reading.is_success, reading.is_warning, reading.is_error, reading.ok) == (
        success,
        warning,
        error,
        ok,
    )


def test_value_requires_value_type() -> None:
    with pytest.raises(ValueError, match="value_type is required when value is set"):
        Reading("M:OUTTMP", value=1.0)


def test_name_and_units_come_from_meta_or_drf() -> None:
    assert Reading("X:Y", meta=META).name == "M:OUTTMP"
    assert Reading("X:Y", meta=META).units == "DegF"
    assert Reading("m_outtmp@p,1000").name == "M:OUTTMP"
    assert Reading("m_outtmp").units is None
    with pytest.raises(ValueError):
        _ = Reading("no").name


def test_arrays_are_frozen_and_views_copied() -> None:
    owned = np.arange(4.0)
    reading = Reading("B:X", ValueType.SCALAR_ARRAY, value=owned)
    assert reading.value is owned and not owned.flags.writeable
    base = np.arange(6.0)
    view = base[1:4]
    viewed = Reading("B:X", ValueType.SCALAR_ARRAY, value=view)
    assert viewed.value is not view and not viewed.value.flags.writeable
    assert base.flags.writeable  # the caller's buffer is untouched
    timed = Reading("B:X", ValueType.TIMED_SCALAR_ARRAY, value={"data": np.ones(2)})
    assert not timed.value["data"].flags.writeable


def test_equality_is_array_aware() -> None:
    a = Reading("B:X", ValueType.SCALAR_ARRAY, value=np.array([1.0, np.nan]))
    b = Reading("B:X", ValueType.SCALAR_ARRAY, value=np.array([1.0, np.nan]))
    c = Reading("B:X", ValueType.SCALAR_ARRAY, value=np.array([1, 2], dtype=np.int32))
    d = Reading("B:X", ValueType.SCALAR_ARRAY, value=np.array([1, 2], dtype=np.int64))
    as_list = Reading("B:X", ValueType.SCALAR_ARRAY, value=[1.0, np.nan])
    assert a == b and hash(a) == hash(b)
    assert c != d
    assert a != as_list
    dicts = Reading("B:X", ValueType.TIMED_SCALAR_ARRAY, value={"data": np.arange(3)})
    assert dicts == Reading("B:X", ValueType.TIMED_SCALAR_ARRAY, value={"data": np.arange(3)})
    assert Reading("A:B", error_code=1) != Reading("A:B", error_code=2)


def test_hash_rejects_list_and_dict_values() -> None:
    with pytest.raises(TypeError, match="unhashable value of type list"):
        hash(Reading("T:X", ValueType.TEXT_ARRAY, value=["a"]))
    with pytest.raises(TypeError, match="unhashable value of type dict"):
        hash(Reading("T:X", ValueType.BASIC_STATUS, value={"on": True}))
    assert (
        len(
            {Reading("M:A", ValueType.SCALAR, value=1.0)}
            | {Reading("M:A", ValueType.SCALAR, value=1.0)}
        )
        == 1
    )


def test_reading_to_dict_example() -> None:
    reading = Reading("M:OUTTMP", ValueType.SCALAR, value=72.5, timestamp=WHEN, cycle=3, meta=META)
    assert reading.to_dict() == {
        "drf": "M:OUTTMP",
        "facility_code": 0,
        "error_code": 0,
        "value_type": "scalar",
        "value": 72.5,
        "timestamp": "2024-01-02T03:04:05+00:00",
        "cycle": 3,
        "meta": {
            "device_index": 7,
            "name": "M:OUTTMP",
            "description": "Outdoor temperature",
            "units": "DegF",
        },
    }
    assert Reading("M:X", error_code=-1, facility_code=17).to_dict() == {
        "drf": "M:X",
        "facility_code": 17,
        "error_code": -1,
    }


@pytest.mark.parametrize(
    ("value_type", "value", "dtype"),
    [
        (ValueType.SCALAR, 72.5, None),
        (ValueType.SCALAR, np.float32(1.5), None),
        (ValueType.SCALAR_ARRAY, np.arange(3, dtype=np.int16), "<i2"),
        (ValueType.SCALAR_ARRAY, [1.0, 2.0], "list"),
        (
            ValueType.TIMED_SCALAR_ARRAY,
            {"data": np.ones(2), "micros": np.array([1, 2], dtype=np.int64)},
            {"data": "<f8", "micros": "<i8"},
        ),
        (ValueType.RAW, b"\x00\xff", None),
        (ValueType.TEXT, "hello", None),
        (ValueType.TEXT_ARRAY, ["a", "b"], "list"),
        (ValueType.BASIC_STATUS, {"on": True, "ready": False}, None),
    ],
)
def test_reading_round_trips_through_dict(value_type, value, dtype) -> None:
    reading = Reading("D:X", value_type, value=value, timestamp=WHEN, meta=META, message="m")
    data = reading.to_dict()
    assert data.get("value_dtype") == dtype
    back = Reading.from_dict(data)
    if isinstance(value, np.generic):
        assert back.value == value.item()
    else:
        assert back == reading
    if value_type is ValueType.RAW:
        assert data["value"] == "AP8="


def test_device_meta_dict() -> None:
    assert DeviceMeta(1, "A:B", "d").to_dict() == {
        "device_index": 1,
        "name": "A:B",
        "description": "d",
    }
    assert DeviceMeta.from_dict(META.to_dict()) == META
    assert DeviceMeta(1, "A:B", "d", format_hint=3).to_dict()["format_hint"] == 3


def test_write_result_properties() -> None:
    assert WriteResult("Z:A").ok and WriteResult("Z:A").success and WriteResult("Z:A").confirmed
    assert not WriteResult("Z:A", error_code=1).ok  # a warning is not ok for a write
    assert not WriteResult("Z:A", verified=False).confirmed
    assert WriteResult("Z:A", verified=None).confirmed


def test_write_result_dict_round_trip() -> None:
    plain = WriteResult("Z:A")
    assert plain.to_dict() == {"drf": "Z:A", "facility_code": 0, "error_code": 0}
    full = WriteResult(
        "Z:A", 17, -17, "no", verified=False, readback=np.arange(2.0), skipped=True, attempts=3
    )
    data = full.to_dict()
    assert data["readback_type"] == "scalarArr" and data["readback_dtype"] == "<f8"
    assert data["skipped"] is True and data["attempts"] == 3
    assert WriteResult.from_dict(data) == full
    raw = WriteResult("Z:A", readback=b"\x01")
    assert raw.to_dict()["readback_type"] == "raw"
    assert WriteResult.from_dict(raw.to_dict()) == raw


def test_readings_pickle() -> None:
    reading = Reading("M:OUTTMP", ValueType.SCALAR_ARRAY, value=np.arange(3.0), meta=META)
    assert pickle.loads(pickle.dumps(reading)) == reading


def test_enum_values() -> None:
    assert [c.value for c in BasicControl] == list(range(10))
    assert BasicControl.TRIP == 9 and BasicControl.RESET == 0
    assert [c.value for c in BackendCapability] == [1, 2, 4, 8, 16, 32]
    assert DispatchMode("worker") is DispatchMode.WORKER
    assert ValueType("timedScalarArr") is ValueType.TIMED_SCALAR_ARRAY
    with pytest.raises(AttributeError):
        Reading("A:B").drf = "x"  # type: ignore[misc]


# --- dataclass semantics (the seed documents these types as dataclasses) -------------------


def test_reading_and_write_result_are_frozen_dataclasses() -> None:
    reading = Reading("M:OUTTMP", ValueType.SCALAR, value=72.5, timestamp=WHEN, cycle=3, meta=META)
    assert [f.name for f in dataclasses.fields(Reading)] == [
        "drf",
        "value_type",
        "facility_code",
        "error_code",
        "value",
        "message",
        "timestamp",
        "cycle",
        "meta",
    ]
    as_dict = dataclasses.asdict(reading)
    assert as_dict["value"] == 72.5 and as_dict["meta"]["units"] == "DegF"
    changed = dataclasses.replace(reading, value=73.0)
    assert changed.value == 73.0 and changed.meta is META and reading.value == 72.5
    with pytest.raises(ValueError, match="value_type is required"):
        dataclasses.replace(reading, value_type=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.value = 1.0  # type: ignore[misc]
    result = WriteResult("Z:A", verified=True, readback=np.arange(3.0))
    assert [f.name for f in dataclasses.fields(result)][:3] == [
        "drf",
        "facility_code",
        "error_code",
    ]
    assert not dataclasses.replace(result, attempts=2).readback.flags.writeable
    assert dataclasses.asdict(DeviceMeta(1, "A:B", "d"))["description"] == "d"


def test_replace_freezes_a_new_array_value() -> None:
    reading = Reading("B:X", ValueType.SCALAR_ARRAY, value=np.arange(3.0))
    fresh = np.arange(4.0)
    assert not dataclasses.replace(reading, value=fresh).value.flags.writeable


# --- str / repr / notebook display ---------------------------------------------------------

WHEN_MS = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
NOT_FOUND = "DPM_NO_SUCH_DEVICE: device not found (facility=17, error=-26)"


def test_reading_str_is_one_short_line() -> None:
    reading = Reading("M:OUTTMP", ValueType.SCALAR, value=72.5, timestamp=WHEN_MS, meta=META)
    assert str(reading) == "M:OUTTMP = 72.5 DegF  ok  2024-01-02 03:04:05.123 UTC"
    error = Reading("Z:NOSUCH", facility_code=17, error_code=-26, message=NOT_FOUND)
    assert str(error) == f"Z:NOSUCH  error: {NOT_FOUND}"
    assert str(Reading("Z:X", facility_code=17, error_code=1)) == (
        "Z:X  warning: facility=17, error=1 (no value)"
    )
    assert str(Reading("Z:X")) == "Z:X  ok (no value)"


def test_reading_repr_shows_set_fields_only() -> None:
    reading = Reading(
        "M:OUTTMP", ValueType.SCALAR, value=72.5, timestamp=WHEN_MS, cycle=3, meta=META
    )
    assert repr(reading) == (
        "Reading(drf='M:OUTTMP', value_type=ValueType.SCALAR, value=72.5, "
        "timestamp=2024-01-02 03:04:05.123 UTC, cycle=3, "
        "meta=DeviceMeta(7, 'M:OUTTMP', 'Outdoor temperature', units='DegF'))"
    )
    error = Reading("Z:NOSUCH", facility_code=17, error_code=-26, message=NOT_FOUND)
    assert repr(error) == (
        f"Reading(drf='Z:NOSUCH', facility_code=17, error_code=-26, message='{NOT_FOUND}')"
    )
    assert str(reading) != repr(reading)


def test_array_readings_are_summarised() -> None:
    wave = Reading("B:WAVE", ValueType.SCALAR_ARRAY, value=np.linspace(0.0, 10.0, 10_000))
    summary = "[0.0, 0.0010001, 0.0020002, …, 9.998, 9.999, 10.0] (10000 float64)"
    assert str(wave) == f"B:WAVE = {summary}  ok"
    assert (
        repr(wave) == f"Reading(drf='B:WAVE', value_type=ValueType.SCALAR_ARRAY, value={summary})"
    )
    short = Reading("B:X", ValueType.SCALAR_ARRAY, value=np.array([1, 2], dtype=np.int16))
    assert str(short) == "B:X = [1, 2] (2 int16)  ok"
    logged = {"data": np.arange(100.0), "micros": np.arange(100, dtype=np.int64)}
    assert str(Reading("B:L", ValueType.TIMED_SCALAR_ARRAY, value=logged)) == (
        "B:L = {'data': [0.0, 1.0, 2.0, …, 97.0, 98.0, 99.0] (100 float64), "
        "'micros': [0, 1, 2, …, 97, 98, 99] (100 int64)}  ok"
    )
    assert str(Reading("Z:RAW", ValueType.RAW, value=bytes(range(20)))) == (
        "Z:RAW = <20 bytes: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f…>  ok"
    )
    assert str(Reading("Z:T", ValueType.TEXT_ARRAY, value=list("abcdefgh"))) == (
        "Z:T = ['a', 'b', 'c', …, 'f', 'g', 'h'] (8 items)  ok"
    )
    assert len(repr(Reading("Z:T", ValueType.TEXT, value="x" * 10_000))) < 150


def test_reading_html_for_notebooks() -> None:
    reading = Reading(
        "M:OUTTMP", ValueType.SCALAR, value=72.5, timestamp=WHEN_MS, cycle=3, meta=META
    )
    page = reading._repr_html_()
    assert page.startswith("<table><caption>Reading M:OUTTMP</caption>")
    for cell in ("72.5 DegF", "ok", "2024-01-02 03:04:05.123 UTC", "Outdoor temperature"):
        assert f">{cell}</td>" in page
    tricky = Reading("Z:<b>", ValueType.TEXT, value="<script>")
    assert "<script>" not in tricky._repr_html_() and "&lt;b&gt;" in tricky._repr_html_()


def test_write_result_texts() -> None:
    result = WriteResult("Z:ACLTST.SETTING@N", verified=True, readback=45.0, attempts=1)
    assert str(result) == "Z:ACLTST.SETTING@N  ok, verified, readback 45.0"
    assert repr(result) == (
        "WriteResult(drf='Z:ACLTST.SETTING@N', verified=True, readback=45.0, attempts=1)"
    )
    failed = WriteResult("Z:A", 17, -17, "DPM_PRIV: insufficient privileges")
    assert str(failed) == "Z:A  error: DPM_PRIV: insufficient privileges"


def test_scalar_readings_do_not_import_numpy() -> None:
    code = (
        "import sys; from pacsys.types import Reading, ValueType, WriteResult; "
        "r = Reading('M:OUTTMP', ValueType.SCALAR, value=1.0); "
        "str(r); repr(r); hash(r); r == r; r.to_dict(); Reading.from_dict(r.to_dict()); "
        "w = WriteResult('M:OUTTMP', readback=1.0); w == w; w.to_dict(); "
        "print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
