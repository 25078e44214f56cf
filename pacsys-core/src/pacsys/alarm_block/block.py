"""The 20-byte alarm block of an ANALOG or DIGITAL property, decoded and encoded to the byte.

Layout (little-endian)::

    0  u16  flags (AlarmFlags)          10 u8   tries_now
    2  4    value1: minimum or nominal  11 u8   tries_needed
    6  4    value2: maximum, tolerance  12 u16  FTD word
            or (digital) mask           14 6    front-end data (byte 16: data type)

Value fields hold *raw* device data, as the front end compares them; engineering limits
exist only in the structured reading DPM scales (``minimum``/``maximum`` after ``read``).
"""

from __future__ import annotations

import struct
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pacsys.alarm_block import io
from pacsys.alarm_block.ftd import FTD

if TYPE_CHECKING:
    from pacsys.backends import Backend
    from pacsys.device import Device
    from pacsys.types import WriteResult

__all__ = [
    "AlarmBlock",
    "AlarmFlags",
    "AnalogAlarm",
    "DataLength",
    "DataType",
    "DigitalAlarm",
    "LimitType",
]

BLOCK_SIZE = 20
_A = TypeVar("_A", bound="_Stored")
_LAYOUT = struct.Struct("<H4s4sBBH6s")


class AlarmFlags(IntFlag):
    """Bits of the flags word. ENABLE set means the alarm is active (BYPASS is an alias)."""

    ENABLE = 0x0001
    BYPASS = 0x0001
    BAD = 0x0002
    ABORT = 0x0004
    ABORT_INHIBIT = 0x0008
    Q0 = 0x0020
    Q1 = 0x0040
    DIGITAL = 0x0080
    K0 = 0x0100
    K1 = 0x0200
    LOW = 0x0800
    HIGH = 0x1000
    EVENT = 0x2000
    LOG_EVENT = 0x4000
    DISPLAY_EVENT = 0x8000


class DataLength(IntEnum):
    """Width of the value fields (flag bits Q)."""

    BYTES_1 = 0
    BYTES_2 = 1
    BYTES_4 = 2


class LimitType(IntEnum):
    """How an analog block reads value1/value2 (flag bits K)."""

    NOM_TOL = 0
    NOM_PCT_TOL = 1
    MIN_MAX = 2


class DataType(IntEnum):
    """The analog data type, in the low two bits of front-end data byte 2."""

    UNKNOWN = 0
    SIGNED_INT = 1
    UNSIGNED_INT = 2
    FLOAT = 3


_Q_SHIFT, _K_SHIFT = 5, 8
_BYTES = {DataLength.BYTES_1: 1, DataLength.BYTES_2: 2, DataLength.BYTES_4: 4}


def _fit(data: bytes, size: int, name: str) -> bytes:
    """``data`` padded with zeros to ``size`` bytes; longer data is refused, never cut."""
    data = bytes(data)
    if len(data) > size:
        raise ValueError(f"{name} holds at most {size} bytes, got {len(data)}")
    return data.ljust(size, b"\0")


def _byte(name: str, value: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ValueError(f"{name} must be an int in 0..{high}, got {value!r}")
    return value


def _int_bytes(name: str, value: Any, size: int, signed: bool) -> bytes:
    number = int(value)
    try:
        data = number.to_bytes(size, "little", signed=signed)
    except OverflowError as exc:
        kind = "signed" if signed else "unsigned"
        raise OverflowError(f"{name} = {number} does not fit {size} {kind} bytes: {exc}") from None
    return data.ljust(4, b"\xff" if number < 0 else b"\0")


@dataclass
class AlarmBlock:
    """One alarm block (either kind); ``from_bytes``/``to_bytes`` round-trip it exactly."""

    flags: int = 0
    value1_raw: bytes = b"\0" * 4
    value2_raw: bytes = b"\0" * 4
    tries_needed: int = 1
    tries_now: int = 0
    ftd: FTD = field(default_factory=FTD.default)
    fe_data: bytes = b"\0" * 6
    # Structured (engineering-unit) data from a read(): the current copy and the snapshot.
    _structured: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _snapshot: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        """Decode the first 20 bytes (ValueError when there are fewer)."""
        data = bytes(data)
        if len(data) < BLOCK_SIZE:
            raise ValueError(f"Alarm block requires {BLOCK_SIZE} bytes, got {len(data)}")
        flags, v1, v2, now, needed, word, fe = _LAYOUT.unpack_from(data)
        return cls(flags, v1, v2, needed, now, FTD.from_word(word), fe)

    def to_bytes(self) -> bytes:
        """The 20-byte block; ValueError naming the field when one cannot be encoded."""
        return _LAYOUT.pack(
            _byte("flags", self.flags, 0xFFFF),
            _fit(self.value1_raw, 4, "value1_raw"),
            _fit(self.value2_raw, 4, "value2_raw"),
            _byte("tries_now", self.tries_now, 0xFF),
            _byte("tries_needed", self.tries_needed, 0xFF),
            self.ftd.to_word(),
            _fit(self.fe_data, 6, "fe_data"),
        )

    # --- flags -------------------------------------------------------------------------

    def _flag(self, bit: int) -> bool:
        return bool(self.flags & bit)

    def _set_flag(self, bit: int, on: bool, structured_key: str | None = None) -> None:
        self.flags = int(self.flags | bit if on else self.flags & ~bit)
        if structured_key is not None and self._structured is not None:
            self._structured[structured_key] = bool(on)

    @property
    def is_active(self) -> bool:
        """The alarm is enabled (flag bit 0 set); ``bypass`` is its negation."""
        return self._flag(AlarmFlags.ENABLE)

    @is_active.setter
    def is_active(self, value: bool) -> None:
        self._set_flag(AlarmFlags.ENABLE, bool(value), "alarm_enable")

    @property
    def bypass(self) -> bool:
        return not self.is_active

    @bypass.setter
    def bypass(self, value: bool) -> None:
        self.is_active = not value

    @property
    def is_bad(self) -> bool:
        """The device is in alarm."""
        return self._flag(AlarmFlags.BAD)

    @property
    def abort(self) -> bool:
        """The alarm can abort the beam."""
        return self._flag(AlarmFlags.ABORT)

    @property
    def abort_inhibit(self) -> bool:
        return self._flag(AlarmFlags.ABORT_INHIBIT)

    @abort_inhibit.setter
    def abort_inhibit(self, value: bool) -> None:
        self._set_flag(AlarmFlags.ABORT_INHIBIT, bool(value), "abort_inhibit")

    @property
    def abort_enabled(self) -> bool:
        return self.abort and not self.abort_inhibit

    @property
    def is_digital(self) -> bool:
        return self._flag(AlarmFlags.DIGITAL)

    @property
    def data_length(self) -> DataLength:
        """Width of the values (ValueError for the reserved Q = 3)."""
        return DataLength((self.flags >> _Q_SHIFT) & 3)

    @data_length.setter
    def data_length(self, value: DataLength | int) -> None:
        self.flags = (self.flags & ~0x60) | DataLength(value) << _Q_SHIFT

    @property
    def data_bytes(self) -> int:
        return _BYTES[self.data_length]

    def _value(self, raw: bytes, signed: bool) -> int:
        return int.from_bytes(_fit(raw, 4, "value")[: self.data_bytes], "little", signed=signed)


class _Stored(AlarmBlock):
    """A block that lives in a device property (``_PROPERTY``): read, write and modify it."""

    _PROPERTY: ClassVar[str] = ""

    @classmethod
    def read(
        cls: type[_A], device: str | Device, backend: Backend | None = None, segment: int = 0
    ) -> _A:
        """The device's block (segment 0) with its structured engineering-unit reading.

        ``device`` is a device name or any DRF of it, or a Device; ``backend`` defaults to
        the Device's, else the global one. DeviceError when the raw block cannot be read.
        """
        return io.read(cls, device, backend, segment)

    def write(
        self, device: str | Device, backend: Backend | None = None, segment: int = 0
    ) -> WriteResult:
        """Send this block raw (RuntimeError when the server refuses it)."""
        return io.write(self, device, backend, segment)

    @classmethod
    def modify(
        cls: type[_A], device: str | Device, backend: Backend | None = None, segment: int = 0
    ) -> AbstractContextManager[_A]:
        """``with AnalogAlarm.modify("M:OUTTMP") as block:`` edit; one write on a clean exit.

        Engineering limits (``minimum``/``maximum``) and alarm_enable/abort_inhibit/
        tries_needed go out in structured form, other edits as the raw block; nothing is
        written when the body raises or changes nothing. A refused write raises RuntimeError.
        """
        return io.modify(cls, device, backend, segment)


class AnalogAlarm(_Stored):
    """An analog alarm block: limits on a reading, in raw units (``value1``/``value2``)."""

    _PROPERTY = "ANALOG"

    @property
    def limit_type(self) -> LimitType:
        """How value1/value2 read (ValueError for the reserved K = 3)."""
        return LimitType((self.flags >> _K_SHIFT) & 3)

    @limit_type.setter
    def limit_type(self, value: LimitType | int) -> None:
        self.flags = (self.flags & ~0x300) | LimitType(value) << _K_SHIFT

    @property
    def is_high(self) -> bool:
        return self._flag(AlarmFlags.HIGH)

    @property
    def is_low(self) -> bool:
        return self._flag(AlarmFlags.LOW)

    @property
    def data_type(self) -> DataType:
        return DataType(self.fe_data[2] & 3) if len(self.fe_data) > 2 else DataType.UNKNOWN

    @data_type.setter
    def data_type(self, value: DataType | int) -> None:
        kind = DataType(value)
        if len(self.fe_data) >= 6:  # shorter front-end data has no type byte (ACNET: no-op)
            fe = bytearray(self.fe_data)
            fe[2] = (fe[2] & ~3) | kind
            self.fe_data = bytes(fe)

    def _typed(self, raw: bytes) -> int | float:
        size = self.data_bytes  # the reserved Q = 3 fails here, whatever the type
        kind = self.data_type
        if kind is DataType.FLOAT:
            return struct.unpack("<f", _fit(raw, 4, "value"))[0]
        return int.from_bytes(
            _fit(raw, 4, "value")[:size], "little", signed=kind is not DataType.UNSIGNED_INT
        )

    def _encode(self, name: str, value: Any) -> bytes:
        size = self.data_bytes
        if self.data_type is DataType.FLOAT:
            try:
                return struct.pack("<f", float(value))
            except OverflowError as exc:
                raise OverflowError(f"{name} = {value!r}: {exc}") from None
        return _int_bytes(name, value, size, self.data_type is not DataType.UNSIGNED_INT)

    @property
    def value1(self) -> int | float:
        """Minimum (MIN_MAX) or nominal, in raw units of the data type."""
        return self._typed(self.value1_raw)

    @value1.setter
    def value1(self, value: float) -> None:
        self.value1_raw = self._encode("value1", value)

    @property
    def value2(self) -> int | float:
        """Maximum (MIN_MAX) or tolerance, in raw units of the data type."""
        return self._typed(self.value2_raw)

    @value2.setter
    def value2(self, value: float) -> None:
        self.value2_raw = self._encode("value2", value)

    def _limit(self, key: str) -> float | None:
        return None if self._structured is None else self._structured.get(key)

    def _set_limit(self, key: str, value: float) -> None:
        if self._structured is None:
            raise ValueError("No structured data available for engineering-unit limits")
        self._structured[key] = value

    @property
    def minimum(self) -> float | None:
        """Engineering-unit minimum from the structured read (None without one)."""
        return self._limit("minimum")

    @minimum.setter
    def minimum(self, value: float) -> None:
        self._set_limit("minimum", value)

    @property
    def maximum(self) -> float | None:
        """Engineering-unit maximum from the structured read (None without one)."""
        return self._limit("maximum")

    @maximum.setter
    def maximum(self, value: float) -> None:
        self._set_limit("maximum", value)

    def __repr__(self) -> str:
        state = "active" if self.is_active else "bypassed"
        alarm = "ALARM" if self.is_bad else "ok"
        notes = ""
        try:
            if self._structured is not None:
                low, high = self._structured.get("minimum"), self._structured.get("maximum")
            else:
                low, high = self.value1, self.value2
        except ValueError:  # reserved Q = 3: show the raw bytes
            low, high = self.value1_raw.hex(), self.value2_raw.hex()
            notes = " (unknown Q=3; raw hex fallback)"
        k = (self.flags >> _K_SHIFT) & 3
        kind = {0: " (NOM_TOL raw)", 1: " (NOM_PCT_TOL raw)", 3: " (unknown K=3)"}.get(k, "")
        return f"AnalogAlarm({state}, {alarm}, min={low}, max={high}{kind}{notes}, {self.ftd!r})"


class DigitalAlarm(_Stored):
    """A digital alarm block: the ``nominal`` status bits under ``mask``."""

    _PROPERTY = "DIGITAL"

    @property
    def nominal(self) -> int:
        return self._value(self.value1_raw, signed=False)

    @nominal.setter
    def nominal(self, value: int) -> None:
        self.value1_raw = _int_bytes("nominal", value, self.data_bytes, signed=False)

    @property
    def mask(self) -> int:
        return self._value(self.value2_raw, signed=False)

    @mask.setter
    def mask(self, value: int) -> None:
        self.value2_raw = _int_bytes("mask", value, self.data_bytes, signed=False)

    def __repr__(self) -> str:
        state = "active" if self.is_active else "bypassed"
        alarm = "ALARM" if self.is_bad else "ok"
        try:
            values = f"nom=0x{self.nominal:X}, mask=0x{self.mask:X}"
        except ValueError:
            values = (
                f"nominal_raw={self.value1_raw.hex()}, mask_raw={self.value2_raw.hex()}, "
                "unknown Q=3"
            )
        return f"DigitalAlarm({state}, {alarm}, {values}, {self.ftd!r})"
