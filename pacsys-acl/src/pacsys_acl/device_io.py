"""Device reads and settings for the ACL interpreter, and their ACL text.

See docs/protocols/acl.md §4.1 and §4.5.

Turns backend failures into ACL error lines (raised as :class:`Abort`) and readings into
the lines ``read``/``show`` print.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pacsys.backends import Backend
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest, parse_event, parse_request
from pacsys.errors import AuthenticationError, DeviceError, PacsysError, ReadError
from pacsys.types import Reading, ValueType
from pacsys_acl.outcome import NO_ATTRIBUTE, Abort, Context, is_device
from pacsys_acl.render import (
    alarm_line,
    array_line,
    error_line,
    format_value,
    raw_line,
    scalar_line,
    status_line,
    text_line,
)
from pacsys_acl.script import Qualifier

log = logging.getLogger("pacsys_acl.interpreter")

_STATUS_WORDS: dict[DRF_FIELD, tuple[str, str]] = {
    DRF_FIELD.ON: ("on", "on"),
    DRF_FIELD.READY: ("ready", "ready"),
    DRF_FIELD.REMOTE: ("remote", "remote"),
    DRF_FIELD.POSITIVE: ("positive", "positive"),
    DRF_FIELD.RAMP: ("ramp", "ramping"),
}

# Alarm-block fields: (label printed after "alarm", key in an alarm dict).
_ALARM_FIELDS: dict[DRF_FIELD, tuple[str, str]] = {
    DRF_FIELD.MIN: ("minimum", "minimum"),
    DRF_FIELD.MAX: ("maximum", "maximum"),
    DRF_FIELD.NOM: ("nominal", "nominal"),
    DRF_FIELD.TOL: ("tolerance", "tolerance"),
    DRF_FIELD.RAW_MIN: ("raw minimum", "raw_minimum"),
    DRF_FIELD.RAW_MAX: ("raw maximum", "raw_maximum"),
    DRF_FIELD.RAW_NOM: ("raw nominal", "raw_nominal"),
    DRF_FIELD.RAW_TOL: ("raw tolerance", "raw_tolerance"),
    DRF_FIELD.ALARM_ENABLE: ("enable", "alarm_enable"),
    DRF_FIELD.ALARM_STATUS: ("status", "alarm_status"),
    DRF_FIELD.TRIES_NEEDED: ("tries needed", "tries_needed"),
    DRF_FIELD.TRIES_NOW: ("tries now", "tries_now"),
    DRF_FIELD.ABORT: ("abort", "abort"),
    DRF_FIELD.ABORT_INHIBIT: ("abort inhibit", "abort_inhibit"),
    DRF_FIELD.FLAGS: ("flags", "flags"),
    DRF_FIELD.MASK: ("mask", "mask"),
}
_ALARM_PROPERTIES = frozenset(
    {DRF_PROPERTY.READING, DRF_PROPERTY.SETTING, DRF_PROPERTY.ANALOG, DRF_PROPERTY.DIGITAL}
)


class DeviceAccess:
    """Backend calls of one interpreter, with its timeout, precision and settings switch."""

    def __init__(
        self, backend: Backend, timeout: float | None, decimals: int, allow_settings: bool
    ) -> None:
        self._backend = backend
        self._timeout = timeout
        self._decimals = decimals
        self._allow_settings = allow_settings

    def get(self, ctx: Context, drf: str, verb: str = "read") -> Reading:
        device = parse_request(drf).device
        try:
            reading = self._backend.get(drf, timeout=self._timeout)
        except ReadError as exc:
            first = exc.readings[0] if exc.readings else None
            if first is None:
                raise ctx.device_error(verb, device, 1, -6, exc.message) from None
            raise ctx.device_error(
                verb, device, first.facility_code, first.error_code, first.message
            ) from None
        except DeviceError as exc:
            raise ctx.device_error(
                verb, device, exc.facility_code, exc.error_code, exc.message
            ) from None
        except ValueError:
            raise ctx.syntax(f"Invalid device request ({drf}) in {verb} device command") from None
        except (PacsysError, TimeoutError, OSError) as exc:
            log.debug("read of %s failed: %s", drf, exc)
            raise ctx.device_error(verb, device, 1, -6, None) from None
        if reading.error_code < 0 or reading.value is None:
            raise ctx.device_error(
                verb, device, reading.facility_code, reading.error_code, reading.message
            )
        return reading

    def write(self, ctx: Context, drf: str, value: Any, verb: str = "set") -> None:
        device = parse_request(drf).device
        where = f"{verb} device command"
        if not self._allow_settings:
            raise Abort(
                error_line(ctx.at(f"Settings are disabled in {where}"), "DIO_NOPRIV", device)
            )
        try:
            result = self._backend.write(drf, value, timeout=self._timeout)
        except NotImplementedError:
            raise Abort(
                error_line(
                    ctx.at(f"Settings are not supported in {where}"), "DIO_NOT_SUPPORTED", device
                )
            ) from None
        except AuthenticationError:
            raise Abort(
                error_line(ctx.at(f"No setting privilege in {where}"), "DIO_NOPRIV", device)
            ) from None
        except (TypeError, ValueError) as exc:
            log.debug("setting %s rejected: %s", drf, exc)
            raise ctx.syntax(f"Invalid setting value for ({drf}) in {where}") from None
        except (PacsysError, TimeoutError, OSError) as exc:
            log.debug("setting %s failed: %s", drf, exc)
            raise ctx.device_error(verb, device, 1, -6, None) from None
        if not result.ok:
            raise ctx.device_error(
                verb, device, result.facility_code, result.error_code, result.message
            )

    # --- rendering of one device read -----------------------------------------------

    def device_line(
        self, ctx: Context, drf: str, *, no_name: bool = False, no_units: bool = False
    ) -> str:
        request = parse_request(drf)
        device, prop, field = request.device, request.property, request.field
        decimals = self._decimals
        if prop is DRF_PROPERTY.STATUS and field in _STATUS_WORDS:
            key, word = _STATUS_WORDS[field]
            event = "" if request.event.mode == "U" else f"@{request.event.raw_string}"
            status = self.get(ctx, f"{device}.STATUS{event}").value
            if not isinstance(status, dict) or key not in status:
                raise Abort(
                    error_line(
                        ctx.at("Error determining status text in read device command"),
                        NO_ATTRIBUTE,
                        device,
                    )
                )
            return status_line(device, word, bool(status[key]))
        reading = self.get(ctx, drf)
        value = reading.value
        units = reading.meta.units if reading.meta is not None else None
        label = request.name_as(prop) if prop is DRF_PROPERTY.SETTING else device
        if field in _ALARM_FIELDS and prop in _ALARM_PROPERTIES:
            word, key = _ALARM_FIELDS[field]
            if isinstance(value, dict):
                if key not in value:
                    raise Abort(
                        error_line(
                            ctx.at("Error reading alarm field in read device command"),
                            NO_ATTRIBUTE,
                            device,
                        )
                    )
                value = value[key]
            return alarm_line(device, word, value, units, decimals=decimals)
        return self.value_line(label, reading, units, no_name=no_name, no_units=no_units)

    def value_line(
        self, label: str, reading: Reading, units: str | None, *, no_name: bool, no_units: bool
    ) -> str:
        value, decimals = reading.value, self._decimals
        if isinstance(value, bytes | bytearray):
            return raw_line(label, bytes(value), no_name=no_name)
        if isinstance(value, str):
            return text_line(label, value, no_name=no_name)
        if isinstance(value, dict):
            if reading.value_type is ValueType.TIMED_SCALAR_ARRAY and "data" in value:
                return array_line(
                    label,
                    value["data"],
                    units,
                    decimals=decimals,
                    no_name=no_name,
                    no_units=no_units,
                )
            if reading.value_type in (ValueType.ANALOG_ALARM, ValueType.DIGITAL_ALARM):
                label = f"{label} alarm"
            return text_line(label, format_value(value, decimals), no_name=no_name)
        if isinstance(value, np.ndarray | list | tuple):
            items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else value
            if any(isinstance(item, str) for item in items):
                return text_line(label, ", ".join(map(str, items)), no_name=no_name)
            return array_line(
                label, items, units, decimals=decimals, no_name=no_name, no_units=no_units
            )
        return scalar_line(
            label, value, units, decimals=decimals, no_name=no_name, no_units=no_units
        )

    # --- commands ----------------------------------------------------------------------

    def target_drf(
        self, ctx: Context, target: str, qualifiers: tuple[Qualifier, ...], verb: str
    ) -> str:
        if not is_device(target):
            raise ctx.syntax(
                f"Invalid {verb} value variable ({target}) specified in {verb}_device command"
            )
        if not qualifiers:
            return target
        request: DataRequest = parse_request(target)
        prop = None
        field = None
        event = None
        for qualifier in qualifiers:
            if qualifier.name == "setting":
                prop = DRF_PROPERTY.SETTING
            elif qualifier.name == "reading":
                prop = DRF_PROPERTY.READING
            elif qualifier.name == "raw":
                field = DRF_FIELD.RAW
            elif qualifier.name == "event":
                try:
                    event = parse_event(qualifier.value or "")
                except ValueError:
                    raise ctx.syntax(f"Invalid event ({qualifier.value})") from None
        try:
            return request.to_canonical(property=prop, field=field, event=event)
        except ValueError:
            raise ctx.syntax(f"Invalid qualifiers for ({target}) in {verb} command") from None

    def variable_line(self, name: str, value: Any, no_name: bool = False) -> str:
        if isinstance(value, str):
            return text_line(name, value, no_name=no_name)
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        ):
            return scalar_line(name, value, None, decimals=self._decimals, no_name=no_name)
        return text_line(name, format_value(value, self._decimals), no_name=no_name)
