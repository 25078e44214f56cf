"""The emulated front ends' view of a Backend: raw property reads and fast sampling.

Property index 12 is the reading and 13 the setting; a device's DI is its catalogue
index (:class:`~pacsys_acnet.server.catalogue.DeviceIndex`). A read returns the first
``length`` bytes of the property's RAW data after ``offset``. Like a front end's data
pool, read data is refreshed once per 15 Hz cycle: reads within one cycle share it.
A backend with ``sample_raw(drf, times, width) -> int array`` samples in bulk; otherwise
``sample_times(drf, times)`` (the simulator's) or one read repeated.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from pacsys.acnet.status import DPM_NO_SUCH_DEVICE, DPM_NO_SUCH_PROP, make_error
from pacsys_acnet.codec.ftp import FTPDevice
from pacsys_acnet.server.catalogue import DeviceIndex

__all__ = ["PROPERTIES", "DeviceAccess", "Key", "ticks"]

PROPERTIES = {12: "READING", 13: "SETTING"}
CYCLE = 1 / 15  # s a read stays fresh
MAX_CACHED = 65536
_STATUS = struct.Struct("<h")
Key = tuple[int, int, int, int]  # di, pi, offset, length


def ticks(times: np.ndarray) -> np.ndarray:
    """100 us ticks of epoch instants, wrapping at 16 bits as a front end's clock does."""
    return np.rint(np.asarray(times) * 10000).astype(np.int64) % 65536


class DeviceAccess:
    """Raw reads and samples of the devices a Backend knows, by DI and PI."""

    def __init__(self, backend: Any, index: DeviceIndex) -> None:
        self.backend = backend
        self.index = index
        self._drfs: dict[tuple[int, int], tuple[str | None, int]] = {}
        self._pool: dict[str, tuple[int, bytes]] = {}  # drf -> (status, raw) this cycle
        self._slots: dict[Key, bytes] = {}  # key -> its slot in a reply, this cycle
        self._epoch = float("-inf")
        self._lock = threading.Lock()

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

    def body(self, keys: Sequence[Key], now: float) -> bytes:
        """The value part of a RETDAT/GETS32 reply: per ``(di, pi, offset, length)`` key the
        status, ``length`` bytes from ``offset`` (zero-filled) and the pad to even."""
        with self._lock:  # several connections' threads read
            if now - self._epoch >= CYCLE or len(self._slots) > MAX_CACHED:
                self._pool.clear()
                self._slots.clear()
                self._epoch = now
            slots = self._slots
            missing = [key for key in keys if key not in slots]
            if missing:
                self._fill(missing)
            return b"".join([slots[key] for key in keys])

    def _fill(self, keys: list[Key]) -> None:
        pool = self._pool
        drfs = {key: self.drf(key[0], key[1]) for key in keys}
        wanted = list({d for d, _ in drfs.values() if d is not None and d not in pool})
        if wanted:
            for asked, reading in zip(
                wanted, self.backend.get_many(wanted, timeout=5.0), strict=True
            ):
                if reading.ok and isinstance(reading.value, bytes):
                    pool[asked] = (0, reading.value)
                else:
                    error = reading.error_code
                    pool[asked] = (make_error(reading.facility_code, error) if error else -1, b"")
        for key, (drf, refused) in drfs.items():
            status, raw = pool[drf] if drf is not None else (refused, b"")
            _, _, offset, length = key
            data = raw[offset : offset + length].ljust(length + (length & 1), b"\0")
            self._slots[key] = _STATUS.pack(status) + data

    def samples(self, device: FTPDevice, times: np.ndarray) -> np.ndarray:
        """Raw samples of a device at epoch instants."""
        drf, _ = self.drf(device.di, device.pi)
        if drf is None or not len(times):
            return np.zeros(len(times), np.int64)
        width = device.data_length
        bulk = getattr(self.backend, "sample_raw", None)
        if bulk is not None:
            return np.asarray(bulk(drf, times, width), np.int64)
        sampler = getattr(self.backend, "sample_times", None)
        if sampler is not None:
            readings = sampler(drf, times.tolist())
        else:
            readings = self.backend.get_many([drf], timeout=5.0) * len(times)
        return np.array(
            [
                int.from_bytes(bytes(r.value[:width]).ljust(width, b"\0"), "little", signed=True)
                if r.ok and isinstance(r.value, bytes)
                else 0
                for r in readings
            ],
            np.int64,
        )
