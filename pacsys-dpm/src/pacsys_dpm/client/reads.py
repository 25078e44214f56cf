"""The one-shot read conversation on one connection (spec §4.2, §4.6, §4.8).

:func:`run_read` sends every AddToList plus StartList in one write, then
collects replies until each ref is resolved or the deadline passes. It never
closes the connection; the caller decides (from the outcome) whether it may
go back to the pool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pacsys.drf_utils import is_chunked_historical_drf
from pacsys.types import DeviceMeta, Reading, ValueType
from pacsys_dpm.client.connection import DPMConnection
from pacsys_dpm.client.values import (
    concat_timed,
    error_reading,
    meta_from_device_info,
    meta_from_fields,
    reading_from_reply,
    scalar_reading,
    split_status,
    stack_records,
    timestamp,
)

if TYPE_CHECKING:
    import numpy as np

from pacsys_dpm.codec import (
    AddToListReply,
    AddToListRequest,
    ClearListRequest,
    DeviceInfoReply,
    ListStatusReply,
    Reply,
    ScalarArrayReply,
    ScalarReply,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    TimedScalarArrayReply,
    decode_reply_fields,
    encode_fields,
    frame_many,
)

__all__ = ["ReadOutcome", "run_read", "send_cleanup", "send_list"]

_SEND_CHUNK = 256  # AddToList requests per write


@dataclasses.dataclass
class ReadOutcome:
    """What one read conversation produced; ``readings[i]`` is None while unresolved."""

    readings: list[Reading | None]
    job_status: int = 0
    start_status: int = 0

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
    send_list(conn, list(wire_drfs))

    readings = outcome.readings
    metas: list[DeviceMeta | None] = [None] * count
    chunks: dict[int, _Chunks] = {
        i: _Chunks() for i, d in enumerate(wire_drfs) if is_chunked_historical_drf(d)
    }
    tracing = conn.tracing
    fast = _no_fast_lane if tracing else decode_reply_fields
    known = {} if tracing else conn.device_infos  # DeviceInfo body -> (ref, DeviceMeta)
    unresolved = count
    while unresolved:
        try:
            bodies = conn.recv_bodies(deadline)
        except TimeoutError:
            break
        for position, body in enumerate(bodies):
            info = known.get(body)  # the same list read again: its metadata is known
            if info is not None:
                index = info[0] - 1
                if 0 <= index < count:
                    metas[index] = info[1]
                continue
            fields = fast(body)  # Scalar and DeviceInfo without building reply objects
            if fields is not None and fields[0] is ScalarReply:
                index = fields[1][0] - 1
                if 0 <= index < count and readings[index] is None and index not in chunks:
                    readings[index] = scalar_reading(drfs[index], fields[1], metas[index])
                    unresolved -= 1
                    if not unresolved:
                        conn.unread(bodies[position + 1 :])
                        break
                    continue
            elif fields is not None and fields[0] is DeviceInfoReply:
                index = fields[1][0] - 1
                meta = meta_from_fields(fields[1])
                if 0 <= index < count:
                    metas[index] = meta
                if not tracing:
                    conn.remember_device_info(body, fields[1][0], meta)
                continue
            if _take(conn.decode(body), drfs, outcome, metas, chunks):
                unresolved -= 1
            if not unresolved or outcome.start_status:
                conn.unread(bodies[position + 1 :])
                break
        if outcome.start_status:
            break
    return outcome


def send_list(conn: DPMConnection, wire_drfs: list[str]) -> None:
    """AddToList for each DRF (refs 1..n) and StartList (one-shot reads and streams).

    The bodies are encoded without building request objects and sent in chunks, so
    the server parses one while the next is encoded. The bytes of the last list are
    kept on the connection: the same list read again is sent as it is.
    """
    list_id = conn.list_id
    if conn.tracing:
        requests: list = [AddToListRequest(list_id, i + 1, d) for i, d in enumerate(wire_drfs)]
        conn.send([*requests, StartListRequest(list_id)])
        return
    memo = conn.list_memo
    if memo is not None and memo[0] == wire_drfs:
        conn.send_frames(memo[1])
        return
    count = len(wire_drfs)
    payloads: list[bytes] = []
    for first in range(0, max(count, 1), _SEND_CHUNK):  # an empty list: StartList alone
        bodies = [
            encode_fields(AddToListRequest, list_id, ref, drf)
            for ref, drf in enumerate(wire_drfs[first : first + _SEND_CHUNK], first + 1)
        ]
        if first + _SEND_CHUNK >= count:
            bodies.append(encode_fields(StartListRequest, list_id))
        payloads.append(frame_many(bodies))
        conn.send_frames(payloads[-1])
    conn.list_memo = (wire_drfs, b"".join(payloads))


def _no_fast_lane(body: bytes) -> None:
    return None


def _take(
    reply: Reply,
    drfs: Sequence[str],
    outcome: ReadOutcome,
    metas: list[DeviceMeta | None],
    chunks: dict[int, _Chunks],
) -> bool:
    """Apply one reply to ``outcome``; True when it resolved a reading."""
    kind = type(reply)
    if kind is ListStatusReply:
        return False
    count = len(metas)
    if kind is DeviceInfoReply:
        index = reply.ref_id - 1  # type: ignore[attr-defined]
        if 0 <= index < count:
            metas[index] = meta_from_device_info(reply)  # type: ignore[arg-type]
        return False
    if kind is StartListReply:
        if reply.status != 0:  # type: ignore[attr-defined]
            outcome.start_status = reply.status  # type: ignore[attr-defined]
        return False
    ref = getattr(reply, "ref_id", None)
    if ref is None:
        return False  # ApplySettings, Authenticate, OpenList...: not for a read
    if kind is StatusReply and ref == 0:
        if reply.status != 0 and outcome.job_status == 0:  # type: ignore[attr-defined]
            outcome.job_status = reply.status  # type: ignore[attr-defined]
        return False
    index = ref - 1
    readings = outcome.readings
    if not 0 <= index < count or readings[index] is not None:
        return False
    if kind is AddToListReply:
        if reply.status == 0:  # type: ignore[attr-defined]
            return False
        facility, error, message = split_status(reply.status)  # type: ignore[attr-defined]
        reading: Reading | None = error_reading(drfs[index], facility, error, message)
    elif index in chunks:
        reading = chunks[index].add(drfs[index], reply, metas[index])
    else:
        reading = reading_from_reply(drfs[index], reply, metas[index])
    if reading is None:
        return False
    readings[index] = reading
    return True


def send_cleanup(conn: DPMConnection) -> None:
    """StopList + ClearList in one write, so the list can be reused."""
    conn.send([StopListRequest(conn.list_id), ClearListRequest(conn.list_id)])
