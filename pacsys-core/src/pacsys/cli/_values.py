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

__all__ = ["CONTROL_WORDS", "PutValue", "parse_number", "parse_put_value"]

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
    """A finite number: decimal, exponent or ``0x``/``0o``/``0b`` integer literal."""
    text = word.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            number = float(int(text, 0))
        except ValueError:
            raise ValueError(f"{word!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{word!r} is not a finite number")
    return number


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

    ``text`` takes the words verbatim (joined by spaces); ``array`` (or several words, or
    commas, or ``[...]``) makes a float array; a control word (``on``, ``off``, ``reset``,
    ...) or a CONTROL/STATUS property makes a control command; otherwise one number.
    Raises ValueError naming the offending word.
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
    if prop in _CONTROL_PROPERTIES or (not array and len(words) == 1 and first in CONTROL_WORDS):
        if len(words) != 1 or first not in CONTROL_WORDS:
            raise ValueError(
                f"control command must be one of {_control_names()}, got {' '.join(words)!r}"
            )
        return PutValue("control", CONTROL_WORDS[first])
    joined = " ".join(words)
    if array or len(words) > 1 or "," in joined or joined.strip().startswith("["):
        numbers = []
        for item in _array_items(words):
            try:
                numbers.append(parse_number(item))
            except ValueError as exc:
                raise ValueError(f"array element {exc}") from None
        import numpy as np

        return PutValue("array", np.asarray(numbers, dtype=np.float64))
    try:
        return PutValue("scalar", parse_number(words[0]))
    except ValueError as exc:
        raise ValueError(
            f"{exc}; use --text to write text, or a control command ({_control_names()})"
        ) from None
