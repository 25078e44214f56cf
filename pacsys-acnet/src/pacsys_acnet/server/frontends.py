"""The emulated front-end tasks: RETDAT, GETS32 and FTPMAN over a Backend's RAW data.

Property index 12 is the reading and 13 the setting; a read returns the first ``length``
bytes of the property's RAW data (zero-filled when shorter).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from pacsys.acnet.status import (
    DPM_NO_SUCH_DEVICE,
    DPM_NO_SUCH_PROP,
    FTP_ENDOFDATA,
)
from pacsys_acnet.codec import ftp, gets32, retdat
from pacsys_acnet.codec.reads import ReadDevice
from pacsys_acnet.server.catalogue import DeviceIndex

PROPERTIES = {12: "READING", 13: "SETTING"}
FTP_CLASS = 19  # 68K (MECAR): up to 1440 Hz
SNAP_CLASS = 12  # 1440 Hz internal: timestamps, metadata point first, 512 per page


class FrontEnds:
    def __init__(self, backend: Any, index: DeviceIndex, speed: float = 1.0) -> None:
        self.backend = backend
        self.index = index
        self.speed = speed
        self.t0 = time.time()

    def now(self) -> float:
        """Emulated time: runs ``speed`` times faster than the wall clock."""
        return self.t0 + (time.time() - self.t0) * self.speed

    def drf(self, di: int, pi: int) -> tuple[str | None, int]:
        name = self.index.name(di)
        if name is None:
            return None, DPM_NO_SUCH_DEVICE
        prop = PROPERTIES.get(pi)
        if prop is None:
            return None, DPM_NO_SUCH_PROP
        return f"{name}.{prop}.RAW", 0

    def read(self, devices: Sequence[ReadDevice]) -> list[tuple[int, bytes]]:
        drfs = [self.drf(d.di, d.pi) for d in devices]
        wanted = [d for d, s in drfs if d is not None]
        readings = iter(self.backend.get_many(wanted, timeout=5.0) if wanted else [])
        out = []
        for device, (drf, status) in zip(devices, drfs, strict=True):
            if drf is None:
                out.append((status, b""))
                continue
            reading = next(readings)
            raw = reading.value if reading.ok and isinstance(reading.value, bytes) else b""
            code = 0 if reading.ok else (reading.error_code << 8 | (reading.facility_code & 0xFF))
            out.append((code if code < 0x8000 else code - 0x10000, raw[device.offset :]))
        return out

    def retdat(self, data: bytes) -> bytes:
        request = retdat.parse_request(data)
        return retdat.build_reply(self.read(request.devices), request.devices)

    def gets32(self, data: bytes, sequence: int) -> bytes:
        request = gets32.parse_request(data)
        now_ms = int(time.time() * 1000)
        header = gets32.Gets32Header(0, 1, 1, 0, 0, sequence, now_ms, now_ms, now_ms)
        return gets32.build_reply(header, self.read(request.devices), request.devices)

    def samples(self, device: ftp.FTPDevice, times: np.ndarray) -> np.ndarray:
        """Raw samples of a device at emulated instants (repeats one value without a sampler)."""
        drf, _ = self.drf(device.di, device.pi)
        if drf is None:
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


def ticks(times: np.ndarray) -> np.ndarray:
    """100 us ticks since the last supercycle (wrapping at 16 bits)."""
    return (np.asarray(times) * 10000).astype(np.int64) % 65536


class Snapshot:
    """One armed snapshot pool: samples taken at set-up time + acquisition window."""

    def __init__(self, fe: FrontEnds, setup: ftp.SnapshotSetup) -> None:
        self.fe = fe
        self.setup = setup
        self.start = fe.now()
        self.pointers = [0] * len(setup.devices)
        self.data: list[tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def ready_at(self) -> float:
        return self.start + self.setup.num_points / max(1, self.setup.rate_hz)

    def collect(self) -> None:
        if self.data is None:
            times = self.start + np.arange(self.setup.num_points) / max(1, self.setup.rate_hz)
            self.data = [(ticks(times), self.fe.samples(d, times)) for d in self.setup.devices]

    def retrieve(self, item: int, count: int, point: int) -> bytes:
        self.collect()
        assert self.data is not None
        if not 1 <= item <= len(self.data):
            return ftp.build_snapshot_data_reply(np.zeros(0), 2, error=FTP_ENDOFDATA)
        stamps, values = self.data[item - 1]
        # the first point of a pool is a metadata point (timestamp 0, value = points)
        stamps = np.concatenate([[0], stamps])
        values = np.concatenate([[len(values)], values])
        start = self.pointers[item - 1] if point == 0xFFFFFFFF else point
        if start >= len(values):
            return ftp.build_snapshot_data_reply(np.zeros(0), 2, error=FTP_ENDOFDATA)
        end = min(len(values), start + count)
        if point == 0xFFFFFFFF:
            self.pointers[item - 1] = end
        width = self.setup.devices[item - 1].data_length
        return ftp.build_snapshot_data_reply(values[start:end], width, stamps[start:end])
