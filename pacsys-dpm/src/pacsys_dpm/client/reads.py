"""The one-shot read conversation on one connection (spec §4.2, §4.6, §4.8).

:func:`run_read` sends every AddToList plus StartList in one write, then
collects replies until each ref is resolved or the deadline passes. It never
closes the connection; the caller decides (from the outcome) whether it may
go back to the pool.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from pacsys.drf_utils import is_chunked_historical_drf
from pacsys.types import DeviceMeta, Reading, ValueType
from pacsys_dpm.client.connection import DPMConnection
from pacsys_dpm.client.values import (
    concat_timed,
    error_reading,
    meta_from_device_info,
    reading_from_reply,
    split_status,
    stack_records,
    timestamp,
)
from pacsys_dpm.codec import (
    AddToListReply,
    AddToListRequest,
    ClearListRequest,
    DeviceInfoReply,
    ListStatusReply,
    Reply,
    ScalarArrayReply,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    TimedScalarArrayReply,
)

__all__ = ["ReadOutcome", "run_read", "send_cleanup"]


@attrs.define
class ReadOutcome:
    """What one read conversation produced; ``readings[i]`` is None while unresolved."""

    readings: list[Reading | None]
    job_status: int = 0
    start_status: int = 0
    timed_out: bool = False

    @property
    def complete(self) -> bool:
        return all(r is not None for r in self.readings)


class _Chunks:
    """Accumulates a chunked logger reply for one ref (§4.6)."""

    __slots__ = ("records", "timed")

    def __init__(self) -> None:
        self.timed: list[tuple[np.ndarray, np.ndarray]] = []
        self.records: list[tuple[np.ndarray, int]] = []

    def add(self, drf: str, reply: Reply, meta: DeviceMeta | None) -> Reading | None:
        """Take one reply; returns the final Reading once the request has ended."""
        if isinstance(reply, TimedScalarArrayReply):
            if len(reply.data):
                self.timed.append((reply.data, reply.micros))
                return None
            return self._finish(drf, reply.status, reply.timestamp, meta, concat_timed(self.timed))
        if isinstance(reply, ScalarArrayReply):
            if len(reply.data):
                self.records.append((reply.data, reply.timestamp))
                return None
            value = stack_records(self.records) if self.records else concat_timed(self.timed)
            return self._finish(drf, reply.status, 0, meta, value)
        return reading_from_reply(drf, reply, meta)

    @staticmethod
    def _finish(
        drf: str, status: int, ts: int, meta: DeviceMeta | None, value: dict[str, np.ndarray]
    ) -> Reading:
        facility, error, message = split_status(status)
        if error < 0:
            return error_reading(drf, facility, error, message, meta)
        return Reading(
            drf=drf,
            value_type=ValueType.TIMED_SCALAR_ARRAY,
            facility_code=facility,
            error_code=error,
            value=value,
            message=message,
            timestamp=timestamp(ts),
            meta=meta,
        )


def run_read(
    conn: DPMConnection,
    wire_drfs: Sequence[str],
    drfs: Sequence[str],
    deadline: float,
    outcome: ReadOutcome | None = None,
) -> ReadOutcome:
    """Read ``wire_drfs`` (labelled ``drfs`` in the Readings) until done or ``deadline``.

    Results go into ``outcome`` as they arrive, so when a transport or protocol error
    propagates (DPMConnectionError, DPMProtocolError) the caller still has them.
    """
    count = len(wire_drfs)
    if outcome is None:
        outcome = ReadOutcome(readings=[None] * count)
    list_id = conn.list_id
    requests: list = [AddToListRequest(list_id, i + 1, d) for i, d in enumerate(wire_drfs)]
    requests.append(StartListRequest(list_id))
    conn.send(requests)

    readings = outcome.readings
    metas: list[DeviceMeta | None] = [None] * count
    chunks: dict[int, _Chunks] = {
        i: _Chunks() for i, d in enumerate(wire_drfs) if is_chunked_historical_drf(d)
    }
    unresolved = count
    while unresolved:
        try:
            reply = conn.recv(deadline)
        except TimeoutError:
            outcome.timed_out = True
            break
        kind = type(reply)
        if kind is ListStatusReply:
            continue
        if kind is DeviceInfoReply:
            index = reply.ref_id - 1  # type: ignore[attr-defined]
            if 0 <= index < count:
                metas[index] = meta_from_device_info(reply)  # type: ignore[arg-type]
            continue
        if kind is StartListReply:
            if reply.status != 0:  # type: ignore[attr-defined]
                outcome.start_status = reply.status  # type: ignore[attr-defined]
                break
            continue
        ref = getattr(reply, "ref_id", None)
        if ref is None:
            continue  # ApplySettings, Authenticate, OpenList...: not for a read
        if kind is StatusReply and ref == 0:
            if reply.status != 0 and outcome.job_status == 0:  # type: ignore[attr-defined]
                outcome.job_status = reply.status  # type: ignore[attr-defined]
            continue
        index = ref - 1
        if not 0 <= index < count or readings[index] is not None:
            continue
        if kind is AddToListReply:
            if reply.status == 0:  # type: ignore[attr-defined]
                continue
            facility, error, message = split_status(reply.status)  # type: ignore[attr-defined]
            reading: Reading | None = error_reading(drfs[index], facility, error, message)
        elif index in chunks:
            reading = chunks[index].add(drfs[index], reply, metas[index])
        else:
            reading = reading_from_reply(drfs[index], reply, metas[index])
        if reading is not None:
            readings[index] = reading
            unresolved -= 1
    return outcome


def send_cleanup(conn: DPMConnection) -> None:
    """StopList + ClearList in one write, so the list can be reused."""
    conn.send([StopListRequest(conn.list_id), ClearListRequest(conn.list_id)])
