"""Pure parsing of acput's value words into what gets written (number, array, text, command).

Everything is decided here, before any backend is opened, so a typo never reaches a device.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pacsys.drf3 import DRF_PROPERTY
from pacsys.types import BasicControl

if TYPE_CHECKING:
    import numpy as np  # imported where an array value is parsed: scalar puts skip it

__all__ = ["CONTROL_WORDS", "PutValue", "parse_number", "parse_put_value", "parse_word"]

#: Control command words accepted by acput (``on``, ``off``, ``reset``, ...).
CONTROL_WORDS: dict[str, BasicControl] = {member.name.lower(): member for member in BasicControl}

_CONTROL_PROPERTIES = (DRF_PROPERTY.CONTROL, DRF_PROPERTY.STATUS)
_SEPARATORS = re.compile(r"[\s,]+")


@dataclasses.dataclass(frozen=True)
class PutValue:
    """A parsed value: ``kind`` is ``scalar``, ``array``, ``text`` or ``control``."""

    kind: str
    value: float | np.ndarray | str | BasicControl = dataclasses.field(compare=False)

    def describe(self) -> str:
        """Short human text for summaries: ``45``, ``[1 2 3]``, ``'hello'``, ``ON``."""
        if isinstance(self.value, BasicControl):
            return self.value.name
        if isinstance(self.value, str):
            return repr(self.value)
        from pacsys.cli._format import format_value

        return format_value(self.value)


def _control_names() -> str:
    return ", ".join(CONTROL_WORDS)


def parse_number(word: str) -> float:
    """A finite decimal number (``1``, ``-2.5``, ``1e3``); ValueError otherwise."""
    try:
        number = float(word.strip())
    except ValueError:
        raise ValueError(f"{word!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"non-finite value not allowed: {word!r}")
    return number


def _float_array(values: Sequence[float | None]) -> np.ndarray:
    """A float64 array of ``values``; numpy is imported here, so scalar puts never load it."""
    import numpy as np

    return np.asarray(values, dtype=np.float64)


def _float_or_none(word: str) -> float | None:
    try:
        number = float(word.strip())
    except ValueError:
        return None
    if not math.isfinite(number):
        raise ValueError(f"non-finite value not allowed: {word!r}")
    return number


def parse_word(word: str, prop: DRF_PROPERTY | None = None) -> PutValue:
    """One VALUE word as pacsys 0.3.0's acput read it (docs/cli.md, "acput").

    A control word -> command; ``1,2,3`` -> array; a number -> scalar; ``[1 2 3]`` ->
    array; anything else (``hello``, ``a,b``, ``0x10``) -> text.  ``nan``/``inf`` are
    refused.  A CONTROL/STATUS DRF accepts only control words.
    """
    lowered = word.strip().lower()
    if lowered in CONTROL_WORDS:
        return PutValue("control", CONTROL_WORDS[lowered])
    if prop in _CONTROL_PROPERTIES:
        raise ValueError(f"control command must be one of {_control_names()}, got {word!r}")
    stripped = word.strip()
    if "," in word:
        parts = [_float_or_none(part) for part in word.split(",")]
        if all(part is not None for part in parts):
            return PutValue("array", _float_array(parts))
        return PutValue("text", word)
    number = _float_or_none(word)
    if number is not None:
        return PutValue("scalar", number)
    if stripped.startswith("[") and stripped.endswith("]"):
        items = [_float_or_none(item) for item in _array_items([stripped])]
        if all(item is not None for item in items):
            return PutValue("array", _float_array(items))
    return PutValue("text", word)


def _array_items(words: Sequence[str]) -> list[str]:
    joined = " ".join(words).strip()
    if joined.startswith("[") and joined.endswith("]"):
        joined = joined[1:-1]
    items = [item for item in _SEPARATORS.split(joined) if item]
    if not items:
        raise ValueError("empty array: give at least one value")
    return items


def parse_put_value(
    words: Sequence[str],
    *,
    text: bool = False,
    array: bool = False,
    prop: DRF_PROPERTY | None = None,
) -> PutValue:
    """Turn the value words of ``acput DEVICE VALUE...`` into a :class:`PutValue`.

    ``text`` takes the words verbatim (joined by spaces); ``array`` or several words make a
    float array; one word is read by :func:`parse_word`.  Raises ValueError naming the
    offending word.
    """
    if text and array:
        raise ValueError("--text and --array cannot be combined")
    if not words:
        raise ValueError("no value given")
    if text:
        if prop in _CONTROL_PROPERTIES:
            raise ValueError("text cannot be written to the CONTROL property")
        return PutValue("text", " ".join(words))
    first = words[0].strip().lower()
    if not array and len(words) == 1:
        return parse_word(words[0], prop)
    if prop in _CONTROL_PROPERTIES:
        if len(words) != 1 or first not in CONTROL_WORDS:
            raise ValueError(
                f"control command must be one of {_control_names()}, got {' '.join(words)!r}"
            )
        return PutValue("control", CONTROL_WORDS[first])
    numbers = []
    for item in _array_items(words):
        try:
            numbers.append(parse_number(item))
        except ValueError as exc:
            raise ValueError(
                f"array element {exc}; use --text to write several words as text"
            ) from None
    return PutValue("array", _float_array(numbers))
