"""A DataLogger in a process of its own, for tests that kill it or fill its disk.

``python logger_child.py stream csv|parquet PATH``: logs M:OUTTMP@p,100 from a simulator on
a ManualClock (50 readings at a time, as fast as the flushes go), flushing every 20 ms, and
prints the running total of readings the writer has accepted after each flush, until killed.

``python logger_child.py full PATH``: logs to CSV, then caps the file size (RLIMIT_FSIZE, the
kernel's "file too large") to play a full disk, and prints one JSON line of what it saw.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading

from pacsys import DispatchMode
from pacsys.exp import CsvWriter, DataLogger, DataLoggerError, ParquetWriter
from pacsys.sim import ManualClock, SimBackend
from pacsys.types import Reading

DRF = "M:OUTTMP@p,100"


class Reporting:
    """Passes batches on, then prints how many readings were written so far."""

    def __init__(self, inner: CsvWriter | ParquetWriter) -> None:
        self.inner = inner
        self.total = 0
        self.flushed = threading.Event()

    def write_readings(self, readings: list[Reading]) -> None:
        self.inner.write_readings(readings)
        self.total += len(readings)
        print(self.total, flush=True)
        self.flushed.set()

    def close(self) -> None:
        self.inner.close()


def stream(kind: str, path: str) -> None:
    clock = ManualClock()
    sim = SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT)
    writer = CsvWriter(path) if kind == "csv" else ParquetWriter(path)
    reporting = Reporting(writer)
    logger = DataLogger([DRF], reporting, flush_interval=0.02, backend=sim)
    logger.start()
    while True:  # until SIGKILL: 50 readings, then let the flush worker catch up
        for _ in range(50):
            clock.advance(0.1)
        reporting.flushed.wait(5)
        reporting.flushed.clear()


def full(path: str) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG
    clock = ManualClock()
    sim = SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT)
    errors: list[str] = []
    logger = DataLogger(
        [DRF],
        CsvWriter(path),
        flush_interval=3600,
        backend=sim,
        on_error=lambda e: errors.append(str(e)),
    )
    logger.start()
    clock.advance(1.0)
    report: dict[str, object] = {"first": logger.flush()}
    size = os.path.getsize(path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard))
    clock.advance(1.0)
    try:
        logger.flush()
    except DataLoggerError as exc:
        report["flush_error"] = str(exc)
        report["errno"] = exc.__cause__.errno if isinstance(exc.__cause__, OSError) else None
    report["size_unchanged"] = os.path.getsize(path) == size
    report["pending"] = logger.pending
    report["running"] = logger.running
    try:
        logger.check()
    except DataLoggerError as exc:
        report["check_error"] = str(exc)
    report["on_error"] = errors[:1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space again
    report["second"] = logger.flush()
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard))
    clock.advance(0.5)
    try:
        logger.stop()
    except DataLoggerError as exc:
        report["stop_error"] = str(exc)
        report["unwritten"] = [r.timestamp.isoformat() for r in exc.unwritten]
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "stream":
        stream(sys.argv[2], sys.argv[3])
    else:
        full(sys.argv[2])
