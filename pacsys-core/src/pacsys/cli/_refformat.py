"""Pure output rules of pacsys 0.3.0's tools: ``-f``, ``-r``, ``-t``, ``--format text|json``.

Scripts written for the 0.3.0 ``acget``/``acput``/``acmonitor`` parse these lines, so the
layout is kept exactly (see docs/cli.md, "Compatibility"): ``NAME  VALUE UNITS  TIMESTAMP``
text lines, bare values with ``-t``, one JSON object per line.  Nothing here touches a
backend, a clock or a terminal.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pacsys._arrays import is_ndarray, is_numpy_scalar
from pacsys.types import Reading, WriteResult

__all__ = [
    "TIMESTAMP_FORMATS",
    "device_name",
    "format_number",
    "json_value",
    "parse_range",
    "reading_line",
    "ref_value",
    "slice_value",
    "write_result_line",
]

#: ``acmonitor -s``: how timestamps are printed.
TIMESTAMP_FORMATS = ("iso", "epoch", "relative")


def parse_range(text: str) -> int | slice:
    """``-r``: ``N`` (one element), ``A:B`` or ``A:B:C`` with empty parts allowed."""
    parts = text.strip().split(":")
    if len(parts) > 3:
        raise ValueError(f"Invalid slice: {text!r}")
    try:
        numbers = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise ValueError(f"Invalid slice: {text!r}") from None
    if len(parts) == 1:
        if numbers[0] is None:
            raise ValueError(f"Invalid slice: {text!r}")
        return numbers[0]
    if len(numbers) == 3 and numbers[2] == 0:
        raise ValueError(f"Invalid slice: {text!r} (step 0)")
    return slice(*numbers)


def slice_value(value: Any, selection: int | slice | None) -> Any:
    """``value[selection]`` for arrays (and timed arrays' ``data``); anything else unchanged."""
    if selection is None:
        return value
    if isinstance(value, Mapping) and "data" in value:
        return {**value, "data": slice_value(value["data"], selection)}
    if is_ndarray(value) or isinstance(value, list | tuple):
        if isinstance(selection, int):
            length = len(value)
            if not -length <= selection < length:
                return value[0:0]
            return value[selection : selection + 1 or None]
        return value[selection]
    return value


def _python(value: Any) -> Any:
    return value.item() if is_numpy_scalar(value) else value


def format_number(value: Any, spec: str | None) -> str:
    """One element: ``g`` for floats without a spec; integral floats become int for a spec."""
    value = _python(value)
    if isinstance(value, str):
        return value
    if spec is None:
        return format(value, "g") if isinstance(value, float) else str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return format(value, spec)


def ref_value(value: Any, spec: str | None = None) -> str:
    """A value on one line, as 0.3.0 printed it: arrays space-joined, status ``on=T``, ..."""
    value = _python(value)
    if isinstance(value, Mapping) and "data" in value:
        return ref_value(value["data"], spec)
    if is_ndarray(value):
        value = value.ravel().tolist()
    if isinstance(value, list | tuple):
        return " ".join(format_number(item, spec) for item in value)
    if isinstance(value, Mapping):
        if value and all(isinstance(v, bool) for v in value.values()):
            return " ".join(f"{k}={'T' if v else 'F'}" for k, v in value.items())
        return json.dumps(json_value(value), separators=(",", ":"))
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, str):
        return value
    return format_number(value, spec)


def json_value(value: Any) -> Any:
    """JSON-ready at full precision: arrays -> lists, bytes -> base64, dicts as dicts."""
    value = _python(value)
    if is_ndarray(value):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def device_name(drf: str) -> str:
    """The device part of a DRF (``Z:SIMPS.STATUS`` -> ``Z:SIMPS``); the DRF when unparsable."""
    try:
        from pacsys.drf_utils import get_device_name

        return get_device_name(drf)
    except (ValueError, TypeError):
        return drf


def _reading_name(reading: Reading) -> str:
    try:
        return reading.name
    except (ValueError, TypeError):
        return reading.drf


def _error_message(reading: Reading) -> str:
    return reading.message or f"error {reading.error_code}"


def _iso(when: datetime | None) -> str:
    return "" if when is None else when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def reading_line(
    reading: Reading,
    style: str,
    *,
    spec: str | None = None,
    selection: int | slice | None = None,
    stamp: str | float | None = None,
) -> str:
    """One reading as ``text``, ``terse`` or ``json``.

    ``stamp`` replaces the timestamp (``acmonitor -s epoch|relative``); by default the
    timestamp is printed in its own zone (``YYYY-MM-DD HH:MM:SS.mmm``, JSON: isoformat).
    """
    name = _reading_name(reading)
    if not reading.ok:
        message = _error_message(reading)
        if style == "json":
            return json.dumps({"device": name, "ok": False, "error": message})
        if style == "terse":
            return f"[ERROR] {message}"
        return f"{name:<28} [ERROR] {message}"
    value = slice_value(reading.value, selection)
    if style == "json":
        if stamp is None:
            stamp = reading.timestamp.isoformat() if reading.timestamp else None
        record = {
            "device": name,
            "ok": True,
            "value": json_value(value),
            "units": reading.units or None,
            "timestamp": stamp,
        }
        return json.dumps(record)
    text = ref_value(value, spec)
    if style == "terse":
        return text
    units = f" {reading.units}" if reading.units else ""
    when = _iso(reading.timestamp) if stamp is None else str(stamp)
    return f"{name}  {text}{units}  {when}"


def write_result_line(result: WriteResult, style: str, verifying: bool) -> str:
    """One write result as ``text``, ``terse`` or ``json`` (0.3.0's acput lines)."""
    name = device_name(result.drf)
    if not result.ok:
        message = result.message or f"error {result.error_code}"
        if style == "json":
            return json.dumps({"device": name, "ok": False, "confirmed": False, "error": message})
        if style == "terse":
            return f"FAILED: {message}"
        return f"{name}  FAILED: {message}"
    if not verifying or result.verified is None:
        if style == "json":
            return json.dumps({"device": name, "ok": True, "confirmed": True})
        return "ok" if style == "terse" else f"{name} ok"
    readback = result.readback
    if style == "json":
        record: dict[str, Any] = {
            "device": name,
            "ok": True,
            "confirmed": bool(result.verified),
            "verified": bool(result.verified),
        }
        if readback is not None:
            record["readback"] = json_value(readback)
        return json.dumps(record)
    shown = "" if readback is None else f"{_python(readback)}"
    if result.verified:
        if style == "terse":
            return "ok (verified)"
        return f"{name} ok (verified" + (f", readback={shown})" if shown else ")")
    if style == "terse":
        return f"VERIFY FAILED (readback: {shown or 'none'})"
    return f"{name} ok (verify FAILED" + (f", readback={shown})" if shown else ")")
