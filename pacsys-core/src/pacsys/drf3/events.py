"""DRF events (the text after ``@``): when data is delivered, plus time-frequency tokens."""

from __future__ import annotations

import re
from typing import overload

from pacsys.drf3._frozen import Frozen, build, init_values, slot
from pacsys.drf3._lazyre import LazyPattern

__all__ = [
    "ClockEvent",
    "DefaultEvent",
    "DrfEvent",
    "ImmediateEvent",
    "NeverEvent",
    "PeriodicEvent",
    "StateEvent",
    "parse_event",
    "parse_time_freq",
]

INT_MAX = 2147483647

_TIME_FREQ_RE = LazyPattern(r"(\d+)([SMUHK]?)", re.IGNORECASE)
_PERIODIC_RE = LazyPattern(r"([PQ])(?:,(\w+)(?:,(TRUE|T|FALSE|F))?)?", re.IGNORECASE)
_CLOCK_RE = LazyPattern(r"E,([0-9A-F]+)(?:,([HSE])(?:,(\w+))?)?", re.IGNORECASE)
_STATE_RE = LazyPattern(r"S,(\S+),(\d+),(\w+),(!=|<=|>=|=|\*|>|<)", re.IGNORECASE)

# Unit letter -> canonical unit. Includes the non-ASCII letters Python's case-insensitive
# matching accepts for S and K (long s U+017F, Kelvin sign U+212A).
_UNITS = {
    "": "M",
    "m": "M",
    "M": "M",
    "s": "S",
    "S": "S",
    "\u017f": "S",
    "u": "U",
    "U": "U",
    "h": "H",
    "H": "H",
    "k": "K",
    "K": "K",
    "\u212a": "K",
}


def _to_int(digits: str, token: str) -> int:
    try:
        return int(digits)
    except ValueError:  # beyond Python's int-from-string digit limit: certainly too large
        raise ValueError(f"Bad time-freq value: {token}") from None


def parse_time_freq(token: str) -> int:
    """Milliseconds for a time-frequency token: ``n`` / ``nM`` ms, ``nS`` s, ``nU`` us, ``nH`` Hz,
    ``nK`` kHz (rounded half up). Raises ``ValueError`` for anything else or n > 2147483647."""
    if token.isdecimal():  # fast path: plain milliseconds
        number = _to_int(token, token)
        if number > INT_MAX:
            raise ValueError(f"Bad time-freq value: {token}")
        return number
    match = _TIME_FREQ_RE.fullmatch(token)
    if match is None:
        raise ValueError(f"Bad time-freq value: {token}")
    digits, unit = match.groups()
    number = _to_int(digits, token)
    if number > INT_MAX:
        raise ValueError(f"Bad time-freq value: {token}")
    unit = _UNITS[unit]
    if unit == "M":
        return number
    if unit == "S":
        return number * 1000
    if number == 0:
        return 0
    if unit == "U":
        return (number + 500) // 1000  # round(n / 1000), half up
    if unit == "H":
        return (2000 + number) // (2 * number)  # round(1000 / n), half up
    return (2 + number) // (2 * number)  # K: round(1 / n), half up


class DrfEvent(Frozen):
    """Base of all events: ``mode`` (one of U I P Q E S N) and ``raw_string``.

    Events compare equal when their raw strings are equal (``p,1000`` differs from ``P,1000``).
    """

    __slots__ = ()

    raw_string: str = slot(0, "event text as kept by the parser")
    mode: str = slot(1, "event kind: U, I, P, Q, E, S or N")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DrfEvent):
            return NotImplemented
        return self._v[0] == other._v[0]

    def __hash__(self) -> int:
        return hash(self._v[0])

    def __str__(self) -> str:
        return self._v[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._v[0]!r})"


def _fixed_event_init(event: DrfEvent, letter: str, raw_string: str) -> None:
    if raw_string.upper() != letter:
        raise ValueError(f"{type(event).__name__} text must be {letter!r}, got {raw_string!r}")
    init_values(event, (letter, letter))


class DefaultEvent(DrfEvent):
    """No event written (``U``): the server's default delivery; never printed in canonical DRF."""

    __slots__ = ()

    def __init__(self, raw_string: str = "U") -> None:
        _fixed_event_init(self, "U", raw_string)


class ImmediateEvent(DrfEvent):
    """``I``: one reply now."""

    __slots__ = ()

    def __init__(self, raw_string: str = "I") -> None:
        _fixed_event_init(self, "I", raw_string)


class NeverEvent(DrfEvent):
    """``N``: never deliver data (used for settings)."""

    __slots__ = ()

    def __init__(self, raw_string: str = "N") -> None:
        _fixed_event_init(self, "N", raw_string)


class PeriodicEvent(DrfEvent):
    """``P`` (continuous) or ``Q`` (non-continuous) periodic delivery, e.g. ``p,1000``."""

    __slots__ = ()

    def __init__(self, raw_string: str) -> None:
        init_values(self, _periodic_values(raw_string))

    freq: int = slot(2, "period in milliseconds")
    imm: bool = slot(3, "also deliver one reading immediately")
    cont: bool = slot(4, "True for P (continuous), False for Q")
    period_ms: int = slot(2, "alias of freq")
    immediate: bool = slot(3, "alias of imm")
    continuous: bool = slot(4, "alias of cont")


class ClockEvent(DrfEvent):
    """``E,<hex event>[,H|S|E[,delay]]``: delivery on a clock (TCLK) event."""

    __slots__ = ()

    def __init__(self, raw_string: str) -> None:
        init_values(self, _clock_values(raw_string))

    evt: int = slot(2, "clock event number")
    clock_type: str = slot(3, "H, S or E as typed, or 'either' when omitted")
    delay: int = slot(4, "delay after the event in milliseconds")
    clock_event: int = slot(2, "alias of evt")
    delay_ms: int = slot(4, "alias of delay")


class StateEvent(DrfEvent):
    """``S,<device>,<value>,<delay>,<op>``: delivery when a state device's value matches."""

    __slots__ = ()

    def __init__(self, raw_string: str) -> None:
        init_values(self, _state_values(raw_string))

    device: str = slot(2, "state device name as typed")
    value: int = slot(3, "state value compared against")
    delay: int = slot(4, "delay in milliseconds")
    expression: str = slot(5, "comparison operator: = != * > < <= >=")
    state_device: str = slot(2, "alias of device")
    state_value: int = slot(3, "alias of value")
    delay_ms: int = slot(4, "alias of delay")


_PERIODIC_LETTER = {"p": "P", "P": "P", "q": "Q", "Q": "Q"}
_FLAG_IMMEDIATE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _periodic_values(raw: str) -> tuple[str, str, int, bool, bool]:
    # Fast path for the usual shapes (p / p,1000 / p,1000,F); anything else takes the regex.
    parts = raw.split(",")
    mode = _PERIODIC_LETTER.get(parts[0])
    if mode is not None:
        count = len(parts)
        if count == 1:
            return (raw, mode, 1000, True, mode == "P")
        if count <= 3 and parts[1].isdecimal():
            immediate = True if count == 2 else _FLAG_IMMEDIATE.get(parts[2].upper())
            if immediate is not None:  # shape is valid; only the number can still fail
                return (raw, mode, parse_time_freq(parts[1]), immediate, mode == "P")
    match = _PERIODIC_RE.fullmatch(raw)
    if match is None:
        raise ValueError(f"Bad periodic event {raw}")
    letter, freq, flag = match.groups()
    mode = letter.upper()
    period = 1000 if freq is None else parse_time_freq(freq)
    immediate = flag is None or flag[0] not in "Ff"
    return (raw, mode, period, immediate, mode == "P")


def _clock_values(raw: str) -> tuple[str, str, int, str, int]:
    match = _CLOCK_RE.fullmatch(raw)
    if match is None:
        raise ValueError(f"Bad clock event {raw}")
    number, clock_type, delay = match.groups()
    return (
        raw,
        "E",
        int(number, 16),
        "either" if clock_type is None else clock_type,
        0 if delay is None else parse_time_freq(delay),
    )


def _state_values(raw: str) -> tuple[str, str, str, int, int, str]:
    match = _STATE_RE.fullmatch(raw)
    if match is None:
        raise ValueError(f"Bad state event {raw}")
    device, value, delay, expression = match.groups()
    try:
        number = int(value)
    except ValueError:  # beyond Python's int-from-string digit limit
        raise ValueError(f"Bad state event {raw}") from None
    return (raw, "S", device, number, parse_time_freq(delay), expression)


DEFAULT_EVENT = DefaultEvent()
IMMEDIATE_EVENT = ImmediateEvent()
NEVER_EVENT = NeverEvent()


_EVENT_BY_CHAR = {
    "p": "P",
    "P": "P",
    "q": "P",
    "Q": "P",
    "e": "E",
    "E": "E",
    "s": "S",
    "S": "S",
}
_FIXED_BY_CHAR: dict[str, DrfEvent] = {
    "u": DEFAULT_EVENT,
    "U": DEFAULT_EVENT,
    "i": IMMEDIATE_EVENT,
    "I": IMMEDIATE_EVENT,
    "n": NEVER_EVENT,
    "N": NEVER_EVENT,
}


@overload
def parse_event(text: str) -> DrfEvent: ...
@overload
def parse_event(text: None) -> None: ...
def parse_event(text: str | None) -> DrfEvent | None:
    """Event object for the text after ``@``; None stays None.

    Dispatch is on the upper-cased text: exactly ``U``, ``I`` or ``N``, else the first letter
    (P/Q periodic, E clock, S state).
    """
    if text is None:
        return None
    if not text:
        raise ValueError("event string must not be empty")
    first = text[0]
    if len(text) == 1:
        fixed = _FIXED_BY_CHAR.get(first)
        if fixed is not None:
            return fixed
    kind = _EVENT_BY_CHAR.get(first)
    if kind is None and not first.isascii():
        return _parse_event_unicode(text)
    if kind == "P":
        return build(PeriodicEvent, _periodic_values(text))
    if kind == "E":
        return build(ClockEvent, _clock_values(text))
    if kind == "S":
        return build(StateEvent, _state_values(text))
    if first in "nN":
        raise ValueError(f"Invalid never event: {text}")
    raise ValueError(f"Invalid event: {text}")


def _parse_event_unicode(text: str) -> DrfEvent:
    """Slow path for a non-ASCII first character (e.g. dotless i upper-cases to I)."""
    upper = text.upper()
    if upper == "U":
        return DEFAULT_EVENT
    if upper == "I":
        return IMMEDIATE_EVENT
    head = upper[0]
    if head in "PQ":
        return build(PeriodicEvent, _periodic_values(text))
    if head == "E":
        return build(ClockEvent, _clock_values(text))
    if head == "S":
        return build(StateEvent, _state_values(text))
    if head == "N":
        if upper == "N":
            return NEVER_EVENT
        raise ValueError(f"Invalid never event: {text}")
    raise ValueError(f"Invalid event: {text}")
