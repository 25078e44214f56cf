"""FTPMAN payloads: class query, continuous plot, snapshot set-up, retrieve and control.

``docs/protocols/acnet.md`` §8. Every field is little-endian. Samples decode straight into
numpy arrays (:class:`Samples`); :func:`points` turns them into the reference's
:class:`FTPDataPoint` lists.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from pacsys.acnet.errors import AcnetError
from pacsys.acnet.status import (
    FTP_COLLECTING,
    FTP_ENDOFDATA,
    FTP_PEND,
    FTP_WAIT_DELAY,
    FTP_WAIT_EVENT,
)
from pacsys_acnet.codec.rad50 import encode
from pacsys_acnet.codec.reads import check_int

__all__ = [
    "CLASS_INFO",
    "CONTINUOUS",
    "SNAPSHOT_CONTROL",
    "SNAPSHOT_RESET",
    "SNAPSHOT_RESTART",
    "SNAPSHOT_RETRIEVE",
    "SNAPSHOT_SETUP",
    "FTPClassCode",
    "FTPDataPoint",
    "FTPDevice",
    "Samples",
    "SnapshotSetupReply",
    "SnapshotState",
    "arm_trigger_word",
    "build_class_info_request",
    "build_continuous_setup",
    "build_retrieve_request",
    "build_snapshot_control",
    "build_snapshot_setup",
    "check_control_reply",
    "msg_size",
    "parse_class_info_reply",
    "parse_continuous_data_reply",
    "parse_continuous_first_reply",
    "parse_snapshot_data_reply",
    "parse_snapshot_setup_reply",
    "points",
    "pool_name",
    "sample_period",
    "status_to_state",
]

CLASS_INFO = 1
SNAPSHOT_CONTROL = 5
CONTINUOUS = 6
SNAPSHOT_SETUP = 7
SNAPSHOT_RETRIEVE = 8
SNAPSHOT_RESTART = 1
SNAPSHOT_RESET = 2
REPLY_TYPE_SETUP = 1
REPLY_TYPE_DATA = 2
MAX_MSG_WORDS = 4160

SAMPLE_DTYPES = {
    (2, True): np.dtype([("ts", "<u2"), ("v", "<i2")]),
    (4, True): np.dtype([("ts", "<u2"), ("v", "<i4")]),
    (2, False): np.dtype([("v", "<i2")]),
    (4, False): np.dtype([("v", "<i4")]),
}


class FTPDataPoint(NamedTuple):
    """One sample: microseconds (from the front end's 100 us ticks) and the raw value."""

    timestamp_us: int
    raw_value: int


class Samples(NamedTuple):
    """Samples of one device as arrays: ``timestamps_us`` (int64) and raw ``values``."""

    timestamps_us: np.ndarray
    values: np.ndarray


class FTPClassCode(NamedTuple):
    ftp: int
    snap: int
    error: int


class FTPDevice:
    """One device of a plot: DI, PI, SSDN, byte offset and sample width (2 or 4 bytes)."""

    __slots__ = ("data_length", "di", "offset", "pi", "ssdn")
    di: int
    pi: int
    ssdn: bytes
    offset: int
    data_length: int

    def __init__(
        self, di: int, pi: int, ssdn: bytes, offset: int = 0, data_length: int = 2
    ) -> None:
        check_int(di, "di", 0xFFFFFF)
        check_int(pi, "pi", 0xFF)
        if not isinstance(ssdn, bytes | bytearray):
            raise TypeError("ssdn must be bytes in wire order")
        if len(ssdn) != 8:
            raise ValueError(f"SSDN must be 8 bytes, got {len(ssdn)}")
        check_int(offset, "offset", 0xFFFFFFFF)
        if data_length not in (2, 4) or isinstance(data_length, bool):
            raise ValueError(f"data_length must be 2 or 4, got {data_length}")
        for name, value in (
            ("di", di), ("pi", pi), ("ssdn", bytes(ssdn)), ("offset", offset),
            ("data_length", data_length),
        ):  # fmt: skip
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"FTPDevice is immutable: cannot set {name}")

    @property
    def dipi(self) -> int:
        return self.pi << 24 | self.di

    def _key(self) -> tuple[int, int, bytes, int, int]:
        return (self.di, self.pi, self.ssdn, self.offset, self.data_length)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FTPDevice) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"FTPDevice(di={self.di}, pi={self.pi}, ssdn={self.ssdn!r}, "
            f"offset={self.offset}, data_length={self.data_length})"
        )


class SnapshotState(enum.IntEnum):
    PENDING = 1
    WAIT_EVENT = 2
    WAIT_DELAY = 3
    COLLECTING = 4
    READY = 5
    ERROR = 6


_STATES = {
    FTP_PEND: SnapshotState.PENDING,
    FTP_WAIT_EVENT: SnapshotState.WAIT_EVENT,
    FTP_WAIT_DELAY: SnapshotState.WAIT_DELAY,
    FTP_COLLECTING: SnapshotState.COLLECTING,
}


def status_to_state(status: int, first: bool = False) -> SnapshotState | None:
    """The state a device status means; None for an informational status (no change)."""
    if status < 0:
        return SnapshotState.ERROR
    if status == 0:
        return SnapshotState.PENDING if first else SnapshotState.READY
    return _STATES.get(status)


def pool_name(prefix: str, counter: int) -> int:
    """RAD50 of ``FTPnnn``/``SNPnnn`` for the ``counter``-th pool (``nnn = counter % 999 + 1``)."""
    return encode(f"{prefix}{counter % 999 + 1:03d}")


def _i16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "little", signed=True)


# --- class query (typecode 1) ---------------------------------------------------------------


def build_class_info_request(devices: Sequence[FTPDevice]) -> bytes:
    parts = [struct.pack("<HH", CLASS_INFO, len(devices))]
    parts.extend(struct.pack("<I8s", d.dipi, d.ssdn) for d in devices)
    return b"".join(parts)


def parse_class_info_reply(data: bytes, num_devices: int) -> list[FTPClassCode]:
    if len(data) < 2:
        raise ValueError(f"Class info reply too short: {len(data)} bytes")
    overall = _i16(data, 0)
    if overall != 0:
        return [FTPClassCode(0, 0, overall)] * num_devices
    codes = []
    for i in range(num_devices):
        pos = 2 + 6 * i
        if len(data) < pos + 6:
            raise ValueError(f"Truncated class info reply at offset {pos}")
        error, ftp, snap = struct.unpack_from("<hHH", data, pos)
        codes.append(FTPClassCode(ftp, snap, error))
    return codes


# --- continuous plot (typecode 6) -----------------------------------------------------------


def sample_period(rate_hz: float) -> int:
    """The sample period in 10 us units; ValueError outside ~1.53 Hz .. 100 kHz."""
    if (
        isinstance(rate_hz, bool)
        or not isinstance(rate_hz, int | float)
        or not (100000 / 65536 < rate_hz <= 100000)
    ):
        raise ValueError(f"rate_hz={rate_hz} out of range (~1.53 Hz to 100 kHz)")
    return int(100000 / rate_hz)


def msg_size(num_devices: int, num_data_words: int, rate: float, return_period: int) -> int:
    """The reply buffer (16-bit words) a continuous plot asks for, capped at 4160."""
    return min(
        int(1.5 * (4 + 3 * num_devices + num_data_words * rate * return_period / 15)),
        MAX_MSG_WORDS,
    )


def build_continuous_setup(
    devices: Sequence[FTPDevice],
    rate_hz: float,
    return_period: int = 3,
    priority: int = 0,
    reference_event: int = 0,
    task_name: int = 0,
) -> bytes:
    period = sample_period(rate_hz)
    if (
        isinstance(return_period, bool)
        or not isinstance(return_period, int)
        or not (1 <= return_period <= 7)
    ):
        raise ValueError(f"return_period={return_period} out of range (1-7)")
    words = sum(2 if d.data_length == 2 else 3 for d in devices)
    size = msg_size(len(devices), words, rate_hz, return_period)
    head = struct.pack(
        "<HIHHHHHHHH10x", CONTINUOUS, task_name, len(devices), return_period, size,
        reference_event, 0, 0, priority, 0,
    )  # fmt: skip
    body = b"".join(struct.pack("<II8sH4x", d.dipi, d.offset, d.ssdn, period) for d in devices)
    return head + body


def parse_continuous_first_reply(data: bytes, num_devices: int) -> list[int]:
    """Per-device statuses of the setup reply; AcnetError when the setup failed."""
    if len(data) >= 2:
        error = _i16(data, 0)
        if error < 0:
            raise AcnetError(error, "Continuous plot setup failed")
    if len(data) < 4:
        raise ValueError(f"Setup reply too short: {len(data)} bytes")
    kind = struct.unpack_from("<H", data, 2)[0]
    if kind != REPLY_TYPE_SETUP:
        raise ValueError(f"Unexpected setup reply type {kind}")
    statuses = []
    for i in range(num_devices):
        pos = 4 + 2 * i
        if len(data) < pos + 2:
            raise ValueError(f"Truncated setup reply at offset {pos}")
        statuses.append(_i16(data, pos))
    return statuses


def parse_continuous_data_reply(data: bytes, devices: Sequence[FTPDevice]) -> dict[int, Samples]:
    """``{device position: Samples}`` of one data reply (devices with errors are skipped)."""
    if len(data) < 2:
        raise ValueError(f"Continuous data reply too short: {len(data)} bytes")
    error = _i16(data, 0)
    if error < 0:
        raise AcnetError(error, "Continuous plot data failed")
    if len(data) < 4:
        raise ValueError(f"Continuous data reply too short: {len(data)} bytes")
    if struct.unpack_from("<H", data, 2)[0] != REPLY_TYPE_DATA:
        return {}
    head = 8 + 6 * len(devices)
    if len(data) < head:
        raise ValueError(
            f"Truncated continuous data reply header: expected {head} bytes, got {len(data)}"
        )
    batch: dict[int, Samples] = {}
    for i, device in enumerate(devices):
        status, index, count = struct.unpack_from("<hHH", data, 8 + 6 * i)
        if status != 0 or count == 0:
            continue
        dtype = SAMPLE_DTYPES[device.data_length, True]
        end = index + count * dtype.itemsize
        if end > len(data):
            raise ValueError(
                f"Truncated continuous data for device {device.di}: offset {index}, "
                f"{count} points require {end} bytes, got {len(data)}"
            )
        rows = np.frombuffer(data, dtype, count, index)
        batch[i] = Samples(rows["ts"].astype(np.int64) * 100, rows["v"].astype(np.int64))
    return batch


# --- snapshot (typecodes 7, 8, 5) -----------------------------------------------------------


def arm_trigger_word(
    arm_source: int = 2,
    arm_modifier: int = 0,
    plot_mode: int = 2,
    trigger_source: int = 0,
    trigger_modifier: int = 0,
) -> int:
    return (
        (trigger_modifier & 3) << 10
        | (trigger_source & 3) << 8
        | 1 << 7
        | (plot_mode & 3) << 5
        | (arm_modifier & 3) << 2
        | arm_source & 3
    )


def fixed_events(raw: bytes, size: int) -> bytes:
    return bytes(raw[:size]).ljust(size, b"\xff")


def build_snapshot_setup(
    devices: Sequence[FTPDevice],
    rate_hz: int,
    num_points: int = 2048,
    arm_trigger_word: int = 0x00C2,
    arm_delay: int = 0,
    arm_events: bytes = b"\xff" * 8,
    sample_events: bytes = b"\xff" * 4,
    priority: int = 0,
    arm_device: FTPDevice | None = None,
    arm_mask: int = 0,
    arm_value: int = 0,
    task_name: int = 0,
) -> bytes:
    try:
        head = struct.pack(
            "<HIHHHII8s4sI", SNAPSHOT_SETUP, task_name, len(devices), arm_trigger_word, priority,
            int(rate_hz), arm_delay, fixed_events(arm_events, 8),
            fixed_events(sample_events, 4), num_points,
        )  # fmt: skip
        if arm_device is None:
            arm = bytes(24)
        else:
            arm = struct.pack(
                "<II8sII", arm_device.dipi, arm_device.offset, arm_device.ssdn, arm_mask, arm_value
            )
    except struct.error as exc:
        raise ValueError(f"snapshot setup field out of range: {exc}") from None
    body = b"".join(struct.pack("<II8s4x", d.dipi, d.offset, d.ssdn) for d in devices)
    return head + arm + bytes(8) + body


class SnapshotSetupReply(NamedTuple):
    """The set-up reply and every status update: common fields, then per device."""

    error: int
    arm_trigger_word: int
    sample_rate_hz: int
    arm_delay: int
    arm_events: bytes
    num_points: int
    per_device_errors: list[int]
    per_device_ref_points: list[int]
    per_device_arm_time: list[tuple[int, int]]


def parse_snapshot_setup_reply(
    data: bytes, num_devices: int, *, what: str = "setup"
) -> SnapshotSetupReply:
    """``what`` is "setup" for the first reply, "status" for later updates (error texts)."""
    if len(data) >= 2 and what == "setup":
        error = _i16(data, 0)
        if error < 0:
            raise AcnetError(error, "Snapshot setup failed")
    expected = 24 + 18 * num_devices
    if what == "setup" and len(data) < 24:
        raise ValueError(f"Snapshot setup reply too short: {len(data)} bytes")
    if len(data) < expected:
        raise ValueError(
            f"Truncated snapshot {what} reply: expected {expected} bytes, got {len(data)}"
        )
    error, word, rate, delay, events, points = struct.unpack_from("<hHII8sI", data)
    errors, refs, times = [], [], []
    for i in range(num_devices):
        status, ref, sec, nsec = struct.unpack_from("<hIII4x", data, 24 + 18 * i)
        errors.append(status)
        refs.append(ref)
        times.append((sec, nsec))
    return SnapshotSetupReply(error, word, rate, delay, events, points, errors, refs, times)


def build_retrieve_request(
    task_name: int, item_number: int, num_points: int = 512, point_number: int = -1
) -> bytes:
    return struct.pack(
        "<HIHHI", SNAPSHOT_RETRIEVE, task_name, item_number, num_points, point_number & 0xFFFFFFFF
    )


def parse_snapshot_data_reply(
    data: bytes, device: FTPDevice, has_timestamps: bool = True, skip_first_point: bool = False
) -> Samples:
    """One page of a retrieval; empty at FTP_ENDOFDATA."""
    if len(data) >= 2:
        error = _i16(data, 0)
        if error == FTP_ENDOFDATA:
            return _EMPTY
        if error < 0:
            raise AcnetError(error, "Snapshot retrieve failed")
    if len(data) < 4:
        raise ValueError(f"Snapshot data reply too short: {len(data)} bytes")
    count = struct.unpack_from("<H", data, 2)[0]
    dtype = SAMPLE_DTYPES[device.data_length, has_timestamps]
    need = 4 + count * dtype.itemsize
    if len(data) < need:
        raise ValueError(
            f"Truncated snapshot data reply: expected {need} bytes for {count} points, "
            f"got {len(data)}"
        )
    rows = np.frombuffer(data, dtype, count, 4)
    if skip_first_point:
        rows = rows[1:]
    values = rows["v"].astype(np.int64)
    if has_timestamps:
        return Samples(rows["ts"].astype(np.int64) * 100, values)
    return Samples(np.zeros(len(values), np.int64), values)


_EMPTY = Samples(np.zeros(0, np.int64), np.zeros(0, np.int64))


def build_snapshot_control(task_name: int, subtype: int) -> bytes:
    try:
        return struct.pack("<HIH", SNAPSHOT_CONTROL, task_name, subtype)
    except struct.error as exc:
        raise ValueError(f"subtype must be 0..65535: {exc}") from None


def check_control_reply(acnet_status: int, data: bytes, action: str = "restart") -> None:
    """Raise unless a control request (restart/reset) succeeded."""
    if acnet_status < 0:
        raise AcnetError(acnet_status, f"Snapshot {action} failed")
    if len(data) < 2:
        raise ValueError(f"Snapshot {action} reply too short: {len(data)} bytes")
    error = _i16(data, 0)
    if error < 0:
        raise AcnetError(error, f"Snapshot {action} rejected by front-end")


def points(samples: Samples) -> list[FTPDataPoint]:
    """The reference's list form of :class:`Samples`."""
    return [
        FTPDataPoint(t, v)
        for t, v in zip(samples.timestamps_us.tolist(), samples.values.tolist(), strict=True)
    ]
