"""The emulated FTPMAN task: class query, continuous fast time plots, snapshots.

``docs/protocols/acnet.md`` §8 and §12. Samples come from :class:`DeviceAccess` at the
instants a digitizer would take them (the simulator computes any instant); timestamps are
100 us ticks. ``speed`` makes emulated time run that many times faster than the host's
clock (plots deliver ``speed`` times more samples per second, snapshots fill sooner).
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Hashable

import numpy as np

from pacsys.acnet import status as st
from pacsys_acnet.codec import ftp
from pacsys_acnet.codec import ftp_frontend as front
from pacsys_acnet.protocol.daemon import DaemonRequest
from pacsys_acnet.server.access import DeviceAccess, ticks
from pacsys_acnet.server.host import Host

__all__ = ["FTP_CLASS", "SNAP_CLASS", "FtpmanService"]

log = logging.getLogger("pacsys_acnet.server")
FTP_CLASS = 19  # 68K (MECAR): up to 1440 Hz
SNAP_CLASS = 12  # 1440 Hz internal: timestamps, metadata point first, 512 per page
MIN_REPLY = 512  # bytes of samples a data reply may always carry (msg_size permitting more)
RESTART_SETTLE = 0.05  # s between a restart's reply and the first status update after it


class _Snapshot:
    """One armed snapshot pool: its set-up, acquisition window, samples and page pointers."""

    def __init__(self, setup: front.SnapshotSetup, start: float) -> None:
        self.setup = setup
        self.rate = max(1, setup.rate_hz)
        self.arm(start)

    def arm(self, start: float) -> None:
        self.start = start
        self.pointers = [0] * len(self.setup.devices)
        self.data: list[tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def duration(self) -> float:
        return self.setup.num_points / self.rate

    def update(self, status: int) -> bytes:
        s = self.setup
        statuses = [status] * len(s.devices)
        return front.build_snapshot_setup_reply(
            0, s.arm_trigger_word, s.rate_hz, s.arm_delay, s.arm_events, s.num_points, statuses
        )

    def collect(self, access: DeviceAccess) -> None:
        """Take the samples of the acquisition window (at the end of it)."""
        times = self.start + np.arange(self.setup.num_points) / self.rate
        self.data = [(ticks(times), access.samples(d, times)) for d in self.setup.devices]

    def retrieve(self, access: DeviceAccess, item: int, count: int, point: int) -> bytes:
        """One page; the first point of every device is a metadata point (its point count)."""
        if self.data is None:
            self.collect(access)
        assert self.data is not None
        if not 1 <= item <= len(self.data):
            return struct.pack("<hH", st.FTP_ENDOFDATA, 0)
        stamps, values = self.data[item - 1]
        start = self.pointers[item - 1] if point == 0xFFFFFFFF else point
        total = len(values) + 1
        if start >= total:
            return struct.pack("<hH", st.FTP_ENDOFDATA, 0)
        end = min(total, start + count)
        if point == 0xFFFFFFFF:
            self.pointers[item - 1] = end
        page_stamps = np.concatenate([[0], stamps])[start:end]
        page_values = np.concatenate([[len(values)], values])[start:end]
        width = self.setup.devices[item - 1].data_length
        return front.build_snapshot_data_reply(page_values, width, page_stamps)


class FtpmanService:
    """FTPMAN at the local node: every device is class 19 (plots) and 12 (snapshots)."""

    def __init__(self, host: Host, access: DeviceAccess, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.host = host
        self.access = access
        self.speed = speed
        self._t0 = host.now()
        self._pools: dict[tuple[Hashable, int], tuple[DaemonRequest, _Snapshot]] = {}

    def now(self) -> float:
        """Emulated time (epoch seconds)."""
        return self._t0 + (self.host.now() - self._t0) * self.speed

    def request(self, request: DaemonRequest) -> None:
        try:
            code, parsed = front.parse_request(request.data)
        except ValueError as exc:
            log.warning("bad FTPMAN request: %s", exc)
            self.host.reply(request, st.ACNET_IVM, b"", last=True)
            return
        # Each typecode parses to its own shape (see front.parse_request): narrow on it.
        if code == ftp.CLASS_INFO and isinstance(parsed, list):
            codes = [ftp.FTPClassCode(FTP_CLASS, SNAP_CLASS, 0) for _ in parsed]
            self.host.reply(request, 0, front.build_class_info_reply(codes))
        elif isinstance(parsed, front.ContinuousSetup):
            self._continuous(request, parsed)
        elif isinstance(parsed, front.SnapshotSetup):
            self._snapshot(request, parsed)
        elif code == ftp.SNAPSHOT_RETRIEVE and isinstance(parsed, tuple):
            task, item, count, point = parsed
            found = self._pools.get((request.requester, task))
            page = (
                found[1].retrieve(self.access, item, count, point)
                if found is not None
                else struct.pack("<hH", st.FTP_ENDOFDATA, 0)
            )
            self.host.reply(request, 0, page)
        elif isinstance(parsed, tuple):  # SNAPSHOT_CONTROL
            task, subtype = parsed
            self._control(request, task, subtype)

    def cancel(self, request: DaemonRequest) -> None:
        if request.user is not None:
            request.user.cancel()
        for key, (setup, _) in list(self._pools.items()):
            if setup is request:
                del self._pools[key]

    # --- continuous plots --------------------------------------------------------------------

    def _continuous(self, request: DaemonRequest, setup: front.ContinuousSetup) -> None:
        statuses = [
            0 if self.access.drf(d.di, d.pi)[0] is not None else st.DPM_NO_SUCH_DEVICE
            for d in setup.devices
        ]
        first = struct.pack("<hH", 0, 1) + struct.pack(f"<{len(statuses)}h", *statuses)
        self.host.reply(request, 0, first, last=False)
        widths = [d.data_length for d in setup.devices]
        steps = [max(1, p) / 100000.0 for p in setup.sample_periods]
        taken = [self.now()] * len(steps)  # next sample instant per device
        period = max(1, setup.return_period) / 15.0
        # points per device in one reply: what the client's reply buffer (msg_size words) holds
        room = max(2 * setup.msg_size, MIN_REPLY) - 8 - 6 * len(widths)
        per_reply = max(1, room // max(1, sum(2 + w for w in widths)))

        def tick() -> None:
            if not request.open:
                return
            now = self.now()
            while True:
                parts = []
                for i, (device, step) in enumerate(zip(setup.devices, steps, strict=True)):
                    count = min(per_reply, max(0, math.floor((now - taken[i]) / step) + 1))
                    times = taken[i] + np.arange(count) * step
                    taken[i] += count * step
                    if statuses[i] == 0:
                        parts.append((0, ticks(times), self.access.samples(device, times)))
                    else:
                        parts.append((statuses[i], times, times))
                self.host.reply(request, 0, front.build_continuous_data_reply(parts, widths), False)
                if all(t > now for t in taken) or not request.open:
                    break
            request.user = self.host.schedule(period, tick)

        request.user = self.host.schedule(period, tick)

    # --- snapshots ---------------------------------------------------------------------------

    def _snapshot(self, request: DaemonRequest, setup: front.SnapshotSetup) -> None:
        pool = _Snapshot(setup, self.now())
        self._pools[(request.requester, setup.task_name)] = (request, pool)
        self.host.reply(request, 0, pool.update(st.FTP_PEND), last=False)
        self._collect(request, pool)

    def _collect(self, request: DaemonRequest, pool: _Snapshot, settle: float = 0.0) -> None:
        """COLLECTING (``settle`` s from now), READY (status 0) once the window has passed."""

        def collecting() -> None:
            if request.open:
                self.host.reply(request, 0, pool.update(st.FTP_COLLECTING), last=False)
                request.user = self.host.schedule(pool.duration / self.speed, ready)

        def ready() -> None:
            if request.open:
                pool.collect(self.access)
                self.host.reply(request, 0, pool.update(0), last=False)

        if settle:
            request.user = self.host.schedule(settle, collecting)
        else:
            collecting()

    def _control(self, request: DaemonRequest, task: int, subtype: int) -> None:
        found = self._pools.get((request.requester, task))
        if found is None:
            self.host.reply(request, 0, struct.pack("<h", st.FTP_ENDOFDATA))
            return
        setup, pool = found
        if subtype == ftp.SNAPSHOT_RESTART:
            if setup.user is not None:
                setup.user.cancel()
            pool.arm(self.now() + RESTART_SETTLE * self.speed)
            self.host.reply(request, 0, struct.pack("<h", 0))
            self._collect(setup, pool, RESTART_SETTLE)
        else:
            pool.pointers = [0] * len(pool.pointers)
            self.host.reply(request, 0, struct.pack("<h", 0))
