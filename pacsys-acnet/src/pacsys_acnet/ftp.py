"""FTPMAN clients: class query, continuous fast time plots and snapshots
(``docs/protocols/acnet.md`` §8).

Samples arrive as numpy arrays (:class:`~pacsys_acnet.codec.ftp.Samples`: microsecond
timestamps and raw values); ``readings()`` also gives the reference's FTPDataPoint lists.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from pacsys.acnet.errors import AcnetError, AcnetTimeoutError
from pacsys.acnet.status import ACNET_DISCONNECTED, ACNET_PEND, ACNET_UTIME
from pacsys_acnet.codec import ftp as codec
from pacsys_acnet.codec.ftp import (
    FTPClassCode,
    FTPDataPoint,
    FTPDevice,
    Samples,
    SnapshotState,
)
from pacsys_acnet.codec.ftp_classes import (
    FTPClassInfo,
    SnapClassInfo,
    get_ftp_class_info,
    get_snap_class_info,
)

__all__ = [
    "FTPClassCode",
    "FTPClassInfo",
    "FTPClient",
    "FTPDataPoint",
    "FTPDevice",
    "FTPStream",
    "SnapClassInfo",
    "SnapshotHandle",
    "SnapshotState",
    "get_ftp_class_info",
    "get_snap_class_info",
]

log = logging.getLogger("pacsys_acnet.ftp")
FTPMAN = "FTPMAN"
MAX_PIPELINED = 16  # retrieve requests in flight at once
_ftp_counter = itertools.count(1)
_snap_counter = itertools.count(1)


class _Waiter:
    """The replies of one request (sent without waiting for its ACK), and its ACK's failure."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.replies: collections.deque[Any] = collections.deque()
        self.error: BaseException | None = None

    def put(self, reply: Any) -> None:
        with self.cond:
            self.replies.append(reply)
            self.cond.notify_all()

    def acked(self, pending: Any) -> None:
        if pending.error is not None:
            with self.cond:
                self.error = pending.error
                self.cond.notify_all()

    def get(self, timeout: float) -> Any:
        """The next reply, None after ``timeout``; the ACK's error when it failed."""
        with self.cond:
            if not self.replies and self.error is None:
                self.cond.wait(timeout)
            if self.replies:
                return self.replies.popleft()
            if self.error is not None:
                raise self.error
            return None


def _first_reply(waiter: _Waiter, timeout: float, context: Any) -> Any:
    """The first non-heartbeat reply, or cancel and raise."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        reply = waiter.get(left) if left > 0 else None
        if reply is None:
            context.cancel()
            raise AcnetTimeoutError(int(timeout * 1000))
        if reply.status == ACNET_PEND and not reply.data and not reply.last:
            continue
        if reply.status < 0:
            context.cancel()
            raise AcnetError(reply.status, "FTPMAN setup failed")
        return reply


class FTPStream:
    """A running continuous plot: iterate samples until :meth:`stop`."""

    def __init__(
        self, devices: list[FTPDevice], setup_statuses: list[int], waiter: _Waiter, context: Any
    ) -> None:
        self.devices = devices
        self.setup_statuses = setup_statuses
        self._waiter = waiter
        self._context = context
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def samples(self, timeout: float = 1.0) -> Iterator[dict[int, Samples]]:
        """``{device position: Samples}`` per data reply; ``timeout`` is a polling interval."""
        while not self._stopped:
            reply = self._waiter.get(timeout)
            if reply is None:
                continue
            if reply.status < 0:
                if reply.last:
                    self._stopped = True
                    raise AcnetError(reply.status, "Continuous plot ended")
                continue
            if reply.data:
                batch = codec.parse_continuous_data_reply(reply.data, self.devices)
                if batch:
                    yield batch
            if reply.last:
                self._stopped = True

    def readings(self, timeout: float = 1.0) -> Iterator[dict[int, list[FTPDataPoint]]]:
        """The reference's form: ``{device position: [FTPDataPoint, ...]}``."""
        for batch in self.samples(timeout):
            yield {i: codec.points(s) for i, s in batch.items()}

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._context.cancel()

    def __enter__(self) -> FTPStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SnapshotHandle:
    """An armed snapshot: follow its state, then retrieve the points of each device."""

    def __init__(
        self,
        client: FTPClient,
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
        self._ignore_before: int | None = None
        self._sequential: set[int] = set()

    # called on the reader thread
    def _on_reply(self, reply: Any) -> None:
        with self._cond:
            if reply.status == ACNET_PEND and not reply.data and not reply.last:
                return
            if reply.data and self._ignore_before is None:
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
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._cancelled:
                    raise RuntimeError("snapshot was cancelled")
                for state, error in zip(self._states, self._errors, strict=True):
                    if state == SnapshotState.ERROR:
                        raise AcnetError(error, "Snapshot device failed")
                if all(s == SnapshotState.READY for s in self._states):
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)

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
        import numpy as np

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


class FTPClient:
    """FTPMAN over a connected sync connection."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def _send(
        self, node: int, payload: bytes, handler: Any, multiple: bool, timeout_ms: int
    ) -> Any:
        return self._connection.start_request(
            node, FTPMAN, payload, handler.put, multiple, timeout_ms, on_ack=handler.acked
        )

    def _singles(self, node: int, payloads: list[bytes], timeout: float) -> list[Any]:
        """Single requests sent back to back; their replies in order."""
        waiters = [_Waiter() for _ in payloads]
        contexts = [
            self._send(node, p, w, False, int(timeout * 1000))
            for p, w in zip(payloads, waiters, strict=True)
        ]
        deadline = time.monotonic() + timeout + 1.0
        replies = []
        for waiter in waiters:
            reply = waiter.get(max(0.0, deadline - time.monotonic()))
            if reply is None:
                for other in contexts:
                    other.cancel()
                raise AcnetTimeoutError(int(timeout * 1000))
            replies.append(reply)
        return replies

    def _single(self, node: int, payload: bytes, timeout: float) -> Any:
        return self._singles(node, [payload], timeout)[0]

    def get_class_codes_many(
        self, node: int, devices: Sequence[FTPDevice], timeout: float = 5.0
    ) -> list[FTPClassCode]:
        items = list(devices)
        reply = self._single(node, codec.build_class_info_request(items), timeout)
        if reply.status != 0:
            return [FTPClassCode(0, 0, reply.status)] * len(items)
        return codec.parse_class_info_reply(reply.data, len(items))

    def get_class_codes(self, node: int, device: FTPDevice, timeout: float = 5.0) -> FTPClassCode:
        return self.get_class_codes_many(node, [device], timeout)[0]

    def start_continuous(
        self,
        node: int,
        devices: Sequence[FTPDevice],
        rate_hz: float,
        return_period: int = 3,
        priority: int = 0,
        reference_event: int = 0,
        timeout: float = 10.0,
    ) -> FTPStream:
        items = list(devices)
        task = codec.pool_name("FTP", next(_ftp_counter))
        payload = codec.build_continuous_setup(
            items, rate_hz, return_period, priority, reference_event, task
        )
        waiter = _Waiter()
        context = self._send(node, payload, waiter, True, int(timeout * 1000))
        reply = _first_reply(waiter, timeout, context)
        try:
            if reply.last:
                error = (
                    int.from_bytes(reply.data[:2], "little", signed=True)
                    if len(reply.data) >= 2
                    else 0
                )
                raise (
                    AcnetError(error, "Continuous plot setup failed")
                    if error < 0
                    else AcnetError(0, "Unexpected end of replies after setup")
                )
            statuses = codec.parse_continuous_first_reply(reply.data, len(items))
        except BaseException:
            context.cancel()
            raise
        for i, status in enumerate(statuses):
            if status < 0:
                log.warning("FTP device %d refused with status %d", i, status)
        return FTPStream(items, statuses, waiter, context)

    def start_snapshot(
        self,
        node: int,
        devices: Sequence[FTPDevice],
        rate_hz: int,
        num_points: int = 2048,
        arm_source: int = 2,
        arm_modifier: int = 0,
        plot_mode: int = 2,
        arm_delay: int = 0,
        arm_events: bytes = b"\xff" * 8,
        trigger_source: int = 0,
        trigger_modifier: int = 0,
        sample_events: bytes = b"\xff" * 4,
        priority: int = 0,
        arm_device: FTPDevice | None = None,
        arm_mask: int = 0,
        arm_value: int = 0,
        snap_class_code: int | None = None,
        timeout: float = 10.0,
    ) -> SnapshotHandle:
        items = list(devices)
        task = codec.pool_name("SNP", next(_snap_counter))
        word = codec.arm_trigger_word(
            arm_source, arm_modifier, plot_mode, trigger_source, trigger_modifier
        )
        payload = codec.build_snapshot_setup(
            items,
            rate_hz,
            num_points,
            word,
            arm_delay,
            arm_events,
            sample_events,
            priority,
            arm_device,
            arm_mask,
            arm_value,
            task,
        )
        info = get_snap_class_info(snap_class_code) if snap_class_code is not None else None
        holder: list[SnapshotHandle] = []
        early = _Waiter()

        def route(reply: Any) -> None:
            with early.cond:
                if not holder:
                    early.put(reply)
                    return
            holder[0]._on_reply(reply)

        context = self._connection.start_request(
            node, FTPMAN, payload, route, True, 0, on_ack=early.acked
        )
        reply = _first_reply(early, timeout, context)
        try:
            if reply.last:
                error = (
                    int.from_bytes(reply.data[:2], "little", signed=True)
                    if len(reply.data) >= 2
                    else 0
                )
                raise (
                    AcnetError(error, "Snapshot setup failed")
                    if error < 0
                    else AcnetError(0, "Unexpected end of replies after setup")
                )
            setup = codec.parse_snapshot_setup_reply(reply.data, len(items))
        except BaseException:
            context.cancel()
            raise
        handle = SnapshotHandle(self, node, task, items, setup, info, context)
        with early.cond:  # the reader waits here: queued replies keep their order
            holder.append(handle)
            for queued in early.replies:
                handle._on_reply(queued)
            early.replies.clear()
        return handle
