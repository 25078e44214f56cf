"""acinfo's pacsys 0.3.0 section layout (docs/cli.md, "acinfo"): pure rendering from readings."""

from __future__ import annotations

import json

from pacsys.cli._inforef import info_json, info_text, section_drfs
from pacsys.types import DeviceMeta, Reading, ValueType


def _ok(drf: str, value: object, kind: ValueType, units: str | None = None) -> Reading:
    return Reading(
        drf=drf,
        value_type=kind,
        value=value,  # type: ignore[arg-type]
        meta=DeviceMeta(283924, "Z:SIMPS", "power supply", units),
    )


def _missing(drf: str, name: str = "DPM_NO_SUCH_PROP", error: int = -27) -> Reading:
    return Reading(drf=drf, facility_code=17, error_code=error, message=f"{name}: not here")


def _live() -> dict[str, Reading]:
    return {
        "description": _ok("Z:SIMPS.DESCRIPTION@I", "power supply", ValueType.TEXT),
        "reading": _ok("Z:SIMPS.READING@I", 99.98765, ValueType.SCALAR, "A"),
        "setting": _ok("Z:SIMPS.SETTING@I", 100.0, ValueType.SCALAR, "A"),
        "analog_alarm": _missing("Z:SIMPS.ANALOG@I"),
        "status": _ok(
            "Z:SIMPS.STATUS@I",
            {"on": True, "ready": False, "remote": True, "positive": False, "ramp": True},
            ValueType.BASIC_STATUS,
        ),
        "bit_value": _ok("Z:SIMPS.STATUS.BIT_VALUE@I", 5, ValueType.SCALAR),
        "bit_names": _ok("Z:SIMPS.STATUS.BIT_NAMES@I", ["On", "Ready", "Remote"], ValueType.TEXT),
        "bit_values": _ok(
            "Z:SIMPS.STATUS.BIT_VALUES@I", ["On", "Tripped", "Remote"], ValueType.TEXT
        ),
        "digital_alarm": _ok(
            "Z:SIMPS.DIGITAL@I",
            {"nominal": 5, "mask": 4, "alarm_enable": True, "tries_needed": 1},
            ValueType.DIGITAL_ALARM,
        ),
    }


def test_sections_in_order_with_column_21_values() -> None:
    text, failed = info_text("Z:SIMPS", _live())
    assert not failed
    assert text.splitlines() == [
        "Z:SIMPS (di=283924)",
        "  Description:      power supply",
        "  Reading:          99.9877 A (SCALAR)",
        "  Setting:          100 A (SCALAR)",
        "  Status:           ON, TRIPPED, REMOTE, NEGATIVE, RAMP",
        "  Digital status:   101  (3 bits)",
        "  Digital alarm:    nominal=00000101, mask=00000100, alarm_enable=True, tries_needed=1",
    ]


def test_verbose_shows_absent_sections_and_bits() -> None:
    text, _ = info_text("Z:SIMPS", _live(), verbose=True, spec=".1f")
    lines = text.splitlines()
    assert "  Reading:          100.0 A (SCALAR)" in lines
    assert "  Analog alarm:     Z:SIMPS.ANALOG@I: DPM_NO_SUCH_PROP: not here" in lines
    assert "    Bit 1:  0  Ready: Tripped" in lines
    assert lines[-3:] == [
        "    Bit 0:  nominal=1  mask=0  (ignored)",
        "    Bit 1:  nominal=0  mask=0  (ignored)",
        "    Bit 2:  nominal=1  mask=1  (monitored)",
    ]


def test_failed_section_is_an_error() -> None:
    live = _live()
    live["setting"] = _missing("Z:SIMPS.SETTING@I", "DPM_NO_SUCH_DEVICE", -26)
    text, failed = info_text("Z:SIMPS", live)
    assert failed
    assert "  Setting:          [ERROR] DPM_NO_SUCH_DEVICE: not here" in text.splitlines()


def test_json_record() -> None:
    line, failed = info_json("Z:SIMPS", _live(), device_index=283924)
    record = json.loads(line)
    assert not failed
    assert list(record) == [
        "device",
        "device_index",
        "description",
        "reading",
        "setting",
        "status",
        "digital_status",
        "digital_alarm",
    ]
    assert record["reading"] == {"value": 99.98765, "units": "A", "type": "SCALAR"}
    assert record["digital_status"][1] == {
        "bit": 1,
        "value": 0,
        "label": "Ready",
        "text": "Tripped",
    }


def test_section_drfs_follow_metadata() -> None:
    assert section_drfs("M:OUTTMP", None)["digital_alarm"] == "M:OUTTMP.DIGITAL@I"
    assert "bit_names" in section_drfs("M:OUTTMP", None)
