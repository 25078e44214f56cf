"""Monitor: collect readings of many channels in the background, into ring buffers."""

from __future__ import annotations

import collections
import dataclasses
import functools
import logging
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from pacsys.backends import Backend
from pacsys.exp._common import Timebase, backend_or_global, resolve, resolve_all
from pacsys.exp.result import ChannelData, MonitorResult
from pacsys.types import DeviceSpec, Reading, SubscriptionHandle

__all__ = ["ChannelHealth", "Monitor"]

log = logging.getLogger("pacsys.exp.monitor")

HealthCallback = Callable[[str, "ChannelHealth"], None]


@dataclasses.dataclass(frozen=True)
class ChannelHealth:
    """How one channel is doing: last reading, when it came (monitor time), stale or not."""

    drf: str
    last_reading: Reading | None
    last_received_at: float | None
    total_received: int
    stale: bool
    _now: Callable[[], float] = dataclasses.field(default=Timebase().now, repr=False, compare=False)

    @property
    def gap(self) -> float:
        """Seconds since the last reading arrived (``inf`` if none has)."""
        if self.last_received_at is None:
            return math.inf
        return self._now() - self.last_received_at


class _Channel:
    """One channel's buffer and counters (guarded by the Monitor's condition)."""

    __slots__ = ("buffer", "last", "received", "received_at", "stale")

    def __init__(self, size: int) -> None:
        self.buffer: collections.deque[Reading] = collections.deque(maxlen=size)
        self.last: Reading | None = None
        self.received = 0
        self.received_at: float | None = None
        self.stale = False


class Monitor:
    """Collect readings of ``devices`` into per-channel ring buffers of ``buffer_size``.

    When a buffer is full the oldest reading is discarded, so memory stays bounded on long
    runs. ``stale_after`` (seconds) enables a watchdog that calls ``on_stale``/``on_recover``
    (on its own thread) when a channel stops and resumes delivering.
    """

    def __init__(
        self,
        devices: Sequence[DeviceSpec],
        buffer_size: int = 10_000,
        backend: Backend | None = None,
        stale_after: float | None = None,
        on_stale: HealthCallback | None = None,
        on_recover: HealthCallback | None = None,
    ) -> None:
        self._drfs = resolve_all(devices, unique=True)
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError(f"buffer_size must be >= 1, got {buffer_size}")
        if stale_after is not None and not stale_after > 0:
            raise ValueError("stale_after must be positive")
        self._buffer_size = buffer_size
        self._backend = backend
        self._stale_after = stale_after
        self._on_stale = on_stale
        self._on_recover = on_recover
        self._cond = threading.Condition()
        self._channels = {drf: _Channel(buffer_size) for drf in self._drfs}
        self._handle: SubscriptionHandle | None = None
        self._run = 0
        self._started: datetime | None = None
        self._started_at = 0.0
        self._timebase = Timebase()
        self._watchdog: threading.Thread | None = None
        self._watchdog_stop = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def drfs(self) -> list[str]:
        return list(self._drfs)

    @property
    def running(self) -> bool:
        handle = self._handle
        return handle is not None and not handle.stopped

    def start(self) -> None:
        """Clear the buffers and subscribe every channel (one subscription)."""
        if self.running:
            raise RuntimeError("Monitor is already running")
        backend = backend_or_global(self._backend)
        with self._cond:
            self._run += 1
            run = self._run
            self._channels = {drf: _Channel(self._buffer_size) for drf in self._drfs}
            self._timebase = Timebase.of(backend)
            self._started = self._timebase.utcnow()
            self._started_at = self._timebase.now()

        def on_reading(reading: Reading, handle: SubscriptionHandle) -> None:
            self._on_reading(run, reading)

        def on_error(exc: BaseException, handle: SubscriptionHandle) -> None:
            if handle.exc is not None:
                log.error(
                    "Monitor subscription for %s failed; channels will go stale: %s",
                    self._drfs,
                    exc,
                )
            with self._cond:
                self._cond.notify_all()

        self._handle = backend.subscribe(list(self._drfs), on_reading, on_error)
        if self._stale_after is not None:
            self._watchdog_stop = threading.Event()
            self._watchdog = threading.Thread(
                target=self._watch, args=(run,), name="pacsys-watchdog", daemon=True
            )
            self._watchdog.start()

    def stop(self) -> None:
        """Stop the subscription and the watchdog; the buffers are kept. Safe when stopped."""
        with self._cond:
            self._run += 1
            handle, self._handle = self._handle, None
            self._cond.notify_all()
        self._watchdog_stop.set()
        watchdog = self._watchdog
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join(2.0)
        if handle is not None:
            handle.stop()

    def __enter__(self) -> Monitor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _on_reading(self, run: int, reading: Reading) -> None:
        with self._cond:
            if run != self._run:
                return
            channel = self._channels.get(reading.drf)
            if channel is None:
                return
            channel.buffer.append(reading)
            channel.last = reading
            channel.received += 1
            channel.received_at = self._timebase.now()
            self._cond.notify_all()

    # --- inspection -----------------------------------------------------------------------

    def __len__(self) -> int:
        with self._cond:
            return sum(len(c.buffer) for c in self._channels.values())

    @property
    def tags(self) -> dict[str, int]:
        """Readings received per channel since ``start()``."""
        with self._cond:
            return {drf: c.received for drf, c in self._channels.items()}

    def has_new(self, old_tags: dict[str, int]) -> bool:
        """True if any channel received readings since ``old_tags`` was taken."""
        return any(n > old_tags.get(drf, 0) for drf, n in self.tags.items())

    def _moved_since(self, seen: int) -> bool:
        """True once a reading arrived after ``seen`` had been counted, or monitoring stopped."""
        return sum(c.received for c in self._channels.values()) != seen or not self.running

    def snapshot(self) -> MonitorResult:
        """A copy of everything buffered (the monitor keeps running)."""
        with self._cond:
            channels = {d: ChannelData(d, tuple(c.buffer)) for d, c in self._channels.items()}
            return MonitorResult(channels, self._started, self._timebase.utcnow())

    def flush(self) -> MonitorResult:
        """Everything buffered, emptying the buffers; the next window starts now."""
        with self._cond:
            channels = {}
            for drf, channel in self._channels.items():
                channels[drf] = ChannelData(drf, tuple(channel.buffer))
                channel.buffer = collections.deque(maxlen=self._buffer_size)
            now = self._timebase.utcnow()
            result = MonitorResult(channels, self._started, now)
            self._started = now
            return result

    def _health(self, drf: str) -> ChannelHealth:
        c = self._channels[drf]
        return ChannelHealth(drf, c.last, c.received_at, c.received, c.stale, self._timebase.now)

    def health(self, drf: DeviceSpec | None = None) -> ChannelHealth | dict[str, ChannelHealth]:
        with self._cond:
            if drf is None:
                return {d: self._health(d) for d in self._channels}
            return self._health(self._key(drf))

    def _key(self, drf: DeviceSpec) -> str:
        key = resolve(drf)
        if key not in self._channels:
            raise KeyError(f"No channel {key!r}. Available: {list(self._channels)}")
        return key

    # --- waiting --------------------------------------------------------------------------

    def _failure(self) -> BaseException | None:
        handle = self._handle
        return handle.exc if handle is not None else None

    def await_next(self, drf: DeviceSpec, timeout: float = 5.0) -> Reading:
        """The next reading of ``drf`` that arrives after this call."""
        key = self._key(drf)
        if not self.running:
            raise RuntimeError("Monitor is not running")
        with self._cond:
            before = self._channels[key].last

        def arrived() -> bool:
            return (
                self._channels[key].last is not before
                or not self.running
                or self._failure() is not None
            )

        ok = self._timebase.wait_for(arrived, timeout, self._cond)
        with self._cond:
            latest = self._channels[key].last
        if latest is not before and latest is not None:
            return latest
        self._raise_failure()
        if not ok:
            raise TimeoutError(f"No new reading on {key!r} within {timeout}s")
        raise RuntimeError("Monitor is not running")

    def wait_until(
        self, predicate: Callable[[MonitorResult], bool], timeout: float, poll: float = 0.1
    ) -> MonitorResult:
        """The first snapshot for which ``predicate(snapshot)`` is true.

        The predicate is re-checked whenever a reading arrives (``poll`` is the longest
        pause between checks when none does).
        """
        if not self.running:
            raise RuntimeError("Monitor is not running")
        deadline = self._timebase.now() + timeout
        seen = -1
        while True:
            self._raise_failure()
            if not self.running:
                raise RuntimeError("Monitor is not running")
            snap = self.snapshot()
            if predicate(snap):
                return snap
            remaining = deadline - self._timebase.now()
            if remaining <= 0:
                raise TimeoutError(f"Predicate not satisfied within {timeout}s")
            seen = sum(self.tags.values())
            self._timebase.wait_for(
                functools.partial(self._moved_since, seen),
                min(poll, remaining),
                self._cond,
            )

    def _raise_failure(self) -> None:
        exc = self._failure()
        if exc is not None:
            raise exc

    def collect(
        self,
        *,
        duration: float | None = None,
        count: int | None = None,
        timeout: float | None = None,
    ) -> MonitorResult:
        """Start, gather for ``duration`` seconds or ``count`` readings per channel, stop."""
        if (duration is None) == (count is None):
            raise ValueError("Exactly one of duration or count must be specified")
        if count is not None:
            if count < 1:
                raise ValueError(f"count must be >= 1, got {count}")
            if count > self._buffer_size:
                raise ValueError(f"count ({count}) cannot exceed buffer_size ({self._buffer_size})")
        if self.running:
            raise RuntimeError("Monitor is already running")
        self.start()
        try:
            if duration is not None:
                self._wait_duration(duration)
            else:
                assert count is not None
                self._wait_count(count, timeout)
        finally:
            self.stop()
        return self.snapshot()

    def _wait_duration(self, duration: float) -> None:
        handle = self._handle
        if self._timebase.manual:
            self._timebase.sleep(duration)
        else:
            with self._cond:
                self._cond.wait_for(lambda: handle is not None and handle.exc is not None, duration)
        if handle is not None and handle.exc is not None:
            raise handle.exc

    def _wait_count(self, count: int, timeout: float | None) -> None:
        handle = self._handle
        assert handle is not None

        def done() -> bool:
            full = all(c.received >= count for c in self._channels.values())
            return full or handle.stopped

        self._timebase.wait_for(done, timeout, self._cond)
        with self._cond:
            complete = all(c.received >= count for c in self._channels.values())
        if complete:
            return
        if handle.exc is not None:
            raise handle.exc
        if handle.stopped:
            raise RuntimeError(
                f"Subscription stopped before {count} readings per channel were collected"
            )
        raise TimeoutError(f"Timed out after {timeout}s waiting for {count} readings per channel")

    # --- staleness ------------------------------------------------------------------------

    def _watch(self, run: int) -> None:
        assert self._stale_after is not None
        interval = max(0.1, min(self._stale_after / 2, 1.0))
        stop = self._watchdog_stop
        while not stop.wait(interval):
            if self._check_stale(run):
                return

    def _check_stale(self, run: int) -> bool:
        """Report transitions; True when the watchdog can end (stream dead, all reported)."""
        assert self._stale_after is not None
        events: list[tuple[HealthCallback | None, str, ChannelHealth]] = []
        with self._cond:
            if run != self._run:
                return True
            now = self._timebase.now()
            for drf, c in self._channels.items():
                since = c.received_at if c.received_at is not None else self._started_at
                stale = now - since > self._stale_after
                if stale and not c.stale:
                    c.stale = True
                    log.warning("channel %s stale (%.1fs since last reading)", drf, now - since)
                    events.append((self._on_stale, drf, self._health(drf)))
                elif not stale and c.stale:
                    c.stale = False
                    log.info("channel %s recovered", drf)
                    events.append((self._on_recover, drf, self._health(drf)))
            dead = self._failure() is not None and all(c.stale for c in self._channels.values())
        for callback, drf, health in events:
            if callback is not None:
                try:
                    callback(drf, health)
                except Exception:
                    log.exception("Monitor health callback for %s failed", drf)
        return dead

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Monitor {state} {self._drfs}>"
