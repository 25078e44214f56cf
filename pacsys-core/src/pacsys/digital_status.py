"""Digital status of a device: its status bits with names, display texts and set/clear state.

Built from whatever a backend or DevDB delivers (BIT_VALUE/BIT_NAMES/BIT_VALUES arrays,
BASIC_STATUS dicts, DevDB bit definitions) so callers see one shape everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pacsys.types import Reading, ValueType

__all__ = ["DigitalStatus", "StatusBit"]

_BASIC_ATTRIBUTES = ("on", "ready", "remote", "positive", "ramp")

# Normalised bit names (lower case, letters and digits only) -> basic-status attribute.
_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("on", "onoff", "pwr", "power"), "on"),
    **dict.fromkeys(("ready", "readytripped", "sts", "status"), "ready"),
    **dict.fromkeys(("remote", "remotelocal", "ctrl", "control"), "remote"),
    **dict.fromkeys(("positive", "polarity", "pol"), "positive"),
    **dict.fromkeys(("ramp", "rampdc", "ref", "reference"), "ramp"),
}

# Display texts that mean "not set" in gRPC-style status dicts.
_FALSE_TEXTS = frozenset(
    {"no", "off", "false", "tripped", "trip", "local", "negative", "minus", "dc", "0", ""}
)


@dataclasses.dataclass(frozen=True)
class StatusBit:
    """One status bit: its position in the status word, name, display text and state."""

    position: int
    name: str
    value: str
    is_set: bool

    def __bool__(self) -> bool:
        return self.is_set


@dataclasses.dataclass(frozen=True)
class DigitalStatus:
    """All status bits of one device plus the five basic attributes when recognisable.

    ``on``/``ready``/``remote``/``positive``/``ramp`` are None when no bit could be
    identified as that attribute.
    """

    device: str
    raw_value: int
    bits: tuple[StatusBit, ...]
    on: bool | None = None
    ready: bool | None = None
    remote: bool | None = None
    positive: bool | None = None
    ramp: bool | None = None

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def from_bit_arrays(
        cls,
        device: str,
        raw_value: int,
        bit_names: Sequence[str],
        bit_values: Sequence[str],
    ) -> DigitalStatus:
        """From the BIT_VALUE word and the parallel BIT_NAMES / BIT_VALUES lists."""
        bits = []
        for i in range(max(len(bit_names), len(bit_values))):
            name = bit_names[i] if i < len(bit_names) else ""
            value = bit_values[i] if i < len(bit_values) else ""
            if not name and not value:
                continue
            bits.append(StatusBit(i, name, value, bool((raw_value >> i) & 1)))
        return cls._with_inferred(device, raw_value, bits)

    @classmethod
    def from_status_dict(
        cls, device: str, status_dict: Mapping[str, Any], raw_value: int | None = None
    ) -> DigitalStatus:
        """From a BASIC_STATUS dict: ``{"on": True, …}`` (PC/DMQ) or ``{"On": "No", …}`` (gRPC)."""
        values = list(status_dict.values())
        if values and isinstance(values[0], bool):
            attributes = {
                key: bool(status_dict[key]) if key in status_dict else None
                for key in _BASIC_ATTRIBUTES
            }
            bits = [
                StatusBit(position, key.capitalize(), str(state), state)
                for position, (key, state) in enumerate(attributes.items())
                if state is not None
            ]
            raw = _synthetic_word(bits) if raw_value is None else raw_value
            return cls(device, raw, tuple(bits), **attributes)
        bits = [
            StatusBit(position, str(name), str(text), _text_is_set(str(text)))
            for position, (name, text) in enumerate(status_dict.items())
        ]
        raw = _synthetic_word(bits) if raw_value is None else raw_value
        return cls._with_inferred(device, raw, bits)

    @classmethod
    def from_devdb_bits(
        cls,
        device: str,
        raw_value: int,
        bit_defs: Sequence[Any],
        ext_bit_defs: Sequence[Any] | None = None,
    ) -> DigitalStatus:
        """From DevDB definitions: basic (mask/match/invert) and extended (bit_no) bits."""
        bits = []
        for index, definition in enumerate(bit_defs):
            word = ~raw_value if definition.invert else raw_value
            is_set = (word & definition.mask) == definition.match
            position = _lowest_bit(definition.mask) if definition.mask else index
            text = definition.true_str if is_set else definition.false_str
            bits.append(StatusBit(position, definition.short_name, text, is_set))
        taken = {bit.position for bit in bits}
        for definition in ext_bit_defs or ():
            bit_no = definition.bit_no
            if bit_no in taken:
                continue
            taken.add(bit_no)
            is_set = bool((raw_value >> bit_no) & 1)
            name = definition.description or f"bit{bit_no}"
            text = definition.name1 if is_set else definition.name0
            bits.append(StatusBit(bit_no, name, text, is_set))
        bits.sort(key=lambda bit: bit.position)
        return cls._with_inferred(device, raw_value, bits)

    @classmethod
    def from_reading(cls, reading: Reading) -> DigitalStatus:
        """From a BASIC_STATUS Reading (device name taken from the reading)."""
        if reading.value_type is not ValueType.BASIC_STATUS:
            raise ValueError(f"Expected BASIC_STATUS reading, got {reading.value_type}")
        if reading.value is None:
            raise ValueError("Reading has no value")
        if not isinstance(reading.value, Mapping):
            raise TypeError(f"Expected dict value, got {type(reading.value).__name__}")
        return cls.from_status_dict(reading.name, reading.value)

    @classmethod
    def _with_inferred(cls, device: str, raw_value: int, bits: list[StatusBit]) -> DigitalStatus:
        """Build an instance whose basic attributes are guessed from the bit names."""
        attributes: dict[str, bool | None] = dict.fromkeys(_BASIC_ATTRIBUTES)
        for bit in bits:
            attribute = _SYNONYMS.get(_normalise(bit.name))
            if attribute is not None:
                attributes[attribute] = bit.is_set
        return cls(device, raw_value, tuple(bits), **attributes)

    # --- lookup ---------------------------------------------------------------------------

    def __getitem__(self, key: str | int) -> StatusBit:
        if isinstance(key, str):
            wanted = key.lower()
            for bit in self.bits:
                if bit.name.lower() == wanted:
                    return bit
            raise KeyError(f"No status bit named {key!r}")
        if isinstance(key, int):
            for bit in self.bits:
                if bit.position == key:
                    return bit
            raise IndexError(f"No status bit at position {key}")
        raise TypeError(f"Key must be str or int, got {type(key).__name__}")

    def get(self, key: str | int, default: StatusBit | None = None) -> StatusBit | None:
        """The bit for a name or position, or ``default`` when there is none."""
        try:
            return self[key]
        except (KeyError, IndexError):
            return default

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[StatusBit]:
        return iter(self.bits)

    def __len__(self) -> int:
        return len(self.bits)

    def to_dict(self) -> dict[str, str]:
        """``{bit name: display text}`` in bit order."""
        return {bit.name: bit.value for bit in self.bits}

    def __str__(self) -> str:
        sign = "-" if self.raw_value < 0 else ""
        lines = [f"{self.device} status={sign}0x{abs(self.raw_value):02X}"]
        width = max((len(bit.name) for bit in self.bits), default=0) + 1
        lines.extend(f"  {(bit.name + ':').ljust(width)} {bit.value}" for bit in self.bits)
        return "\n".join(lines)


def _normalise(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())


def _text_is_set(text: str) -> bool:
    return text.strip().lower() not in _FALSE_TEXTS


def _synthetic_word(bits: list[StatusBit]) -> int:
    word = 0
    for bit in bits:
        if bit.is_set:
            word |= 1 << bit.position
    return word


def _lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1
