"""The simulator's device catalogue: a JSON file of devices, families and clock events.

The shipped catalogue (``pacsys/sim/data/catalogue.json``) is always loaded first unless a
user file says ``"include_default": false``; a user file (``SimBackend(catalogue=path)`` or
``$PACSYS_SIM_CATALOGUE``) adds devices, replaces same-named ones, and adds clock events
and families. The catalogue also answers DevDB queries (:class:`pacsys.metadata.MetadataSource`).
See docs/simulator.md for the file format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from pacsys.drf3.names import canonical_device, is_acnet_name
from pacsys.metadata import (
    AlarmBlockInfo,
    AlarmInfo,
    AlarmText,
    ControlCommandDef,
    DeviceInfoResult,
    PropertyInfo,
    StatusBitDef,
)
from pacsys.sim.catalogue_parse import _DEVICE_KEYS, _device, _device_name, _Reader
from pacsys.sim.catalogue_records import (
    ANALOG_PI,
    CATALOGUE_ENV,
    DIGITAL_PI,
    PROPERTY_INDEX,
    AnalogAlarmDef,
    CatalogueError,
    ClockEventDef,
    ControlDef,
    DeviceDef,
    DigitalAlarmDef,
    FamilyDef,
    ModelDef,
    PropertyDef,
    ScalingDef,
    StatusBitSpec,
)

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
