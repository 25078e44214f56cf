"""Pure text rendering of values and errors as ACL prints them (docs/protocols/acl.md §4.1).

Layouts (``NAME`` left-justified in a 15-character column, then ``=``)::

    M:OUTTMP       =  72.500 DegF          numeric: sign column, number, units
    G:AMANDA       =  66    oops           integers padded to 5 columns before units
    M:OUTTMP       = 2C9F                  raw: one big-endian hex token
    M:OUTTMP = Outdoor temperature (F)     text
    Z:ACLTST is on = False                 basic-status attribute
    Z:ACLTST alarm maximum = 50 blip       alarm-block field
    Invalid device name (Z:BAD) in read device command at line 1 - DBM_NOREC

Floats print with ``decimals`` places (3, as the real service does); integers as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "alarm_line",
    "array_line",
    "error_line",
    "format_number",
    "format_value",
    "raw_line",
    "scalar_line",
    "single_line",
    "status_line",
    "text_line",
]

NAME_WIDTH = 15
_INTEGER_FIELD = 6  # sign column + 5 digits


def single_line(text: str) -> str:
    """Collapse line breaks so one value never spans several output lines."""
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def _label(name: str) -> str:
    return f"{name:<{NAME_WIDTH - 1}} ="


def format_number(value: Any, decimals: int = 3) -> str:
    """``72.5`` -> ``72.500``, ``66`` -> ``66``; tiny/huge floats in exponent form."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    magnitude = abs(number)
    if magnitude >= 1e9 or (magnitude != 0 and magnitude < 10.0**-decimals):
        return f"{number:.{decimals}e}"
    return f"{number:.{decimals}f}"


def format_value(value: Any, decimals: int = 3) -> str:
    """Any plain value as ACL prints it in ``print`` and text contexts."""
    if isinstance(value, str):
        return single_line(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)[::-1].hex().upper()
    if isinstance(value, np.ndarray | list | tuple):
        return "  ".join(format_value(v, decimals) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {format_value(v, decimals)}" for k, v in value.items())
    if value is None:
        return ""
    return format_number(value, decimals)


def scalar_line(
    name: str,
    value: Any,
    units: str | None,
    *,
    decimals: int = 3,
    no_name: bool = False,
    no_units: bool = False,
) -> str:
    """``M:OUTTMP       =  72.500 DegF`` (or its bare-value form with ``no_name``)."""
    text = format_number(value, decimals)
    field = text if text.startswith("-") else " " + text
    if units and not no_units:
        if text.lstrip("-").isdigit():  # integers sit in a 5-wide column before the units
            field = f"{field:<{_INTEGER_FIELD}}"
        field = f"{field} {single_line(units)}"
    return f" {field}" if no_name else f"{_label(name)} {field}"


def array_line(
    name: str,
    values: Iterable[Any],
    units: str | None,
    *,
    decimals: int = 3,
    no_name: bool = False,
    no_units: bool = False,
) -> str:
    """``B:HS23T        =  45.000  2.200  2.000 mm``: values two spaces apart, units last."""
    text = "  ".join(format_number(v, decimals) for v in values)
    if units and not no_units:
        text = f"{text} {single_line(units)}"
    return f"  {text}" if no_name else f"{_label(name)}  {text}"


def raw_line(name: str, data: bytes, *, no_name: bool = False) -> str:
    """``M:OUTTMP       = 2C9F``: the wire (little-endian) bytes as one big-endian number."""
    text = bytes(data)[::-1].hex().upper()
    return text if no_name else f"{_label(name)} {text}".rstrip()


def text_line(name: str, text: str, *, no_name: bool = False) -> str:
    """``M:OUTTMP = Outdoor temperature (F)``."""
    text = single_line(text)
    return text if no_name else f"{name} = {text}".rstrip()


def status_line(name: str, attribute: str, flag: bool) -> str:
    """``Z:ACLTST is on = False`` (attribute words: on, ready, remote, positive, ramping)."""
    return f"{name} is {attribute} = {'True' if flag else 'False'}"


def alarm_line(name: str, field: str, value: Any, units: str | None, *, decimals: int = 3) -> str:
    """``Z:ACLTST alarm maximum = 50 blip``."""
    text = format_value(value, decimals)
    if units and not isinstance(value, bool | str):
        text = f"{text} {single_line(units)}"
    return f"{name} alarm {field} = {text}"


def error_line(description: str, code: str, device: str | None = None) -> str:
    """``<description> - [<DEVICE> ]<CODE>`` (CODE upper-case with an underscore)."""
    target = f"{device} {code}" if device else code
    return f"{single_line(description)} - {target}"
