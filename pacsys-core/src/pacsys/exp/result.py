"""What a Monitor collected: per-channel readings with statistics, slicing and exports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from pacsys.exp._common import require, resolve, to_float
from pacsys.types import Reading, ValueType

__all__ = ["ChannelData", "MonitorResult"]

_NUMERIC_TYPES = (ValueType.SCALAR, ValueType.SCALAR_ARRAY, ValueType.TIMED_SCALAR_ARRAY)
_STATS: dict[str, Callable[..., Any]] = {
    "mean": np.mean,
    "std": np.std,  # population standard deviation (ddof=0)
    "median": np.median,
    "min": np.min,
    "max": np.max,
}


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts


def _array_of(value: object) -> np.ndarray | None:
    """The ndarray inside an array value (timed arrays are ``{"data": ndarray, ...}``)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, dict) and isinstance(value.get("data"), np.ndarray):
        return value["data"]
    return None


@dataclasses.dataclass(frozen=True)
class ChannelData:
    """The readings of one channel, oldest first; indexable and iterable like a tuple."""

    drf: str
    readings: tuple[Reading, ...] = ()

    def __len__(self) -> int:
        return len(self.readings)

    def __getitem__(self, index: int) -> Reading:
        return self.readings[index]

    def __iter__(self) -> Iterator[Reading]:
        return iter(self.readings)

    def values(self) -> list[Any]:
        """Values of the usable readings (errors and empty values left out)."""
        return [r.value for r in self.readings if r.ok]

    def timestamps(self) -> list[datetime]:
        """Timestamps of all readings that have one (errors included)."""
        return [r.timestamp for r in self.readings if r.timestamp is not None]


@dataclasses.dataclass(frozen=True)
class MonitorResult:
    """Readings of several channels collected between ``started`` and ``stopped`` (UTC).

    Channels are looked up by the DRF string they were monitored with, or by a Device (its
    canonical DRF). Statistics use usable readings only; arrays are reduced element-wise.
    """

    channels: dict[str, ChannelData]
    started: datetime | None = None
    stopped: datetime | None = None
    _stacked: dict[str, np.ndarray] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # --- access ---------------------------------------------------------------------------

    def _key(self, drf: object) -> str:
        key = resolve(drf)
        if key not in self.channels:
            raise KeyError(f"No channel {key!r}. Available: {list(self.channels)}")
        return key

    def __getitem__(self, drf: object) -> ChannelData:
        return self.channels[self._key(drf)]

    def __len__(self) -> int:
        return len(self.channels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.channels)

    def __contains__(self, drf: object) -> bool:
        try:
            return resolve(drf) in self.channels
        except TypeError:
            return False

    def _each(self, drf: object, fn: Callable[[str], Any]) -> Any:
        if drf is None:
            return {key: fn(key) for key in self.channels}
        return fn(self._key(drf))

    @property
    def counts(self) -> dict[str, int]:
        """Readings per channel, error readings included."""
        return {key: len(data) for key, data in self.channels.items()}

    @property
    def elapsed(self) -> timedelta | None:
        if self.started is None or self.stopped is None:
            return None
        return self.stopped - self.started

    def rate(self, drf: object = None) -> float | dict[str, float]:
        """Readings per second over the collection window."""
        elapsed = self.elapsed
        seconds = elapsed.total_seconds() if elapsed is not None else 0.0
        if seconds <= 0:
            raise ValueError("Cannot compute rate: no elapsed time")
        return self._each(drf, lambda key: len(self.channels[key]) / seconds)

    def values(self, drf: object) -> list[Any]:
        return self[drf].values()

    def timestamps(self, drf: object) -> list[datetime]:
        return self[drf].timestamps()

    def last(self, n: int, drf: object = None) -> list[Any] | dict[str, list[Any]]:
        """The last ``n`` usable values of a channel (or of each)."""
        if n < 1:
            raise ValueError("n must be >= 1")
        return self._each(drf, lambda key: self.channels[key].values()[-n:])

    def slice(
        self,
        drf: object,
        start: datetime | float | None = None,
        end: datetime | float | None = None,
    ) -> ChannelData:
        """Readings with ``start <= timestamp <= end``; a float is seconds after ``started``.

        Readings without a timestamp are left out; naive datetimes are taken as UTC.
        """
        key = self._key(drf)
        low, high = self._instant(start), self._instant(end)
        kept = tuple(
            r
            for r in self.channels[key]
            if r.timestamp is not None
            and (low is None or _utc(r.timestamp) >= low)
            and (high is None or _utc(r.timestamp) <= high)
        )
        return ChannelData(key, kept)

    def _instant(self, when: datetime | float | None) -> datetime | None:
        if when is None or isinstance(when, datetime):
            return None if when is None else _utc(when)
        if self.started is None:
            raise ValueError("Cannot slice by seconds: started timestamp is None")
        return self.started + timedelta(seconds=float(when))

    def to_dict(self) -> dict[str, list[Reading]]:
        return {key: list(data.readings) for key, data in self.channels.items()}

    # --- statistics -----------------------------------------------------------------------

    def _numbers(self, key: str) -> np.ndarray:
        """Usable values as float64: ``(N,)`` for scalars, ``(N, M)`` for arrays."""
        cached = self._stacked.get(key)
        if cached is not None:
            return cached
        values = self.channels[key].values()
        arrays = [_array_of(v) for v in values]
        if values and all(a is not None for a in arrays):
            try:
                stacked = np.stack([np.asarray(a, dtype=np.float64) for a in arrays])
            except (ValueError, TypeError) as exc:
                raise ValueError(f"Cannot stack array readings for {key}: {exc}") from None
        else:
            numbers = []
            for value in values:
                try:
                    numbers.append(to_float(value))
                except TypeError:
                    raise TypeError(
                        f"Cannot compute stats on non-numeric value {type(value).__name__} in {key}"
                    ) from None
            if not numbers:
                raise ValueError(f"No readings for {key}")
            stacked = np.asarray(numbers, dtype=np.float64)
        self._stacked[key] = stacked
        return stacked

    def _stat(self, name: str, drf: object) -> Any:
        fn = _STATS[name]

        def one(key: str) -> Any:
            data = self._numbers(key)
            out = fn(data, axis=0)
            return float(out) if data.ndim == 1 else out

        return self._each(drf, one)

    def mean(self, drf: object = None) -> Any:
        return self._stat("mean", drf)

    def std(self, drf: object = None) -> Any:
        """Population standard deviation (divides by N)."""
        return self._stat("std", drf)

    def median(self, drf: object = None) -> Any:
        return self._stat("median", drf)

    def min(self, drf: object = None) -> Any:
        return self._stat("min", drf)

    def max(self, drf: object = None) -> Any:
        return self._stat("max", drf)

    # --- exports --------------------------------------------------------------------------

    def to_numpy(self, drf: object) -> tuple[np.ndarray, np.ndarray]:
        """``(timestamps, values)``: POSIX seconds ``(N,)`` and values ``(N,)`` or ``(N, M)``."""
        key = self._key(drf)
        readings = [r for r in self.channels[key] if r.ok]
        if not readings:
            return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
        value_type = readings[0].value_type
        if value_type not in _NUMERIC_TYPES:
            got = value_type.value if value_type is not None else None
            raise TypeError(
                "to_numpy() requires numeric channels (SCALAR, SCALAR_ARRAY,"
                f" TIMED_SCALAR_ARRAY), got {got}"
            )
        times = np.array(
            [r.timestamp.timestamp() if r.timestamp is not None else 0.0 for r in readings],
            dtype=np.float64,
        )
        return times, self._numbers(key)

    def to_dataframe(self, drf: object = None, *, relative: bool = False) -> Any:
        """A pandas DataFrame: one channel indexed by time, or all channels in long form."""
        pd = require("pandas", "dataframe", "to_dataframe()")
        if relative and self.started is None:
            raise ValueError("Cannot use relative=True: started timestamp is None")
        time_column = "elapsed_s" if relative else "timestamp"
        keys = list(self.channels) if drf is None else [self._key(drf)]
        rows: dict[str, list[Any]] = {"drf": [], "value": [], "units": [], time_column: []}
        for key in keys:
            for r in self.channels[key]:
                if not r.ok:
                    continue
                rows["drf"].append(key)
                rows["value"].append(r.value)
                rows["units"].append(r.units)
                rows[time_column].append(self._time_of(key, r, relative))
        if drf is not None:
            index = pd.Index(rows[time_column], name=time_column)
            return pd.DataFrame({"value": rows["value"], "units": rows["units"]}, index=index)
        return pd.DataFrame(rows, columns=["drf", "value", "units", time_column])

    def _time_of(self, key: str, reading: Reading, relative: bool) -> Any:
        if not relative:
            return reading.timestamp
        if reading.timestamp is None:
            raise ValueError(f"Cannot compute relative time for {key}: timestamp is None")
        assert self.started is not None
        return (_utc(reading.timestamp) - self.started).total_seconds()

    def plot(self, drf: object = None, *, ax: Any = None, relative: bool = False) -> Any:
        """Plot scalar channels against time (arrays: their last waveform); returns the Axes.

        In a notebook the figure shows inline. ``relative`` puts seconds since ``started``
        on the x axis instead of wall-clock time.
        """
        plt = require("matplotlib.pyplot", "plot", "plot()")
        if ax is None:
            _, ax = plt.subplots()
        keys = list(self.channels) if drf is None else [self._key(drf)]
        for key in keys:
            ok = [r for r in self.channels[key] if r.ok and r.timestamp is not None]
            if not ok:
                continue
            units = ok[-1].units
            label = f"{key} [{units}]" if units else key
            data = self._numbers(key)
            if data.ndim == 2:
                ax.plot(np.arange(data.shape[1]), data[-1], label=f"{label} (last)")
                continue
            times = [self._time_of(key, r, relative) for r in ok]
            numbers = [to_float(r.value) for r in ok]
            ax.plot(times, numbers, marker=".", label=label)
        ax.set_xlabel("seconds since start" if relative else "time (UTC)")
        if keys:
            ax.legend()
        return ax

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {n}" for k, n in self.counts.items())
        return f"MonitorResult({counts}; started={self.started}, stopped={self.stopped})"
