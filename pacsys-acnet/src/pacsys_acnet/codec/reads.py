"""The device address RETDAT, GETS32 and FTPMAN share, and one device's raw answer.

``docs/protocols/acnet.md`` §7.1.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

import numpy as np

__all__ = [
    "ReadDevice",
    "ReadValue",
    "ReadValues",
    "ReplyLayout",
    "check_int",
    "check_ssdn",
    "padded_size",
]

_RETDAT_RECORD = struct.Struct("<I8sHH")
_GETS32_RECORD = struct.Struct("<I8sII")


def check_int(value: object, name: str, maximum: int) -> int:
    """``value`` when it is a real int in 0..maximum; TypeError/ValueError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    if not 0 <= value <= maximum:
        raise ValueError(f"{name} must be 0..{maximum}, got {value}")
    return value


def check_ssdn(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise TypeError("ssdn must be bytes in wire order")
    if len(value) != 8:
        raise ValueError("ssdn must contain exactly 8 bytes")
    return bytes(value)


def padded_size(length: int) -> int:
    """Bytes a device's slot takes in a reply: status, data, pad to even."""
    return 2 + length + (length & 1)


class ReadDevice:
    """One property of one device: device index, property index, SSDN, bytes and offset.

    Immutable; its request records (RETDAT's when length and offset fit 16 bits, GETS32's)
    and its slot size in a reply are computed once, here.
    """

    __slots__ = ("_gets32", "_retdat", "_slot", "di", "length", "offset", "pi", "ssdn")
    di: int
    pi: int
    ssdn: bytes
    length: int
    offset: int
    _retdat: bytes | None  # None when length or offset needs more than 16 bits
    _gets32: bytes
    _slot: int

    def __init__(self, di: int, pi: int, ssdn: bytes, length: int, offset: int = 0) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "di", check_int(di, "di", 0xFFFFFF))
        setattr_(self, "pi", check_int(pi, "pi", 0xFF))
        setattr_(self, "ssdn", check_ssdn(ssdn))
        setattr_(self, "length", check_int(length, "length", 0xFFFFFFFF))
        setattr_(self, "offset", check_int(offset, "offset", 0xFFFFFFFF))
        dipi = pi << 24 | di
        fits = length <= 0xFFFF and offset <= 0xFFFF
        setattr_(self, "_retdat", _RETDAT_RECORD.pack(dipi, ssdn, length, offset) if fits else None)
        setattr_(self, "_gets32", _GETS32_RECORD.pack(dipi, ssdn, length, offset))
        setattr_(self, "_slot", padded_size(length))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ReadDevice is immutable: cannot set {name}")

    @property
    def dipi(self) -> int:
        """``pi << 24 | di``, sent as a little-endian u32."""
        return self.pi << 24 | self.di

    def _key(self) -> tuple[int, int, bytes, int, int]:
        return (self.di, self.pi, self.ssdn, self.length, self.offset)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReadDevice) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"ReadDevice(di={self.di}, pi={self.pi}, ssdn={self.ssdn!r}, "
            f"length={self.length}, offset={self.offset})"
        )


class ReadValue(NamedTuple):
    """One device's answer: its status and its raw bytes (with the odd-length pad)."""

    status: int
    data: bytes


class ReplyLayout:
    """Where each device's slot (status, data, pad) lies in a reply, from byte ``start``."""

    __slots__ = ("sizes", "starts", "total")

    def __init__(self, devices: Sequence[ReadDevice], start: int = 0) -> None:
        slots = np.fromiter((d._slot for d in devices), np.int64, len(devices))
        ends = np.cumsum(slots)
        self.starts = start + ends - slots
        self.sizes = slots - 2
        self.total = start + (int(ends[-1]) if len(ends) else 0)


class ReadValues(Sequence[ReadValue]):
    """The per-device answers of one reply, made into :class:`ReadValue` on access.

    Behaves as a read-only list (index, slice, iterate, compare); :attr:`statuses` gives
    every status at once as an int16 array.
    """

    __slots__ = ("_data", "_layout")

    def __init__(self, data: bytes, layout: ReplyLayout) -> None:
        self._data = data
        self._layout = layout

    def __len__(self) -> int:
        return len(self._layout.sizes)

    def _value(self, start: int, size: int) -> ReadValue:
        data = self._data
        status = data[start] | data[start + 1] << 8
        return ReadValue(
            status - 0x10000 if status & 0x8000 else status,
            data[start + 2 : start + 2 + size],
        )

    @overload
    def __getitem__(self, index: int) -> ReadValue: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReadValue]: ...

    def __getitem__(self, index: int | slice) -> ReadValue | list[ReadValue]:
        if isinstance(index, slice):
            return list(self)[index]
        layout = self._layout
        return self._value(int(layout.starts[index]), int(layout.sizes[index]))

    def __iter__(self) -> Iterator[ReadValue]:
        value = self._value
        for start, size in zip(
            self._layout.starts.tolist(), self._layout.sizes.tolist(), strict=True
        ):
            yield value(start, size)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReadValues | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    @property
    def statuses(self) -> np.ndarray:
        """Every device's status (int16), without building the values."""
        words = np.frombuffer(self._data, "<i2", len(self._data) // 2)
        return words[self._layout.starts // 2].copy()

    def __repr__(self) -> str:
        return f"ReadValues({list(self)!r})"
