"""The simulator catalogue's records: devices, properties, scaling, status, alarms, families.

Immutable values built by :mod:`pacsys.sim.catalogue_parse` from the catalogue file and kept
by :class:`pacsys.sim.catalogue.Catalogue`; see docs/simulator.md for the file format.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import attrs

from pacsys._arrays import is_ndarray
from pacsys.errors import ScalingError
from pacsys.metadata import ExtStatusBitDef
from pacsys.scaling import Scaler

if TYPE_CHECKING:
    from pacsys.sim.ramps import RampDef

__all__ = [
    "ANALOG_PI",
    "CATALOGUE_ENV",
    "DIGITAL_PI",
    "KINDS",
    "PROPERTY_INDEX",
    "STATUS_ATTRS",
    "AnalogAlarmDef",
    "CatalogueError",
    "ClockEventDef",
    "ControlDef",
    "DeviceDef",
    "DigitalAlarmDef",
    "FamilyDef",
    "ModelDef",
    "PropertyDef",
    "ScalingDef",
    "StatusBitSpec",
]

CATALOGUE_ENV = "PACSYS_SIM_CATALOGUE"
KINDS = ("scalar", "array", "text", "raw")
STATUS_ATTRS = ("on", "ready", "remote", "positive", "ramp")
#: DevDB property indices (PRREAD, PRSET, PRBSTS, PRBCTL, PRANAB, PRDABL).
PROPERTY_INDEX = {"reading": 12, "setting": 13, "status": 14, "control": 15}
ANALOG_PI, DIGITAL_PI = 16, 17


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the file, entry and key."""


# --- records -----------------------------------------------------------------------------


@attrs.frozen
class ScalingDef:
    """raw counts <-> engineering units through DevDB's transforms (a pacsys Scaler).

    Reads of ``.RAW`` give ``unscale(value)``, which saturates at the raw width like an ADC;
    so a raw reading scales back to the reading within one count.
    """

    p_index: int = 2
    c_index: int = 2
    constants: tuple[float, ...] = (1.0, 1.0, 0.0)
    raw_bytes: int = 2
    scaler: Scaler = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        scaler = Scaler(self.p_index, self.c_index, self.constants, self.raw_bytes)
        object.__setattr__(self, "scaler", scaler)

    def to_primary(self, common: Any) -> Any:
        return self.scaler.common_to_primary(common)

    def to_common(self, primary: Any) -> Any:
        return self.scaler.primary_to_common(primary)

    def to_raw(self, common: Any) -> Any:
        """Raw counts (int, or an int64 array) of engineering values, saturating."""
        try:
            return self.scaler.unscale(common)
        except ScalingError:
            if is_ndarray(common):
                import numpy as np  # an array value: numpy is loaded already

                return np.array([self.to_raw(float(v)) for v in common], dtype=np.int64)
        limit = 1 << (8 * self.raw_bytes - 1)
        return limit - 1 if self.to_primary(float(common)) > 0 else -limit

    def from_raw(self, counts: Any) -> Any:
        return self.scaler.scale(counts)


@attrs.frozen
class ModelDef:
    """How a reading moves: base + sine drift + sawtooth ramp + deterministic noise."""

    base: float = 0.0
    amplitude: float = 0.0
    period: float = 60.0
    phase: float = 0.0
    noise: float = 0.0
    ramp_span: float = 0.0
    ramp_period: float = 10.0
    spatial_cycles: float = 1.0
    follow_setting: bool = False
    needs_on: bool = False


@attrs.frozen
class PropertyDef:
    """A READING or SETTING property: kind, units, limits, scaling, initial value, model."""

    kind: str = "scalar"
    units: str | None = None
    primary_units: str | None = None
    min: float = 0.0
    max: float = 0.0
    length: int = 1
    initial: Any = None
    scaling: ScalingDef = ScalingDef()
    model: ModelDef = ModelDef()

    @property
    def limited(self) -> bool:
        return self.max > self.min


@attrs.frozen
class StatusBitSpec:
    """One status bit: its position, names, texts and the basic-status attribute it drives."""

    bit: int
    short_name: str
    long_name: str
    true_str: str
    false_str: str
    attr: str | None = None
    invert: bool = False

    @property
    def mask(self) -> int:
        return 1 << self.bit

    def is_set(self, word: int) -> bool:
        return bool(word & self.mask) ^ self.invert


@attrs.frozen
class ControlDef:
    """A control command: writing ``value`` sets ``set_mask`` and clears ``clear_mask`` bits."""

    value: int
    short_name: str
    long_name: str
    set_mask: int = 0
    clear_mask: int = 0


@attrs.frozen
class AnalogAlarmDef:
    """An analog alarm block: the limits and how the alarm is handled."""

    minimum: float
    maximum: float
    enabled: bool = True
    abort_inhibit: bool = False
    tries_needed: int = 1
    text_id: int | None = None


@attrs.frozen
class DigitalAlarmDef:
    """A digital alarm block: the nominal status bits under ``mask``."""

    nominal: int
    mask: int
    enabled: bool = True
    abort_inhibit: bool = False
    tries_needed: int = 1
    text_id: int | None = None


@attrs.frozen
class DeviceDef:
    """Everything the simulator knows about one device."""

    name: str
    index: int
    description: str
    default_event: str = "p,1000"
    reading: PropertyDef | None = None
    setting: PropertyDef | None = None
    status_bits: tuple[StatusBitSpec, ...] | None = None
    ext_status_bits: tuple[ExtStatusBitDef, ...] = ()
    status_initial: int = 0
    control: tuple[ControlDef, ...] | None = None
    analog_alarm: AnalogAlarmDef | None = None
    digital_alarm: DigitalAlarmDef | None = None
    ramp: RampDef | None = None

    def control_command(self, value: int) -> ControlDef | None:
        for command in self.control or ():
            if command.value == value:
                return command
        return None


@attrs.frozen
class ClockEventDef:
    """A simulated clock (TCLK) event: fires at ``phase + k / rate_hz`` seconds."""

    event: int
    rate_hz: float
    phase: float = 0.0
    description: str = ""

    def last_at_or_before(self, t: float) -> float:
        k = math.floor((t - self.phase) * self.rate_hz + 1e-4)
        return self.phase + k / self.rate_hz


@attrs.frozen
class FamilyDef:
    """``count`` generated devices ``prefix + zero-padded n`` built from one template."""

    prefix: str
    digits: int
    count: int
    first_index: int
    template: DeviceDef
    base_step: float = 0.0
    phase_step: float = 0.0

    def member_number(self, name: str) -> int | None:
        if not name.startswith(self.prefix):
            return None
        rest = name[len(self.prefix) :]
        if len(rest) != self.digits or not rest.isdigit():
            return None
        n = int(rest)
        return n if n < self.count else None

    def member(self, n: int) -> DeviceDef:
        template = self.template
        name = f"{self.prefix}{n:0{self.digits}d}"

        def shifted(prop: PropertyDef | None) -> PropertyDef | None:
            if prop is None:
                return None
            model = attrs.evolve(
                prop.model,
                base=prop.model.base + n * self.base_step,
                phase=prop.model.phase + n * self.phase_step,
            )
            return attrs.evolve(prop, model=model)

        return attrs.evolve(
            template,
            name=name,
            index=self.first_index + n,
            description=template.description.replace("{n}", str(n)),
            reading=shifted(template.reading),
        )
