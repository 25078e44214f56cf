"""SimBackend: a Backend over the simulated devices of a catalogue.

One-shot reads sample the devices at the current simulated time. Subscriptions share
timers: every periodic rate and every clock event is one scheduler job that samples all
its subscribers at the same instant, so their readings carry the same timestamp and cycle.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, ClassVar

import attrs
import numpy as np

from pacsys import acnet
from pacsys.backends import drf_list, subscription_drfs
from pacsys.backends.dispatch import CallbackDispatcher
from pacsys.backends.streams import StreamingBackend
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.drf3 import (
    ClockEvent,
    DataRequest,
    DrfEvent,
    PeriodicEvent,
    parse_event,
    parse_request,
)
from pacsys.drf_utils import prepare_for_write
from pacsys.metadata import AlarmInfo, AlarmText, DeviceInfoResult
from pacsys.sim import devices
from pacsys.sim.catalogue import Catalogue, DeviceDef, load_catalogue
from pacsys.sim.clock import Clock, SystemClock
from pacsys.sim.devices import DeviceState, SimError
from pacsys.sim.scheduler import Job, Scheduler
from pacsys.types import (
    BackendCapability,
    DeviceMeta,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    Value,
    WriteResult,
    values_equal,
)

__all__ = ["SimBackend"]

log = logging.getLogger("pacsys.sim")

NEVER_MESSAGE = "Cannot read with @N (never) event"


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


def _timestamp(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


@attrs.define(eq=False)
class _Entry:
    """One DRF of a subscription, resolved once."""

    drf: str
    request: DataRequest
    state: DeviceState
    meta: DeviceMeta
    only_changes: bool = False
    last: Any = None


class _Timer:
    """One periodic rate or clock event: fires at ``origin + k * step`` for every subscriber."""

    def __init__(self, key: tuple[Any, ...], origin: float, step: float, delay: float) -> None:
        self.key = key
        self.origin = origin
        self.step = step
        self.delay = delay
        self.members: dict[BufferedSubscriptionHandle, list[_Entry]] = {}
        self.job: Job | None = None
        self.k = 0

    def first_due(self, now: float) -> float:
        self.k = math.floor((now - self.delay - self.origin) / self.step + 1e-4) + 1
        return self.due()

    def due(self) -> float:
        return self.origin + self.k * self.step + self.delay

    def advance(self, now: float) -> float:
        """Next due time, skipping occurrences already more than one step in the past."""
        self.k += 1
        behind = math.floor((now - self.due()) / self.step)
        if behind > 0:
            self.k += behind
        return self.due()


class SimBackend(StreamingBackend):
    """A simulated ACNET: devices from a catalogue, values that move, events that fire.

    >>> with SimBackend() as sim:
    ...     sim.read("M:OUTTMP")  # doctest: +SKIP
    72.43

    ``catalogue`` is a path to a JSON catalogue added to the shipped one (default:
    ``$PACSYS_SIM_CATALOGUE``), or a :class:`Catalogue`. ``clock`` defaults to the wall
    clock; pass a :class:`~pacsys.sim.clock.ManualClock` for deterministic tests. ``auth``,
    ``role`` and ``timeout`` are accepted for drop-in compatibility and ignored.
    """

    CAPABILITIES: ClassVar[BackendCapability] = (
        BackendCapability.READ
        | BackendCapability.WRITE
        | BackendCapability.STREAM
        | BackendCapability.BATCH
    )

    def __init__(
        self,
        catalogue: str | os.PathLike[str] | Catalogue | None = None,
        *,
        clock: Clock | None = None,
        dispatch_mode: DispatchMode = DispatchMode.WORKER,
        auth: Any = None,
        role: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self._catalogue = (
            catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
        )
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._dispatch_mode = DispatchMode(dispatch_mode)
        self._dispatcher = CallbackDispatcher(self._dispatch_mode)
        self._scheduler = Scheduler(self._clock)
        self._auth = auth
        self._lock = threading.RLock()
        self._states: dict[str, DeviceState] = {}
        self._timers: dict[tuple[Any, ...], _Timer] = {}
        self._handles: dict[BufferedSubscriptionHandle, list[_Timer]] = {}
        self._texts = {i: t.text for i, t in self._catalogue.alarm_texts.items()}
        self._epoch = math.floor(self._clock.now())
        self._closed = False

    # --- properties ----------------------------------------------------------------------

    @property
    def authenticated(self) -> bool:
        return self._auth is not None

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    @property
    def clock(self) -> Clock:
        return self._clock

    def cycle_at(self, t: float) -> int:
        """The machine cycle number at simulated time ``t`` (counted from backend start)."""
        return math.floor((t - self._epoch) * self._catalogue.cycle_hz + 1e-3)

    # --- MetadataSource ----------------------------------------------------------------

    def device_info(self, name: str) -> DeviceInfoResult | None:
        return self._catalogue.device_info(name)

    def alarm_info(self, name: str) -> AlarmInfo | None:
        return self._catalogue.alarm_info(name)

    def alarm_text(self, alarm_text_id: int) -> AlarmText | None:
        return self._catalogue.alarm_text(alarm_text_id)

    # --- resolution ----------------------------------------------------------------------

    def _device(self, request: DataRequest) -> DeviceDef:
        device = self._catalogue.lookup(request.device) if request.is_acnet else None
        if device is None:
            raise devices.fail(acnet.DPM_NO_SUCH_DEVICE, request.device)
        if request.extra is not None:
            raise devices.fail(
                acnet.DPM_INVALID_DATASOURCE, f"the simulator has no <-{request.extra_raw}"
            )
        return device

    def _state(self, device: DeviceDef) -> DeviceState:
        state = self._states.get(device.name)
        if state is None:
            with self._lock:
                state = self._states.setdefault(device.name, DeviceState(device))
        return state

    @staticmethod
    def _error(
        drf: str,
        exc: SimError,
        timestamp: datetime,
        cycle: int | None = None,
        meta: DeviceMeta | None = None,
    ) -> Reading:
        return Reading(
            drf=drf,
            facility_code=exc.facility,
            error_code=exc.error,
            message=exc.message,
            timestamp=timestamp,
            cycle=cycle,
            meta=meta,
        )

    def _sample(
        self,
        drf: str,
        request: DataRequest,
        state: DeviceState,
        t: float,
        meta: DeviceMeta | None = None,
        when: tuple[datetime, int] | None = None,
    ) -> Reading:
        """One Reading at ``t``; streams pass the entry's meta and the instant's (ts, cycle)."""
        if meta is None:
            meta = devices.meta_for(state.device, request)
        timestamp, cycle = when if when is not None else (_timestamp(t), self.cycle_at(t))
        try:
            value, value_type = devices.sample(state, request, t, self._texts)
        except SimError as exc:
            return self._error(drf, exc, timestamp, cycle, meta)
        return Reading(
            drf=drf,
            value_type=value_type,
            value=value,
            timestamp=timestamp,
            cycle=cycle,
            meta=meta,
        )

    def _one_shot_time(self, event: DrfEvent, now: float) -> float:
        if isinstance(event, ClockEvent):  # mode E
            clock_event = self._catalogue.clock_events.get(event.evt)
            if clock_event is not None:
                delay = event.delay / 1000
                return clock_event.last_at_or_before(now - delay) + delay
        return now

    def _one_shot(self, drf: str, request: DataRequest, now: float) -> Reading:
        if request.event.mode == "N":
            exc = devices.fail(acnet.DPM_BAD_EVENT, NEVER_MESSAGE)
            return self._error(drf, exc, _timestamp(now))
        try:
            state = self._state(self._device(request))
        except SimError as exc:
            return self._error(drf, exc, _timestamp(now))
        return self._sample(drf, request, state, self._one_shot_time(request.event, now))

    # --- reads ---------------------------------------------------------------------------

    def sample_times(self, drf: str, times: Iterable[float]) -> list[Reading]:
        """Readings of one DRF at the given instants (epoch seconds): what a fast digitizer
        (a fast time plot or a snapshot) would have sampled, with no event involved."""
        self._check_open()
        request = parse_request(drf)
        try:
            state = self._state(self._device(request))
        except SimError as exc:
            return [self._error(drf, exc, _timestamp(t)) for t in times]
        meta = devices.meta_for(state.device, request)
        return [self._sample(drf, request, state, t, meta) for t in times]

    def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Reading]:
        """Readings in order, all sampled at the same instant; invalid DRF -> ValueError."""
        self._check_open()
        drfs = drf_list(drfs)
        requests = [parse_request(drf) for drf in drfs]
        now = self._clock.now()
        return [self._one_shot(d, r, now) for d, r in zip(drfs, requests, strict=True)]

    # --- writes --------------------------------------------------------------------------

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        """Set a device; a refused write returns the ACNET status and changes nothing."""
        self._check_open()
        request = parse_request(prepare_for_write(drf))
        try:
            state = self._state(self._device(request))
            with self._lock:
                devices.write(state, request, _copy(value), self._clock.now())
        except SimError as exc:
            return WriteResult(
                drf=drf, facility_code=exc.facility, error_code=exc.error, message=exc.message
            )
        return WriteResult(drf=drf)

    def write_many(
        self, settings: Iterable[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        return [self.write(drf, value, timeout) for drf, value in settings]

    # --- streaming -----------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        """Stream readings of ``drfs`` at their events (a bare DRF uses the device default)."""
        self._check_open()
        drfs = subscription_drfs(drfs, callback, on_error)
        requests = [parse_request(drf) for drf in drfs]
        handle = BufferedSubscriptionHandle(
            drfs,
            range(len(drfs)),
            dispatcher=self._dispatcher,
            callback=callback,
            on_error=on_error,
            on_stop=self._forget,
        )
        now = self._clock.now()
        immediate: list[tuple[str, _Entry | None, SimError | None]] = []
        placements: list[tuple[tuple[Any, ...], float, float, float, _Entry]] = []
        for drf, request in zip(drfs, requests, strict=True):
            try:
                state = self._state(self._device(request))
            except SimError as exc:
                immediate.append((drf, None, exc))
                continue
            event: DrfEvent = request.event
            if event.mode == "U":
                event = parse_event(state.device.default_event)
            entry = _Entry(drf, request, state, devices.meta_for(state.device, request))
            mode = event.mode
            entry.only_changes = mode == "Q"
            if mode == "I" or (isinstance(event, PeriodicEvent) and event.imm):
                immediate.append((drf, entry, None))
            if isinstance(event, PeriodicEvent):  # modes P and Q
                period = event.freq / 1000
                placements.append((("P", event.freq), 0.0, period, 0.0, entry))
            elif isinstance(event, ClockEvent):  # mode E
                clock_event = self._catalogue.clock_events.get(event.evt)
                if clock_event is None:
                    message = f"clock event 0x{event.evt:02X} is not simulated"
                    immediate.append((drf, None, devices.fail(acnet.DPM_BAD_EVENT, message)))
                    continue
                delay = event.delay / 1000
                key = ("E", clock_event.event, event.delay)
                placements.append((key, clock_event.phase, 1 / clock_event.rate_hz, delay, entry))
            elif mode == "S":
                failure = devices.fail(acnet.DPM_BAD_EVENT, "state events are not simulated")
                immediate.append((drf, None, failure))
        with self._lock:
            self._check_open()
            timers = self._handles.setdefault(handle, [])
            for key, origin, step, delay, entry in placements:
                timer = self._timers.get(key)
                if timer is None:
                    timer = self._timers[key] = _Timer(key, origin, step, delay)
                    timer.job = self._scheduler.schedule(
                        timer.first_due(now), functools.partial(self._fire, timer), f"{key}"
                    )
                timer.members.setdefault(handle, []).append(entry)
                if timer not in timers:
                    timers.append(timer)
            if immediate:
                self._scheduler.schedule(
                    now, lambda due: self._fire_immediate(handle, immediate, due), "immediate"
                )
        return handle

    def _fire_immediate(
        self,
        handle: BufferedSubscriptionHandle,
        items: list[tuple[str, _Entry | None, SimError | None]],
        due: float,
    ) -> None:
        when = (_timestamp(due), self.cycle_at(due))
        for drf, entry, exc in items:
            if handle.stopped:
                return
            if entry is None:
                assert exc is not None
                handle.deliver(self._error(drf, exc, when[0]))
            else:
                self._deliver(handle, entry, due, when)

    def _deliver(
        self,
        handle: BufferedSubscriptionHandle,
        entry: _Entry,
        t: float,
        when: tuple[datetime, int],
    ) -> None:
        reading = self._sample(entry.drf, entry.request, entry.state, t, entry.meta, when)
        if entry.only_changes and reading.ok:
            if entry.last is not None and values_equal(entry.last, reading.value):
                return
            entry.last = reading.value
        handle.deliver(reading)

    def _fire(self, timer: _Timer, due: float) -> float | None:
        """Sample every subscriber of ``timer`` at ``due``: one timestamp, one cycle."""
        with self._lock:
            members = [(h, list(entries)) for h, entries in timer.members.items()]
        when = (_timestamp(due), self.cycle_at(due))
        for handle, entries in members:
            if handle.stopped:
                continue
            for entry in entries:
                self._deliver(handle, entry, due, when)
        with self._lock:
            if not timer.members:
                return None
            return timer.advance(self._clock.now())

    def _forget(self, handle: BufferedSubscriptionHandle) -> None:
        with self._lock:
            for timer in self._handles.pop(handle, []):
                timer.members.pop(handle, None)
                if not timer.members and self._timers.get(timer.key) is timer:
                    del self._timers[timer.key]
                    if timer.job is not None:
                        timer.job.cancel()
        handle.mark_stopped()

    @property
    def active_timers(self) -> int:
        """Distinct periodic rates and clock events currently sampled (one job each)."""
        with self._lock:
            return len(self._timers)

    def _stream_handles(self) -> list[SubscriptionHandle]:
        with self._lock:
            return list(self._handles)

    def close(self) -> None:
        """Stop every subscription, the scheduler and the dispatcher; idempotent."""
        if self._closed:
            return
        self.stop_streaming()
        with self._lock:
            self._closed = True
        self._scheduler.close()
        self._dispatcher.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._catalogue)} devices"
        return f"<SimBackend {state}, clock={self._clock!r}>"
