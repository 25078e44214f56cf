"""RAD50 names: six characters of a 40-letter alphabet packed into 32 bits.

``docs/protocols/acnet.md`` §2. The first three characters go in the low 16 bits. Daemon
commands carry a name as a big-endian u32, the packet header as a little-endian u32.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "check_name", "decode", "decode_stripped", "encode"]

ALPHABET = " ABCDEFGHIJKLMNOPQRSTUVWXYZ$.%0123456789"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_encoded: dict[str, int] = {}


def _half(text: str) -> int:
    a, b, c = (_INDEX.get(ch, 0) for ch in text)
    return (a * 40 + b) * 40 + c


def encode(text: str) -> int:
    """``text`` (upper-cased, padded or cut to 6) as RAD50; unknown characters count as space."""
    value = _encoded.get(text)
    if value is None:
        padded = text.upper().ljust(6)[:6]
        value = _half(padded[3:]) << 16 | _half(padded[:3])
        if len(_encoded) < 4096:
            _encoded[text] = value
    return value


def _chars(half: int) -> str:
    c = half % 40
    half //= 40
    b = half % 40
    a = (half // 40) % 40
    return ALPHABET[a] + ALPHABET[b] + ALPHABET[c]


def decode(value: int) -> str:
    """The six characters of a RAD50 value (trailing spaces kept)."""
    return _chars(value & 0xFFFF) + _chars((value >> 16) & 0xFFFF)


def decode_stripped(value: int) -> str:
    """:func:`decode` without trailing spaces."""
    return decode(value).rstrip(" ")


def check_name(text: object, label: str, *, allow_empty: bool = False) -> int:
    """The RAD50 value of a task or node name the API was given, or TypeError/ValueError.

    ``label`` ("Task name", "Node name", "Vnode name") starts the message. Lower case and
    inner spaces are accepted; a trailing space or a character outside the alphabet is not.
    """
    if not isinstance(text, str):
        raise TypeError(f"{label} must be a string")
    if not text and allow_empty:
        return 0
    if not 1 <= len(text) <= 6:
        raise ValueError(f"{label} must be 1-6 characters")
    value = encode(text)
    if decode_stripped(value) != text.upper():
        raise ValueError(f"{label} contains characters not representable in RAD50")
    return value
