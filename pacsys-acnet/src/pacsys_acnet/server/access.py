"""The emulated front ends' view of a Backend: raw property reads and fast sampling.

Property index 12 is the reading and 13 the setting; a device's DI is its catalogue
index (:class:`~pacsys_acnet.server.catalogue.DeviceIndex`). A read returns the first
``length`` bytes of the property's RAW data after ``offset`` (zero-filled when shorter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pacsys.acnet.status import DPM_NO_SUCH_DEVICE, DPM_NO_SUCH_PROP, make_error
from pacsys_acnet.codec.ftp import FTPDevice
from pacsys_acnet.codec.reads import ReadDevice
from pacsys_acnet.server.catalogue import DeviceIndex

__all__ = ["PROPERTIES", "DeviceAccess", "ticks"]

PROPERTIES = {12: "READING", 13: "SETTING"}


def ticks(times: np.ndarray) -> np.ndarray:
    """100 us ticks of epoch instants, wrapping at 16 bits as a front end's clock does."""
    return (np.asarray(times) * 10000).astype(np.int64) % 65536


class DeviceAccess:
    """Raw reads and samples of the devices a Backend knows, by DI and PI."""

    def __init__(self, backend: Any, index: DeviceIndex) -> None:
        self.backend = backend
        self.index = index
        self._drfs: dict[tuple[int, int], tuple[str | None, int]] = {}

    def drf(self, di: int, pi: int) -> tuple[str | None, int]:
        """The RAW DRF of a property, or None and the status a front end would give."""
        key = (di, pi)
        known = self._drfs.get(key)
        if known is None:
            name = self.index.name(di)
            prop = PROPERTIES.get(pi)
            if name is None:
                known = None, DPM_NO_SUCH_DEVICE
            elif prop is None:
                known = None, DPM_NO_SUCH_PROP
            else:
                known = f"{name}.{prop}.RAW", 0
            if len(self._drfs) < 65536:
                self._drfs[key] = known
        return known

    def read(self, devices: Sequence[ReadDevice]) -> list[tuple[int, bytes]]:
        """``(status, bytes from the device's offset)`` per device, from one backend read."""
        drfs = [self.drf(d.di, d.pi) for d in devices]
        wanted = [d for d, _ in drfs if d is not None]
        readings = iter(self.backend.get_many(wanted, timeout=5.0) if wanted else [])
        out = []
        for device, (drf, status) in zip(devices, drfs, strict=True):
            if drf is None:
                out.append((status, b""))
                continue
            reading = next(readings)
            if reading.ok and isinstance(reading.value, bytes):
                out.append((0, reading.value[device.offset :]))
            else:
                code = (
                    make_error(reading.facility_code, reading.error_code)
                    if reading.error_code
                    else -1
                )
                out.append((code, b""))
        return out

    def samples(self, device: FTPDevice, times: np.ndarray) -> np.ndarray:
        """Raw samples of a device at epoch instants (one value repeated without a sampler)."""
        drf, _ = self.drf(device.di, device.pi)
        if drf is None or not len(times):
            return np.zeros(len(times), np.int64)
        sampler = getattr(self.backend, "sample_times", None)
        if sampler is not None:
            readings = sampler(drf, times.tolist())
        else:
            readings = self.backend.get_many([drf], timeout=5.0) * len(times)
        width = device.data_length
        return np.array(
            [
                int.from_bytes(bytes(r.value[:width]).ljust(width, b"\0"), "little", signed=True)
                if r.ok and isinstance(r.value, bytes)
                else 0
                for r in readings
            ],
            np.int64,
        )
