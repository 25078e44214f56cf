"""Pure rendering for the ac* tools: values, status names, aligned tables, JSON and CSV.

Nothing here touches a backend, a clock or a terminal; the tools pass Readings in and
print the strings that come out, so every rule is unit-testable.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from pacsys._arrays import is_ndarray, is_numpy_scalar
from pacsys.acnet.status import lookup
from pacsys.types import Reading

__all__ = [
    "COMPACT_ITEMS",
    "FORMATS",
    "device_error",
    "format_scalar",
    "format_timestamp",
    "format_value",
    "jsonable",
    "progress_text",
    "reading_record",
    "render_csv",
    "render_json",
    "render_table",
    "short_error",
    "status_name",
    "status_text",
    "table_row",
]

FORMATS = ("table", "json", "csv")

#: Array elements shown at each end of a compacted array.
COMPACT_ITEMS = 3
#: Arrays up to this length are always shown whole.
SHORT_ARRAY = 8
#: Significant digits of the elements of a compacted array (unless a precision is given).
PREVIEW_DIGITS = 6


# --- statuses ------------------------------------------------------------------------------


def status_name(facility: int, error: int) -> str:
    """``OK`` for success, the ACNET code name when known, else ``[facility error]``."""
    if error == 0:
        return "OK"
    code = lookup(facility, error)
    if code is not None:
        return code.name
    return f"[{facility} {error}]"


def status_text(facility: int, error: int, message: str | None) -> str:
    """Status name plus the message, for stderr: ``DPM_NO_SUCH_DEVICE: no such device``."""
    name = status_name(facility, error)
    if not message:
        code = lookup(facility, error)
        message = code.description if code is not None and code.description else None
    if not message or message == name:
        return name
    if name in message:
        return message
    return f"{name}: {message}"


def device_error(label: str, facility: int, error: int, message: str | None) -> str:
    """``LABEL: STATUS_NAME: message`` without repeating a label the message already has."""
    text = status_text(facility, error, message)
    device = label.split(".", 1)[0].split("@", 1)[0].split("[", 1)[0]
    if text.startswith((f"{label}:", f"{device}:", f"{device}.")):
        return text
    return f"{label}: {text}"


# --- values --------------------------------------------------------------------------------


def format_scalar(value: Any, precision: int | None = None) -> str:
    """One number, bool or string; floats shortest round-trip unless ``precision`` is given."""
    if is_numpy_scalar(value):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        if precision is not None:
            return f"{value:.{precision}g}"
        text = repr(value)
        return text[:-2] if text.endswith(".0") and "e" not in text else text
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex(" ")
    return str(value)


def _compact(items: Sequence[str], full: bool) -> str:
    if full or len(items) <= SHORT_ARRAY:
        return "[" + " ".join(items) + "]"
    head = " ".join(items[:COMPACT_ITEMS])
    tail = " ".join(items[-COMPACT_ITEMS:])
    return f"[{head} ... {tail}] ({len(items)} values)"


def format_value(value: Any, *, full: bool = False, precision: int | None = None) -> str:
    """A value on one line; arrays and long byte strings compacted unless ``full``."""
    if value is None:
        return "-"
    if is_ndarray(value) or isinstance(value, list | tuple):
        items = value.ravel().tolist() if is_ndarray(value) else list(value)
        if not full and len(items) > SHORT_ARRAY and precision is None:
            precision = PREVIEW_DIGITS  # a preview: short numbers keep the line readable
        return _compact([format_scalar(v, precision) for v in items], full)
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        if full or len(data) <= 16:
            return data.hex(" ")
        return f"{data[:8].hex(' ')} ... {data[-4:].hex(' ')} ({len(data)} bytes)"
    if isinstance(value, dict):
        return " ".join(
            f"{key}={format_value(item, full=full, precision=precision)}"
            for key, item in value.items()
        )
    return format_scalar(value, precision)


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: arrays -> lists, bytes -> hex string, numpy scalars -> Python."""
    if is_ndarray(value):
        return [jsonable(v) for v in value.tolist()]
    if is_numpy_scalar(value):
        return jsonable(value.item())
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def format_timestamp(when: datetime | None, *, utc: bool = False) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmm`` in local time (or UTC); ``-`` when missing."""
    if when is None:
        return "-"
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc if utc else None)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def short_error(exc: BaseException, limit: int = 160) -> str:
    """``Type: first line`` of an exception (gRPC errors: their details), at most ``limit``."""
    details = getattr(exc, "details", None)
    text = ""
    if callable(details):
        try:
            text = str(details() or "")
        except Exception:
            text = ""
    text = (text or str(exc)).strip()
    text = text.splitlines()[0] if text else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- readings ------------------------------------------------------------------------------


def reading_record(label: str, reading: Reading) -> dict[str, Any]:
    """The JSON/CSV record of one reading, ``label`` being the DRF as the user typed it."""
    return {
        "drf": label,
        "name": reading.name if _name_ok(reading) else label,
        "value": jsonable(reading.value) if reading.ok else None,
        "units": reading.units,
        "status": status_name(reading.facility_code, reading.error_code),
        "facility_code": reading.facility_code,
        "error_code": reading.error_code,
        "message": reading.message,
        "timestamp": reading.timestamp.isoformat() if reading.timestamp else None,
    }


def _name_ok(reading: Reading) -> bool:
    try:
        reading.name  # noqa: B018  (parses the DRF when there is no meta)
    except (ValueError, TypeError):
        return False
    return True


def table_row(
    label: str, reading: Reading, *, full: bool = False, precision: int | None = None
) -> list[str]:
    """``[name, value, units, status]`` cells for one reading."""
    value = format_value(reading.value, full=full, precision=precision) if reading.ok else "-"
    status = status_name(reading.facility_code, reading.error_code)
    return [label, value, reading.units or "", status]


def render_table(rows: Iterable[Sequence[str]], header: Sequence[str] | None = None) -> str:
    """Rows as left-aligned columns separated by two spaces (no trailing blanks)."""
    table = [list(header)] if header else []
    table += [list(row) for row in rows]
    if not table:
        return ""
    widths = [max(len(row[i]) for row in table if i < len(row)) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_json(records: Sequence[Mapping[str, Any]], *, lines: bool = False) -> str:
    """A JSON array with one record per line, or bare records (JSON lines) when ``lines``."""
    encoded = [json.dumps(r, separators=(", ", ": ")) for r in records]
    if lines:
        return "\n".join(encoded)
    if not encoded:
        return "[]"
    return "[\n  " + ",\n  ".join(encoded) + "\n]"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_csv_cell(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={_csv_cell(v)}" for k, v in value.items())
    if isinstance(value, float):
        return format_scalar(value)
    return str(value)


def render_csv(
    records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, header: bool = True
) -> str:
    """CSV with the given columns; arrays as space-separated values in one cell."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_cell(record.get(column)) for column in columns])
    return out.getvalue().rstrip("\n")


# --- progress ------------------------------------------------------------------------------


def progress_text(done: int, total: int, width: int = 30) -> str:
    """``[######......]  120/500`` for a progress bar on stderr."""
    total = max(total, 1)
    done = min(max(done, 0), total)
    filled = width * done // total
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total}"


def redact_url(value: Any) -> Any:
    """``value`` with any URL password masked (``amqp://guest:***@host``); others unchanged."""
    if not isinstance(value, str):
        return value
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(value)
    if not parts.password:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
