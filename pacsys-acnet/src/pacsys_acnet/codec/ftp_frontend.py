"""FTPMAN seen from the front end (the emulator): requests in, replies out.

``docs/protocols/acnet.md`` §8. The client's side is :mod:`pacsys_acnet.codec.ftp`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from pacsys_acnet.codec.ftp import (
    CLASS_INFO,
    CONTINUOUS,
    REPLY_TYPE_DATA,
    SAMPLE_DTYPES,
    SNAPSHOT_CONTROL,
    SNAPSHOT_RETRIEVE,
    SNAPSHOT_SETUP,
    FTPClassCode,
    FTPDevice,
    fixed_events,
)

__all__ = [
    "ContinuousSetup",
    "SnapshotSetup",
    "build_class_info_reply",
    "build_continuous_data_reply",
    "build_snapshot_data_reply",
    "build_snapshot_setup_reply",
    "parse_request",
]


def build_class_info_reply(codes: Sequence[FTPClassCode], overall: int = 0) -> bytes:
    if overall:
        return struct.pack("<h", overall)
    return struct.pack("<h", 0) + b"".join(
        struct.pack("<hHH", c.error, c.ftp, c.snap) for c in codes
    )


def build_continuous_data_reply(
    samples: Sequence[tuple[int, np.ndarray, np.ndarray]], widths: Sequence[int]
) -> bytes:
    """Front end: ``(status, ticks_100us, values)`` per device -> one data reply."""
    head = bytearray(struct.pack("<hH4x", 0, REPLY_TYPE_DATA))
    body = bytearray()
    offset = 8 + 6 * len(samples)
    for (status, ticks, values), width in zip(samples, widths, strict=True):
        count = len(values) if status == 0 else 0
        head += struct.pack("<hHH", status, offset + len(body), count)
        if count:
            rows = np.empty(count, SAMPLE_DTYPES[width, True])
            rows["ts"] = ticks
            rows["v"] = values
            body += rows.tobytes()
    return bytes(head + body)


def build_snapshot_setup_reply(
    error: int,
    word: int,
    rate: int,
    delay: int,
    events: bytes,
    num_points: int,
    statuses: Sequence[int],
    arm_time: tuple[int, int] = (0, 0),
) -> bytes:
    head = struct.pack("<hHII8sI", error, word, rate, delay, fixed_events(events, 8), num_points)
    return head + b"".join(struct.pack("<hIII4x", s, 0, arm_time[0], arm_time[1]) for s in statuses)


def build_snapshot_data_reply(
    values: np.ndarray, width: int, ticks: np.ndarray | None = None, error: int = 0
) -> bytes:
    """Front end: one page of points (with 100 us ``ticks`` when the class has timestamps)."""
    if error:
        return struct.pack("<hH", error, 0)
    rows = np.empty(len(values), SAMPLE_DTYPES[width, ticks is not None])
    if ticks is not None:
        rows["ts"] = ticks
    rows["v"] = values
    return struct.pack("<hH", 0, len(values)) + rows.tobytes()


class ContinuousSetup(NamedTuple):
    task_name: int
    return_period: int
    msg_size: int
    reference_event: int
    priority: int
    devices: list[FTPDevice]
    sample_periods: list[int]


class SnapshotSetup(NamedTuple):
    task_name: int
    arm_trigger_word: int
    priority: int
    rate_hz: int
    arm_delay: int
    arm_events: bytes
    sample_events: bytes
    num_points: int
    devices: list[FTPDevice]


def parse_request(data: bytes) -> tuple[int, object]:
    """Front end: ``(typecode, parsed request)``; ValueError when malformed.

    Class query -> device list; continuous -> :class:`ContinuousSetup`; snapshot ->
    :class:`SnapshotSetup`; retrieve -> ``(task, item, num_points, point)``; control ->
    ``(task, subtype)``. Devices are 2-byte unless their class says otherwise.
    """
    if len(data) < 2:
        raise ValueError("FTPMAN request too short")
    code = struct.unpack_from("<H", data)[0]
    try:
        if code == CLASS_INFO:
            (count,) = struct.unpack_from("<H", data, 2)
            devices = []
            for i in range(count):
                dipi, ssdn = struct.unpack_from("<I8s", data, 4 + 12 * i)
                devices.append(FTPDevice(dipi & 0xFFFFFF, dipi >> 24, ssdn))
            return code, devices
        if code == CONTINUOUS:
            task, count, period, size, ref, _, _, prio, _ = struct.unpack_from(
                "<IHHHHHHHH", data, 2
            )
            devices, periods = [], []
            for i in range(count):
                dipi, offset, ssdn, sp = struct.unpack_from("<II8sH", data, 32 + 22 * i)
                devices.append(FTPDevice(dipi & 0xFFFFFF, dipi >> 24, ssdn, offset))
                periods.append(sp)
            return code, ContinuousSetup(task, period, size, ref, prio, devices, periods)
        if code == SNAPSHOT_SETUP:
            task, count, word, prio, rate, delay, arm, sample, npts = struct.unpack_from(
                "<IHHHII8s4sI", data, 2
            )
            devices = []
            for i in range(count):
                dipi, offset, ssdn = struct.unpack_from("<II8s", data, 68 + 20 * i)
                devices.append(FTPDevice(dipi & 0xFFFFFF, dipi >> 24, ssdn, offset))
            return code, SnapshotSetup(task, word, prio, rate, delay, arm, sample, npts, devices)
        if code == SNAPSHOT_RETRIEVE:
            return code, struct.unpack_from("<IHHI", data, 2)
        if code == SNAPSHOT_CONTROL:
            return code, struct.unpack_from("<IH", data, 2)
    except struct.error as exc:
        raise ValueError(f"malformed FTPMAN request (typecode {code}): {exc}") from None
    raise ValueError(f"unknown FTPMAN typecode {code}")
