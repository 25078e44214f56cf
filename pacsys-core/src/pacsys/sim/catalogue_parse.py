"""Parsing the simulator catalogue file into records, with errors that say where.

Each function takes a :class:`_Reader` (typed access to one JSON object that knows its place
in the file) and returns the record of :mod:`pacsys.sim.catalogue_records` it describes, or
raises :class:`~pacsys.sim.catalogue_records.CatalogueError` naming the file, entry and key.
"""

from __future__ import annotations

from typing import Any

import attrs

from pacsys.drf3.names import canonical_device, is_acnet_name
from pacsys.errors import ScalingError
from pacsys.metadata import ExtStatusBitDef
from pacsys.sim.catalogue_records import (
    KINDS,
    STATUS_ATTRS,
    AnalogAlarmDef,
    CatalogueError,
    ControlDef,
    DeviceDef,
    DigitalAlarmDef,
    ModelDef,
    PropertyDef,
    ScalingDef,
    StatusBitSpec,
)


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
