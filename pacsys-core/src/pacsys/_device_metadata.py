"""Metadata of a device: its DevDB record and its digital status (status bits by name).

A backend that carries its own metadata (the simulator) answers directly; otherwise the DevDB
client of the simple API does. Digital status uses DevDB bit definitions when available and
falls back to the device's BIT_NAMES/BIT_VALUES arrays.
"""

from __future__ import annotations

import logging
import numbers
from typing import TYPE_CHECKING, Any, Protocol

from pacsys.digital_status import DigitalStatus
from pacsys.drf3 import DRF_PROPERTY
from pacsys.errors import DeviceError
from pacsys.metadata_sources import backend_source
from pacsys.types import Reading

if TYPE_CHECKING:
    from pacsys.backends import Backend
    from pacsys.drf3 import DataRequest

__all__ = ["device_info", "digital_status"]

log = logging.getLogger("pacsys.device")

_P = DRF_PROPERTY


class Device(Protocol):
    """What these functions use of :class:`pacsys.device.Device` (named so, no import cycle)."""

    _request: DataRequest

    @property
    def name(self) -> str: ...

    def _get_backend(self) -> Backend: ...

    def _get_devdb(self) -> Any | None: ...

    def _require_acnet(self, prop: DRF_PROPERTY) -> None: ...


def device_info(device: Device, timeout: float | None = None) -> Any:
    """DevDB metadata (DeviceInfoResult) for this device (cached by the DevDB client).

    A backend that carries its own metadata (the simulator) answers directly; otherwise
    the DevDB client does. RuntimeError when no DevDB client is available; DeviceError
    when the device is unknown.
    """
    own = backend_source(device._get_backend())
    if own is not None:
        found = own.device_info(device.name)
        if found is None:
            raise DeviceError(device.name, 0, -1, f"Device '{device.name}' not found in DevDB")
        return found
    devdb = device._get_devdb()
    if devdb is None:
        raise RuntimeError(
            "DevDB not available. Install pacsys-grpc, and configure it with"
            " pacsys.configure(devdb_host=...) or PACSYS_DEVDB_HOST."
        )
    info = devdb.get_device_info([device.name], timeout=timeout).get(device.name)
    if info is None:
        raise DeviceError(device.name, 0, -1, f"Device '{device.name}' not found in DevDB")
    return info


def digital_status(device: Device, timeout: float | None = None) -> DigitalStatus:
    """All status bits, from DevDB bit definitions when available, else BIT_NAMES/VALUES."""
    device._require_acnet(_P.STATUS)
    extra = "" if device._request.extra_raw is None else f"<-{device._request.extra_raw}"
    base = f"{device.name}.STATUS"
    definitions = _devdb_status_bits(device, timeout)
    backend = device._get_backend()
    if definitions is not None:
        reading = backend.get(f"{base}.BIT_VALUE@I{extra}", timeout)
        _require_ok(reading)
        raw = _bit_value(reading.value)
        return DigitalStatus.from_devdb_bits(device.name, raw, *definitions)
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
        device.name,
        _bit_value(raw_reading.value),
        _text_list(names_reading.value, "BIT_NAMES"),
        _text_list(values_reading.value, "BIT_VALUES"),
    )


def _devdb_status_bits(device: Device, timeout: float | None) -> tuple[Any, Any] | None:
    """(basic, extended) bit definitions from DevDB, or None when unavailable/empty."""
    devdb = device._get_devdb()
    if devdb is None:
        return None
    try:
        info = devdb.get_device_info([device.name], timeout=timeout).get(device.name)
        basic = getattr(info, "status_bits", None)
        extended = getattr(info, "ext_status_bits", None)
    except Exception:
        log.debug("DevDB lookup for %s failed; reading bit names", device.name, exc_info=True)
        return None
    return (basic, extended) if basic else None


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
