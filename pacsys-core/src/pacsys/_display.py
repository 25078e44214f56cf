"""Short human texts for readings and write results: ``str``, ``repr`` and notebook HTML.

Values are summarised so that a reading of a 10 000-element array still prints as one
short line: arrays show their first and last elements, their length and dtype; long
strings, byte strings and lists are cut with an ellipsis and their length.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pacsys._arrays import loaded_numpy

__all__ = ["field_repr", "html_table", "scalar_text", "status_text", "time_text", "value_text"]

EDGE = 3
"""Elements shown at each end of a summarised array or list."""
MAX_TEXT = 60
"""Characters of a string shown before it is cut."""
MAX_BYTES = 16
"""Bytes of a byte string shown (in hex) before it is cut."""
SUMMARISED = frozenset({"value", "readback"})
"""Fields whose values :func:`field_repr` summarises."""


def value_text(value: Any) -> str:
    """A one-line summary of a reading's value."""
    np = loaded_numpy()
    if np is not None:
        if isinstance(value, np.ndarray):
            return _array_text(value, np)
        if isinstance(value, np.generic):
            value = value.item()
    if isinstance(value, float | int | bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        if len(value) <= MAX_TEXT:
            return repr(value)
        return f"{value[:MAX_TEXT]!r}… ({len(value)} chars)"
    if isinstance(value, bytes | bytearray):
        shown = bytes(value[:MAX_BYTES]).hex(" ")
        more = "…" if len(value) > MAX_BYTES else ""
        return f"<{len(value)} bytes: {shown}{more}>"
    if isinstance(value, list | tuple):
        return _sequence_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {value_text(v)}" for k, v in value.items()) + "}"
    return repr(value)


def scalar_text(value: Any) -> str:
    """:func:`value_text`, with a long float shortened to 6 significant digits (``str``)."""
    np = loaded_numpy()
    if np is not None and isinstance(value, np.floating):
        value = value.item()
    if isinstance(value, float):
        return _element_text(value)
    return value_text(value)


def _sequence_text(items: list[Any] | tuple[Any, ...]) -> str:
    open_, close = ("[", "]") if isinstance(items, list) else ("(", ")")
    if len(items) <= 2 * EDGE:
        return open_ + ", ".join(map(value_text, items)) + close
    shown = [*map(value_text, items[:EDGE]), "…", *map(value_text, items[-EDGE:])]
    return f"{open_}{', '.join(shown)}{close} ({len(items)} items)"


def _array_text(array: Any, np: Any) -> str:
    size = "x".join(map(str, array.shape)) if array.ndim != 1 else str(array.size)
    if array.ndim == 1 and array.dtype.kind in "biuf":
        items = array.tolist()
        if len(items) > 2 * EDGE:
            items = [*items[:EDGE], ..., *items[-EDGE:]]
        body = "[" + ", ".join(map(_element_text, items)) + "]"
    else:
        body = np.array2string(
            array, threshold=2 * EDGE, edgeitems=EDGE, separator=", ", max_line_width=10**9
        )
        body = " ".join(body.split())
    return f"{body} ({size} {array.dtype})"


def _element_text(item: Any) -> str:
    if item is ...:
        return "…"
    if isinstance(item, float):
        text = repr(item)
        return text if len(text) <= 8 else f"{item:.6g}"
    return str(item)


def time_text(when: datetime) -> str:
    """``2024-01-02 03:04:05.000 UTC``: milliseconds, and the zone when there is one."""
    text = f"{when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 1000:03d}"
    offset = when.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0):
        return f"{text} UTC"
    return f"{text}{when:%z}"


def status_text(
    error_code: int, facility_code: int, message: str | None, drf: str | None = None
) -> str:
    """``ok``, or ``warning: …``/``error: …`` with the status message.

    A message starting with ``drf`` (some backends name the device) drops that prefix,
    since the line already starts with the DRF.
    """
    if error_code == 0:
        return "ok"
    if message and drf and message.startswith(f"{drf}: "):
        message = message[len(drf) + 2 :]
    kind = "warning" if error_code > 0 else "error"
    return f"{kind}: {message or f'facility={facility_code}, error={error_code}'}"


def field_repr(name: str, fields: Iterable[tuple[str, Any, Any]]) -> str:
    """``Name(a=…, b=…)`` with the fields that differ from their defaults.

    ``fields`` holds (name, value, default). Values of ``value``/``readback`` are
    summarised (:func:`value_text`), other strings shown in full.
    """
    shown = [
        f"{key}={value_text(value) if key in SUMMARISED else _repr_of(value)}"
        for key, value, default in fields
        if not _is_default(value, default)
    ]
    return f"{name}({', '.join(shown)})"


def _is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    return default is not None and type(value) is type(default) and value == default


def _repr_of(value: Any) -> str:
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value)


def html_table(caption: str, rows: Iterable[tuple[str, str]]) -> str:
    """A small two-column HTML table (rows of label, text), everything escaped."""
    import html

    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
        f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
        for label, text in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"
