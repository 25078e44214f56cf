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
from collections.abc import Iterator, Sequence
from typing import Any

from pacsys.acnet.errors import AcnetError, AcnetTimeoutError
from pacsys.acnet.status import ACNET_PEND
from pacsys.deadline import Deadline
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
from pacsys_acnet.snapshot import SnapshotHandle

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
    deadline = Deadline.after(timeout)
    while True:
        reply = None if deadline.expired else waiter.get(deadline.remaining())
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
        deadline = Deadline.after(timeout + 1.0)
        replies = []
        for waiter in waiters:
            reply = waiter.get(deadline.remaining())
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
