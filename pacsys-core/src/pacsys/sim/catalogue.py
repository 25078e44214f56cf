"""The simulator's device catalogue: a JSON file of devices, families and clock events.

The shipped catalogue (``pacsys/sim/data/catalogue.json``) is always loaded first unless a
user file says ``"include_default": false``; a user file (``SimBackend(catalogue=path)`` or
``$PACSYS_SIM_CATALOGUE``) adds devices, replaces same-named ones, and adds clock events
and families. The catalogue also answers DevDB queries (:class:`pacsys.metadata.MetadataSource`).
See docs/simulator.md for the file format.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from pacsys.drf3.names import canonical_device, is_acnet_name
from pacsys.errors import ScalingError
from pacsys.metadata import (
    AlarmBlockInfo,
    AlarmInfo,
    AlarmText,
    ControlCommandDef,
    DeviceInfoResult,
    ExtStatusBitDef,
    PropertyInfo,
    StatusBitDef,
)
from pacsys.scaling import Scaler

if TYPE_CHECKING:
    from pacsys.sim.ramps import RampDef

__all__ = [
    "CATALOGUE_ENV",
    "AnalogAlarmDef",
    "Catalogue",
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
    "load_catalogue",
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
            if isinstance(common, np.ndarray):
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


# --- parsing -----------------------------------------------------------------------------


class _Reader:
    """Typed access to one JSON object, with errors that say where."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise CatalogueError(f"{where}: expected an object, got {type(data).__name__}")
        self.data = data
        self.where = where

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            names = " or ".join(k.__name__ for k in kinds)
            raise CatalogueError(
                f"{self.where}: {key!r} must be {names}, got {type(value).__name__}"
            )
        return value

    def require(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.data:
            raise CatalogueError(f"{self.where}: missing required key {key!r}")
        return self.get(key, kind)

    def int_like(self, key: str, default: int | None = None) -> int | None:
        """An int, or a string in any Python integer notation (``"0x0F"``)."""
        value = self.get(key, (int, str), default)
        if isinstance(value, str):
            try:
                return int(value, 0)
            except ValueError:
                raise CatalogueError(
                    f"{self.where}: {key!r} must be an integer, got {value!r}"
                ) from None
        return value

    def child(self, key: str) -> _Reader | None:
        value = self.data.get(key)
        return None if value is None else _Reader(value, f"{self.where}.{key}")

    def check_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise CatalogueError(f"{self.where}: unknown key(s) {', '.join(unknown)}")


def _scaling(r: _Reader | None) -> ScalingDef:
    if r is None:
        return ScalingDef()
    r.check_keys({"p_index", "c_index", "constants", "slope", "offset", "raw_bytes"})
    raw_bytes = r.get("raw_bytes", int, 2)
    if raw_bytes not in (1, 2, 4):
        raise CatalogueError(f"{r.where}: raw_bytes must be 1, 2 or 4")
    if "constants" in r.data:
        if "slope" in r.data or "offset" in r.data:
            raise CatalogueError(f"{r.where}: give either constants or slope/offset, not both")
        items = r.get("constants", list)
        if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in items):
            raise CatalogueError(f"{r.where}: constants must be numbers")
        constants = tuple(float(c) for c in items)
    else:  # common = slope * primary + offset (c_index 2: C1*x/C2 + C3)
        slope = r.get("slope", float, 1.0)
        if slope == 0:
            raise CatalogueError(f"{r.where}: slope must not be 0")
        constants = (slope, 1.0, r.get("offset", float, 0.0))
    scaling = ScalingDef(
        p_index=r.get("p_index", int, 2),
        c_index=r.get("c_index", int, 2),
        constants=constants,
        raw_bytes=raw_bytes,
    )
    try:
        scaling.from_raw(1)
    except ScalingError as exc:
        raise CatalogueError(f"{r.where}: this scaling cannot convert raw data: {exc}") from None
    return scaling


_MODEL_KEYS = {f.name for f in attrs.fields(ModelDef)}


def _model(r: _Reader | None) -> ModelDef:
    if r is None:
        return ModelDef()
    r.check_keys(_MODEL_KEYS)
    values: dict[str, Any] = {}
    for field in attrs.fields(ModelDef):
        kind = bool if isinstance(field.default, bool) else float
        if field.name in r.data:
            values[field.name] = r.get(field.name, kind)
    if values.get("period", 1.0) <= 0 or values.get("ramp_period", 1.0) <= 0:
        raise CatalogueError(f"{r.where}: period and ramp_period must be positive")
    return ModelDef(**values)


def _property(r: _Reader) -> PropertyDef:
    r.check_keys(
        {"kind", "units", "primary_units", "min", "max", "length", "initial", "scaling", "model"}
    )
    kind = r.get("kind", str, "scalar")
    if kind not in KINDS:
        raise CatalogueError(f"{r.where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    length = r.get("length", int, 1024 if kind == "array" else 64 if kind == "text" else 8)
    if length < 1:
        raise CatalogueError(f"{r.where}: length must be positive")
    initial = r.data.get("initial")
    if kind == "raw" and initial is not None:
        try:
            initial = bytes.fromhex(r.get("initial", str))
        except ValueError:
            raise CatalogueError(f"{r.where}: initial raw data must be hex text") from None
    if kind == "text" and initial is not None:
        initial = r.get("initial", str)
    if kind in ("scalar", "array") and initial is not None:
        initial = r.get("initial", float)
    return PropertyDef(
        kind=kind,
        units=r.get("units", str),
        primary_units=r.get("primary_units", str),
        min=r.get("min", float, 0.0),
        max=r.get("max", float, 0.0),
        length=length,
        initial=initial,
        scaling=_scaling(r.child("scaling")),
        model=_model(r.child("model")),
    )


def _status(r: _Reader) -> tuple[tuple[StatusBitSpec, ...], tuple[ExtStatusBitDef, ...], int]:
    r.check_keys({"initial", "bits", "ext_bits"})
    bits = []
    for i, item in enumerate(r.get("bits", list, [])):
        b = _Reader(item, f"{r.where}.bits[{i}]")
        b.check_keys({"bit", "short", "long", "true", "false", "attr", "invert"})
        attr = b.get("attr", str)
        if attr is not None and attr not in STATUS_ATTRS:
            raise CatalogueError(f"{b.where}: attr must be one of {', '.join(STATUS_ATTRS)}")
        bit = b.require("bit", int)
        if not 0 <= bit < 32:
            raise CatalogueError(f"{b.where}: bit must be 0..31")
        bits.append(
            StatusBitSpec(
                bit=bit,
                short_name=b.require("short", str),
                long_name=b.get("long", str, ""),
                true_str=b.get("true", str, "1"),
                false_str=b.get("false", str, "0"),
                attr=attr,
                invert=b.get("invert", bool, False),
            )
        )
    ext = []
    for i, item in enumerate(r.get("ext_bits", list, [])):
        e = _Reader(item, f"{r.where}.ext_bits[{i}]")
        e.check_keys({"bit", "description", "name0", "name1"})
        ext.append(
            ExtStatusBitDef(
                bit_no=e.require("bit", int),
                description=e.get("description", str, ""),
                name0=e.get("name0", str, "0"),
                name1=e.get("name1", str, "1"),
            )
        )
    return tuple(bits), tuple(ext), r.int_like("initial", 0) or 0


def _controls(items: list[Any], where: str) -> tuple[ControlDef, ...]:
    commands = []
    for i, item in enumerate(items):
        c = _Reader(item, f"{where}[{i}]")
        c.check_keys({"value", "short", "long", "set", "clear"})
        commands.append(
            ControlDef(
                value=c.require("value", int),
                short_name=c.require("short", str),
                long_name=c.get("long", str, ""),
                set_mask=c.int_like("set", 0) or 0,
                clear_mask=c.int_like("clear", 0) or 0,
            )
        )
    return tuple(commands)


def _analog_alarm(r: _Reader) -> AnalogAlarmDef:
    r.check_keys({"minimum", "maximum", "enabled", "abort_inhibit", "tries_needed", "text_id"})
    return AnalogAlarmDef(
        minimum=r.require("minimum", float),
        maximum=r.require("maximum", float),
        enabled=r.get("enabled", bool, True),
        abort_inhibit=r.get("abort_inhibit", bool, False),
        tries_needed=r.get("tries_needed", int, 1),
        text_id=r.get("text_id", int),
    )


def _digital_alarm(r: _Reader) -> DigitalAlarmDef:
    r.check_keys({"nominal", "mask", "enabled", "abort_inhibit", "tries_needed", "text_id"})
    return DigitalAlarmDef(
        nominal=r.int_like("nominal", 0) or 0,
        mask=r.int_like("mask", 0) or 0,
        enabled=r.get("enabled", bool, True),
        abort_inhibit=r.get("abort_inhibit", bool, False),
        tries_needed=r.get("tries_needed", int, 1),
        text_id=r.get("text_id", int),
    )


_DEVICE_KEYS = {
    "name",
    "index",
    "description",
    "default_event",
    "reading",
    "setting",
    "status",
    "control",
    "analog_alarm",
    "digital_alarm",
    "ramp",
}


def _device(r: _Reader, name: str, index: int, cycle_us: float) -> DeviceDef:
    status = r.child("status")
    bits, ext, initial = _status(status) if status is not None else (None, (), 0)
    control = r.get("control", list)
    reading, setting = r.child("reading"), r.child("setting")
    analog, digital = r.child("analog_alarm"), r.child("digital_alarm")
    default_event = r.get("default_event", str, "p,1000")
    ramp_spec = r.child("ramp")
    ramp = None
    if ramp_spec is not None:
        if setting is not None:
            raise CatalogueError(f"{r.where}: a ramp card's setting is its ramp tables")
        from pacsys.sim.ramps import parse_ramp

        ramp, ramp_setting, ramp_reading = parse_ramp(ramp_spec, cycle_us)
        setting_def: PropertyDef | None = ramp_setting
        reading_def: PropertyDef | None = (
            _property(reading) if reading is not None else ramp_reading
        )
    else:
        setting_def = _property(setting) if setting is not None else None
        reading_def = _property(reading) if reading is not None else None
    from pacsys.drf3 import parse_event

    try:
        parse_event(default_event)
    except ValueError as exc:
        raise CatalogueError(f"{r.where}: bad default_event: {exc}") from None
    device = DeviceDef(
        name=name,
        index=index,
        description=r.get("description", str, ""),
        default_event=default_event,
        reading=reading_def,
        setting=setting_def,
        status_bits=bits,
        ext_status_bits=ext,
        status_initial=initial,
        control=_controls(control, f"{r.where}.control") if control is not None else None,
        analog_alarm=_analog_alarm(analog) if analog is not None else None,
        digital_alarm=_digital_alarm(digital) if digital is not None else None,
        ramp=ramp,
    )
    if device.reading is None and device.setting is None and device.status_bits is None:
        raise CatalogueError(f"{r.where}: a device needs a reading, setting or status")
    return device


def _device_name(r: _Reader, key: str = "name") -> str:
    name = r.require(key, str)
    if not is_acnet_name(name):
        raise CatalogueError(f"{r.where}: {name!r} is not a valid ACNET device name")
    return canonical_device(name)


# --- the catalogue -----------------------------------------------------------------------


@attrs.define
class Catalogue:
    """Devices, generated families, clock events and alarm texts; answers DevDB queries."""

    devices: dict[str, DeviceDef] = attrs.field(factory=dict)
    families: list[FamilyDef] = attrs.field(factory=list)
    clock_events: dict[int, ClockEventDef] = attrs.field(factory=dict)
    alarm_texts: dict[int, AlarmText] = attrs.field(factory=dict)
    cycle_hz: float = 15.0
    sources: list[str] = attrs.field(factory=list)
    _members: dict[str, DeviceDef] = attrs.field(factory=dict, repr=False)
    _names_by_index: dict[int, str] = attrs.field(factory=dict, repr=False)

    # --- building --------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any, source: str = "<data>") -> Catalogue:
        catalogue = cls()
        catalogue.update(data, source)
        return catalogue

    def update(self, data: Any, source: str) -> None:
        """Add (or replace) what ``data`` declares."""
        top = _Reader(data, source)
        top.check_keys(
            {
                "format",
                "include_default",
                "cycle_hz",
                "clock_events",
                "alarm_texts",
                "devices",
                "families",
                "comment",
            }
        )
        if top.get("format", int, 1) != 1:
            raise CatalogueError(f"{source}: unsupported catalogue format {top.data['format']}")
        self.cycle_hz = top.get("cycle_hz", float, self.cycle_hz)
        if self.cycle_hz <= 0:
            raise CatalogueError(f"{source}: cycle_hz must be positive")
        for i, item in enumerate(top.get("clock_events", list, [])):
            e = _Reader(item, f"{source}: clock_events[{i}]")
            e.check_keys({"event", "rate_hz", "phase", "description"})
            number = e.int_like("event")
            if number is None or not 0 <= number <= 0xFF:
                raise CatalogueError(f"{e.where}: event must be 0x00..0xFF")
            rate = e.require("rate_hz", float)
            if rate <= 0:
                raise CatalogueError(f"{e.where}: rate_hz must be positive")
            self.clock_events[number] = ClockEventDef(
                number, rate, e.get("phase", float, 0.0), e.get("description", str, "")
            )
        for i, item in enumerate(top.get("alarm_texts", list, [])):
            a = _Reader(item, f"{source}: alarm_texts[{i}]")
            a.check_keys({"id", "text", "priority", "url"})
            text = a.require("text", str)
            ident = a.require("id", int)
            self.alarm_texts[ident] = AlarmText(
                alarm_text_id=ident,
                length=len(text),
                priority=a.get("priority", int, 0),
                text=text,
                url=a.get("url", str, ""),
            )
        for i, item in enumerate(top.get("devices", list, [])):
            d = _Reader(item, f"{source}: devices[{i}]")
            d.check_keys(_DEVICE_KEYS)
            name = _device_name(d)
            d.where = f"{source}: device {name}"
            cycle_us = 1e6 / self.cycle_hz
            index = d.require("index", int)
            holder = self._names_by_index.setdefault(index, name)
            if holder != name:  # one DI, two devices: index lookups (ACNET RETDAT) would mix them
                raise CatalogueError(f"{d.where}: index {index} is already {holder}'s")
            self.devices[name] = _device(d, name, index, cycle_us)
        for i, item in enumerate(top.get("families", list, [])):
            f = _Reader(item, f"{source}: families[{i}]")
            f.check_keys(
                {"prefix", "digits", "count", "first_index", "base_step", "phase_step", "template"}
            )
            prefix = f.require("prefix", str).upper()
            digits, count = f.require("digits", int), f.require("count", int)
            if not 1 <= digits <= 9 or not 0 < count <= 10**digits:
                raise CatalogueError(f"{f.where}: need 1 <= digits <= 9, 0 < count <= 10**digits")
            if not is_acnet_name(prefix + "0" * digits):
                raise CatalogueError(f"{f.where}: {prefix!r} does not make valid device names")
            t = f.child("template")
            if t is None:
                raise CatalogueError(f"{f.where}: missing required key 'template'")
            t.check_keys(_DEVICE_KEYS - {"name", "index"})
            self.families.append(
                FamilyDef(
                    prefix=canonical_device(prefix + "0" * digits)[: -digits or None],
                    digits=digits,
                    count=count,
                    first_index=f.require("first_index", int),
                    template=_device(t, prefix + "0" * digits, 0, 1e6 / self.cycle_hz),
                    base_step=f.get("base_step", float, 0.0),
                    phase_step=f.get("phase_step", float, 0.0),
                )
            )
        self._members.clear()
        self.sources.append(source)

    # --- lookups -----------------------------------------------------------------------

    def lookup(self, name: str) -> DeviceDef | None:
        """The device called ``name`` (canonical upper-case ACNET form), or None."""
        device = self.devices.get(name)
        if device is not None:
            return device
        device = self._members.get(name)
        if device is not None:
            return device
        for family in reversed(self.families):
            n = family.member_number(name)
            if n is not None:
                device = family.member(n)
                self._members[name] = device
                return device
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not None

    def __len__(self) -> int:
        return len(self.devices) + sum(f.count for f in self.families)

    def names(self) -> Iterator[str]:
        """Every device name: the listed ones, then each family's members."""
        yield from self.devices
        for family in self.families:
            for n in range(family.count):
                yield f"{family.prefix}{n:0{family.digits}d}"

    def _find(self, name: str) -> DeviceDef | None:
        if not isinstance(name, str) or not is_acnet_name(name):
            return None
        return self.lookup(canonical_device(name))

    # --- MetadataSource ----------------------------------------------------------------

    def device_info(self, name: str) -> DeviceInfoResult | None:
        device = self._find(name)
        if device is None:
            return None
        status = None
        if device.status_bits is not None:
            status = tuple(
                StatusBitDef(
                    mask=b.mask,
                    match=0 if b.invert else b.mask,
                    invert=False,
                    short_name=b.short_name,
                    long_name=b.long_name,
                    true_str=b.true_str,
                    false_str=b.false_str,
                )
                for b in device.status_bits
            )
        control = None
        if device.control is not None:
            control = tuple(
                ControlCommandDef(c.value, c.short_name, c.long_name) for c in device.control
            )
        return DeviceInfoResult(
            device_index=device.index,
            description=device.description,
            reading=_property_info(device.reading, PROPERTY_INDEX["reading"]),
            setting=_property_info(device.setting, PROPERTY_INDEX["setting"]),
            control=control,
            status_bits=status,
            ext_status_bits=device.ext_status_bits if device.status_bits is not None else None,
        )

    def alarm_info(self, name: str) -> AlarmInfo | None:
        device = self._find(name)
        if device is None:
            return None
        if device.analog_alarm is not None:
            a = device.analog_alarm
            scaling = device.reading.scaling if device.reading is not None else ScalingDef()
            block = AlarmBlockInfo(
                di=device.index,
                pi=ANALOG_PI,
                status=int(a.enabled),
                min_or_nom=scaling.to_raw(a.minimum),
                max_or_tol=scaling.to_raw(a.maximum),
                tries_needed=a.tries_needed,
            )
            return AlarmInfo(name, block, analog_alarm_text_id=a.text_id)
        if device.digital_alarm is not None:
            g = device.digital_alarm
            block = AlarmBlockInfo(
                di=device.index,
                pi=DIGITAL_PI,
                status=int(g.enabled),
                min_or_nom=g.nominal,
                max_or_tol=g.mask,
                tries_needed=g.tries_needed,
            )
            return AlarmInfo(
                name,
                block,
                digital_alarm_condition=g.nominal,
                digital_alarm_mask=g.mask,
                digital_alarm_text_id=g.text_id,
            )
        return None

    def alarm_text(self, alarm_text_id: int) -> AlarmText | None:
        return self.alarm_texts.get(alarm_text_id)


def _property_info(prop: PropertyDef | None, p_index: int) -> PropertyInfo | None:
    if prop is None:
        return None
    s = prop.scaling
    return PropertyInfo(
        primary_units=prop.primary_units,
        common_units=prop.units,
        min_val=prop.min,
        max_val=prop.max,
        p_index=s.p_index,
        c_index=s.c_index,
        coeff=s.constants,
    )


def _read_json(source: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{source}: not valid JSON: {exc}") from None


def default_catalogue_data() -> Mapping[str, Any]:
    """The shipped catalogue, parsed JSON."""
    text = resources.files("pacsys.sim").joinpath("data/catalogue.json").read_text("utf-8")
    return _read_json("pacsys/sim/data/catalogue.json", text)


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """The shipped catalogue plus ``path`` (or ``$PACSYS_SIM_CATALOGUE`` when path is None)."""
    if path is None:
        path = os.environ.get(CATALOGUE_ENV) or None
    user: Any = None
    source = ""
    if path is not None:
        source = str(path)
        try:
            user = _read_json(source, Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CatalogueError(f"cannot read simulator catalogue {source}: {exc}") from None
    catalogue = Catalogue()
    if not (isinstance(user, dict) and user.get("include_default") is False):
        catalogue.update(default_catalogue_data(), "pacsys/sim/data/catalogue.json")
    if user is not None:
        catalogue.update(user, source)
    return catalogue
