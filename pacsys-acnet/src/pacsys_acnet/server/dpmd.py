"""The emulated DPMD task: DPM lists over ACNET, backed by a Backend.

``docs/protocols/acnet.md`` §10 and §12. An OpenList request (kept open) creates a list and
is answered first with the list id; everything the list acquires later goes out on it.
The other list requests are single requests answered with their own reply (StopList with
a Status, ClearList with a ListStatus). Entries on an immediate or default event are read
once per StartList; the others are subscribed to for as long as the list runs.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np

from pacsys.acnet.status import (
    DPM_BAD_REQUEST,
    DPM_NO_SUCH_LIST,
    make_error,
)
from pacsys.drf3 import parse_request
from pacsys.types import Reading, ValueType
from pacsys_acnet.protocol.daemon import DaemonRequest
from pacsys_acnet.server.host import Host
from pacsys_dpm.codec import (
    AddToListReply,
    AddToListRequest,
    AnalogAlarmReply,
    BasicStatusReply,
    ClearListRequest,
    DeviceInfoReply,
    DigitalAlarmReply,
    DPMProtocolError,
    ListStatusReply,
    OpenListReply,
    OpenListRequest,
    RawReply,
    RemoveFromListReply,
    RemoveFromListRequest,
    ScalarArrayReply,
    ScalarReply,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    TextArrayReply,
    TextReply,
    decode_request,
    encode_message,
)

__all__ = ["DpmdService", "reply_messages"]

log = logging.getLogger("pacsys_acnet.server")
_BLOCKS: dict[ValueType, type] = {
    ValueType.ANALOG_ALARM: AnalogAlarmReply,
    ValueType.DIGITAL_ALARM: DigitalAlarmReply,
    ValueType.BASIC_STATUS: BasicStatusReply,
}


def _value_message(ref: int, reading: Reading, ts: int, cycle: int, status: int) -> Any:
    value, kind = reading.value, reading.value_type
    if kind is ValueType.SCALAR:
        return ScalarReply(ref, ts, cycle, status, float(value))  # type: ignore[arg-type]
    if kind in (ValueType.SCALAR_ARRAY, ValueType.TIMED_SCALAR_ARRAY):
        return ScalarArrayReply(ref, ts, cycle, status, np.asarray(value, np.float64))
    if kind is ValueType.RAW:
        return RawReply(ref, ts, cycle, status, bytes(value))  # type: ignore[arg-type]
    if kind is ValueType.TEXT:
        return TextReply(ref, ts, cycle, status, str(value))
    if kind is ValueType.TEXT_ARRAY:
        return TextArrayReply(ref, ts, cycle, status, tuple(value))  # type: ignore[arg-type]
    block = _BLOCKS.get(kind)  # type: ignore[arg-type]
    if block is not None and isinstance(value, dict):
        return block(ref_id=ref, timestamp=ts, cycle=cycle, **value)
    raise TypeError(f"no DPM reply for {kind}")


def reply_messages(ref: int, reading: Reading) -> list[Any]:
    """The DPM replies that carry one reading of entry ``ref`` (an error is a Status)."""
    ts = int(reading.timestamp.timestamp() * 1000) if reading.timestamp is not None else 0
    cycle = reading.cycle or 0
    status = make_error(reading.facility_code, reading.error_code) if reading.error_code else 0
    if reading.ok:
        try:
            return [_value_message(ref, reading, ts, cycle, status)]
        except (TypeError, ValueError) as exc:
            log.warning("entry %d (%s): %s", ref, reading.drf, exc)
            status = DPM_BAD_REQUEST
    return [StatusReply(ref, ts, cycle, status or DPM_BAD_REQUEST)]


class _List:
    """One list: its entries, and the subscription while it runs."""

    def __init__(self, list_id: int, opener: DaemonRequest) -> None:
        self.list_id = list_id
        self.opener = opener
        self.entries: dict[int, str] = {}
        self.subscription: Any = None
        self.described: set[int] = set()

    def stop(self) -> None:
        subscription, self.subscription = self.subscription, None
        if subscription is not None:
            subscription.stop()


class DpmdService:
    """DPMD (at node DPM06 of the emulator's node table)."""

    def __init__(self, host: Host, backend: Any) -> None:
        self.host = host
        self.backend = backend
        self._lists: dict[int, _List] = {}
        self._ids = itertools.count(0x1000)

    def request(self, request: DaemonRequest) -> None:
        try:
            message = decode_request(request.data)
        except (DPMProtocolError, ValueError) as exc:
            log.warning("bad DPMD request: %s", exc)
            self.host.reply(request, DPM_BAD_REQUEST, b"")
            return
        if isinstance(message, OpenListRequest):
            opened = _List(next(self._ids), request)
            self._lists[opened.list_id] = opened
            request.user = opened
            self._send(request, [OpenListReply(opened.list_id)], last=False)
            return
        dpm_list = self._lists.get(getattr(message, "list_id", -1))
        if dpm_list is None:
            self.host.reply(request, DPM_NO_SUCH_LIST, b"")
            return
        if isinstance(message, AddToListRequest):
            status = self._add(dpm_list, message.ref_id, message.drf_request)
            self._send(request, [AddToListReply(dpm_list.list_id, message.ref_id, status)])
        elif isinstance(message, RemoveFromListRequest):
            dpm_list.entries.pop(message.ref_id, None)
            self._send(request, [RemoveFromListReply(dpm_list.list_id, message.ref_id, 0)])
        elif isinstance(message, StartListRequest):
            self._send(request, [StartListReply(dpm_list.list_id, 0)])
            self._start(dpm_list)
        elif isinstance(message, StopListRequest):
            dpm_list.stop()
            self._send(request, [StatusReply(0, 0, 0, 0)])
        elif isinstance(message, ClearListRequest):
            dpm_list.entries.clear()
            self._send(request, [ListStatusReply(dpm_list.list_id, 0)])
        else:
            self.host.reply(request, DPM_BAD_REQUEST, b"")

    def cancel(self, request: DaemonRequest) -> None:
        dpm_list = request.user
        if isinstance(dpm_list, _List):
            dpm_list.stop()
            self._lists.pop(dpm_list.list_id, None)

    def _send(self, request: DaemonRequest, messages: list[Any], last: bool = True) -> None:
        for i, message in enumerate(messages):
            self.host.reply(request, 0, encode_message(message), last and i == len(messages) - 1)

    @staticmethod
    def _add(dpm_list: _List, ref: int, drf: str) -> int:
        if drf.startswith("#"):
            return 0  # a list property (#ROLE:..., ...): accepted, nothing to acquire
        try:
            parse_request(drf)
        except (ValueError, TypeError):
            return DPM_BAD_REQUEST
        dpm_list.entries[ref] = drf
        dpm_list.described.discard(ref)
        return 0

    def _start(self, dpm_list: _List) -> None:
        dpm_list.stop()
        once: dict[int, str] = {}
        streamed: dict[int, str] = {}
        for ref, drf in sorted(dpm_list.entries.items()):
            event = parse_request(drf).event
            (once if event is None or event.mode in ("I", "U") else streamed)[ref] = drf
        if once:
            refs = list(once)
            try:
                readings = self.backend.get_many(list(once.values()), timeout=5.0)
            except Exception as exc:  # a failed read is a status per entry
                log.warning("DPMD read failed: %s", exc)
                readings = [Reading(drf=d, facility_code=1, error_code=-1) for d in once.values()]
            for ref, reading in zip(refs, readings, strict=True):
                self._deliver(dpm_list, ref, reading)
        if streamed:
            by_drf: dict[str, list[int]] = {}
            for ref, drf in streamed.items():
                by_drf.setdefault(drf, []).append(ref)

            def on_reading(reading: Reading, _handle: Any) -> None:
                for ref in by_drf.get(reading.drf, ()):
                    self._deliver(dpm_list, ref, reading)

            dpm_list.subscription = self.backend.subscribe(list(by_drf), callback=on_reading)

    def _deliver(self, dpm_list: _List, ref: int, reading: Reading) -> None:
        opener = dpm_list.opener
        if not opener.open:
            return
        messages = reply_messages(ref, reading)
        meta = reading.meta
        if meta is not None and ref not in dpm_list.described and reading.ok:
            dpm_list.described.add(ref)
            info = DeviceInfoReply(
                ref, meta.device_index, meta.name, meta.description, meta.units, meta.format_hint
            )
            messages.insert(0, info)
        self._send(opener, messages, last=False)
