"""DataLogger throughput against the simulator: how many readings/s reach the disk.

Run: ``.venv/bin/python benchmarks/bench_logger.py [--seconds 5] [--devices 10,100,1000]``.

Three measurements, each for the CSV and the Parquet writer:

* writer: ``write_readings`` alone, batches of 10,000 scalar readings (the ceiling).
* live: the simulator on the wall clock streams N family devices at ``@p,1`` (1 kHz each, the
  simulator's fastest period) through the default WORKER dispatcher into a DataLogger
  flushing every second, for ``--seconds``. Reports readings written per second and whether
  the logger kept up (nothing dropped by the dispatcher or the logger). When the nominal rate
  is beyond what the simulator can sample, it skips occurrences: the written rate is then
  the simulator's own limit on this machine, not the logger's.
* as fast as possible: the same, on a ManualClock advanced in 0.1 s steps with inline
  dispatch, so the simulator produces readings as fast as the CPU allows (source + logger).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from pacsys import DispatchMode
from pacsys.exp import CsvWriter, DataLogger, ParquetWriter
from pacsys.sim import ManualClock, SimBackend
from pacsys.types import Reading, ValueType

WRITERS = {"csv": (CsvWriter, "log.csv"), "parquet": (ParquetWriter, "log.parquet")}


def devices(n: int) -> list[str]:
    return [f"S:SIM{i:05d}@p,1" for i in range(n)]


def bench_writer(kind: str, folder: Path) -> float:
    cls, name = WRITERS[kind]
    ts = datetime.now(timezone.utc)
    batch = [
        Reading(f"S:SIM{i % 100:05d}@p,1", ValueType.SCALAR, value=i * 0.5, timestamp=ts)
        for i in range(10_000)
    ]
    writer = cls(folder / name)
    started = time.perf_counter()
    for _ in range(20):
        writer.write_readings(batch)
    writer.close()
    return 20 * len(batch) / (time.perf_counter() - started)


def bench_live(kind: str, n: int, seconds: float, folder: Path) -> tuple[float, str]:
    cls, name = WRITERS[kind]
    with SimBackend(dispatch_mode=DispatchMode.WORKER) as sim:
        logger = DataLogger(devices(n), cls(folder / name), flush_interval=1.0, backend=sim)
        logger.start()
        time.sleep(seconds)
        handle = logger._handle
        waiting = logger.pending
        dispatch_dropped = handle.dropped if handle is not None else 0
        started = time.perf_counter()
        logger.stop()
        tail = time.perf_counter() - started
    rate = logger.written_count / seconds
    kept_up = dispatch_dropped == 0 and logger.dropped_count == 0
    note = "kept up" if kept_up else f"dropped {dispatch_dropped + logger.dropped_count}"
    return rate, f"{note}; {waiting} waiting at stop, final flush {tail:.2f} s"


def bench_fast(kind: str, n: int, seconds: float, folder: Path) -> float:
    cls, name = WRITERS[kind]
    clock = ManualClock()
    with SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT) as sim:
        logger = DataLogger(devices(n), cls(folder / name), flush_interval=0.5, backend=sim)
        logger.start()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            clock.advance(0.1)
        logger.stop()
        elapsed = time.perf_counter() - started
    return logger.written_count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--devices", default="10,100,1000")
    args = parser.parse_args()
    counts = [int(x) for x in args.devices.split(",")]
    print(f"{'measurement':<34} {'writer':<8} {'readings/s':>12}  notes")
    for kind in WRITERS:
        with tempfile.TemporaryDirectory() as tmp:
            rate = bench_writer(kind, Path(tmp))
        print(f"{'writer alone (10k batches)':<34} {kind:<8} {rate:>12,.0f}")
    for n in counts:
        for kind in WRITERS:
            with tempfile.TemporaryDirectory() as tmp:
                rate, note = bench_live(kind, n, args.seconds, Path(tmp))
            label = f"live: {n} devices @p,1 ({n} kHz nominal)"
            print(f"{label:<34} {kind:<8} {rate:>12,.0f}  {note}")
    for n in counts:
        for kind in WRITERS:
            with tempfile.TemporaryDirectory() as tmp:
                rate = bench_fast(kind, n, args.seconds, Path(tmp))
            label = f"max: {n} x @p,1, ManualClock"
            print(f"{label:<34} {kind:<8} {rate:>12,.0f}  source + logger, one thread")


if __name__ == "__main__":
    main()
