"""FakeBackend: an in-memory Backend for tests, with device state, errors and streams."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import numpy as np

from pacsys.backends import drf_list, subscription_drfs
from pacsys.backends.dispatch import CallbackDispatcher
from pacsys.backends.reconnect import ReconnectPolicy
from pacsys.backends.streams import StreamingBackend
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.deadline import Deadline
from pacsys.drf3 import parse_request
from pacsys.errors import DeviceError
from pacsys.testing.fake_reconnect import LostStreams
from pacsys.testing.keys import (
    apply_range,
    assign_range,
    check_value_type,
    event_offset,
    infer_value_type,
    is_partial_range,
    perturb,
    storage_keys,
)
from pacsys.types import (
    BackendCapability,
    DeviceMeta,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    ReadingStream,
    SubscriptionHandle,
    Value,
    ValueType,
    WriteResult,
)

__all__ = ["FakeBackend", "FakeSubscriptionHandle"]

NEVER_MESSAGE = "Cannot read with @N (never) event"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _copy_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    return value


def _device_name(drf: str) -> str:
    try:
        return parse_request(drf).device
    except (ValueError, TypeError):
        return drf


class FakeSubscriptionHandle(BufferedSubscriptionHandle):
    """A FakeBackend subscription: unbounded queue, never drains after a stop."""

    def _iterate(self, timeout: float | None, count: int | None = None) -> ReadingStream:
        if self._exc is not None:
            raise self._exc
        deadline = Deadline.after(timeout)
        left = count
        while not self._stopped and (left is None or left > 0):
            with self._cond:
                if not self._buffer:
                    if timeout == 0:
                        return
                    while not self._buffer and not self._stopped:
                        if deadline.expired:
                            return
                        self._cond.wait(deadline.wait_time())
                    if self._stopped:
                        if self._exc is not None:
                            raise self._exc
                        return
                reading = self._buffer.popleft()
            if left is not None:
                left -= 1
            yield reading, self


class FakeBackend(StreamingBackend):
    """An in-memory backend: seed readings and errors, inspect reads and writes, emit streams.

    >>> fake = FakeBackend()
    >>> fake.set_reading("M:OUTTMP", 72.5, units="DegF")
    >>> fake.read("M:OUTTMP")
    72.5
    """

    CAPABILITIES: ClassVar[BackendCapability] = (
        BackendCapability.READ
        | BackendCapability.WRITE
        | BackendCapability.STREAM
        | BackendCapability.BATCH
    )

    def __init__(
        self,
        dispatch_mode: DispatchMode = DispatchMode.DIRECT,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self._dispatch_mode = DispatchMode(dispatch_mode)
        self._dispatcher = CallbackDispatcher(self._dispatch_mode)
        self._lock = threading.RLock()
        self._subs_changed = threading.Condition(self._lock)
        self._readings: dict[str, Reading] = {}
        self._base_of: dict[str, str] = {}
        self._errors: dict[str, tuple[int, str]] = {}
        self._write_results: dict[str, WriteResult] = {}
        self._reads: list[str] = []
        self._writes: list[tuple[str, Any]] = []
        self._subscriptions: list[FakeSubscriptionHandle] = []
        self._lost = LostStreams(self._resume, reconnect)
        self._closed = False

    @property
    def reconnect(self) -> ReconnectPolicy | None:
        """What a lost stream (``emit_error`` with an OSError) does, as a real backend's
        ``reconnect`` argument: None ends it; a policy resumes it after the backoff."""
        return self._lost.policy

    @reconnect.setter
    def reconnect(self, policy: ReconnectPolicy | None) -> None:
        self._lost = LostStreams(self._resume, policy)

    # --- Backend properties --------------------------------------------------------------

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def principal(self) -> str:
        return "test-user@FNAL.GOV"

    # --- configuration -------------------------------------------------------------------

    def _make_reading(
        self,
        drf: str,
        value: Any,
        value_type: ValueType,
        units: str | None,
        description: str | None,
        timestamp: datetime | None,
        cycle: int | None,
    ) -> Reading:
        check_value_type(value, value_type)
        name = _device_name(drf)
        return Reading(
            drf=drf,
            value_type=value_type,
            value=_copy_value(value),
            timestamp=timestamp or _now(),
            cycle=cycle,
            meta=DeviceMeta(0, name, description or f"Test device {name}", units),
        )

    def _store(self, key: str, base: str, reading: Reading) -> None:
        self._readings[key] = reading
        self._base_of[key] = base

    def set_reading(
        self,
        drf: str,
        value: Any,
        value_type: ValueType = ValueType.SCALAR,
        units: str | None = None,
        description: str | None = None,
        timestamp: datetime | None = None,
        cycle: int | None = None,
    ) -> None:
        """Answer reads of ``drf`` (and of its event-less base slot) with ``value``."""
        reading = self._make_reading(drf, value, value_type, units, description, timestamp, cycle)
        base, full = storage_keys(drf)
        with self._lock:
            for key in {base, full}:
                self._store(key, base, reading)
                self._errors.pop(key, None)

    def set_error(self, drf: str, error_code: int, message: str) -> None:
        """Make reads of ``drf`` fail (or warn, for a positive code) with ``message``."""
        base, full = storage_keys(drf)
        with self._lock:
            for key in {base, full}:
                self._errors[key] = (error_code, message)
                self._readings.pop(key, None)
                self._base_of.pop(key, None)

    def set_write_result(
        self,
        drf: str,
        success: bool = True,
        error_code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer writes of ``drf`` with this result."""
        code = error_code if error_code is not None else (0 if success else -1)
        result = WriteResult(drf=drf, error_code=code, message=message)
        base, full = storage_keys(drf)
        with self._lock:
            for key in {base, full}:
                self._write_results[key] = result

    def set_analog_alarm(self, drf: str, alarm_dict: dict[str, Any]) -> None:
        self.set_reading(drf, alarm_dict, value_type=ValueType.ANALOG_ALARM)

    def set_digital_alarm(self, drf: str, alarm_dict: dict[str, Any]) -> None:
        self.set_reading(drf, alarm_dict, value_type=ValueType.DIGITAL_ALARM)

    def reset(self) -> None:
        """Forget all state and history and stop every subscription; stays usable."""
        with self._lock:
            self._readings.clear()
            self._base_of.clear()
            self._errors.clear()
            self._write_results.clear()
            self._reads.clear()
            self._writes.clear()
            subscriptions, self._subscriptions = self._subscriptions, []
        for handle in [*subscriptions, *self._lost.pending()]:
            handle.stop()

    # --- reads ---------------------------------------------------------------------------

    def _resolve(self, drf: str) -> tuple[Reading, int]:
        """The Reading ``get`` returns, and the facility ``read`` reports on failure."""
        with self._lock:
            self._reads.append(drf)
            try:
                request = parse_request(drf)
            except (ValueError, TypeError):
                request = None
            if request is not None and request.event.mode == "N":
                return Reading(drf=drf, error_code=-1, message=NEVER_MESSAGE), 1
            base, full = storage_keys(drf)
            for key in (full, base):
                if key in self._errors:
                    code, message = self._errors[key]
                    return Reading(drf=drf, error_code=code, message=message), 1
            stored = self._readings.get(full)
            fallback = stored is None
            if stored is None:
                stored = self._readings.get(base)
            if stored is None:
                return self._missing(drf, base)
        value = stored.value
        timestamp = stored.timestamp
        if fallback and request is not None:
            offset = event_offset(request)
            value = perturb(value, offset)
            if timestamp is not None and offset:
                timestamp = timestamp + timedelta(milliseconds=abs(offset))
        if request is not None and request.range is not None:
            try:
                value = apply_range(value, request.range)
            except (IndexError, TypeError, ValueError) as exc:
                raise DeviceError(
                    drf, 1, -1, f"Cannot apply range to stored value: {exc}"
                ) from None
        return dataclasses.replace(stored, drf=drf, value=value, timestamp=timestamp), 1

    def _missing(self, drf: str, base: str) -> tuple[Reading, int]:
        device = base.split(".", 1)[0]
        known = (k.split(".", 1)[0] for k in (*self._readings, *self._errors))
        if device in known:
            return (
                Reading(
                    drf=drf,
                    facility_code=16,
                    error_code=-13,
                    message=f"No such property for {device}",
                ),
                16,
            )
        return (
            Reading(
                drf=drf, facility_code=1, error_code=-1, message=f"No reading configured for {drf}"
            ),
            1,
        )

    def read(self, drf: str, timeout: float | None = None) -> Value:
        self._check_open()
        reading, facility = self._resolve(drf)
        if reading.error_code != 0 or reading.value is None:
            raise DeviceError(drf, facility, reading.error_code, reading.message)
        return reading.value

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        self._check_open()
        return self._resolve(drf)[0]

    def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Reading]:
        return [self.get(drf, timeout) for drf in drf_list(drfs)]

    # --- writes --------------------------------------------------------------------------

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        """Record the write and update the stored state as a device would."""
        self._check_open()
        value = _copy_value(value)
        with self._lock:
            self._writes.append((drf, value))
            base, full = storage_keys(drf)
            configured = self._write_results.get(full) or self._write_results.get(base)
            if configured is not None and configured.error_code != 0:
                return configured
            try:
                request = parse_request(drf)
            except (ValueError, TypeError):
                request = None
            rng = request.range if request is not None else None
            if is_partial_range(rng) and base not in self._readings:
                return WriteResult(
                    drf=drf,
                    error_code=-1,
                    message=f"No stored value for partial ranged write {drf}; seed the whole "
                    "value with set_reading()",
                )
            try:
                self._apply_write(drf, base, full, rng, value)
            except (TypeError, ValueError) as exc:
                return WriteResult(
                    drf=drf, error_code=-1, message=f"Invalid write value for {drf}: {exc}"
                )
        return configured or WriteResult(drf=drf, error_code=0)

    def _apply_write(self, drf: str, base: str, full: str, rng: Any, value: Any) -> None:
        stored = self._readings.get(base)
        if stored is not None and rng is not None and is_partial_range(rng):
            value = assign_range(stored.value, rng, value)
        if stored is not None:
            assert stored.value_type is not None
            check_value_type(value, stored.value_type)
            reading = Reading(
                drf=stored.drf,
                value_type=stored.value_type,
                value=value,
                timestamp=_now(),
                cycle=stored.cycle,
                meta=stored.meta,
            )
        else:
            name = _device_name(drf)
            reading = Reading(
                drf=drf,
                value_type=infer_value_type(value),
                value=value,
                timestamp=_now(),
                meta=DeviceMeta(0, name, f"Test device {name}"),
            )
        self._errors.pop(base, None)
        self._errors.pop(full, None)
        targets = {base, full} | {k for k, b in self._base_of.items() if b == base}
        for key in targets:
            self._store(key, base, reading)

    def write_many(
        self, settings: Iterable[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        return [self.write(drf, value, timeout) for drf, value in settings]

    # --- inspection ----------------------------------------------------------------------

    @property
    def reads(self) -> list[str]:
        with self._lock:
            return list(self._reads)

    @property
    def writes(self) -> list[tuple[str, Any]]:
        with self._lock:
            return list(self._writes)

    def was_read(self, drf: str) -> bool:
        base = storage_keys(drf)[0]
        return any(storage_keys(d)[0] == base for d in self.reads)

    def was_written(self, drf: str) -> bool:
        base = storage_keys(drf)[0]
        return any(storage_keys(d)[0] == base for d, _ in self.writes)

    def get_written_value(self, drf: str) -> Any:
        base = storage_keys(drf)[0]
        for written, value in reversed(self.writes):
            if storage_keys(written)[0] == base:
                return value
        return None

    # --- streaming -----------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        self._check_open()
        drfs = subscription_drfs(drfs, callback, on_error)
        handle = self._new_handle(drfs, callback, on_error)
        with self._subs_changed:
            self._subscriptions.append(handle)
            self._subs_changed.notify_all()
        self._lost.connected(handle)
        return handle

    def _new_handle(
        self, drfs: list[str], callback: ReadingCallback | None, on_error: ErrorCallback | None
    ) -> FakeSubscriptionHandle:
        """The handle ``subscribe`` registers; a subclass may return its own kind.

        Built before it is registered, so a test that waits for the subscription and then
        emits always reaches this very handle.
        """
        return FakeSubscriptionHandle(
            drfs,
            range(len(drfs)),
            dispatcher=self._dispatcher,
            callback=callback,
            on_error=on_error,
            on_stop=self._forget,
            max_buffered=sys.maxsize,
        )

    def _unlist(self, handle: BufferedSubscriptionHandle) -> None:
        with self._subs_changed:
            if handle in self._subscriptions:
                self._subscriptions.remove(handle)
            self._subs_changed.notify_all()

    def _forget(self, handle: BufferedSubscriptionHandle) -> None:
        """A subscription ended (its ``on_stop``): unlisted, no resumption pending."""
        self._unlist(handle)
        self._lost.forget(handle)

    def _resume(self, handle: BufferedSubscriptionHandle) -> None:
        """Subscribe ``handle`` again after a lost connection (unless it ended meanwhile)."""
        with self._subs_changed:
            if handle.stopped or self._closed:
                return
            self._subscriptions.append(handle)  # type: ignore[arg-type]
            self._subs_changed.notify_all()
        self._lost.connected(handle)

    def _active(self) -> list[FakeSubscriptionHandle]:
        with self._lock:
            return [h for h in self._subscriptions if not h.stopped]

    def emit_reading(
        self,
        drf: str,
        value: Any,
        value_type: ValueType = ValueType.SCALAR,
        units: str | None = None,
        description: str | None = None,
        timestamp: datetime | None = None,
        cycle: int | None = None,
    ) -> None:
        """Deliver a reading to every subscription listing exactly ``drf``."""
        reading = self._make_reading(drf, value, value_type, units, description, timestamp, cycle)
        for handle in self._active():
            if drf in handle.drfs:
                handle.deliver(reading)

    def emit_error(self, exc: BaseException) -> None:
        """Drop every active subscription's connection with ``exc`` (on_error is told).

        Under a :attr:`reconnect` policy an OSError (ConnectionError) is a lost connection
        that resumes after the backoff; otherwise, and for other errors, the subscription ends.
        """
        for handle in self._active():
            self._unlist(handle)
            if not self._lost.lose(handle, exc):
                self._forget(handle)
                handle.fail(exc)

    def wait_for_no_subscription(self, drf: str, timeout: float = 1.0) -> bool:
        """Wait until no active subscription lists ``drf`` (its subscribers stopped them)."""
        with self._subs_changed:
            return self._subs_changed.wait_for(
                lambda: not any(drf in h.drfs for h in self._subscriptions if not h.stopped),
                timeout,
            )

    def wait_for_subscription(self, drf: str, timeout: float = 1.0, count: int = 1) -> bool:
        """Wait until ``count`` active subscriptions list exactly ``drf``."""
        with self._subs_changed:
            return self._subs_changed.wait_for(
                lambda: sum(drf in h.drfs for h in self._subscriptions if not h.stopped) >= count,
                timeout,
            )

    def _stream_handles(self) -> list[SubscriptionHandle]:
        return list(self._active())

    def close(self) -> None:
        if self._closed:
            return
        self.stop_streaming()
        for handle in self._lost.pending():
            handle.stop()
        self._dispatcher.close()
        self._closed = True
