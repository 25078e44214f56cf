"""Object-oriented device access: an immutable, validated DRF bound (optionally) to a backend.

A Device parses its DRF once, at construction, and builds the DRF each operation needs from
the parsed request: reads go out with ``@I``, writes with ``@N``, subscriptions with the
chosen event, always keeping the device's range and ``<-extra``.  Without a bound backend
the global backend of the simple API is used, looked up at call time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pacsys import _simple
from pacsys._arrays import is_ndarray
from pacsys._device_base import _IMMEDIATE, _NEVER, FieldArg, PropArg, _DeviceBase
from pacsys._device_metadata import device_info, digital_status
from pacsys.callbacks import validate_callbacks
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, parse_field
from pacsys.types import (
    BasicControl,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    WriteResult,
)
from pacsys.verify import (
    CONTROL_VERIFY_FIELDS,
    Verify,
    normalize_control_readback,
    resolve_verify,
    verified_write,
)

if TYPE_CHECKING:
    import numpy as np

    from pacsys.backends import Backend
    from pacsys.digital_status import DigitalStatus
    from pacsys.types import Value

__all__ = ["ArrayDevice", "Device", "FieldArg", "PropArg", "ScalarDevice", "TextDevice"]

_P = DRF_PROPERTY

# STATUS fields whose value is a single flag, returned by status() as a bool.
_FLAG_FIELDS = frozenset(
    (DRF_FIELD.ON, DRF_FIELD.READY, DRF_FIELD.REMOTE, DRF_FIELD.POSITIVE, DRF_FIELD.RAMP)
)

VerifyArg = bool | Verify | None


class Device(_DeviceBase):
    """A device request (a parsed DRF), immutable; ``with_*`` methods return new Devices.

    >>> dev = Device("M:OUTTMP@p,1000")
    >>> dev.drf
    'M:OUTTMP.READING@p,1000'
    >>> dev.with_event("I").drf
    'M:OUTTMP.READING@I'
    """

    __slots__ = ()

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

    # --- metadata -------------------------------------------------------------------------

    def info(self, timeout: float | None = None) -> Any:
        """DevDB metadata (DeviceInfoResult) for this device (cached by the DevDB client).

        RuntimeError when no DevDB client is available; DeviceError when the device is unknown.
        """
        return device_info(self, timeout)

    def digital_status(self, timeout: float | None = None) -> DigitalStatus:
        """All status bits, from DevDB bit definitions when available, else BIT_NAMES/VALUES."""
        return digital_status(self, timeout)

    # --- where operations go --------------------------------------------------------------

    def _get_backend(self) -> Backend:
        return self._backend if self._backend is not None else _simple.get_global_backend()

    @staticmethod
    def _get_devdb() -> Any | None:
        return _simple.get_devdb()


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
        if is_ndarray(value):
            return value
        if isinstance(value, list | tuple):
            import numpy as np  # a list reading: numpy is needed only now

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
