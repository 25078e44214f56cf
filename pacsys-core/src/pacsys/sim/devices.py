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
from pacsys.backends import validate_alarm_dict
from pacsys.drf3 import ARRAY_RANGE, DRF_FIELD, DRF_PROPERTY, DataRequest
from pacsys.sim.catalogue import DeviceDef, ModelDef, PropertyDef
from pacsys.types import DeviceMeta, ValueType

__all__ = ["DeviceState", "SimError", "sample", "write"]

F, P = DRF_FIELD, DRF_PROPERTY
_MASK64 = (1 << 64) - 1


class SimError(Exception):
    """An ACNET status for a failed read or write (``code`` is a named composite)."""

    def __init__(self, code: int, message: str) -> None:
        self.facility, self.error = acnet.parse_error(code)
        self.message = message
        super().__init__(message)


def fail(code: int, detail: str) -> SimError:
    """The SimError for ``code``: ``detail`` followed by the status's standard message."""
    facility, error = acnet.parse_error(code)
    text = acnet.status_message(facility, error) or ""
    return SimError(code, f"{detail}: {text}" if detail else text)


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
    """The mutable part of one device: setting, status word and alarm blocks."""

    __slots__ = ("analog", "device", "digital", "seed", "setting", "status")

    def __init__(self, device: DeviceDef) -> None:
        self.device = device
        self.seed = zlib.crc32(device.name.encode())
        self.setting: Any = _initial(device.setting) if device.setting is not None else None
        self.status = device.status_initial
        a, d = device.analog_alarm, device.digital_alarm
        self.analog: dict[str, Any] | None = None
        self.digital: dict[str, Any] | None = None
        if a is not None:
            self.analog = {
                "minimum": a.minimum,
                "maximum": a.maximum,
                "alarm_enable": a.enabled,
                "abort_inhibit": a.abort_inhibit,
                "tries_needed": a.tries_needed,
            }
        if d is not None:
            self.digital = {
                "nominal": d.nominal,
                "mask": d.mask,
                "alarm_enable": d.enabled,
                "abort_inhibit": d.abort_inhibit,
                "tries_needed": d.tries_needed,
            }

    def is_on(self) -> bool:
        for bit in self.device.status_bits or ():
            if bit.attr == "on":
                return bit.is_set(self.status)
        return True

    def reading_value(self, t: float) -> Any:
        """The READING (scaled) at time ``t``."""
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

    def analog_block(self, t: float) -> dict[str, Any]:
        assert self.analog is not None
        block = dict(self.analog)
        in_alarm = False
        prop = self.device.reading
        if block["alarm_enable"] and prop is not None and prop.kind == "scalar":
            value = self.reading_value(t)
            in_alarm = not block["minimum"] <= value <= block["maximum"]
        block.update(alarm_status=in_alarm, abort=False, tries_now=0)
        return _alarm_order(block, ("minimum", "maximum"))

    def digital_block(self) -> dict[str, Any]:
        assert self.digital is not None
        block = dict(self.digital)
        in_alarm = bool(block["alarm_enable"]) and (
            (self.status ^ block["nominal"]) & block["mask"] != 0
        )
        block.update(alarm_status=in_alarm, abort=False, tries_now=0)
        return _alarm_order(block, ("nominal", "mask"))


_ALARM_TAIL = ("alarm_enable", "alarm_status", "abort", "abort_inhibit", "tries_needed")


def _alarm_order(block: dict[str, Any], head: tuple[str, str]) -> dict[str, Any]:
    return {k: block[k] for k in (*head, *_ALARM_TAIL, "tries_now")}


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


# --- ranges -----------------------------------------------------------------------------


def _index(request: DataRequest, size: int) -> slice | int | None:
    """The Python index a DRF range selects in a value of ``size`` items (bounds-checked)."""
    rng = request.range
    if rng is None or rng.mode == "full":
        return None
    if isinstance(rng, ARRAY_RANGE):
        low = rng.low or 0
        high = low if rng.mode == "single" else (size - 1 if rng.high is None else rng.high)
        if low >= size or high >= size:
            raise fail(acnet.DPM_OUT_OF_BOUNDS, f"range {rng} of {size} elements")
        return low if rng.mode == "single" else slice(low, high + 1)
    offset = rng.offset or 0
    length = 1 if rng.mode == "single" else (size - offset if rng.length is None else rng.length)
    if offset + length > size:
        raise fail(acnet.DPM_OUT_OF_BOUNDS, f"range {rng} of {size} bytes")
    return slice(offset, offset + length)


def _apply_range(request: DataRequest, value: Any) -> Any:
    if request.range is None:
        return value
    if not isinstance(value, np.ndarray | bytes | str | list):
        raise fail(acnet.DPM_BAD_RANGE, f"{request.device} is a scalar")
    index = _index(request, len(value))
    return value if index is None else value[index]


# --- reads ------------------------------------------------------------------------------


def _raw_bytes(prop: PropertyDef, value: Any) -> bytes:
    s = prop.scaling
    if isinstance(value, np.ndarray):
        counts = [s.to_raw(float(v)) for v in value]
    else:
        counts = [s.to_raw(float(value))]
    return b"".join(c.to_bytes(s.raw_bytes, "little", signed=True) for c in counts)


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
        s = prop.scaling
        if isinstance(value, np.ndarray):
            return (value - s.offset) / s.slope
        return s.to_primary(value)
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


_ALARM_FIELDS = {
    F.MIN: "minimum",
    F.MAX: "maximum",
    F.NOM: "nominal",
    F.MASK: "mask",
    F.ALARM_ENABLE: "alarm_enable",
    F.ALARM_STATUS: "alarm_status",
    F.ABORT: "abort",
    F.ABORT_INHIBIT: "abort_inhibit",
    F.TRIES_NEEDED: "tries_needed",
    F.TRIES_NOW: "tries_now",
}


def _alarm_value(
    state: DeviceState, request: DataRequest, t: float, texts: dict[int, str]
) -> tuple[Any, ValueType]:
    device, field = state.device, request.field
    analog = request.property is P.ANALOG
    if (state.analog if analog else state.digital) is None:
        kind = "analog" if analog else "digital"
        raise fail(acnet.DPM_NO_SUCH_PROP, f"{device.name} has no {kind} alarm block")
    block = state.analog_block(t) if analog else state.digital_block()
    if field in (None, F.ALL):
        return block, ValueType.ANALOG_ALARM if analog else ValueType.DIGITAL_ALARM
    key = _ALARM_FIELDS.get(field)  # type: ignore[arg-type]
    if key in block:
        return block[key], ValueType.SCALAR
    definition = device.analog_alarm if analog else device.digital_alarm
    if field is F.TEXT and definition is not None and definition.text_id in texts:
        return texts[definition.text_id], ValueType.TEXT
    if analog and device.reading is not None and field in (F.RAW_MIN, F.RAW_MAX):
        limit = block["minimum" if field is F.RAW_MIN else "maximum"]
        return device.reading.scaling.to_raw(limit), ValueType.SCALAR
    if analog and field in (F.NOM, F.TOL):
        low, high = block["minimum"], block["maximum"]
        return ((low + high) / 2 if field is F.NOM else (high - low) / 2), ValueType.SCALAR
    raise fail(acnet.DPM_NO_SUCH_FIELD, f"{field.name} of {device.name} alarm block")


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
            base = _apply_range(request, base)
            value = _property_value(definition, base, request.field, name)
        else:
            value = _apply_range(request, _property_value(definition, base, request.field, name))
        return value, _value_type(value)
    if prop is P.STATUS or prop is P.BIT_STATUS:
        if device.status_bits is None:
            raise fail(acnet.DPM_NO_SUCH_PROP, f"{name} has no STATUS property")
        value, value_type = _status_value(state, request.field)
        return _apply_range(request, value) if request.range else value, value_type
    if prop is P.ANALOG or prop is P.DIGITAL:
        return _alarm_value(state, request, t, texts or {})
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


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise fail(acnet.DIO_NOT_A_NUMBER, f"{what} needs a finite number, got {number}")
    return number


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
        return s.from_raw(int(value))
    if not isinstance(value, bytes | bytearray):
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes or integer counts")
    if len(value) % s.raw_bytes:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(value)} bytes")
    counts = [
        int.from_bytes(value[i : i + s.raw_bytes], "little", signed=True)
        for i in range(0, len(value), s.raw_bytes)
    ]
    if prop.kind == "array":
        return np.array([s.from_raw(c) for c in counts])
    if len(counts) != 1:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(value)} bytes")
    return s.from_raw(counts[0])


def _new_setting(prop: PropertyDef, current: Any, request: DataRequest, value: Any) -> Any:
    """The validated setting after writing ``value``; raises SimError, changes nothing."""
    what = f"{request.device}.SETTING"
    field = request.field
    if field in (F.MIN, F.MAX, F.UNITS):
        raise fail(acnet.DIO_READONLY, f"{what}.{field.name} is database information")
    if field is F.RAW and request.range is None:
        value = _from_raw(prop, value, what)
    elif field is F.PRIMARY:
        s = prop.scaling
        if prop.kind == "array":
            value = np.asarray(value, dtype=np.float64) * s.slope + s.offset
        else:
            value = s.to_common(_number(value, what))
    kind = prop.kind
    if kind == "scalar":
        if request.range is not None:
            raise fail(acnet.DPM_BAD_RANGE, f"{request.device} is a scalar")
        number = _number(value, what)
        _check_limits(prop, number, what)
        return number
    if kind == "text":
        if not isinstance(value, str):
            raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs text, got {type(value).__name__}")
        merged = _merge(current, request, value, what)
        if len(merged) > prop.length:
            raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(merged)} > {prop.length} characters")
        return merged
    if kind == "raw":
        if not isinstance(value, bytes | bytearray):
            raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes, got {type(value).__name__}")
        merged = _merge(current, request, bytes(value), what)
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
    merged = _merge(current, request, array, what)
    if len(merged) != prop.length:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(merged)} values, not {prop.length}")
    _check_limits(prop, merged, what)
    return merged


def _merge(current: Any, request: DataRequest, value: Any, what: str) -> Any:
    index = _index(request, len(current))
    if index is None:
        return value
    if isinstance(index, int):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.reshape(1)
        index = slice(index, index + 1)
    if len(value) != index.stop - index.start:
        raise fail(
            acnet.DPM_BAD_LENGTH,
            f"{what}: {len(value)} items for a range of {index.stop - index.start}",
        )
    if isinstance(current, np.ndarray):
        merged = current.copy()
        merged[index] = value
        return merged
    return current[: index.start] + value + current[index.stop :]


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


_ALARM_WRITABLE = {
    F.MIN: "minimum",
    F.MAX: "maximum",
    F.NOM: "nominal",
    F.MASK: "mask",
    F.ALARM_ENABLE: "alarm_enable",
    F.ABORT_INHIBIT: "abort_inhibit",
    F.TRIES_NEEDED: "tries_needed",
}


def _write_alarm(state: DeviceState, request: DataRequest, value: Any) -> None:
    analog = request.property is P.ANALOG
    block = state.analog if analog else state.digital
    name = state.device.name
    if block is None:
        kind = "analog" if analog else "digital"
        raise fail(acnet.DPM_NO_SUCH_PROP, f"{name} has no {kind} alarm block")
    if request.field in (None, F.ALL):
        if not isinstance(value, dict):
            raise fail(acnet.DPM_SCALING_FAILED, f"{name} alarm block needs a dict")
        kind = validate_alarm_dict(value)  # ValueError for bad keys, like the DPM client
        if (kind == "analog") != analog:
            raise fail(acnet.DIO_MISMATCH, f"{kind} alarm keys written to {request.property.name}")
        changes = dict(value)
    else:
        key = _ALARM_WRITABLE.get(request.field)
        if key is None or key not in block:
            raise fail(acnet.DIO_READONLY, f"{name}.{request.property.name}.{request.field.name}")
        changes = {key: value}
    updated = dict(block)
    for key, item in changes.items():
        if key in ("alarm_enable", "abort_inhibit"):
            if not isinstance(item, bool | int | float) or item not in (0, 1):
                raise fail(acnet.DPM_SCALING_FAILED, f"{key} needs a bool")
            updated[key] = bool(item)
        elif key in ("tries_needed", "nominal", "mask"):
            number = _number(item, key)
            if number != int(number) or number < 0:
                raise fail(acnet.DIO_RANGE, f"{key} must be a non-negative integer")
            updated[key] = int(number)
        else:
            updated[key] = _number(item, key)
    if analog and updated["minimum"] > updated["maximum"]:
        raise fail(acnet.DIO_RANGE, "alarm minimum above maximum")
    block.update(updated)


def write(state: DeviceState, request: DataRequest, value: Any) -> None:
    """Apply a write (the request is in write form: SETTING/CONTROL/alarm, ``@N``).

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
        _write_alarm(state, request, value)
    else:
        raise fail(acnet.DIO_READONLY, f"{device.name}.{prop.name} cannot be set")
