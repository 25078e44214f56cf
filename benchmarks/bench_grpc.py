"""gRPC DAQ benchmark: this project vs the reference pacsys 0.3.0, each in its own process.

Run: ``.venv/bin/python benchmarks/bench_grpc.py [--stream-seconds 5]``.  Each side runs
its own SupervisedServer(FakeBackend) on loopback and its own ``pacsys.grpc()`` client,
in a subprocess of its own interpreter (``.venv`` for this project,
``.bench-venv-ref`` for the reference; create it with
``python3 -m venv .bench-venv-ref && .bench-venv-ref/bin/pip install pacsys==0.3.0``).
Measures 1000 sequential ``read``, 100 ``get_many`` of 10 DRFs, and a 1 kHz stream fed
by ``emit_reading`` (received count and emit-to-callback latency).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTERPRETERS = {
    "pacsys (this)": ROOT / ".venv" / "bin" / "python",
    "pacsys 0.3.0": ROOT / ".bench-venv-ref" / "bin" / "python",
}


def worker(stream_seconds: float) -> dict[str, float]:
    """The measurement; imports only ``pacsys`` so it runs under either implementation."""
    import threading
    from datetime import datetime, timezone

    import pacsys
    from pacsys.supervised import SupervisedServer
    from pacsys.testing import FakeBackend

    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5)
    drfs = [f"Z:DEV{k:03d}" for k in range(10)]
    for drf in drfs:
        fake.set_reading(drf, 1.0)
    results: dict[str, float] = {}
    server = SupervisedServer(fake, port=0, host="127.0.0.1")
    server.start()
    try:
        with pacsys.grpc(host="127.0.0.1", port=server.port) as client:
            for _ in range(20):  # warm up the channel
                client.read("M:OUTTMP")
            start = time.perf_counter()
            for _ in range(1000):
                client.read("M:OUTTMP")
            results["read_1000_s"] = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(100):
                client.get_many(drfs)
            results["get_many_100x10_s"] = time.perf_counter() - start

            latencies: list[float] = []
            done = threading.Event()

            def on_reading(reading: object, handle: object) -> None:
                stamp = reading.timestamp  # type: ignore[attr-defined]
                latencies.append((datetime.now(timezone.utc) - stamp).total_seconds())

            handle = client.subscribe(["M:OUTTMP@p,1"], callback=on_reading)
            if not fake.wait_for_subscription("M:OUTTMP@p,1", timeout=10):
                raise RuntimeError("stream never reached the backend")
            count = int(stream_seconds * 1000)
            begin = time.perf_counter()
            for k in range(count):
                target = begin + k / 1000.0
                while time.perf_counter() < target:
                    done.wait(max(0.0, target - time.perf_counter()))
                fake.emit_reading("M:OUTTMP@p,1", float(k))
            deadline = time.monotonic() + 5
            while len(latencies) < count and time.monotonic() < deadline:
                done.wait(0.05)
            handle.stop()
    finally:
        server.stop()
    fake.close()
    ordered = sorted(latencies) or [float("nan")]
    results["stream_emitted"] = count
    results["stream_received"] = len(latencies)
    results["stream_p50_ms"] = ordered[len(ordered) // 2] * 1000
    results["stream_p99_ms"] = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return results


ROWS = [
    ("1000 x read()", "read_1000_s", "s", True),
    ("100 x get_many(10)", "get_many_100x10_s", "s", True),
    ("stream emitted", "stream_emitted", "", False),
    ("stream received", "stream_received", "", False),
    ("stream latency p50", "stream_p50_ms", "ms", True),
    ("stream latency p99", "stream_p99_ms", "ms", True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream-seconds", type=float, default=5.0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.stream_seconds)))
        return
    measured: dict[str, dict[str, float]] = {}
    for label, python in INTERPRETERS.items():
        if not python.exists():
            print(f"skipping {label}: {python} not found", file=sys.stderr)
            continue
        command = [str(python), __file__, "--worker", "--stream-seconds", str(args.stream_seconds)]
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=300, cwd="/", check=False
        )
        if output.returncode != 0:
            print(f"{label} failed:\n{output.stderr}", file=sys.stderr)
            continue
        measured[label] = json.loads(output.stdout.strip().splitlines()[-1])
    labels = list(measured)
    header = "".join(f"{label:>16}" for label in labels)
    print(f"{'metric':<22}{header}   ref/this (>1: this is faster)")
    for title, key, unit, lower_is_better in ROWS:
        values = [measured[label][key] for label in labels]
        cells = "".join(f"{v:>13.3f} {unit:<2}" if unit else f"{v:>16.0f}" for v in values)
        ratio = ""
        if len(values) == 2 and values[0] and lower_is_better:
            ratio = f"   {values[1] / values[0]:.2f}"
        print(f"{title:<22}{cells}{ratio}")


if __name__ == "__main__":
    main()
