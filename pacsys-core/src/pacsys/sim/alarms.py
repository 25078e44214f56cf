"""Simulated alarm blocks: the structured (engineering-unit) view and the 20-byte raw block.

The engineering fields (limits or nominal/mask, alarm_enable, abort_inhibit, tries_needed)
are the state; the raw block is built from them on every read, with the reading's scaling
(``value1 = unscale(minimum)``...), and the parts only the raw block has (FTD, front-end
data, event and abort flags, tries_now) are kept as written. A raw write updates both, so a
raw block written is read back byte for byte and its limits read back scaled.

Simplification: limits are kept as MIN_MAX signed values of the reading's raw width
(digital: 4-byte nominal/mask); a raw block that changes that layout is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pacsys import acnet
from pacsys.alarm_block import FTD, AlarmBlock, AlarmFlags, AnalogAlarm, DigitalAlarm
from pacsys.backends import validate_alarm_dict
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest
from pacsys.sim._support import apply_range, fail, merge, number
from pacsys.types import ValueType

if TYPE_CHECKING:
    from pacsys.sim.catalogue_records import DeviceDef
    from pacsys.sim.devices import DeviceState

__all__ = ["AlarmState", "read", "write"]

F, P = DRF_FIELD, DRF_PROPERTY
_TAIL = ("alarm_enable", "alarm_status", "abort", "abort_inhibit", "tries_needed", "tries_now")
_FIELDS = {
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
_WRITABLE = {
    F.MIN: "minimum",
    F.MAX: "maximum",
    F.NOM: "nominal",
    F.MASK: "mask",
    F.ALARM_ENABLE: "alarm_enable",
    F.ABORT_INHIBIT: "abort_inhibit",
    F.TRIES_NEEDED: "tries_needed",
}
# Flag bits the simulator computes on every read (state and alarm condition).
_COMPUTED = AlarmFlags.ENABLE | AlarmFlags.BAD | AlarmFlags.ABORT_INHIBIT | AlarmFlags.LOW
_COMPUTED |= AlarmFlags.HIGH
_WIDTH_Q = {1: 0, 2: 1, 4: 2}
_SIGNED_INT = 1


class AlarmState:
    """One alarm block of a device: ``fields`` (engineering) and the raw-only ``template``."""

    __slots__ = ("analog", "fields", "template", "width")

    def __init__(self, analog: bool, fields: dict[str, Any], width: int) -> None:
        self.analog = analog
        self.fields = fields
        self.width = width
        flags = _WIDTH_Q[width] << 5 | (2 << 8 if analog else AlarmFlags.DIGITAL)
        fe_data = bytes((0, 0, _SIGNED_INT if analog else 0, 0, 0, 0))
        kind = AnalogAlarm if analog else DigitalAlarm
        self.template: AlarmBlock = kind(flags, ftd=FTD.periodic_ticks(60), fe_data=fe_data)

    @classmethod
    def for_device(cls, device: DeviceDef, analog: bool) -> AlarmState | None:
        if analog:
            a = device.analog_alarm
            if a is None:
                return None
            width = device.reading.scaling.raw_bytes if device.reading is not None else 2
            limits = {"minimum": a.minimum, "maximum": a.maximum}
            flags, tries = (a.enabled, a.abort_inhibit), a.tries_needed
        else:
            d = device.digital_alarm
            if d is None:
                return None
            width, limits = 4, {"nominal": d.nominal, "mask": d.mask}
            flags, tries = (d.enabled, d.abort_inhibit), d.tries_needed
        fields = {
            **limits,
            "alarm_enable": flags[0],
            "abort_inhibit": flags[1],
            "tries_needed": tries,
        }
        return cls(analog, fields, width)


def _state(state: DeviceState, request: DataRequest) -> AlarmState:
    alarm: AlarmState | None = state.analog if request.property is P.ANALOG else state.digital
    if alarm is None:
        kind = "analog" if request.property is P.ANALOG else "digital"
        raise fail(acnet.DPM_NO_SUCH_PROP, f"{state.device.name} has no {kind} alarm block")
    return alarm


def _condition(state: DeviceState, alarm: AlarmState, t: float) -> tuple[bool, bool]:
    """(below the limit, above the limit) now; digital: (False, status off nominal)."""
    f = alarm.fields
    if not f["alarm_enable"]:
        return False, False
    if not alarm.analog:
        return False, (state.status ^ f["nominal"]) & f["mask"] != 0
    prop = state.device.reading
    if prop is None or prop.kind != "scalar":
        return False, False
    value = state.reading_value(t)
    return value < f["minimum"], value > f["maximum"]


def structured(state: DeviceState, alarm: AlarmState, t: float) -> dict[str, Any]:
    low, high = _condition(state, alarm, t)
    head = ("minimum", "maximum") if alarm.analog else ("nominal", "mask")
    block = {
        **alarm.fields,
        "alarm_status": low or high,
        "abort": alarm.template.abort,
        "tries_now": alarm.template.tries_now,
    }
    return {key: block[key] for key in (*head, *_TAIL)}


def raw_block(state: DeviceState, alarm: AlarmState, t: float) -> bytes:
    f, template = alarm.fields, alarm.template
    low, high = _condition(state, alarm, t)
    flags = template.flags & ~_COMPUTED
    for bit, on in (
        (AlarmFlags.ENABLE, f["alarm_enable"]),
        (AlarmFlags.ABORT_INHIBIT, f["abort_inhibit"]),
        (AlarmFlags.BAD, low or high),
        (AlarmFlags.LOW, low and alarm.analog),
        (AlarmFlags.HIGH, high and alarm.analog),
    ):
        if on:
            flags |= bit
    block = type(template)(
        int(flags),
        tries_needed=f["tries_needed"],
        tries_now=template.tries_now,
        ftd=template.ftd,
        fe_data=template.fe_data,
    )
    if isinstance(block, AnalogAlarm):
        scaling = state.device.reading.scaling  # type: ignore[union-attr]
        block.value1 = int(scaling.to_raw(f["minimum"]))
        block.value2 = int(scaling.to_raw(f["maximum"]))
    else:
        assert isinstance(block, DigitalAlarm)
        block.nominal, block.mask = f["nominal"], f["mask"]
    return block.to_bytes()


def read(
    state: DeviceState, request: DataRequest, t: float, texts: dict[int, str]
) -> tuple[Any, ValueType]:
    alarm = _state(state, request)
    device, field = state.device, request.field
    if field is F.RAW:
        return apply_range(request, raw_block(state, alarm, t)), ValueType.RAW
    block = structured(state, alarm, t)
    if field in (None, F.ALL):
        return block, ValueType.ANALOG_ALARM if alarm.analog else ValueType.DIGITAL_ALARM
    key = _FIELDS.get(field)
    if key in block:
        return block[key], ValueType.SCALAR
    definition = device.analog_alarm if alarm.analog else device.digital_alarm
    if field is F.TEXT and definition is not None and definition.text_id in texts:
        return texts[definition.text_id], ValueType.TEXT
    if alarm.analog and device.reading is not None and field in (F.RAW_MIN, F.RAW_MAX):
        limit = block["minimum" if field is F.RAW_MIN else "maximum"]
        return int(device.reading.scaling.to_raw(limit)), ValueType.SCALAR
    if alarm.analog and field in (F.NOM, F.TOL):
        low, high = block["minimum"], block["maximum"]
        return ((low + high) / 2 if field is F.NOM else (high - low) / 2), ValueType.SCALAR
    raise fail(acnet.DPM_NO_SUCH_FIELD, f"{field.name} of {device.name} alarm block")


def write(state: DeviceState, request: DataRequest, value: Any, t: float) -> None:
    """Apply an alarm write (dict, one field, or raw bytes); SimError changes nothing."""
    alarm = _state(state, request)
    name, prop = state.device.name, request.property.name
    if request.field is F.RAW:
        _write_raw(state, alarm, request, value, t)
        return
    if request.field in (None, F.ALL):
        if not isinstance(value, dict):
            raise fail(acnet.DPM_SCALING_FAILED, f"{name} alarm block needs a dict")
        kind = validate_alarm_dict(value)  # ValueError for bad keys, like the DPM client
        if (kind == "analog") != alarm.analog:
            raise fail(acnet.DIO_MISMATCH, f"{kind} alarm keys written to {prop}")
        changes = dict(value)
    else:
        key = _WRITABLE.get(request.field)
        if key is None or key not in alarm.fields:
            raise fail(acnet.DIO_READONLY, f"{name}.{prop}.{request.field.name}")
        changes = {key: value}
    alarm.fields = _validated(alarm, changes)


def _validated(alarm: AlarmState, changes: dict[str, Any]) -> dict[str, Any]:
    updated = dict(alarm.fields)
    for key, item in changes.items():
        if key in ("alarm_enable", "abort_inhibit"):
            if not isinstance(item, bool | int | float) or item not in (0, 1):
                raise fail(acnet.DPM_SCALING_FAILED, f"{key} needs a bool")
            updated[key] = bool(item)
        elif key in ("tries_needed", "nominal", "mask"):
            whole = number(item, key)
            limit = 0xFF if key == "tries_needed" else 0xFFFFFFFF
            if whole != int(whole) or not 0 <= whole <= limit:
                raise fail(acnet.DIO_RANGE, f"{key} must be an integer in 0..{limit}")
            updated[key] = int(whole)
        else:
            updated[key] = number(item, key)
    if alarm.analog and updated["minimum"] > updated["maximum"]:
        raise fail(acnet.DIO_RANGE, "alarm minimum above maximum")
    return updated


def _write_raw(
    state: DeviceState, alarm: AlarmState, request: DataRequest, value: Any, t: float
) -> None:
    what = f"{state.device.name}.{request.property.name}.RAW"
    if not isinstance(value, bytes | bytearray):
        raise fail(acnet.DPM_SCALING_FAILED, f"{what} needs bytes, got {type(value).__name__}")
    data = merge(raw_block(state, alarm, t), request, bytes(value), what)
    if len(data) != 20:
        raise fail(acnet.DPM_BAD_LENGTH, f"{what}: {len(data)} bytes, not one 20-byte block")
    block = type(alarm.template).from_bytes(data)
    if block.is_digital == alarm.analog:
        raise fail(acnet.DIO_MISMATCH, f"{what}: the DIGITAL flag does not match the block")
    layout = (block.flags >> 5) & 3, (block.flags >> 8) & 3, block.fe_data[2] & 3
    expected = (_WIDTH_Q[alarm.width], 2, _SIGNED_INT) if alarm.analog else (2, 0, 0)
    if layout != expected:
        raise fail(
            acnet.DIO_BADARG,
            f"{what}: the simulator keeps this block as {expected} (data length, limit type, "
            f"data type), got {layout}",
        )
    scaling = state.device.reading.scaling if alarm.analog else None  # type: ignore[union-attr]
    changes: dict[str, Any] = {
        "alarm_enable": block.is_active,
        "abort_inhibit": block.abort_inhibit,
        "tries_needed": block.tries_needed,
    }
    if isinstance(block, AnalogAlarm):
        assert scaling is not None
        changes["minimum"] = float(scaling.from_raw(block.value1))
        changes["maximum"] = float(scaling.from_raw(block.value2))
    else:
        assert isinstance(block, DigitalAlarm)
        changes["nominal"], changes["mask"] = block.nominal, block.mask
    fields = _validated(alarm, changes)
    alarm.fields, alarm.template = fields, block
