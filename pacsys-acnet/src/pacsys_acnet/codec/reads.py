"""The device address RETDAT, GETS32 and FTPMAN share, and one device's raw answer.

``docs/protocols/acnet.md`` §7.1.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ReadDevice", "ReadValue", "check_int", "check_ssdn", "padded_size"]


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
    """One property of one device: device index, property index, SSDN, bytes and offset."""

    __slots__ = ("di", "length", "offset", "pi", "ssdn")

    def __init__(self, di: int, pi: int, ssdn: bytes, length: int, offset: int = 0) -> None:
        object.__setattr__(self, "di", check_int(di, "di", 0xFFFFFF))
        object.__setattr__(self, "pi", check_int(pi, "pi", 0xFF))
        object.__setattr__(self, "ssdn", check_ssdn(ssdn))
        object.__setattr__(self, "length", check_int(length, "length", 0xFFFFFFFF))
        object.__setattr__(self, "offset", check_int(offset, "offset", 0xFFFFFFFF))

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
