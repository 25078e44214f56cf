"""A snapshot armed through FTPMAN: its state machine and the retrieval of its points
(``docs/protocols/acnet.md`` §8)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from pacsys.acnet.errors import AcnetError, AcnetTimeoutError
from pacsys.acnet.status import ACNET_DISCONNECTED, ACNET_PEND, ACNET_UTIME
from pacsys.deadline import Deadline
from pacsys_acnet.codec import ftp as codec
from pacsys_acnet.codec.ftp import FTPDataPoint, FTPDevice, Samples, SnapshotState
from pacsys_acnet.codec.ftp_classes import SnapClassInfo

__all__ = ["SnapshotHandle"]

log = logging.getLogger("pacsys_acnet.ftp")
MAX_PIPELINED = 16  # retrieve requests in flight at once


class SnapshotHandle:
    """An armed snapshot: follow its state, then retrieve the points of each device."""

    def __init__(
        self,
        client: Any,
        node: int,
        task_name: int,
        devices: list[FTPDevice],
        setup: codec.SnapshotSetupReply,
        info: SnapClassInfo | None,
        context: Any,
    ) -> None:
        self._client = client
        self._node = node
        self._task = task_name
        self.devices = devices
        self.setup_reply = setup
        self.snap_class_info = info
        self._context = context
        self._cond = threading.Condition()
        self._states = [
            SnapshotState.ERROR if e < 0 else SnapshotState.PENDING for e in setup.per_device_errors
        ]
        self._errors = list(setup.per_device_errors)
        self._first_update = False
        self._cancelled = False
        self._sequential: set[int] = set()

    # called on the reader thread
    def _on_reply(self, reply: Any) -> None:
        with self._cond:
            if reply.status == ACNET_PEND and not reply.data and not reply.last:
                return
            if reply.data:
                try:
                    update = codec.parse_snapshot_setup_reply(
                        reply.data, len(self.devices), what="status"
                    )
                except (ValueError, AcnetError) as exc:
                    log.warning("bad snapshot status update: %s", exc)
                else:
                    self._apply(update)
            if reply.last:
                for i, state in enumerate(self._states):
                    if state not in (SnapshotState.READY, SnapshotState.ERROR):
                        self._states[i] = SnapshotState.ERROR
                        self._errors[i] = ACNET_DISCONNECTED
            self._cond.notify_all()

    def _apply(self, update: codec.SnapshotSetupReply) -> None:
        first = self._first_update
        self._first_update = False
        for i, device_status in enumerate(update.per_device_errors):
            if self._states[i] in (SnapshotState.READY, SnapshotState.ERROR):
                continue
            status = update.error if update.error < 0 else device_status
            state = codec.status_to_state(status, first)
            if state is not None:
                self._states[i] = state
                self._errors[i] = status

    @property
    def device_states(self) -> list[SnapshotState]:
        with self._cond:
            return list(self._states)

    @property
    def state(self) -> SnapshotState:
        states = self.device_states
        if SnapshotState.ERROR in states:
            return SnapshotState.ERROR
        if all(s == SnapshotState.READY for s in states):
            return SnapshotState.READY
        return min(s for s in states if s != SnapshotState.READY)

    @property
    def is_ready(self) -> bool:
        return self.state == SnapshotState.READY

    def wait(self, timeout: float | None = None) -> bool:
        """True when every device is READY; False on timeout; AcnetError for a device error."""
        deadline = Deadline.after(timeout)
        with self._cond:
            while True:
                if self._cancelled:
                    raise RuntimeError("snapshot was cancelled")
                for state, error in zip(self._states, self._errors, strict=True):
                    if state == SnapshotState.ERROR:
                        raise AcnetError(error, "Snapshot device failed")
                if all(s == SnapshotState.READY for s in self._states):
                    return True
                if deadline.expired:
                    return False
                self._cond.wait(deadline.wait_time())

    def _page(
        self,
        device_index: int,
        num_points: int | None,
        point_number: int,
        has_timestamps: bool | None,
        skip_first_point: bool | None,
    ) -> tuple[bytes, bool, bool]:
        """One retrieve request: its payload, whether points carry timestamps, whether the
        page's first point is the metadata point to drop."""
        info = self.snap_class_info
        limit = info.retrieval_max if info is not None and info.retrieval_max else 512
        count = limit if num_points is None else num_points
        if not 0 < count <= limit:
            raise ValueError(f"num_points must be 1..{limit}, got {count}")
        if not 0 <= device_index < len(self.devices):
            raise IndexError(f"device_index must be 0..{len(self.devices) - 1}")
        stamps = (
            (info.has_timestamps if info is not None else True)
            if has_timestamps is None
            else has_timestamps
        )
        sequential = point_number == -1
        if skip_first_point is None:
            skip = (
                bool(info and info.skip_first_point)
                and sequential
                and device_index not in self._sequential
            )
        else:
            skip = skip_first_point
        if sequential:
            self._sequential.add(device_index)
        payload = codec.build_retrieve_request(self._task, device_index + 1, count, point_number)
        return payload, stamps, skip

    def _parse(self, reply: Any, device_index: int, stamps: bool, skip: bool) -> Samples:
        if reply.status < 0:
            raise AcnetError(reply.status, "Snapshot retrieve failed")
        return codec.parse_snapshot_data_reply(reply.data, self.devices[device_index], stamps, skip)

    def retrieve_samples(
        self,
        device_index: int = 0,
        num_points: int | None = None,
        point_number: int = -1,
        has_timestamps: bool | None = None,
        skip_first_point: bool | None = None,
        timeout: float = 5.0,
    ) -> Samples:
        """One page of a device's points as arrays (see :meth:`retrieve`)."""
        payload, stamps, skip = self._page(
            device_index, num_points, point_number, has_timestamps, skip_first_point
        )
        reply = self._client._single(self._node, payload, timeout)
        return self._parse(reply, device_index, stamps, skip)

    def retrieve(
        self,
        device_index: int = 0,
        num_points: int | None = None,
        point_number: int = -1,
        has_timestamps: bool | None = None,
        skip_first_point: bool | None = None,
        timeout: float = 5.0,
    ) -> list[FTPDataPoint]:
        """One page of points (empty at the end); the class's metadata point is dropped on a
        device's first sequential page."""
        return codec.points(
            self.retrieve_samples(
                device_index, num_points, point_number, has_timestamps, skip_first_point, timeout
            )
        )

    def retrieve_all(self, device_index: int = 0, timeout: float = 5.0) -> Samples:
        """Every remaining point of a device as one pair of arrays.

        The pages the set-up's point count implies are requested together (FTPMAN answers
        one pool's sequential requests in order); a short or empty page ends the data,
        otherwise more pages follow one by one.
        """
        info = self.snap_class_info
        limit = (info.retrieval_max if info is not None else 0) or 512
        expected = self.setup_reply.num_points + 1  # perhaps with a metadata point
        burst = min(MAX_PIPELINED, -(-expected // limit))
        pages: list[Samples] = []
        while True:
            requests = [self._page(device_index, None, -1, None, None) for _ in range(burst)]
            replies = self._client._singles(self._node, [r[0] for r in requests], timeout)
            short = False
            for reply, (_, stamps, skip) in zip(replies, requests, strict=True):
                page = self._parse(reply, device_index, stamps, skip)
                pages.append(page)
                short = short or len(page.values) + skip < limit
            if short:
                break
            burst = 1
        return Samples(
            np.concatenate([np.zeros(0, np.int64)] + [p.timestamps_us for p in pages]),
            np.concatenate([np.zeros(0, np.int64)] + [p.values for p in pages]),
        )

    def _control(self, subtype: int, action: str, timeout: float) -> None:
        reply = self._client._single(
            self._node, codec.build_snapshot_control(self._task, subtype), timeout
        )
        codec.check_control_reply(reply.status, reply.data, action)

    def restart(self, timeout: float = 5.0) -> None:
        """Re-arm and re-trigger; every device goes back to PENDING."""
        try:
            self._control(codec.SNAPSHOT_RESTART, "restart", timeout)
        except AcnetTimeoutError:
            with self._cond:
                self._states = [SnapshotState.ERROR] * len(self.devices)
                self._errors = [ACNET_UTIME] * len(self.devices)
            raise
        with self._cond:
            self._states = [SnapshotState.PENDING] * len(self.devices)
            self._errors = [0] * len(self.devices)
            self._first_update = True
            self._sequential.clear()

    def reset_pointers(self, timeout: float = 5.0) -> None:
        self._control(codec.SNAPSHOT_RESET, "reset", timeout)
        self._sequential.clear()

    def cancel(self) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()
        self._context.cancel()

    def __enter__(self) -> SnapshotHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()
