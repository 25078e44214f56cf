"""What a scan returns: the points, the readings at each, the writes, and the restore outcome."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from pacsys.exp._common import require, resolve, to_float
from pacsys.types import Reading, WriteResult

__all__ = ["ScanRestoreError", "ScanResult"]


@dataclasses.dataclass(frozen=True)
class ScanResult:
    """One scan. For an N-D scan ``write_device`` is a tuple of DRFs and each set value a tuple.

    ``set_values`` lists every point a write was attempted for (a final failed one too), so
    ``readings`` can be one shorter. ``restored`` is True when every changed device was
    written back and confirmed (``restore_results`` has those writes); ``error`` names the
    exception that ended the scan early, if one did.
    """

    write_device: str | tuple[str, ...]
    read_devices: list[str]
    set_values: list[Any]
    readings: list[dict[str, Reading]]
    write_results: list[WriteResult]
    aborted: bool = False
    restored: bool = False
    restore_results: dict[str, WriteResult] = dataclasses.field(default_factory=dict)
    error: str | None = None

    @property
    def write_devices(self) -> tuple[str, ...]:
        """The write DRFs, as a tuple in both the 1-D and N-D case."""
        wd = self.write_device
        return (wd,) if isinstance(wd, str) else wd

    def _set_columns(self) -> list[str]:
        if isinstance(self.write_device, str):
            return ["set_value"]
        return [f"set_value[{drf}]" for drf in self.write_device]

    def to_dataframe(self) -> Any:
        """One row per set value: the set value column(s), then one column per read device."""
        pd = require("pandas", "dataframe", "ScanResult.to_dataframe()")
        set_columns = self._set_columns()
        rows = []
        for i, point in enumerate(self.set_values):
            values = point if len(set_columns) > 1 else (point,)
            row: dict[str, Any] = dict(zip(set_columns, values, strict=True))
            if i < len(self.readings):
                row.update({drf: r.value for drf, r in self.readings[i].items()})
            rows.append(row)
        return pd.DataFrame(rows, columns=[*set_columns, *self.read_devices])

    def plot(self, y: Any = None, *, ax: Any = None) -> Any:
        """Read values against the set value (N-D: the inner axis, one line per outer point).

        ``y`` picks read devices (one or a list; default: every scalar one). Returns the Axes.
        """
        plt = require("matplotlib.pyplot", "plot", "ScanResult.plot()")
        if ax is None:
            _, ax = plt.subplots()
        wanted = (
            self.read_devices
            if y is None
            else [resolve(d) for d in (y if isinstance(y, list | tuple) else [y])]
        )
        writes = self.write_devices
        for drf in wanted:
            lines: dict[tuple[Any, ...], tuple[list[float], list[float]]] = {}
            for point, step in zip(self.set_values, self.readings, strict=False):
                reading = step.get(drf)
                coords = point if len(writes) > 1 else (point,)
                value = _scalar(reading)
                if value is None:
                    continue
                xs, ys = lines.setdefault(tuple(coords[:-1]), ([], []))
                xs.append(to_float(coords[-1]))
                ys.append(value)
            for outer, (xs, ys) in lines.items():
                units = next(
                    (r[drf].units for r in self.readings if drf in r and r[drf].units), None
                )
                label = f"{drf} [{units}]" if units else drf
                if outer:
                    label += " @ " + ", ".join(
                        f"{d}={v:g}" for d, v in zip(writes, outer, strict=False)
                    )
                ax.plot(xs, ys, marker="o", label=label)
        ax.set_xlabel(f"{writes[-1]} setting")
        ax.legend()
        return ax


def _scalar(reading: Reading | None) -> float | None:
    if reading is None or not reading.ok:
        return None
    try:
        value = to_float(reading.value)
    except TypeError:
        return None
    return None if math.isnan(value) else value


class ScanRestoreError(RuntimeError):
    """The scan ended but a device could not be set back; ``result`` holds the data."""

    def __init__(self, message: str, result: ScanResult) -> None:
        super().__init__(message)
        self.result = result
