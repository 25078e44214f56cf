"""Object-oriented device access: an immutable, validated DRF bound (optionally) to a backend.

A Device parses its DRF once, at construction, and builds the DRF each operation needs from
the parsed request: reads go out with ``@I``, writes with ``@N``, subscriptions with the
chosen event, always keeping the device's range and ``<-extra``.  Without a bound backend
the global backend of the simple API is used, looked up at call time.
"""

from __future__ import annotations

import copy
import logging
import numbers
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from pacsys import _simple
from pacsys.backends import Backend
from pacsys.callbacks import validate_callbacks
from pacsys.digital_status import DigitalStatus
from pacsys.drf3 import (
    ARRAY_RANGE,
    DRF_FIELD,
    DRF_PROPERTY,
    HISTORICAL_EXTRAS,
    DataRequest,
    get_default_field,
    is_field_allowed,
    parse_event,
    parse_field,
    parse_property,
    parse_request,
)
from pacsys.drf_utils import parse_named
from pacsys.errors import DeviceError
from pacsys.metadata_sources import backend_source
from pacsys.types import (
    BasicControl,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    Value,
    WriteResult,
)
from pacsys.verify import (
    CONTROL_VERIFY_FIELDS,
    Verify,
    normalize_control_readback,
    resolve_verify,
    verified_write,
)

__all__ = ["ArrayDevice", "Device", "ScalarDevice", "TextDevice"]

log = logging.getLogger("pacsys.device")

_D = TypeVar("_D", bound="Device")

_P = DRF_PROPERTY
_DEFAULT = parse_event("U")
_IMMEDIATE = parse_event("I")
_NEVER = parse_event("N")

# STATUS fields whose value is a single flag, returned by status() as a bool.
_FLAG_FIELDS = frozenset(
    (DRF_FIELD.ON, DRF_FIELD.READY, DRF_FIELD.REMOTE, DRF_FIELD.POSITIVE, DRF_FIELD.RAMP)
)
# The only properties a non-ACNET (e.g. EPICS) device has.
_NON_ACNET_PROPERTIES = frozenset((_P.READING, _P.SETTING))

FieldArg = str | DRF_FIELD | None
PropArg = str | DRF_PROPERTY | None
VerifyArg = bool | Verify | None


class Device:
    """A device request (a parsed DRF), immutable; ``with_*`` methods return new Devices.

    >>> dev = Device("M:OUTTMP@p,1000")
    >>> dev.drf
    'M:OUTTMP.READING@p,1000'
    >>> dev.with_event("I").drf
    'M:OUTTMP.READING@I'
    """

    __slots__ = ("_backend", "_drf", "_explicit_field", "_request")

    _request: DataRequest
    _backend: Backend | None
    _explicit_field: DRF_FIELD | None
    _drf: str

    def __init__(self, drf: str, backend: Backend | None = None) -> None:
        if drf is None:
            raise ValueError("device_str must not be None")
        if not isinstance(drf, str):
            raise TypeError(f"Expected a DRF string, got {type(drf).__name__}")
        request = parse_named(drf)
        self._setup(request, backend, request.field if request.field_explicit else None)

    def _setup(
        self, request: DataRequest, backend: Backend | None, explicit_field: DRF_FIELD | None
    ) -> None:
        object.__setattr__(self, "_request", request)
        object.__setattr__(self, "_backend", backend)
        object.__setattr__(self, "_explicit_field", explicit_field)
        object.__setattr__(self, "_drf", request.to_canonical())

    @classmethod
    def _from_parts(
        cls: type[_D],
        request: DataRequest,
        backend: Backend | None,
        explicit_field: DRF_FIELD | None,
    ) -> _D:
        device = cls.__new__(cls)
        device._setup(request, backend, explicit_field)
        return device

    def _derive(self: _D, drf: str) -> _D:
        """A new Device of the same class for ``drf``, keeping backend and explicit field."""
        return self._from_parts(parse_request(drf), self._backend, self._explicit_field)

    # --- immutability, copying, identity --------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} instances are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} instances are immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self._drf, self._backend, self._explicit_field))

    def __copy__(self: _D) -> _D:
        return self

    def __deepcopy__(self: _D, memo: dict[int, Any]) -> _D:
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._drf!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Device):
            return NotImplemented
        return self._drf == other._drf

    def __hash__(self) -> int:
        return hash(self._drf)

    # --- attributes -----------------------------------------------------------------------

    @property
    def drf(self) -> str:
        """Canonical DRF of the request, e.g. ``M:OUTTMP.READING@p,1000``."""
        return self._drf

    @property
    def name(self) -> str:
        """Canonical device name, e.g. ``M:OUTTMP``."""
        return self._request.device

    @property
    def request(self) -> DataRequest:
        """A copy of the parsed request (callers cannot affect this Device through it)."""
        return copy.deepcopy(self._request)

    @property
    def backend(self) -> Backend | None:
        """The bound backend, or None when the global backend is used."""
        return self._backend

    @property
    def has_event(self) -> bool:
        """True unless the event is the default (``@I`` and ``@N`` count as events)."""
        return self._request.event.mode != "U"

    @property
    def is_periodic(self) -> bool:
        return self._request.event.mode in ("P", "Q")

    # --- fluent modifiers (no I/O) --------------------------------------------------------

    def with_event(self: _D, event: str) -> _D:
        """Same request with the event replaced, e.g. ``with_event("p,500")``."""
        if not isinstance(event, str):
            raise TypeError(f"event must be a str, got {type(event).__name__}")
        return self._derive(self._request.to_canonical(event=parse_event(event)))

    def without_event(self: _D) -> _D:
        return self._derive(self._request.to_canonical(event=_DEFAULT))

    def with_range(
        self: _D, start: int | None = None, end: int | None = None, *, at: int | None = None
    ) -> _D:
        """Same request with array range ``[start:end]``, ``[at]``, or ``[:]`` when none given."""
        if at is not None:
            if start is not None or end is not None:
                raise ValueError("'at' cannot be combined with 'start'/'end'")
            new_range = ARRAY_RANGE(low=at, mode="single")
        else:
            new_range = ARRAY_RANGE(low=start, high=end)
        return self._derive(self._request.to_canonical(range=new_range))

    def without_range(self: _D) -> _D:
        return self._derive(self._request.to_canonical(range=None))

    def with_extra(self: _D, extra: str | None) -> _D:
        """Same request with the ``<-extra`` replaced (kept verbatim); None removes it."""
        if extra is not None and not isinstance(extra, str):
            raise TypeError(f"extra must be a str or None, got {type(extra).__name__}")
        return self._derive(self._request.to_canonical(extra=extra))

    def with_backend(self: _D, backend: Backend) -> _D:
        """Same request bound to ``backend``."""
        return self._from_parts(self._request, backend, self._explicit_field)

    # --- reads ----------------------------------------------------------------------------

    def read(self, *, field: FieldArg = None, timeout: float | None = None) -> Any:
        """Value of the READING property; DeviceError when there is no usable value."""
        return self._read_property(_P.READING, field, timeout)[1]

    def setting(self, *, field: FieldArg = None, timeout: float | None = None) -> Any:
        """Value of the SETTING property."""
        return self._read_property(_P.SETTING, field, timeout)[1]

    def status(self, *, field: FieldArg = None, timeout: float | None = None) -> Any:
        """Basic status; a bool for the ON/READY/REMOTE/POSITIVE/RAMP fields."""
        resolved, value = self._read_property(_P.STATUS, field, timeout)
        return bool(value) if resolved in _FLAG_FIELDS else value

    def analog_alarm(self, *, field: FieldArg = None, timeout: float | None = None) -> Any:
        """The analog alarm block (a dict) or one of its fields."""
        return self._read_property(_P.ANALOG, field, timeout)[1]

    def digital_alarm(self, *, field: FieldArg = None, timeout: float | None = None) -> Any:
        """The digital alarm block (a dict) or one of its fields."""
        return self._read_property(_P.DIGITAL, field, timeout)[1]

    def description(self, *, field: FieldArg = None, timeout: float | None = None) -> str:
        """The device's description text."""
        value = self._read_property(_P.DESCRIPTION, field, timeout)[1]
        if not isinstance(value, str):
            raise TypeError(f"Expected str from DESCRIPTION, got {type(value).__name__}")
        return value

    def get(
        self, *, prop: PropArg = None, field: FieldArg = None, timeout: float | None = None
    ) -> Reading:
        """A full Reading: of the Device's own DRF, or of ``prop``/``field`` read once."""
        if prop is None:
            if field is not None:
                raise ValueError("field requires prop to be specified")
            return self._get_backend().get(self._drf, timeout)
        target = self._parse_prop(prop)
        drf = self._build(target, self._resolve_field(target, field), self._one_shot_event())
        return self._get_backend().get(drf, timeout)

    def _read_property(
        self, prop: DRF_PROPERTY, field: FieldArg, timeout: float | None
    ) -> tuple[DRF_FIELD | None, Any]:
        resolved = self._resolve_field(prop, field)
        drf = self._build(prop, resolved, self._one_shot_event())
        return resolved, self._get_backend().read(drf, timeout)

    # --- writes ---------------------------------------------------------------------------

    def write(
        self,
        value: Value,
        *,
        field: FieldArg = None,
        verify: VerifyArg = None,
        timeout: float | None = None,
    ) -> WriteResult:
        """Write the SETTING property, optionally verifying by reading it back."""
        if isinstance(value, BasicControl):
            raise TypeError(
                f"BasicControl.{value.name} targets the CONTROL property"
                " - use control() instead of write()"
            )
        resolved = self._resolve_field(_P.SETTING, field)
        write_drf = self._build(_P.SETTING, resolved, _NEVER)
        active = resolve_verify(verify)
        backend = self._get_backend()

        def send() -> WriteResult:
            return backend.write(write_drf, value, timeout=timeout)

        if active is None:
            return send()
        readback_drf = active.readback or self._build(_P.SETTING, resolved, _IMMEDIATE)
        return verified_write(
            write=send,
            read_back=lambda: backend.read(readback_drf, timeout),
            expected=value,
            write_drf=write_drf,
            verify=active,
        )

    def control(
        self,
        command: BasicControl | int,
        *,
        verify: VerifyArg = None,
        timeout: float | None = None,
    ) -> WriteResult:
        """Send a basic-control command; verification reads the matching STATUS flag."""
        self._require_acnet(_P.CONTROL)
        write_drf = self._build(_P.CONTROL, None, _NEVER)
        active = resolve_verify(verify)
        if active is None:
            return self._get_backend().write(write_drf, command, timeout=timeout)
        status_field, expected = _status_check_for(command)
        readback_drf = active.readback or self._build(
            _P.STATUS, parse_field(status_field), _IMMEDIATE
        )
        backend = self._get_backend()
        return verified_write(
            write=lambda: backend.write(write_drf, command, timeout=timeout),
            read_back=lambda: backend.read(readback_drf, timeout),
            expected=expected,
            write_drf=write_drf,
            verify=active,
            normalize=lambda value: normalize_control_readback(value, status_field),
        )

    def on(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.ON, verify=verify, timeout=timeout)

    def off(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.OFF, verify=verify, timeout=timeout)

    def reset(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.RESET, verify=verify, timeout=timeout)

    def positive(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.POSITIVE, verify=verify, timeout=timeout)

    def negative(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.NEGATIVE, verify=verify, timeout=timeout)

    def ramp(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.RAMP, verify=verify, timeout=timeout)

    def dc(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.DC, verify=verify, timeout=timeout)

    def local(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.LOCAL, verify=verify, timeout=timeout)

    def remote(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.REMOTE, verify=verify, timeout=timeout)

    def trip(self, *, verify: VerifyArg = None, timeout: float | None = None) -> WriteResult:
        return self.control(BasicControl.TRIP, verify=verify, timeout=timeout)

    def set_analog_alarm(
        self, settings: Mapping[str, Any], *, timeout: float | None = None
    ) -> WriteResult:
        """Write analog-alarm fields, e.g. ``{"minimum": 40, "maximum": 80}``."""
        self._require_acnet(_P.ANALOG)
        drf = self._build(_P.ANALOG, None, _NEVER)
        return self._get_backend().write(drf, settings, timeout=timeout)  # type: ignore[arg-type]

    def set_digital_alarm(
        self, settings: Mapping[str, Any], *, timeout: float | None = None
    ) -> WriteResult:
        """Write digital-alarm fields, e.g. ``{"nominal": 1, "mask": 0xFF}``."""
        self._require_acnet(_P.DIGITAL)
        drf = self._build(_P.DIGITAL, None, _NEVER)
        return self._get_backend().write(drf, settings, timeout=timeout)  # type: ignore[arg-type]

    # --- streaming ------------------------------------------------------------------------

    def subscribe(
        self,
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
        *,
        prop: PropArg = None,
        field: FieldArg = None,
        event: str | None = None,
    ) -> SubscriptionHandle:
        """Stream this device with ``event`` (or its own event); see Backend.subscribe."""
        validate_callbacks(callback, on_error, suggest_event=True)
        drf = self._stream_drf("subscribe", prop, field, event)
        return self._get_backend().subscribe([drf], callback, on_error)

    def await_next(
        self,
        *,
        prop: PropArg = None,
        field: FieldArg = None,
        event: str | None = None,
        timeout: float | None = 5.0,
    ) -> Reading:
        """The first Reading the stream delivers (any status); TimeoutError when none comes."""
        drf = self._stream_drf("await_next", prop, field, event)
        arrived = threading.Event()
        first: list[Reading | BaseException] = []

        def on_reading(reading: Reading, handle: SubscriptionHandle) -> None:
            first.append(reading)
            arrived.set()

        def on_error(exc: BaseException, handle: SubscriptionHandle) -> None:
            first.append(exc)
            arrived.set()

        handle = self._get_backend().subscribe([drf], on_reading, on_error)
        try:
            if not arrived.wait(timeout):
                raise TimeoutError(f"Condition not met within {timeout}s for {drf}")
        finally:
            handle.stop()
        outcome = first[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _stream_drf(self, verb: str, prop: PropArg, field: FieldArg, event: str | None) -> str:
        if field is not None and prop is None:
            raise ValueError("field requires prop to be specified")
        target = _P.READING if prop is None else self._parse_prop(prop)
        resolved = self._resolve_field(target, field)
        chosen = parse_event(event) if event is not None else None
        if chosen is None or chosen.mode == "U":
            if not self.has_event:
                raise ValueError(f"{verb} requires an event — use event= or dev.with_event()")
            chosen = self._request.event
        if chosen.mode == "N":
            raise ValueError(f"{verb} cannot use @N (never) event")
        return self._build(target, resolved, chosen)

    # --- metadata -------------------------------------------------------------------------

    def info(self, timeout: float | None = None) -> Any:
        """DevDB metadata (DeviceInfoResult) for this device (cached by the DevDB client).

        A backend that carries its own metadata (the simulator) answers directly; otherwise
        the DevDB client does. RuntimeError when no DevDB client is available; DeviceError
        when the device is unknown.
        """
        own = backend_source(self._get_backend())
        if own is not None:
            found = own.device_info(self.name)
            if found is None:
                raise DeviceError(self.name, 0, -1, f"Device '{self.name}' not found in DevDB")
            return found
        devdb = self._get_devdb()
        if devdb is None:
            raise RuntimeError(
                "DevDB not available. Install pacsys-grpc, and configure it with"
                " pacsys.configure(devdb_host=...) or PACSYS_DEVDB_HOST."
            )
        info = devdb.get_device_info([self.name], timeout=timeout).get(self.name)
        if info is None:
            raise DeviceError(self.name, 0, -1, f"Device '{self.name}' not found in DevDB")
        return info

    def digital_status(self, timeout: float | None = None) -> DigitalStatus:
        """All status bits, from DevDB bit definitions when available, else BIT_NAMES/VALUES."""
        self._require_acnet(_P.STATUS)
        extra = "" if self._request.extra_raw is None else f"<-{self._request.extra_raw}"
        base = f"{self.name}.STATUS"
        definitions = self._devdb_status_bits(timeout)
        backend = self._get_backend()
        if definitions is not None:
            reading = backend.get(f"{base}.BIT_VALUE@I{extra}", timeout)
            _require_ok(reading)
            raw = _bit_value(reading.value)
            return DigitalStatus.from_devdb_bits(self.name, raw, *definitions)
        readings = backend.get_many(
            [
                f"{base}.BIT_VALUE@I{extra}",
                f"{base}.BIT_NAMES@I{extra}",
                f"{base}.BIT_VALUES@I{extra}",
            ],
            timeout=timeout,
        )
        for reading in readings:
            _require_ok(reading)
        raw_reading, names_reading, values_reading = readings
        return DigitalStatus.from_bit_arrays(
            self.name,
            _bit_value(raw_reading.value),
            _text_list(names_reading.value, "BIT_NAMES"),
            _text_list(values_reading.value, "BIT_VALUES"),
        )

    def _devdb_status_bits(self, timeout: float | None) -> tuple[Any, Any] | None:
        """(basic, extended) bit definitions from DevDB, or None when unavailable/empty."""
        devdb = self._get_devdb()
        if devdb is None:
            return None
        try:
            info = devdb.get_device_info([self.name], timeout=timeout).get(self.name)
            basic = getattr(info, "status_bits", None)
            extended = getattr(info, "ext_status_bits", None)
        except Exception:
            log.debug("DevDB lookup for %s failed; reading bit names", self.name, exc_info=True)
            return None
        return (basic, extended) if basic else None

    # --- DRF building ---------------------------------------------------------------------

    def _get_backend(self) -> Backend:
        return self._backend if self._backend is not None else _simple.get_global_backend()

    @staticmethod
    def _get_devdb() -> Any | None:
        return _simple.get_devdb()

    def _parse_prop(self, prop: str | DRF_PROPERTY) -> DRF_PROPERTY:
        if isinstance(prop, DRF_PROPERTY):
            return prop
        try:
            return parse_property(prop)
        except (ValueError, AttributeError):
            raise ValueError(f"Invalid property {prop!r} for {self.name}") from None

    def _require_acnet(self, prop: DRF_PROPERTY) -> None:
        if not self._request.is_acnet and prop not in _NON_ACNET_PROPERTIES:
            raise ValueError(
                f"{prop.name} is ACNET-specific, not supported for non-ACNET device {self.name}"
            )

    def _resolve_field(self, prop: DRF_PROPERTY, field: FieldArg) -> DRF_FIELD | None:
        """The field to request for ``prop`` (rules of the field argument, see module doc)."""
        self._require_acnet(prop)
        requested = _parse_field_arg(field)
        if not self._request.is_acnet:
            if requested is not None and requested is not get_default_field(prop):
                raise ValueError(
                    f"ACNET field {requested.name} not supported for non-ACNET device {self.name}"
                )
            return None
        if requested is not None:
            if not is_field_allowed(prop, requested):
                shown = field.name if isinstance(field, DRF_FIELD) else field
                raise ValueError(f"Field '{shown}' not allowed for {prop.name}")
            return requested
        explicit = self._explicit_field
        if explicit is not None and is_field_allowed(prop, explicit):
            return explicit
        return get_default_field(prop)

    def _one_shot_event(self) -> Any:
        """``@I``, except that historical (logger) requests keep their own event."""
        if self._request.extra in HISTORICAL_EXTRAS:
            return self._request.event
        return _IMMEDIATE

    def _build(self, prop: DRF_PROPERTY, field: DRF_FIELD | None, event: Any) -> str:
        """``D.PROP[range].FIELD@EVENT<-extra`` for this device (field omitted when default)."""
        request = self._request
        if not request.is_acnet:
            return request.to_canonical(event=event)
        parts = [request.device, ".", prop.name]
        if request.range is not None:
            parts.append(str(request.range))
        if field is not None and field is not get_default_field(prop):
            parts.append("." + field.name)
        if event.mode != "U":
            parts.append("@" + event.raw_string)
        if request.extra_raw is not None:
            parts.append("<-" + request.extra_raw)
        return "".join(parts)


class ScalarDevice(Device):
    """A Device whose ``read()`` returns a float."""

    __slots__ = ()

    def read(self, *, field: FieldArg = None, timeout: float | None = None) -> float:
        value = super().read(field=field, timeout=timeout)
        if not isinstance(value, int | float):
            raise TypeError(f"Expected scalar, got {type(value).__name__}")
        return float(value)


class ArrayDevice(Device):
    """A Device whose ``read()`` returns a numpy array."""

    __slots__ = ()

    def read(self, *, field: FieldArg = None, timeout: float | None = None) -> np.ndarray:
        value = super().read(field=field, timeout=timeout)
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, list | tuple):
            return np.array(value)
        raise TypeError(f"Expected array, got {type(value).__name__}")


class TextDevice(Device):
    """A Device whose ``read()`` returns a str."""

    __slots__ = ()

    def read(self, *, field: FieldArg = None, timeout: float | None = None) -> str:
        value = super().read(field=field, timeout=timeout)
        if not isinstance(value, str):
            raise TypeError(f"Expected string, got {type(value).__name__}")
        return value


# --- module helpers -------------------------------------------------------------------------


def _restore(
    cls: type[_D], drf: str, backend: Backend | None, explicit_field: DRF_FIELD | None
) -> _D:
    """Unpickle a Device (see ``Device.__reduce__``)."""
    return cls._from_parts(parse_request(drf), backend, explicit_field)


def _parse_field_arg(field: FieldArg) -> DRF_FIELD | None:
    if field is None or isinstance(field, DRF_FIELD):
        return field
    if not isinstance(field, str):
        raise TypeError(f"field must be a str, got {type(field).__name__}")
    return parse_field(field)


def _status_check_for(command: object) -> tuple[str, bool]:
    """(STATUS field, expected flag) that confirms a control command took effect."""
    try:
        check = CONTROL_VERIFY_FIELDS.get(command)  # type: ignore[call-overload]
    except TypeError:  # unhashable command
        check = None
    if check is None:
        raise ValueError(
            f"Cannot verify control command {command!r}: no STATUS field mapping defined"
        )
    return check


def _require_ok(reading: Reading) -> None:
    if not reading.ok:
        raise DeviceError(reading.drf, reading.facility_code, reading.error_code, reading.message)


def _bit_value(value: object) -> int:
    if not isinstance(value, numbers.Real):
        raise TypeError(f"Expected numeric BIT_VALUE, got {type(value).__name__}")
    return int(value)  # type: ignore[call-overload]  # typeshed's numbers.Real has no __int__


def _text_list(value: object, what: str) -> list[str]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"Expected list for {what}, got {type(value).__name__}")
    if not all(isinstance(item, str) for item in value):
        raise TypeError(f"Expected list[str] for {what}")
    return list(value)
