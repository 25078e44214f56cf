"""Live device state and the ACNET semantics of reading and writing simulated devices.

Pure logic: nothing here sleeps, locks or reads a clock. Times are passed in; values are a
function of (device, state, time), so every device sampled at the same instant agrees.
Errors are :class:`SimError` carrying the ACNET status a real system would report.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

from pacsys import acnet
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest
from pacsys.errors import ScalingError
from pacsys.sim import alarms, ramps
from pacsys.sim._support import SimError, apply_range, fail, merge, number
from pacsys.sim.catalogue_records import DeviceDef, ModelDef, PropertyDef
from pacsys.types import DeviceMeta, ValueType

__all__ = ["DeviceState", "SimError", "fail", "sample", "write"]

F, P = DRF_FIELD, DRF_PROPERTY
_MASK64 = (1 << 64) - 1


# --- deterministic noise and value models ----------------------------------------------


def _mix(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread integer hash."""
    x &= _MASK64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _noise(seed: int, t: float) -> float:
    """Uniform in [-1, 1), the same for the same device and millisecond."""
    return _mix(seed * 0x9E3779B97F4A7C15 + int(t * 1000)) / 2**63 - 1.0


def _shape(model: ModelDef, t: float) -> float:
    value = 0.0
    if model.amplitude:
        value += model.amplitude * math.sin(2 * math.pi * t / model.period + model.phase)
    if model.ramp_span:
        value += model.ramp_span * ((t / model.ramp_period) % 1.0)
    return value


# --- state ----------------------------------------------------------------------------


class DeviceState:
    """The mutable part of one device: setting, status word, alarm blocks (and ramp playback)."""

    __slots__ = ("analog", "device", "digital", "ramp_cache", "seed", "setting", "status")

    def __init__(self, device: DeviceDef) -> None:
        self.device = device
        self.seed = zlib.crc32(device.name.encode())
        self.setting: Any = _initial(device.setting) if device.setting is not None else None
        self.status = device.status_initial
        self.analog = alarms.AlarmState.for_device(device, analog=True)
        self.digital = alarms.AlarmState.for_device(device, analog=False)
        self.ramp_cache: ramps.Playback | None = None

    def is_on(self) -> bool:
        for bit in self.device.status_bits or ():
            if bit.attr == "on":
                return bit.is_set(self.status)
        return True

    def reading_value(self, t: float) -> Any:
        """The READING (scaled) at time ``t``."""
        if self.device.ramp is not None:
            return ramps.output(self, t)
        prop = self.device.reading
        assert prop is not None
        model = prop.model
        if prop.kind in ("text", "raw"):
            if model.follow_setting and self.setting is not None:
                return self.setting
            return _initial(prop)
        if prop.kind == "array":
            return self._array(prop, t)
        level = model.base
        if model.follow_setting and self.setting is not None:
            level += float(self.setting)
        if model.needs_on and not self.is_on():
            level = 0.0
        value = level + _shape(model, t)
        if model.noise:
            value += model.noise * _noise(self.seed, t)
        return value

    def _array(self, prop: PropertyDef, t: float) -> np.ndarray:
        model = prop.model
        n = prop.length
        if model.follow_setting and isinstance(self.setting, np.ndarray):
            values = self.setting.astype(np.float64) + model.base
        else:
            values = np.full(n, model.base, dtype=np.float64)
        if model.amplitude:
            x = np.arange(n, dtype=np.float64) * (2 * math.pi * model.spatial_cycles / n)
            values += model.amplitude * np.sin(x + 2 * math.pi * t / model.period + model.phase)
        if model.noise:
            rng = np.random.default_rng(_mix(self.seed + int(t * 1000)))
            values += model.noise * rng.uniform(-1.0, 1.0, n)
        return values


def _initial(prop: PropertyDef) -> Any:
    if prop.kind == "array":
        value = 0.0 if prop.initial is None else prop.initial
        return np.full(prop.length, value, dtype=np.float64)
    if prop.kind == "text":
        return prop.initial if prop.initial is not None else ""
    if prop.kind == "raw":
        return prop.initial if prop.initial is not None else bytes(prop.length)
    return float(prop.initial) if prop.initial is not None else 0.0


# --- metadata -------------------------------------------------------------------------


def meta_for(device: DeviceDef, request: DataRequest) -> DeviceMeta:
    units = None
    prop = device.reading if request.property is P.READING else None
    if request.property is P.SETTING:
        prop = device.setting
    if prop is not None:
        if request.field is F.PRIMARY:
            units = prop.primary_units
        elif request.field in (F.SCALED, F.MIN, F.MAX, None):
            units = prop.units
    return DeviceMeta(device.index, device.name, device.description, units)


# --- reads ------------------------------------------------------------------------------


def _raw_bytes(prop: PropertyDef, value: Any) -> bytes:
    """Signed little-endian counts of ``value`` (saturating at the raw width)."""
    s = prop.scaling
    counts = s.to_raw(np.atleast_1d(np.asarray(value, dtype=np.float64)))
    return np.asarray(counts).astype(f"<i{s.raw_bytes}").tobytes()


def _scaled(call: Any, value: Any, what: str) -> Any:
    try:
        return call(value)
    except ScalingError as exc:
        raise fail(acnet.DPM_SCALING_FAILED, f"{what}: {exc}") from None


def _property_value(prop: PropertyDef, value: Any, field: DRF_FIELD | None, name: str) -> Any:
    if field in (F.SCALED, None):
        return value
    if field is F.MIN:
        return prop.min
    if field is F.MAX:
        return prop.max
    if field is F.UNITS:
        if prop.units is None:
            raise fail(acnet.DPM_NO_SUCH_FIELD, f"{name} has no units")
        return prop.units
    if prop.kind in ("text", "raw"):
        if field is F.RAW:
            return value.encode("latin-1") if isinstance(value, str) else value
        raise fail(acnet.DPM_NO_SCALE, name)
    if field is F.RAW:
        return _raw_bytes(prop, value)
    if field is F.PRIMARY:
        return _scaled(prop.scaling.to_primary, value, name)
    raise fail(acnet.DPM_NO_SUCH_FIELD, f"{field.name} of {name}")


def _value_type(value: Any) -> ValueType:
    if isinstance(value, np.ndarray):
        return ValueType.SCALAR_ARRAY
    if isinstance(value, bytes):
        return ValueType.RAW
    if isinstance(value, str):
        return ValueType.TEXT
    if isinstance(value, list):
        return ValueType.TEXT_ARRAY
    return ValueType.SCALAR


def _status_value(state: DeviceState, field: DRF_FIELD | None) -> tuple[Any, ValueType]:
    device = state.device
    bits = device.status_bits or ()
    word = state.status
    if field in (None, F.ALL):
        return {b.attr: b.is_set(word) for b in bits if b.attr}, ValueType.BASIC_STATUS
    attr = {F.ON: "on", F.READY: "ready", F.REMOTE: "remote", F.POSITIVE: "positive"}.get(
        field, "ramp" if field is F.RAMP else None
    )
    if attr is not None:
        for b in bits:
            if b.attr == attr:
                return b.is_set(word), ValueType.SCALAR
        raise fail(acnet.DPM_NO_SUCH_FIELD, f"{device.name} has no {attr} status bit")
    if field is F.BIT_VALUE:
        return word, ValueType.SCALAR
    if field is F.RAW:
        return word.to_bytes(4, "little"), ValueType.RAW
    entries: dict[int, tuple[str, str]] = {}
    for b in bits:
        entries[b.bit] = (b.short_name, b.true_str if b.is_set(word) else b.false_str)
    for e in device.ext_status_bits:
        if e.bit_no not in entries:
            is_set = bool(word >> e.bit_no & 1)
            entries[e.bit_no] = (e.description or f"bit{e.bit_no}", e.name1 if is_set else e.name0)
    size = max(entries, default=-1) + 1
    names = [entries.get(i, ("", ""))[0] for i in range(size)]
    values = [entries.get(i, ("", ""))[1] for i in range(size)]
    if field is F.BIT_NAMES:
        return names, ValueType.TEXT_ARRAY
    if field is F.BIT_VALUES:
        return values, ValueType.TEXT_ARRAY
    if field in (F.TEXT, F.EXTENDED_TEXT):
        return ", ".join(
            f"{n}: {v}" for n, v in zip(names, values, strict=True) if n or v
        ), ValueType.TEXT
    raise fail(acnet.DPM_NO_SUCH_FIELD, f"{field.name} of {device.name} status")


def sample(
    state: DeviceState, request: DataRequest, t: float, texts: dict[int, str] | None = None
) -> tuple[Any, ValueType]:
    """``(value, value_type)`` that ``request`` reads from the device at time ``t``."""
    device, prop = state.device, request.property
    reading = device.reading
    if (
        prop is P.READING
        and request.field is F.SCALED
        and request.range is None
        and reading is not None
        and reading.kind == "scalar"
    ):  # the hot path of every scalar stream
        return state.reading_value(t), ValueType.SCALAR
    name = device.name
    if prop is P.READING or prop is P.SETTING:
        definition = device.reading if prop is P.READING else device.setting
        if definition is None:
            raise fail(acnet.DPM_NO_SUCH_PROP, f"{name} has no {prop.name} property")
        base = state.reading_value(t) if prop is P.READING else state.setting
        if request.range is not None and request.field in (F.SCALED, F.PRIMARY, None):
            base = apply_range(request, base)
            value = _property_value(definition, base, request.field, name)
        else:
            value = apply_range(request, _property_value(definition, base, request.field, name))
        return value, _value_type(value)
    if prop is P.STATUS or prop is P.BIT_STATUS:
        if device.status_bits is None:
            raise fail(acnet.DPM_NO_SUCH_PROP, f"{name} has no STATUS property")
        value, value_type = _status_value(state, request.field)
        return apply_range(request, value) if request.range else value, value_type
    if prop is P.ANALOG or prop is P.DIGITAL:
        return alarms.read(state, request, t, texts or {})
    if prop is P.CONTROL:
        if device.control is None:
            raise fail(acnet.DPM_NO_SUCH_PROP, f"{name} has no CONTROL property")
        raise fail(acnet.DIO_SETONLY, f"{name}.CONTROL cannot be read")
    if prop is P.DESCRIPTION:
        return device.description, ValueType.TEXT
    if prop is P.INDEX:
        return device.index, ValueType.SCALAR
    if prop is P.LONG_NAME:
        return device.description or name, ValueType.TEXT
    return "", ValueType.TEXT  # ALARM_LIST_NAME: simulated devices are on no alarm list


# --- writes -----------------------------------------------------------------------------


def _check_limits(prop: PropertyDef, values: Any, what: str) -> None:
    if not prop.limited:
        return
    array = np.asarray(values, dtype=np.float64)
    if array.size and (array.min() < prop.min or array.max() > prop.max):
        bad = array[(array < prop.min) | (array > prop.max)][0]
        raise fail(
            acnet.DIO_RANGE, f"{what} = {bad:g} outside the limits {prop.min:g}..{prop.max:g}"
        )


def _from_raw(prop: PropertyDef, value: Any, what: str) -> Any:
    """A .RAW write (bytes, or integer counts) -> the scaled value it stands for."""
    s = prop.scaling
    if prop.kind == "text":
        if not isinstance(value, bytes | bytearray):
            raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes")
        return bytes(value).decode("latin-1")
    if prop.kind == "raw":
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return float(_scaled(s.from_raw, int(value), what))
    if not isinstance(value, bytes | bytearray):
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes or integer counts")
    if len(value) % s.raw_bytes:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(value)} bytes")
    counts = np.frombuffer(bytes(value), dtype=f"<i{s.raw_bytes}").astype(np.int64)
    if prop.kind == "array":
        return _scaled(s.from_raw, counts, what)
    if len(counts) != 1:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(value)} bytes")
    return float(_scaled(s.from_raw, int(counts[0]), what))


def _new_setting(prop: PropertyDef, current: Any, request: DataRequest, value: Any) -> Any:
    """The validated setting after writing ``value``; raises SimError, changes nothing."""
    what = f"{request.device}.SETTING"
    field = request.field
    if field in (F.MIN, F.MAX, F.UNITS):
        raise fail(acnet.DIO_READONLY, f"{what}.{field.name} is database information")
    kind = prop.kind
    if field is F.RAW and request.range is not None and kind in ("scalar", "array"):
        if not isinstance(value, bytes | bytearray):
            raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes for a byte range")
        raw = merge(_raw_bytes(prop, current), request, bytes(value), what)
        scaled = _from_raw(prop, raw, what)
        _check_limits(prop, scaled, what)
        return scaled
    if field is F.RAW and request.range is None:
        value = _from_raw(prop, value, what)
    elif field is F.PRIMARY:
        to_common = prop.scaling.to_common
        if kind == "array":
            value = _scaled(to_common, np.asarray(value, dtype=np.float64), what)
        else:
            value = float(_scaled(to_common, number(value, what), what))
    if kind == "scalar":
        if request.range is not None:
            raise fail(acnet.DPM_BAD_RANGE, f"{request.device} is a scalar")
        scalar = number(value, what)
        _check_limits(prop, scalar, what)
        return scalar
    if kind == "text":
        if not isinstance(value, str):
            raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs text, got {type(value).__name__}")
        merged = merge(current, request, value, what)
        if len(merged) > prop.length:
            raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(merged)} > {prop.length} characters")
        return merged
    if kind == "raw":
        if not isinstance(value, bytes | bytearray):
            raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes, got {type(value).__name__}")
        merged = merge(current, request, bytes(value), what)
        if len(merged) != prop.length:
            raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(merged)} bytes, not {prop.length}")
        return merged
    # array
    if isinstance(value, str | bytes | dict) or value is None:
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs numbers, got {type(value).__name__}")
    try:
        given = np.asarray(value)
    except (TypeError, ValueError):
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs numbers") from None
    if given.ndim > 1 or given.dtype.kind not in "fiu":
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs a 1-d array of numbers")
    array = np.atleast_1d(given.astype(np.float64, copy=True))  # the caller keeps theirs
    if not np.isfinite(array).all():
        raise fail(acnet.DIO_NOT_A_NUMBER, f"{what} needs finite numbers")
    merged = merge(current, request, array, what)
    if len(merged) != prop.length:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(merged)} values, not {prop.length}")
    _check_limits(prop, merged, what)
    return merged


def _write_control(state: DeviceState, value: Any) -> None:
    device = state.device
    if device.control is None:
        raise fail(acnet.DPM_NO_SUCH_PROP, f"{device.name} has no CONTROL property")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise fail(
            acnet.DPM_SCALING_FAILED, f"control needs a command number, got {type(value).__name__}"
        )
    if float(value) != int(value):
        raise fail(acnet.DIO_BADARG, f"control command {value!r} is not an integer")
    command = device.control_command(int(value))
    if command is None:
        known = ", ".join(f"{c.value}={c.short_name}" for c in device.control)
        raise fail(acnet.DIO_BADARG, f"{device.name} has no control command {value} ({known})")
    state.status = (state.status | command.set_mask) & ~command.clear_mask


def write(state: DeviceState, request: DataRequest, value: Any, t: float) -> None:
    """Apply a write at time ``t`` (the request is in write form: SETTING/CONTROL/alarm, ``@N``).

    Raises SimError and leaves the state untouched when the write is refused.
    """
    device, prop = state.device, request.property
    if prop is P.SETTING:
        if device.setting is None:
            raise fail(acnet.DPM_NO_SUCH_PROP, f"{device.name} is read-only (no SETTING)")
        state.setting = _new_setting(device.setting, state.setting, request, value)
    elif prop is P.CONTROL:
        _write_control(state, value)
    elif prop is P.ANALOG or prop is P.DIGITAL:
        alarms.write(state, request, value, t)
    else:
        raise fail(acnet.DIO_READONLY, f"{device.name}.{prop.name} cannot be set")
