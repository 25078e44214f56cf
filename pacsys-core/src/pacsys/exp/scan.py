"""``scan``: step settings through values, read after each step, and always put them back.

The restore runs on every way out of the loop: normal end, ``abort_if``, a failed write,
any exception and Ctrl-C (KeyboardInterrupt). A device is counted as changed *before* its
write is sent, so an interrupt during the write still restores it. When an exception ends
the scan, the data collected so far travels with it as ``exc.scan_result``.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from pacsys.backends import Backend
from pacsys.device import Device
from pacsys.drf3 import DRF_PROPERTY, parse_request
from pacsys.exp._common import Timebase, backend_or_global, resolve, resolve_all, to_float
from pacsys.exp.progress import Progress
from pacsys.exp.scan_result import ScanRestoreError, ScanResult
from pacsys.types import DeviceSpec, Reading, WriteResult
from pacsys.verify import Verify

__all__ = ["ScanRestoreError", "ScanResult", "scan"]

log = logging.getLogger("pacsys.exp.scan")

Point = tuple[Any, ...]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _axes(
    k: int,
    values: Any,
    start: Any,
    stop: Any,
    steps: Any,
) -> list[list[Any]]:
    """One list of values per write device, validated as the reference does."""
    ranged = (start, stop, steps)
    if values is not None and any(x is not None for x in ranged):
        raise ValueError("Provide either 'values' or 'start/stop/steps', not both")
    if values is None and all(x is None for x in ranged):
        raise ValueError("Provide either 'values' or 'start/stop/steps'")
    if values is not None:
        axes = [list(values)] if k == 0 else [list(v) for v in _per_axis(values, k, "values")]
        if any(not axis for axis in axes):
            raise ValueError("values cannot be empty")
        return [[_plain(v) for v in axis] for axis in axes]
    if any(x is None for x in ranged):
        raise ValueError("All of start, stop, steps must be provided for linear range")
    if k == 0:
        start, stop, steps = [start], [stop], [steps]
    else:
        start, stop, steps = (
            _per_axis(x, k, n) for x, n in zip(ranged, ("start", "stop", "steps"), strict=False)
        )
    axes = []
    for a, b, n in zip(start, stop, steps, strict=True):
        if n < 2:
            raise ValueError("steps must be >= 2")
        axes.append([a + i * (b - a) / (n - 1) for i in range(n)])
    return axes


def _per_axis(x: Any, k: int, name: str) -> list[Any]:
    items = list(x) if isinstance(x, Iterable) and not isinstance(x, str) else None
    if items is None or len(items) != k:
        raise ValueError(f"{name} needs one entry per write device ({k})")
    return items


def _check_writable(drf: str) -> None:
    request = parse_request(drf)
    if request.is_acnet and request.property not in (DRF_PROPERTY.READING, DRF_PROPERTY.SETTING):
        raise ValueError("scan requires an ACNET READING/SETTING device or an EPICS PV")


def _average(drf: str, readings: list[Reading]) -> Reading:
    """The last usable reading, its value replaced by the mean of all usable ones."""
    ok = [r for r in readings if r.ok]
    if not ok:
        return readings[-1]
    values = [r.value for r in ok]
    if any(isinstance(v, np.ndarray | list | tuple) for v in values):
        try:
            arrays = [np.asarray(v, dtype=np.float64) for v in values]
        except (TypeError, ValueError):
            raise TypeError(f"Cannot average non-numeric array readings for {drf}") from None
        try:
            mean: Any = np.mean(np.stack(arrays), axis=0)
        except ValueError as exc:
            raise ValueError(f"Cannot average array readings for {drf}: {exc}") from None
    else:
        try:
            mean = float(np.mean([to_float(v) for v in values]))
        except TypeError as exc:
            raise TypeError(f"Cannot average non-numeric readings for {drf}: {exc}") from None
    return dataclasses.replace(ok[-1], value=mean)


class _Run:
    """The mutable state of one scan: what was written, read, and must be restored."""

    def __init__(self, writes: list[str], reads: list[str], backend: Backend, timeout: Any):
        self.writes = writes
        self.reads = reads
        self.backend = backend
        self.timeout = timeout
        self.devices = {drf: Device(drf, backend=backend) for drf in writes}
        self.originals: dict[str, Any] = {}
        self.changed: list[str] = []
        self.set_values: list[Any] = []
        self.readings: list[dict[str, Reading]] = []
        self.write_results: list[WriteResult] = []
        self.restore_results: dict[str, WriteResult] = {}
        self.aborted = False
        self.restore_failure: BaseException | None = None
        self.pending_interrupt: BaseException | None = None

    def read_step(self, per_step: int) -> dict[str, Reading]:
        if per_step == 1:
            got = self.backend.get_many(self.reads, timeout=self.timeout)
            return dict(zip(self.reads, got, strict=True))
        batches = [self.backend.get_many(self.reads, timeout=self.timeout) for _ in range(per_step)]
        return {
            drf: _average(drf, [batch[i] for batch in batches]) for i, drf in enumerate(self.reads)
        }

    def restore(self, verify: Any) -> list[tuple[str, str]]:
        """Write every changed device back; returns ``(drf, why)`` for each that failed.

        A KeyboardInterrupt during a restore write (a second Ctrl-C) retries that write
        once and is raised again after every device had its turn.
        """
        failures: list[tuple[str, str]] = []
        interrupt: BaseException | None = None
        for drf in reversed(self.changed):
            original = self.originals[drf]
            for _attempt in range(2):
                try:
                    result = self.devices[drf].write(original, verify=verify, timeout=self.timeout)
                except KeyboardInterrupt as exc:
                    interrupt = exc
                    why = "interrupted"
                    continue
                except Exception as exc:
                    why = f"{type(exc).__name__}: {exc}"
                    self.restore_failure = exc
                    break
                self.restore_results[drf] = result
                why = "" if result.confirmed else (result.message or "not confirmed")
                break
            if why:
                failures.append((drf, why))
        if interrupt is not None:
            self.pending_interrupt = interrupt
        return failures

    def result(self, write_device: Any, restored: bool, error: str | None) -> ScanResult:
        return ScanResult(
            write_device=write_device,
            read_devices=list(self.reads),
            set_values=list(self.set_values),
            readings=list(self.readings),
            write_results=list(self.write_results),
            aborted=self.aborted,
            restored=restored,
            restore_results=dict(self.restore_results),
            error=error,
        )


def scan(
    write_device: DeviceSpec | Sequence[DeviceSpec],
    read_devices: Sequence[DeviceSpec],
    *,
    values: Iterable[Any] | None = None,
    start: Any = None,
    stop: Any = None,
    steps: Any = None,
    settle: float = 0.5,
    readings_per_step: int = 1,
    verify: bool | Verify | None = None,
    restore: bool = True,
    abort_if: Callable[[dict[str, Reading]], bool] | None = None,
    timeout: float | None = None,
    backend: Backend | None = None,
    progress: bool | None = None,
) -> ScanResult:
    """Step ``write_device``'s setting through values, reading ``read_devices`` at each step.

    ``values`` (or ``start``/``stop``/``steps``, both ends included) gives the points. A
    list of write devices makes an N-D grid scan: ``values`` (or each of start/stop/steps)
    then has one entry per device, the first device is the outer loop, and a device is only
    written when its value changes. After each write the scan waits ``settle`` seconds,
    reads (averaging ``readings_per_step`` reads), then asks ``abort_if(step_readings)``.
    With ``restore`` every device written is set back to its starting value, whatever ends
    the scan; ``ScanRestoreError`` (carrying the result) if that fails after a normal end.
    ``progress``: None shows a bar on a terminal or in a notebook, True/False force it.
    """
    if readings_per_step < 1:
        raise ValueError("readings_per_step must be >= 1")
    multi = not isinstance(write_device, str | Device)
    writes = resolve_all(write_device, unique=True) if multi else [resolve(write_device)]  # type: ignore[arg-type]
    axes = _axes(len(writes) if multi else 0, values, start, stop, steps)
    for drf in writes:
        _check_writable(drf)
    reads = resolve_all(read_devices, unique=True)
    be = backend_or_global(backend)
    run = _Run(writes, reads, be, timeout)
    if restore:
        for drf in writes:  # a failure here raises before anything is written
            run.originals[drf] = run.devices[drf].setting(timeout=timeout)
    points: list[Point] = list(itertools.product(*axes))
    label = ", ".join(writes)
    bar = Progress(len(points), f"scan {label}", progress)
    timebase = Timebase.of(be)
    shown = writes[0] if not multi else tuple(writes)
    failures: list[tuple[str, str]] = []
    try:
        try:
            _loop(run, points, multi, settle, readings_per_step, verify, abort_if, timebase, bar)
        finally:
            # Runs on every way out, Ctrl-C included; restore() itself survives a second one.
            failures = run.restore(verify) if restore else []
    except BaseException as exc:
        bar.close(len(run.readings), f"stopped by {type(exc).__name__}")
        for drf, why in failures:
            log.error("Scan failed to restore %s to %s: %s", drf, run.originals[drf], why)
        restored = restore and not failures
        exc.scan_result = run.result(shown, restored, repr(exc))  # type: ignore[attr-defined]
        if sys.version_info >= (3, 11):
            note = "restored" if restored else ("NOT restored" if restore else "not restored")
            exc.add_note(f"scan of {label}: settings {note}; data so far in exc.scan_result")
        raise
    bar.close(len(run.readings), "aborted" if run.aborted else "done")
    result = run.result(shown, restore and not failures, None)
    if run.pending_interrupt is not None:
        run.pending_interrupt.scan_result = result  # type: ignore[attr-defined]
        raise run.pending_interrupt
    if failures:
        drf, why = failures[0]
        message = f"Scan completed but failed to restore {drf} to {run.originals[drf]}: {why}"
        raise ScanRestoreError(message, result) from run.restore_failure
    return result


def _loop(
    run: _Run,
    points: list[Point],
    multi: bool,
    settle: float,
    per_step: int,
    verify: Any,
    abort_if: Callable[[dict[str, Reading]], bool] | None,
    timebase: Timebase,
    bar: Progress,
) -> None:
    previous: Point | None = None
    for point in points:
        run.set_values.append(point if multi else point[0])
        for i, (drf, value) in enumerate(zip(run.writes, point, strict=True)):
            if previous is not None and previous[i] == value:
                continue
            if drf not in run.changed:
                run.changed.append(drf)
            result = run.devices[drf].write(value, verify=verify, timeout=run.timeout)
            run.write_results.append(result)
            if not result.confirmed:
                what = "Write failed" if not result.ok else "Write verification failed"
                log.warning("%s at value %s for %s: %s", what, value, drf, result.message)
                run.aborted = True
                return
        previous = point
        timebase.sleep(settle)
        step = run.read_step(per_step)
        run.readings.append(step)
        bar.update(len(run.readings), _note(run.writes, point))
        if abort_if is not None and abort_if(step):
            run.aborted = True
            return


def _note(writes: list[str], point: Point) -> str:
    return " ".join(
        f"{d}={v:g}" if isinstance(v, float) else f"{d}={v}"
        for d, v in zip(writes, point, strict=False)
    )
