"""Short-lived subscriptions: ``read_fresh`` (N new readings) and ``watch`` (until a condition)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from pacsys.backends import Backend
from pacsys.drf_utils import has_event, replace_event
from pacsys.exp._common import Timebase, backend_or_global, resolve, resolve_all, to_float
from pacsys.types import DeviceSpec, Reading, SubscriptionHandle

__all__ = ["FreshResult", "read_fresh", "watch"]


@dataclasses.dataclass(frozen=True)
class FreshResult:
    """The readings ``read_fresh`` recorded for one device (the last one is the newest)."""

    drf: str
    readings: tuple[Reading, ...]
    requested_count: int

    def __len__(self) -> int:
        return len(self.readings)

    def __getitem__(self, index: int) -> Reading:
        return self.readings[index]

    def __iter__(self) -> Iterator[Reading]:
        return iter(self.readings)

    @property
    def reading(self) -> Reading:
        return self.readings[-1]

    @property
    def value(self) -> Any:
        return self.readings[-1].value

    @property
    def timestamp(self) -> datetime | None:
        return self.readings[-1].timestamp

    @property
    def values(self) -> list[Any]:
        return [r.value for r in self.readings if r.ok]

    @property
    def length(self) -> int:
        return len(self.values)

    @property
    def timestamps(self) -> list[datetime]:
        return [r.timestamp for r in self.readings if r.timestamp is not None]

    def _window(self, n: int | None) -> np.ndarray:
        values = self.values
        if not values:
            raise ValueError(f"No values for {self.drf}")
        if n is None:
            n = self.requested_count
        elif n == -1:
            n = len(values)
        elif n < 1:
            raise ValueError(f"n must be >= 1 or -1 for all, got {n}")
        elif n > len(values):
            raise ValueError(f"Only {len(values)} values available, fewer than {n}")
        return np.asarray([to_float(v) for v in values[-n:]], dtype=np.float64)

    def mean(self, n: int | None = None) -> float:
        """Mean of the last ``requested_count`` values (``n``: the last n, -1: all)."""
        return float(np.mean(self._window(n)))

    def median(self, n: int | None = None) -> float:
        return float(np.median(self._window(n)))

    def std(self, n: int | None = None) -> float:
        """Population standard deviation (divides by N)."""
        return float(np.std(self._window(n)))

    def min(self, n: int | None = None) -> float:
        return float(np.min(self._window(n)))

    def max(self, n: int | None = None) -> float:
        return float(np.max(self._window(n)))


class _Collector:
    """Readings of a temporary subscription, with what the waiting caller checks."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.error: BaseException | None = None
        self.done = False

    def on_error(self, exc: BaseException, handle: SubscriptionHandle) -> None:
        if handle.exc is None:
            return  # recoverable (e.g. reconnecting): the stream goes on
        with self.cond:
            self.error = handle.exc
            self.cond.notify_all()

    def finished(self) -> bool:
        return self.done or self.error is not None


def read_fresh(
    devices: Sequence[DeviceSpec],
    *,
    count: int = 1,
    default_event: str | None = None,
    timeout: float = 5.0,
    backend: Backend | None = None,
) -> list[FreshResult]:
    """Wait for ``count`` new usable readings of every device; one result per input device.

    A DRF without an event gets ``default_event`` (and is canonicalised) when one is given.
    Error readings are recorded but do not count.
    """
    drfs = resolve_all(devices, unique=False)
    if count < 1:
        raise ValueError("count must be >= 1")
    if default_event is not None:
        drfs = [d if has_event(d) else replace_event(d, default_event) for d in drfs]
    unique = list(dict.fromkeys(drfs))
    be = backend_or_global(backend)
    recorded: dict[str, list[Reading]] = {d: [] for d in unique}
    good = dict.fromkeys(unique, 0)
    state = _Collector()

    def on_reading(reading: Reading, handle: SubscriptionHandle) -> None:
        with state.cond:
            if reading.drf not in good or good[reading.drf] >= count:
                return
            recorded[reading.drf].append(reading)
            if reading.ok:
                good[reading.drf] += 1
                if all(n >= count for n in good.values()):
                    state.done = True
                    state.cond.notify_all()

    handle = be.subscribe(unique, on_reading, state.on_error)
    try:
        Timebase.of(be).wait_for(state.finished, timeout, state.cond)
    finally:
        handle.stop()
    with state.cond:
        if state.error is not None and not state.done:
            raise state.error
        missing = [d for d in unique if good[d] < count]
        if missing:
            raise TimeoutError(f"Timed out waiting for {count} readings: {missing}")
        results = {d: FreshResult(d, tuple(recorded[d]), count) for d in unique}
    return [dataclasses.replace(results[d]) for d in drfs]


def watch(
    device: DeviceSpec | Sequence[DeviceSpec],
    condition: Callable[..., bool],
    *,
    timeout: float = 30.0,
    backend: Backend | None = None,
    joint: bool = False,
) -> Reading:
    """Block until ``condition`` holds; return the reading that made it hold.

    ``device`` is one device or a list. By default ``condition(reading)`` sees every reading
    of every channel, errors included (check ``reading.ok``). With ``joint=True`` it gets
    ``{drf: newest reading}`` of all channels instead, once each has delivered one, so it
    can relate several devices. An exception from ``condition`` is raised here.
    """
    if isinstance(device, str) or not isinstance(device, Sequence):
        drfs = [resolve(device)]
    else:
        drfs = resolve_all(device, unique=True)
    be = backend_or_global(backend)
    state = _Collector()
    latest: dict[str, Reading] = {}
    outcome: list[Reading | BaseException] = []

    def on_reading(reading: Reading, handle: SubscriptionHandle) -> None:
        with state.cond:
            if state.finished():
                return
            latest[reading.drf] = reading
            try:
                if joint:
                    holds = len(latest) == len(drfs) and condition(_Latest(latest))
                else:
                    holds = condition(reading)
            except Exception as exc:
                outcome.append(exc)
                holds = True
            else:
                if holds:
                    outcome.append(reading)
            if holds:
                state.done = True
                state.cond.notify_all()

    handle = be.subscribe(drfs, on_reading, state.on_error)
    try:
        Timebase.of(be).wait_for(state.finished, timeout, state.cond)
    finally:
        handle.stop()
    with state.cond:
        if outcome:
            result = outcome[0]
            if isinstance(result, BaseException):
                raise result
            return result
        if state.error is not None:
            raise state.error
    what = drfs[0] if len(drfs) == 1 else drfs
    raise TimeoutError(f"Condition not met within {timeout}s for {what}")


class _Latest(Mapping[str, Reading]):
    """A read-only view of the newest reading per channel (no copy per delivery)."""

    def __init__(self, data: dict[str, Reading]) -> None:
        self._data = data

    def __getitem__(self, key: object) -> Reading:
        return self._data[resolve(key)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)
