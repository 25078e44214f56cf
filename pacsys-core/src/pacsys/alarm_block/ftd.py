"""The FTD word of an alarm block: when the front end checks the alarm.

Bit 15 clear: periodic, every ``period_ticks`` 60 Hz ticks (0 means the device's database
default). Bit 15 set: on TCLK event ``clock_event`` (bits 0-7), ``delay_10ms`` later
(bits 8-14, in 10 ms units).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FTD"]

_EVENT_BIT = 0x8000


def _check(name: str, value: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ValueError(f"{name} must be 0-{high}, got {value}")


@dataclass
class FTD:
    """Alarm check timing; mutable, and validated again by :meth:`to_word`."""

    is_periodic: bool
    period_ticks: int = 0
    clock_event: int = 0
    delay_10ms: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """ValueError naming the field when the current fields cannot be encoded."""
        if self.is_periodic:
            _check("period_ticks", self.period_ticks, 0x7FFF)
        else:
            _check("clock_event", self.clock_event, 0xFF)
            _check("delay_10ms", self.delay_10ms, 0x7F)

    def to_word(self) -> int:
        self.validate()
        if self.is_periodic:
            return self.period_ticks
        return _EVENT_BIT | self.delay_10ms << 8 | self.clock_event

    @classmethod
    def from_word(cls, value: int) -> FTD:
        if value & _EVENT_BIT:
            return cls(False, clock_event=value & 0xFF, delay_10ms=(value >> 8) & 0x7F)
        return cls(True, period_ticks=value & 0x7FFF)

    @classmethod
    def default(cls) -> FTD:
        """Periodic at the device's database default rate (period 0)."""
        return cls(True)

    @classmethod
    def periodic_ticks(cls, ticks: int) -> FTD:
        return cls(True, period_ticks=ticks)

    @classmethod
    def periodic_hz(cls, hz: float) -> FTD:
        """The period nearest below ``hz`` in whole 60 Hz ticks (7 Hz gives 8 ticks, 7.5 Hz)."""
        if not hz > 0:
            raise ValueError(f"hz must be positive, got {hz}")
        ticks = int(60.0 / hz)
        if ticks < 1:
            raise ValueError(f"hz must not exceed 60 (one 60Hz tick), got {hz}")
        return cls(True, period_ticks=ticks)

    @classmethod
    def on_event(cls, event: int, delay_ms: int = 0) -> FTD:
        """On TCLK ``event``, ``delay_ms`` later (floored to 10 ms, at most 1279 ms)."""
        if delay_ms < 0 or delay_ms // 10 > 0x7F:
            raise ValueError(f"delay_ms must be 0-1279, got {delay_ms}")
        return cls(False, clock_event=event, delay_10ms=delay_ms // 10)

    @property
    def rate_hz(self) -> float:
        """Check rate in Hz: 0.0 in event mode or for the default period."""
        if not self.is_periodic or not self.period_ticks:
            return 0.0
        return 60.0 / self.period_ticks

    def __repr__(self) -> str:
        if self.is_periodic:
            return (
                "FTD(default)" if not self.period_ticks else f"FTD(periodic={self.rate_hz:.2f}Hz)"
            )
        delay = f"+{self.delay_10ms * 10}ms" if self.delay_10ms else ""
        return f"FTD(event=${self.clock_event:02X}{delay})"
