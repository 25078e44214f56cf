"""Simulator scale benchmark: many subscriptions on the 15 Hz clock event, on one core.

Run: ``.venv/bin/python benchmarks/bench_sim.py [--seconds 10] [--subs 100] [--per-sub 1,10,100]``.

The shipped catalogue holds 10,000 devices (the ``S:SIM00000``.. family plus the named ones).
For each ``--per-sub`` value N it opens ``--subs`` concurrent subscriptions, each to N
distinct family devices at ``@e,0F`` (15 Hz), so ``subs * N`` devices are sampled per event
(100 x 100 = all 10,000). Event lag = wall time when the reading reaches the consumer minus
the event's scheduled time (the reading's timestamp). Readings go through the default WORKER
dispatcher (callbacks on one ``pacsys-dispatch`` thread), as the simple API does.
The process is pinned to one CPU. Goal: p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

from pacsys.sim import SimBackend
from pacsys.types import DispatchMode


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def run_once(subs: int, per_sub: int, seconds: float, mode: DispatchMode) -> dict[str, float]:
    lags: list[float] = []
    lock = threading.Lock()

    def on_reading(reading, handle) -> None:  # type: ignore[no-untyped-def]
        lag = time.time() - reading.timestamp.timestamp()
        with lock:
            lags.append(lag)

    with SimBackend(dispatch_mode=mode) as sim:
        assert len(sim.catalogue) >= 10_000
        handles = []
        for s in range(subs):
            drfs = [f"S:SIM{(s * per_sub + i) % 10_000:05d}@e,0F" for i in range(per_sub)]
            handles.append(sim.subscribe(drfs, callback=on_reading))
        warmup = 1.0
        time.sleep(warmup)  # a benchmark, not a test: let the first events settle
        with lock:
            lags.clear()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        with lock:
            sample = np.array(lags) * 1000.0
        dropped = sum(h.dropped for h in handles)
        for handle in handles:
            handle.stop()
    expected = subs * per_sub * 15 * seconds
    return {
        "readings": float(sample.size),
        "expected": expected,
        "p50": float(np.percentile(sample, 50)) if sample.size else float("nan"),
        "p99": float(np.percentile(sample, 99)) if sample.size else float("nan"),
        "max": float(sample.max()) if sample.size else float("nan"),
        "cpu": cpu / wall,
        "dropped": float(dropped),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--subs", type=int, default=100)
    parser.add_argument("--per-sub", default="1,10,100", help="devices per subscription list")
    parser.add_argument("--mode", choices=["worker", "direct"], default="worker")
    args = parser.parse_args()
    print(f"SimBackend scale benchmark ({pin_to_one_core()}, dispatch={args.mode})")
    header = (
        f"{'subs':>5} {'dev/sub':>8} {'devices':>8} {'readings/s':>11} {'delivered':>10} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cpu':>6} {'dropped':>8}"
    )
    print(header)
    print("-" * len(header))
    for per_sub in (int(x) for x in args.per_sub.split(",")):
        r = run_once(args.subs, per_sub, args.seconds, DispatchMode(args.mode))
        print(
            f"{args.subs:>5} {per_sub:>8} {args.subs * per_sub:>8} "
            f"{r['expected'] / args.seconds:>11.0f} {r['readings'] / r['expected']:>9.1%} "
            f"{r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.2f} {r['cpu']:>6.0%} "
            f"{r['dropped']:>8.0f}",
            flush=True,
        )
    print("goal: p99 < 20 ms")


if __name__ == "__main__":
    main()
