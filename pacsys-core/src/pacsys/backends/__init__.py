"""The Backend contract every transport implements, and helpers shared by backends."""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from pacsys.types import (
    BackendCapability,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    WriteResult,
)

if TYPE_CHECKING:
    from pacsys.types import Value

__all__ = [
    "Backend",
    "check_positive",
    "drf_list",
    "duration_text",
    "fill_missing",
    "setting_pairs",
    "subscription_drfs",
    "summarize_drfs",
    "timestamp_from_millis",
    "timestamp_from_seconds",
    "validate_alarm_dict",
]


class Backend(abc.ABC):
    """A connection to ACNET data: read, write, stream.

    Subclasses declare ``CAPABILITIES`` (everything the class can do; its plugin's
    BackendSpec reads it) and implement ``get_many`` and ``close``; ``capabilities`` is
    ``CAPABILITIES`` unless an instance narrows it (no credentials: no writes); ``read`` and ``get``
    default to a one-element ``get_many`` (override them where a single read is cheaper).
    Writes and streaming are optional (the defaults raise NotImplementedError).  A backend
    is a context manager that closes itself on exit.
    """

    CAPABILITIES: ClassVar[BackendCapability] = BackendCapability.READ
    _dispatch_mode: DispatchMode = DispatchMode.WORKER
    _closed: bool = False  # subclasses set it in close()

    @property
    def capabilities(self) -> BackendCapability:
        """What this instance can do: ``CAPABILITIES`` unless a subclass narrows it."""
        return self.CAPABILITIES

    @property
    def authenticated(self) -> bool:
        return False

    @property
    def principal(self) -> str | None:
        return None

    @property
    def dispatch_mode(self) -> DispatchMode:
        return self._dispatch_mode

    def read(self, drf: str, timeout: float | None = None) -> Value:
        """The value of one device; DeviceError when there is no usable value."""
        from pacsys.errors import DeviceError

        reading = self.get(drf, timeout=timeout)
        if not reading.ok:
            message = reading.message or ("no value" if reading.error_code == 0 else None)
            raise DeviceError(drf, reading.facility_code, reading.error_code, message)
        return reading.value  # type: ignore[return-value]

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        """One Reading with status and metadata; device errors are inside it."""
        return self.get_many([drf], timeout=timeout)[0]

    @abc.abstractmethod
    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        """Readings in input order; ``timeout`` bounds the whole batch."""

    def read_many(self, drfs: list[str], timeout: float | None = None) -> list[Value]:
        """Values in input order; ReadError when any device has no usable value."""
        from pacsys.errors import ReadError

        readings = self.get_many(drfs, timeout=timeout)
        failed = [r.drf for r in readings if not r.ok]
        if failed:
            raise ReadError(readings, f"Device errors: {', '.join(failed)}")
        return [r.value for r in readings if r.value is not None]  # all ok: none is None

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        """One setting: a one-element ``write_many`` unless a subclass does better."""
        return self.write_many([(drf, value)], timeout=timeout)[0]

    def write_many(
        self, settings: list[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        raise NotImplementedError("This backend does not support writes")

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        raise NotImplementedError("This backend does not support streaming")

    def remove(self, handle: SubscriptionHandle) -> None:
        raise NotImplementedError("This backend does not support streaming")

    def stop_streaming(self) -> None:
        raise NotImplementedError("This backend does not support streaming")

    @abc.abstractmethod
    def close(self) -> None:
        """Release every connection and thread; idempotent."""

    def _check_open(self) -> None:
        """RuntimeError once the backend is closed (call at the top of every operation)."""
        if self._closed:
            raise RuntimeError("Backend is closed")

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_positive(value: Any, name: str = "timeout") -> float:
    """``value`` as float seconds; ValueError unless a positive finite number (bools refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def duration_text(seconds: float) -> str:
    """A timeout for messages: ``5 s``, not ``4.99999 s`` (3 significant digits, whole >= 100)."""
    return f"{seconds:.0f} s" if abs(seconds) >= 100 else f"{seconds:.3g} s"


def drf_list(drfs: Iterable[str]) -> list[str]:
    """``drfs`` as a new list of strings.

    A bare string is refused rather than read as a list of one-letter DRFs.
    """
    if isinstance(drfs, str | bytes):
        raise TypeError(f"drfs must be a list of DRF strings, not a single string: pass [{drfs!r}]")
    items = list(drfs)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"DRF must be a string, got {type(item).__name__}")
    return items


def setting_pairs(
    settings: Iterable[tuple[str, Value]] | Mapping[str, Value],
) -> list[tuple[str, Any]]:
    """The ``(drf, value)`` items of a ``write_many`` call (a mapping's items, or the pairs).

    TypeError names the first item that is not a 2-tuple.
    """
    pairs = list(settings.items()) if isinstance(settings, Mapping) else list(settings)
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"write_many expects (drf, value) pairs, got {pair!r}")
    return pairs


def fill_missing(
    drfs: Sequence[str], readings: Sequence[Reading | None], fill: Callable[[str], Reading]
) -> list[Reading]:
    """One Reading per DRF: the one that came, else ``fill(drf)`` (a failed batch's results)."""
    return [r if r is not None else fill(drf) for drf, r in zip(drfs, readings, strict=True)]


def subscription_drfs(
    drfs: Iterable[str], callback: ReadingCallback | None, on_error: ErrorCallback | None
) -> list[str]:
    """The checked DRF list of a ``subscribe`` call: non-empty strings, valid callbacks."""
    from pacsys.callbacks import validate_callbacks

    items = drf_list(drfs)
    if not items:
        raise ValueError("drfs cannot be empty")
    validate_callbacks(callback, on_error)
    return items


def timestamp_from_millis(ms: int | float) -> datetime | None:
    """Milliseconds since the Unix epoch -> UTC datetime; None when no datetime can hold it.

    Timestamps come from peers: one out of range (year 146140482) must cost the reading its
    time, not fail the whole read.
    """
    return timestamp_from_seconds(ms / 1000.0)


def timestamp_from_seconds(seconds: float) -> datetime | None:
    """Seconds since the Unix epoch -> UTC datetime; None when no datetime can hold it."""
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def summarize_drfs(drfs: Iterable[str], limit: int = 5) -> str:
    """``"A, B, C"``, or the first ``limit`` and ``" and N more"``; ``"unknown"`` if empty."""
    items = list(drfs)
    if not items:
        return "unknown"
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


_ANALOG_ONLY = frozenset({"minimum", "maximum"})
_DIGITAL_ONLY = frozenset({"nominal", "mask"})
_SHARED_WRITABLE = frozenset({"alarm_enable", "abort_inhibit", "tries_needed"})
_READ_ONLY = frozenset({"abort", "alarm_status", "tries_now"})


def validate_alarm_dict(settings: dict[str, Any]) -> str:
    """Classify an alarm-block write as ``"analog"`` or ``"digital"``, rejecting bad keys."""
    keys = set(settings)
    read_only = sorted(keys & _READ_ONLY)
    if read_only:
        raise ValueError(f"Alarm keys are read-only: {', '.join(read_only)}")
    unknown = sorted(keys - _ANALOG_ONLY - _DIGITAL_ONLY - _SHARED_WRITABLE)
    if unknown:
        raise ValueError(f"Unknown alarm keys: {', '.join(unknown)}")
    analog, digital = keys & _ANALOG_ONLY, keys & _DIGITAL_ONLY
    if analog and digital:
        raise ValueError("Cannot mix analog (minimum/maximum) and digital (nominal/mask) keys")
    if analog:
        return "analog"
    if digital:
        return "digital"
    raise ValueError("Alarm settings need at least one of minimum, maximum, nominal or mask")
