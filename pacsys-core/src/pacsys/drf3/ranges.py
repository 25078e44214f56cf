"""DRF ranges: array element ranges ``[low:high]`` and byte ranges ``{offset:length}``."""

from __future__ import annotations

import re

from pacsys.drf3._frozen import Frozen, build, init_values, slot
from pacsys.drf3._lazyre import LazyPattern

__all__ = ["ARRAY_RANGE", "BYTE_RANGE", "RANGE_MODES", "parse_range"]

INT_MAX = 2147483647
INT_MIN = -2147483648

RANGE_MODES = frozenset(("full", "std", "single"))

# "[" [int] [":" [int]] "]" ; the same shape with braces for byte ranges.
_ARRAY_RE = LazyPattern(r"\[(\d*)(:?)(\d*)\]")
_BYTE_RE = LazyPattern(r"\{(\d*)(:?)(\d*)\}")


def _check_mode(mode: str) -> None:
    if mode not in RANGE_MODES:
        raise ValueError(f"range mode must be one of full, std, single, got {mode!r}")


def _check_array(low: int | None, high: int | None) -> None:
    if low is not None and not 0 <= low <= INT_MAX:
        raise ValueError(f"array range start must be 0..2147483647, got {low}")
    if high is not None and not 0 <= high <= INT_MAX:
        raise ValueError(f"array range end must be 0..2147483647, got {high}")
    if low is not None and high is not None and high < low:
        raise ValueError(f"array range end must not precede start, got [{low}:{high}]")


def _check_byte(offset: int | None, length: int | None, mode: str | None) -> None:
    if offset is not None:
        if offset < 0:
            raise ValueError("offset must be non-negative")
        if offset > INT_MAX:
            raise ValueError("offset exceeds Integer.MAX_VALUE")
    if length is not None:
        if length > INT_MAX:
            raise ValueError("length exceeds Integer.MAX_VALUE")
        # INT_MIN is the "whole value" length sentinel; it only describes a full range.
        if length < 0 and not (length == INT_MIN and mode == "full" and offset in (0, None)):
            raise ValueError("length must be non-negative")
        if offset is not None and length >= 0 and offset + length > INT_MAX + 1:
            raise ValueError("offset + length must be less than Integer.MAX_VALUE")


def _bound(value: int | None) -> str:
    return "" if value is None else str(value)


def _check_int(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{name} must be an int or None, got {type(value).__name__}")


class ARRAY_RANGE(Frozen):
    """Inclusive element-index range ``[low:high]``; ``mode`` is ``full``, ``std`` or ``single``."""

    __slots__ = ()

    def __init__(self, low: int | None = None, high: int | None = None, mode: str | None = None):
        _check_int("low", low)
        _check_int("high", high)
        if mode is None:
            mode = "full" if low is None and high is None else "std"
        _check_mode(mode)
        _check_array(low, high)
        init_values(self, (mode, low, high))

    mode: str = slot(0, "full, std or single")
    low: int | None = slot(1, "first element index, or None")
    high: int | None = slot(2, "last element index (inclusive), or None")

    def __str__(self) -> str:
        mode, low, high = self._v
        if mode == "full":
            return "[:]"
        if mode == "single":
            return f"[{_bound(low)}]"
        return f"[{_bound(low)}:{_bound(high)}]"

    def __repr__(self) -> str:
        mode, low, high = self._v
        return f"ARRAY_RANGE(low={low!r}, high={high!r}, mode={mode!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not ARRAY_RANGE:
            return NotImplemented
        return self._v == other._v

    def __hash__(self) -> int:
        return hash(("array", *self._v))


class BYTE_RANGE(Frozen):
    """Byte range ``{offset:length}``; ``mode`` is ``full``, ``std``, ``single`` or None (= std)."""

    __slots__ = ()

    def __init__(
        self, offset: int | None = None, length: int | None = None, mode: str | None = None
    ):
        _check_int("offset", offset)
        _check_int("length", length)
        if mode is not None:
            _check_mode(mode)
        _check_byte(offset, length, mode)
        init_values(self, (mode, offset, length))

    mode: str | None = slot(0, "full, std, single, or None (rendered like std)")
    offset: int | None = slot(1, "first byte offset, or None")
    length: int | None = slot(2, "number of bytes, or None")

    def __str__(self) -> str:
        mode, offset, length = self._v
        if mode == "full":
            return "{:}"
        if mode == "single":
            return "{" + _bound(offset) + "}"
        return "{" + _bound(offset) + ":" + _bound(length) + "}"

    def __repr__(self) -> str:
        mode, offset, length = self._v
        return f"BYTE_RANGE(offset={offset!r}, length={length!r}, mode={mode!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not BYTE_RANGE:
            return NotImplemented
        return self._v == other._v

    def __hash__(self) -> int:
        return hash(("byte", *self._v))


def _split(match: re.Match[str]) -> tuple[str, int | None, int | None]:
    """Mode and the two numbers of a matched range body."""
    first, colon, second = match.groups()
    low = int(first) if first else None
    high = int(second) if second else None
    if colon:
        mode = "full" if low is None and high is None else "std"
    else:
        mode = "full" if low is None else "single"
    return mode, low, high


def parse_range_text(text: str) -> ARRAY_RANGE | BYTE_RANGE:
    """Fast path for range text already shaped ``[digits/colons]`` or ``{digits/colons}``.

    The top-level DRF grammar guarantees that shape, so only the colon count and the bounds need
    checking here.
    """
    body = text[1:-1]
    if ":" in body:
        first, _, second = body.partition(":")
        if ":" in second:
            raise ValueError(f"Bad range {text}")
        low = int(first) if first else None
        high = int(second) if second else None
        mode = "full" if low is None and high is None else "std"
    else:
        low = int(body) if body else None
        high = None
        mode = "full" if low is None else "single"
    if text[0] == "[":
        _check_array(low, high)
        return build(ARRAY_RANGE, (mode, low, high))
    _check_byte(low, high, mode)
    return build(BYTE_RANGE, (mode, low, high))


def parse_range(text: str | None) -> ARRAY_RANGE | BYTE_RANGE | None:
    """Parse ``[...]`` or ``{...}`` range text; None stays None."""
    if text is None:
        return None
    if text[:1] == "[":
        match = _ARRAY_RE.fullmatch(text)
        if match is not None:
            mode, low, high = _split(match)
            _check_array(low, high)
            return build(ARRAY_RANGE, (mode, low, high))
    else:
        match = _BYTE_RE.fullmatch(text)
        if match is not None:
            mode, offset, length = _split(match)
            _check_byte(offset, length, mode)
            return build(BYTE_RANGE, (mode, offset, length))
    raise ValueError(f"Bad range {text}")
