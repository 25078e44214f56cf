"""Pure parsing of ACL CGI response text into values (docs/protocols/acl.md §4).

No I/O here: the client hands each response line to these functions together with what
the DRF asked for, and gets back ``(ValueType, value)`` or an :class:`ACLParseError`.
"""

from __future__ import annotations

import re
import string

from pacsys.types import ValueType

__all__ = [
    "STATUS_ATTRIBUTES",
    "ACLParseError",
    "error_message",
    "is_error_line",
    "parse_raw",
    "parse_status_line",
    "parse_value",
    "split_body",
    "value_text",
]

#: Basic-status attributes in request order: (DRF field word, BASIC_STATUS dict key).
STATUS_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("ON", "on"),
    ("READY", "ready"),
    ("REMOTE", "remote"),
    ("POSITIVE", "positive"),
    ("RAMP", "ramp"),
)

_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
_HEX_DIGITS = frozenset(string.hexdigits)


class ACLParseError(ValueError):
    """A response line could not be turned into the value its DRF asked for."""


def split_body(body: str) -> list[str]:
    """Response body -> its lines (surrounding whitespace of the whole body removed)."""
    stripped = body.strip()
    return stripped.splitlines() if stripped else []


def is_error_line(line: str) -> bool:
    """True for ACL error lines: ``! text`` or ``text - CODE`` with no ``=`` before the dash."""
    text = line.strip()
    if text.startswith("!"):
        return True
    head, sep, tail = text.rpartition(" - ")
    if not sep or "=" in head:
        return False
    words = tail.split()
    return bool(words) and _ERROR_CODE.match(words[-1]) is not None


def error_message(line: str) -> str:
    """The message kept for an error line: text after ``!``, else the whole stripped line."""
    text = line.strip()
    return text[1:].strip() if text.startswith("!") else text


def value_text(line: str) -> str:
    """The part after the first ``=`` (stripped), or the whole stripped line without one."""
    _, sep, tail = line.partition("=")
    return tail.strip() if sep else line.strip()


def _to_float(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def parse_value(line: str, *, description: bool = False) -> tuple[ValueType, object]:
    """A value line -> (SCALAR, float) / (SCALAR_ARRAY, list[float]) / (TEXT, str).

    Rules of docs/protocols/acl.md §4.2: descriptions are always text; otherwise a number,
    a number with one units word, several numbers with an optional trailing units word, or
    text.
    """
    text = value_text(line)
    if description:
        return ValueType.TEXT, text
    if not text:
        return ValueType.TEXT, line.strip()
    number = _to_float(text)
    if number is not None:
        return ValueType.SCALAR, number
    tokens = text.split()
    numbers = [_to_float(token) for token in tokens]
    if len(tokens) > 1 and all(n is not None for n in numbers):
        return ValueType.SCALAR_ARRAY, [float(n) for n in numbers if n is not None]
    if len(tokens) > 2 and all(n is not None for n in numbers[:-1]):
        return ValueType.SCALAR_ARRAY, [float(n) for n in numbers[:-1] if n is not None]
    if len(tokens) == 2 and numbers[0] is not None:
        return ValueType.SCALAR, numbers[0]
    return ValueType.TEXT, text


def parse_raw(line: str) -> bytes:
    """``/raw`` output -> wire bytes: each big-endian hex token byte-reversed, concatenated."""
    text = value_text(line)
    if not text:
        return b""
    chunks: list[bytes] = []
    for token in text.split():
        digits = token[2:] if token[:2] in ("0x", "0X") else token
        if not digits or not all(c in _HEX_DIGITS for c in digits):
            break
        if len(digits) % 2:
            digits = "0" + digits
        chunks.append(bytes.fromhex(digits)[::-1])
    if not chunks:
        raise ACLParseError(f"No hex data found in ACL /raw output: {line.strip()}")
    return b"".join(chunks)


def parse_status_line(line: str, field: str) -> bool:
    """``N:LGXS is on = True`` -> True; anything but exactly True/False raises."""
    _, sep, tail = line.partition("=")
    word = tail.strip()
    if not sep or word not in ("True", "False"):
        raise ACLParseError(f"Unparseable {field} line: {line.strip()}")
    return word == "True"
