"""Device metadata as DevDB describes it: scaling, limits, status bits, control commands, alarms.

These frozen records live in core so that every producer (the simulator's catalogue, the
DevDB gRPC client) and every consumer (``Device.info()``, the DevDB server adapter,
``acinfo``) share one shape without importing a transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "AlarmBlockInfo",
    "AlarmInfo",
    "AlarmText",
    "ControlCommandDef",
    "DeviceInfoResult",
    "ExtStatusBitDef",
    "MetadataSource",
    "PropertyInfo",
    "StatusBitDef",
]


@dataclass(frozen=True)
class PropertyInfo:
    """Scaling and metadata for a device property (reading or setting)."""

    primary_units: str | None = None
    common_units: str | None = None
    min_val: float = 0.0
    max_val: float = 0.0
    p_index: int = 0
    c_index: int = 0
    coeff: tuple[float, ...] = ()
    is_step_motor: bool = False
    is_destructive_read: bool = False
    is_fe_scaling: bool = False
    is_contr_setting: bool = False
    is_knobbable: bool = False


@dataclass(frozen=True)
class StatusBitDef:
    """One status bit definition (not a runtime value).

    ``is_active = ((raw & mask) == match) ^ invert``.
    """

    mask: int
    match: int
    invert: bool
    short_name: str
    long_name: str
    true_str: str
    false_str: str
    true_color: int = 0
    true_char: str = ""
    false_color: int = 0
    false_char: str = ""

    def is_active(self, raw: int) -> bool:
        return ((raw & self.mask) == self.match) ^ self.invert


@dataclass(frozen=True)
class ExtStatusBitDef:
    """Extended status bit definition: bit ``bit_no`` shows ``name1`` when set, else ``name0``."""

    bit_no: int
    description: str
    name0: str
    name1: str
    color0: int = 0
    color1: int = 0


@dataclass(frozen=True)
class ControlCommandDef:
    """A control command: writing ``value`` to the CONTROL property performs ``short_name``."""

    value: int
    short_name: str
    long_name: str


@dataclass(frozen=True)
class DeviceInfoResult:
    """Complete device metadata from DevDB."""

    device_index: int
    description: str
    reading: PropertyInfo | None = None
    setting: PropertyInfo | None = None
    control: tuple[ControlCommandDef, ...] | None = None
    status_bits: tuple[StatusBitDef, ...] | None = None
    ext_status_bits: tuple[ExtStatusBitDef, ...] | None = None


@dataclass(frozen=True)
class AlarmBlockInfo:
    """Alarm block information from DevDB (all zeros and ``""`` when absent)."""

    di: int = 0
    pi: int = 0
    status: int = 0
    min_or_nom: int = 0
    max_or_tol: int = 0
    tries_needed: int = 0
    tries_now: int = 0
    clock_event_no: int = 0
    subfunction_code: int = 0
    specific_data: str = ""
    segment: int = 0


@dataclass(frozen=True)
class AlarmInfo:
    """Alarm information for a device from DevDB."""

    device_name: str
    alarm_block: AlarmBlockInfo
    analog_alarm_text_id: int | None = None
    digital_alarm_condition: int | None = None
    digital_alarm_mask: int | None = None
    digital_alarm_text_id: int | None = None


@dataclass(frozen=True)
class AlarmText:
    """Alarm text entry from DevDB."""

    alarm_text_id: int
    length: int = 0
    priority: int = 0
    hand_code: int = 0
    sound_id: int = 0
    speech_id: int = 0
    spare: int = 0
    text: str = ""
    url: str = ""


@runtime_checkable
class MetadataSource(Protocol):
    """Anything that can answer DevDB queries (the simulator does; a DevDB server serves one)."""

    def device_info(self, name: str) -> DeviceInfoResult | None:
        """Metadata of one device (case-insensitive name), or None when unknown."""
        ...

    def alarm_info(self, name: str) -> AlarmInfo | None:
        """Alarm configuration of one device, or None when it has none."""
        ...

    def alarm_text(self, alarm_text_id: int) -> AlarmText | None:
        """One alarm text by id, or None."""
        ...
