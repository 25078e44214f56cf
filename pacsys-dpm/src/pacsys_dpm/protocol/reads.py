"""The read conversations of the client: one-shot reads (with chunked logger replies) and streams.

Both send AddToList for refs 1..n plus StartList and match replies to entries by ref id
(``ref - 1`` indexes the request). A one-shot read ends once every ref has its answer; a
stream turns replies into Readings until the connection ends or DPM reports a failure.
Replies for unknown refs, for another list, or of kinds that are not answers are ignored,
in any order they come.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pacsys.acnet.status import ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET
from pacsys.drf3 import parse_request
from pacsys.drf3.extras import CHUNKED_HISTORICAL_EXTRAS, DRF_EXTRA
from pacsys.drf_utils import ensure_immediate_event
from pacsys.errors import ReadError
from pacsys.types import DeviceMeta, Reading, ValueType
from pacsys_dpm.codec import (
    AddToListReply,
    DeviceInfoReply,
    ListStatusReply,
    Reply,
    ScalarArrayReply,
    ScalarReply,
    StartListReply,
    StatusReply,
    TimedScalarArrayReply,
    decode_reply_fields,
)

from .errors import DPMConnectionError
from .values import (
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
    import numpy as np  # annotations only: a scalar read never imports numpy

    from .client import ClientProtocol

__all__ = ["ReadOp", "ReadPlan", "StreamOp"]

log = logging.getLogger("pacsys_dpm.stream")


@functools.lru_cache(maxsize=8192)
def _plan_of(drf: str) -> tuple[str, bool, bool]:
    """``(DRF as sent, leaves the list reusable, answered in chunks)`` (cached: batches repeat)."""
    wire = ensure_immediate_event(drf)  # ValueError for a bad DRF (never cached)
    request = parse_request(wire)
    reusable = request.extra is DRF_EXTRA.LOGGERSINGLE or (
        request.extra is None and request.event.mode == "I"
    )
    return wire, reusable, request.extra in CHUNKED_HISTORICAL_EXTRAS


class ReadPlan:
    """What a one-shot read of ``drfs`` sends; built before any I/O (ValueError for a bad DRF)."""

    __slots__ = ("chunked", "drfs", "reusable", "wire")

    def __init__(self, drfs: Sequence[str]) -> None:
        plans = [_plan_of(drf) for drf in drfs]
        self.drfs = list(drfs)
        """The DRFs as the caller wrote them (they label the Readings)."""
        self.wire = [plan[0] for plan in plans]
        """The DRFs as sent: ``@I`` added where no event was given."""
        self.reusable = all(plan[1] for plan in plans)
        """Only ``@I`` reads (and LOGGERSINGLE) leave nothing behind on the list."""
        self.chunked = frozenset(i for i, plan in enumerate(plans) if plan[2])
        """Indexes of logger requests, answered in chunks ended by an empty one."""

    def failure(
        self,
        message: str,
        *,
        timed_out: bool = False,
        readings: Sequence[Reading | None] | None = None,
    ) -> ReadError:
        """ReadError with every missing Reading back-filled (1/-6 timeout, else 1/-1)."""
        error = ERR_TIMEOUT if timed_out else ERR_RETRY
        fill = "Request timeout" if timed_out else message
        if readings is None:
            readings = [None] * len(self.drfs)
        filled = [
            r if r is not None else error_reading(drf, FACILITY_ACNET, error, fill)
            for drf, r in zip(self.drfs, readings, strict=True)
        ]
        return ReadError(filled, message)


class _Chunks:
    """A chunked logger answer for one ref, accumulated until its empty terminator."""

    __slots__ = ("records", "timed")

    def __init__(self) -> None:
        self.timed: list[tuple[np.ndarray, np.ndarray]] = []
        self.records: list[tuple[np.ndarray, int]] = []

    def add(self, drf: str, reply: Reply, meta: DeviceMeta | None) -> Reading | None:
        """Take one reply; the final Reading once the answer has ended."""
        if isinstance(reply, TimedScalarArrayReply):
            if len(reply.data):
                self.timed.append((reply.data, reply.micros))
                return None
            return self._finish(drf, reply.status, reply.timestamp, meta, concat_timed(self.timed))
        if isinstance(reply, ScalarArrayReply):
            if len(reply.data):  # an array device: one record per reply, timestamp in µs
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


def _no_fast_lane(body: bytes) -> None:
    return None


_NO_CACHE: dict[bytes, Any] = {}


class ReadOp:
    """One one-shot read: ``readings[i]`` stays None until ref ``i + 1`` is answered.

    Done when every ref is answered or StartList failed. A job-level error (``Status``
    for ref 0) is kept but does not end the read early, as in the reference client.
    """

    def __init__(self, protocol: ClientProtocol, plan: ReadPlan) -> None:
        count = len(plan.wire)
        self.plan = plan
        self.readings: list[Reading | None] = [None] * count
        self.job_status = 0
        self.start_status = 0
        self._protocol = protocol
        self._metas: list[DeviceMeta | None] = [None] * count
        self._chunks = {i: _Chunks() for i in plan.chunked}
        self._unresolved = count
        protocol._send_list(plan.wire)

    @property
    def done(self) -> bool:
        return not self._unresolved or self.start_status != 0

    @property
    def complete(self) -> bool:
        """Every ref has its answer."""
        return not self._unresolved

    @property
    def clean(self) -> bool:
        """Complete and without list errors: clearing the list makes it reusable."""
        return not self._unresolved and self.job_status == 0 and self.start_status == 0

    def result(self, budget: float) -> list[Reading]:
        """The Readings; ReadError (missing ones back-filled) when the read is incomplete.

        ``budget`` is the caller's timeout, named in the message of a timed-out read.
        """
        readings = self.readings
        if not self._unresolved:
            return readings  # type: ignore[return-value]
        drfs = self.plan.drfs
        if self.job_status != 0:
            facility, error, message = split_status(self.job_status)
            filled = [
                r if r is not None else error_reading(drfs[i], facility, error, message)
                for i, r in enumerate(readings)
            ]
            raise ReadError(filled, f"DPM job start failed: {message}")
        if self.start_status != 0:
            text = f"DPM StartList failed: {split_status(self.start_status)[2]}"
        else:
            text = (
                f"Request timeout: {self._unresolved} of {len(drfs)} without reply "
                f"after {budget:g} s"
            )
        raise self.failure(text, timed_out=True)

    def failure(self, message: str, *, timed_out: bool = False) -> ReadError:
        """ReadError keeping what arrived, the rest back-filled (see :meth:`ReadPlan.failure`)."""
        return self.plan.failure(message, timed_out=timed_out, readings=self.readings)

    def _feed(self, bodies: list[bytes]) -> int:
        protocol = self._protocol
        readings, metas, chunks, drfs = self.readings, self._metas, self._chunks, self.plan.drfs
        count = len(readings)
        tracing = protocol.trace
        fast = _no_fast_lane if tracing else decode_reply_fields
        known = _NO_CACHE if tracing else protocol.device_infos
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
                    self._unresolved -= 1
                    if not self._unresolved:
                        return position + 1
                    continue
            elif fields is not None and fields[0] is DeviceInfoReply:
                index = fields[1][0] - 1
                meta = meta_from_fields(fields[1])
                if 0 <= index < count:
                    metas[index] = meta
                protocol._remember_device_info(body, fields[1][0], meta)
                continue
            self._take(protocol._decode(body))
            if self.done:
                return position + 1
        return len(bodies)

    def _take(self, reply: Reply) -> None:
        kind = type(reply)
        if kind is ListStatusReply:
            return
        metas, readings = self._metas, self.readings
        count = len(metas)
        if kind is DeviceInfoReply:
            index = reply.ref_id - 1  # type: ignore[attr-defined]
            if 0 <= index < count:
                metas[index] = meta_from_device_info(reply)  # type: ignore[arg-type]
            return
        if kind is StartListReply:
            if reply.list_id == self._protocol.list_id and reply.status != 0:  # type: ignore[attr-defined]
                self.start_status = reply.status  # type: ignore[attr-defined]
            return
        ref = getattr(reply, "ref_id", None)
        if ref is None:
            return  # ApplySettings, Authenticate, OpenList...: not for a read
        if kind is StatusReply and ref == 0:
            if reply.status != 0 and self.job_status == 0:  # type: ignore[attr-defined]
                self.job_status = reply.status  # type: ignore[attr-defined]
            return
        index = ref - 1
        if not 0 <= index < count or readings[index] is not None:
            return
        drf = self.plan.drfs[index]
        if kind is AddToListReply:
            if reply.list_id != self._protocol.list_id or reply.status == 0:  # type: ignore[attr-defined]
                return
            facility, error, message = split_status(reply.status)  # type: ignore[attr-defined]
            reading: Reading | None = error_reading(drf, facility, error, message)
        elif index in self._chunks:
            reading = self._chunks[index].add(drf, reply, metas[index])
        else:
            reading = reading_from_reply(drf, reply, metas[index])
        if reading is not None:
            readings[index] = reading
            self._unresolved -= 1


class StreamOp:
    """A stream of a list: Readings in arrival order, until DPM reports a failure.

    ``take()`` hands out what arrived; ``failure`` is set (and ``done`` true) when StartList
    or the job failed. Replies for unknown refs are logged and dropped.
    """

    def __init__(self, protocol: ClientProtocol, drfs: list[str], heartbeat_timeout: float) -> None:
        self.drfs = drfs
        self.heartbeat_timeout = heartbeat_timeout
        """Silence (no frame of any kind) longer than this means the connection is dead."""
        self.failure: DPMConnectionError | None = None
        self._protocol = protocol
        self._metas: list[DeviceMeta | None] = [None] * len(drfs)
        self._readings: list[Reading] = []
        protocol._send_list(drfs)

    @property
    def done(self) -> bool:
        return self.failure is not None

    def take(self) -> list[Reading]:
        """The Readings decoded since the last call, in arrival order."""
        readings, self._readings = self._readings, []
        return readings

    def silence_error(self) -> DPMConnectionError:
        """The error for a connection that stayed silent for ``heartbeat_timeout``."""
        return DPMConnectionError(
            f"DPM connection dead: no frame (missed heartbeats) for {self.heartbeat_timeout:g} s"
        )

    def _feed(self, bodies: list[bytes]) -> int:
        protocol, metas, drfs, out = self._protocol, self._metas, self.drfs, self._readings
        count = len(drfs)
        fast = _no_fast_lane if protocol.trace else decode_reply_fields
        for position, body in enumerate(bodies):
            fields = fast(body)
            if fields is not None and fields[0] is ScalarReply:
                index = fields[1][0] - 1
                if 0 <= index < count:
                    out.append(scalar_reading(drfs[index], fields[1], metas[index]))
                    continue
            self._take(protocol._decode(body))
            if self.failure is not None:
                return position + 1
        return len(bodies)

    def _take(self, reply: Reply) -> None:
        kind = type(reply)
        if kind is ListStatusReply:
            return
        if kind is StartListReply:
            if reply.list_id == self._protocol.list_id and reply.status != 0:  # type: ignore[attr-defined]
                message = split_status(reply.status)[2]  # type: ignore[attr-defined]
                self.failure = DPMConnectionError(f"DPM StartList failed: {message}")
            return
        ref = getattr(reply, "ref_id", None)
        if ref is None:
            return
        if kind is StatusReply and ref == 0:
            if reply.status != 0:  # type: ignore[attr-defined]
                message = split_status(reply.status)[2]  # type: ignore[attr-defined]
                self.failure = DPMConnectionError(f"DPM job start failed: {message}")
            return
        index = ref - 1
        if not 0 <= index < len(self.drfs):
            log.warning("Dropping DPM reply for unknown ref %d", ref)
            return
        drf = self.drfs[index]
        if kind is DeviceInfoReply:
            self._metas[index] = meta_from_device_info(reply)  # type: ignore[arg-type]
            return
        if kind is AddToListReply:
            if reply.list_id != self._protocol.list_id or reply.status == 0:  # type: ignore[attr-defined]
                return
            facility, error, message = split_status(reply.status)  # type: ignore[attr-defined]
            self._readings.append(error_reading(drf, facility, error, message, self._metas[index]))
            return
        reading = reading_from_reply(drf, reply, self._metas[index])
        if reading is not None:
            self._readings.append(reading)
