"""Pure rendering of acinfo's pacsys 0.3.0 layout: labelled sections, or one JSON line.

``Description:``, ``Reading:``, ``Setting:``, ``Analog alarm:``, ``Status:``, ``Digital
status:`` and ``Digital alarm:`` from one batch of readings (see docs/cli.md, "acinfo").
A section the device does not have (no such property) is left out, shown with ``-v``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pacsys.cli._format import status_name
from pacsys.cli._refformat import json_value, ref_value, slice_value
from pacsys.metadata import DeviceInfoResult
from pacsys.types import Reading

__all__ = ["SECTIONS", "info_json", "info_text", "section_drfs"]

#: Section key -> DRF suffix read for it (``@I`` is added).
SECTIONS = {
    "description": "DESCRIPTION",
    "reading": "READING",
    "setting": "SETTING",
    "analog_alarm": "ANALOG",
    "status": "STATUS",
    "bit_value": "STATUS.BIT_VALUE",
    "bit_names": "STATUS.BIT_NAMES",
    "bit_values": "STATUS.BIT_VALUES",
    "digital_alarm": "DIGITAL",
}
_ABSENT = ("DBM_NOPROP", "DPM_NO_SUCH_PROP")
_STATUS_WORDS = (
    ("on", "ON", "OFF"),
    ("ready", "READY", "TRIPPED"),
    ("remote", "REMOTE", "LOCAL"),
    ("positive", "POSITIVE", "NEGATIVE"),
    ("ramp", "RAMP", "DC"),
)


def section_drfs(name: str, info: DeviceInfoResult | None) -> dict[str, str]:
    """What to read: every section, less those DevDB says the device lacks."""
    wanted = dict(SECTIONS)
    if info is not None:
        if info.reading is None:
            del wanted["reading"]
        if info.setting is None:
            del wanted["setting"]
        if not info.status_bits:
            for key in ("status", "bit_value", "bit_names", "bit_values"):
                del wanted[key]
    return {key: f"{name}.{suffix}@I" for key, suffix in wanted.items()}


def _absent(reading: Reading) -> bool:
    if reading.ok:
        return False
    text = f"{status_name(reading.facility_code, reading.error_code)} {reading.message or ''}"
    return any(code in text for code in _ABSENT)


def _error(reading: Reading) -> str:
    return reading.message or status_name(reading.facility_code, reading.error_code)


def _label(text: str) -> str:
    return f"  {text + ':':<18}"


def _alarm_text(value: Mapping[str, Any], spec: str | None, digital: bool) -> str:
    parts = []
    for key, item in value.items():
        if digital and key in ("nominal", "mask") and isinstance(item, int):
            parts.append(f"{key}={item:08b}")
        elif isinstance(item, bool):
            parts.append(f"{key}={item}")
        else:
            parts.append(f"{key}={ref_value(item, spec)}")
    return ", ".join(parts)


def _bits(live: Mapping[str, Reading]) -> list[tuple[int, int, str, str]]:
    """``(bit, value, label, text)`` for each named status bit, when all three were read."""
    word, names, texts = (live.get(k) for k in ("bit_value", "bit_names", "bit_values"))
    if not (word and names and texts and word.ok and names.ok and texts.ok):
        return []
    raw = int(word.value)  # type: ignore[arg-type]
    labels = list(names.value)  # type: ignore[arg-type]
    words = list(texts.value)  # type: ignore[arg-type]
    return [
        (bit, (raw >> bit) & 1, str(label), str(words[bit]) if bit < len(words) else "")
        for bit, label in enumerate(labels)
    ]


def info_text(
    name: str,
    live: Mapping[str, Reading],
    *,
    device_index: int | None = None,
    verbose: bool = False,
    spec: str | None = None,
    selection: Any = None,
) -> tuple[str, bool]:
    """(block, any section failed) for one device."""
    index = device_index
    if index is None:
        index = next((r.meta.device_index for r in live.values() if r.meta is not None), None)
    lines = [f"{name} (di={index})" if index else name]
    failed = False

    def section(label: str, key: str, render: Any) -> None:
        nonlocal failed
        reading = live.get(key)
        if reading is None:
            return
        if _absent(reading):
            if verbose:
                lines.append(_label(label) + f"{reading.drf}: {_error(reading)}")
            return
        if not reading.ok:
            failed = True
            lines.append(_label(label) + f"[ERROR] {_error(reading)}")
            return
        lines.append(_label(label) + render(reading))

    def value(reading: Reading) -> str:
        units = f" {reading.units}" if reading.units else ""
        kind = f" ({reading.value_type.name})" if reading.value_type is not None else ""
        return f"{ref_value(slice_value(reading.value, selection), spec)}{units}{kind}"

    section("Description", "description", lambda r: str(r.value))
    section("Reading", "reading", value)
    section("Setting", "setting", value)
    section("Analog alarm", "analog_alarm", lambda r: _alarm_text(r.value, spec, False))
    section("Status", "status", _status_words)
    bits = _bits(live)
    if bits:
        if verbose:
            lines.append(_label("Digital status").rstrip())
            lines += [f"    Bit {b}:  {v}  {label}: {text}" for b, v, label, text in bits]
        else:
            pattern = "".join(str(v) for _, v, _, _ in reversed(bits))
            lines.append(_label("Digital status") + f"{pattern}  ({len(bits)} bits)")
    section("Digital alarm", "digital_alarm", lambda r: _alarm_text(r.value, spec, True))
    if verbose and lines[-1].startswith("  Digital alarm:"):
        alarm = live["digital_alarm"].value
        nominal, mask = int(alarm.get("nominal", 0)), int(alarm.get("mask", 0))  # type: ignore[union-attr]
        for bit in range(max((nominal | mask).bit_length(), 0)):
            state = "monitored" if mask >> bit & 1 else "ignored"
            lines.append(
                f"    Bit {bit}:  nominal={nominal >> bit & 1}  mask={mask >> bit & 1}  ({state})"
            )
    return "\n".join(lines), failed


def _status_words(reading: Reading) -> str:
    value = reading.value if isinstance(reading.value, Mapping) else {}
    return ", ".join((yes if value[key] else no) for key, yes, no in _STATUS_WORDS if key in value)


def info_json(
    name: str, live: Mapping[str, Reading], device_index: int | None = None
) -> tuple[str, bool]:
    """(one JSON line, any section failed) for one device; absent sections are left out."""
    index = device_index
    if index is None:
        index = next((r.meta.device_index for r in live.values() if r.meta is not None), None)
    record: dict[str, Any] = {"device": name}
    if index:
        record["device_index"] = index
    failed = False
    for key in ("description", "reading", "setting", "analog_alarm", "status"):
        reading = live.get(key)
        if reading is None or _absent(reading):
            continue
        if not reading.ok:
            failed = True
            record[key] = {"error": _error(reading)}
        elif key in ("reading", "setting"):
            kind = reading.value_type.name if reading.value_type is not None else None
            record[key] = {
                "value": json_value(reading.value),
                "units": reading.units or None,
                "type": kind,
            }
        else:
            record[key] = json_value(reading.value)
    bits = _bits(live)
    if bits:
        record["digital_status"] = [
            {"bit": b, "value": v, "label": label, "text": text} for b, v, label, text in bits
        ]
    alarm = live.get("digital_alarm")
    if alarm is not None and not _absent(alarm):
        if alarm.ok:
            record["digital_alarm"] = json_value(alarm.value)
        else:
            failed = True
            record["digital_alarm"] = {"error": _error(alarm)}
    return json.dumps(record), failed
