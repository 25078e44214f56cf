"""Soak DPMServer and SupervisedServer (the simulator behind each) with many clients.

    python benchmarks/soak.py [--seconds 60] [--subscriptions 100] [--reads-per-second 1000]

For each server in turn: ``pacsys serve`` runs in a subprocess; this process opens
``--subscriptions`` subscriptions (one device at 10 Hz each) and reads ``--reads-per-second``
devices per second in batches of 10 from 4 threads, for ``--seconds``.  It prints readings
delivered against expected (goal: none lost), read and delivery latency percentiles, and the
server's RSS after warm-up and at the end (goal: flat).  Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RATE_HZ = 10  # each subscription: @p,100
BATCH = 10
READERS = 4


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


def _start_server(option: str, port: int) -> subprocess.Popen[str]:
    """``pacsys serve`` with one adapter, returning once it serves."""
    plugin = option.split("-")[2]
    env = {**os.environ, "PACSYS_PLUGINS": plugin}
    process = subprocess.Popen(
        [sys.executable, "-m", "pacsys.cli", "serve", option, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Serving"):
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep draining
            return process
    raise RuntimeError(f"pacsys serve {option} {port} did not start")


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"p50 {cuts[49]:.1f}  p99 {cuts[98]:.1f}  max {max(values):.1f} ms"


def soak(name: str, make_backend: Callable[[], Any], pid: int, args: argparse.Namespace) -> None:
    devices = [f"S:SIM{index:05d}" for index in range(args.subscriptions)]
    counts = [0] * len(devices)
    delivery_ms: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def on_reading(index: int) -> Callable[[Any, Any], None]:
        def record(reading: Any, _handle: Any) -> None:
            now = datetime.now(timezone.utc)
            with lock:
                counts[index] += 1
                if reading.timestamp is not None:
                    delivery_ms.append((now - reading.timestamp).total_seconds() * 1000)

        return record

    streamer = make_backend()
    handles = [
        streamer.subscribe(
            [f"{device}@p,{1000 // RATE_HZ}"],
            callback=on_reading(index),
            on_error=lambda exc, _h: errors.append(exc),
        )
        for index, device in enumerate(devices)
    ]
    time.sleep(2.0)  # warm-up: every stream running before counting starts
    with lock:
        start_counts = list(counts)
        delivery_ms.clear()
    rss_start = _rss_mib(pid)
    stop = threading.Event()
    read_ms: list[float] = []
    read_failures = [0]
    interval = READERS * BATCH / args.reads_per_second

    def reader(offset: int) -> None:
        backend = make_backend()
        batch = [f"S:SIM{(offset * BATCH + k) % 10000:05d}" for k in range(BATCH)]
        next_at = time.monotonic()
        while not stop.is_set():
            began = time.monotonic()
            try:
                readings = backend.get_many(batch, timeout=5)
                ok = all(r.ok for r in readings)
            except Exception:
                ok = False
            elapsed = (time.monotonic() - began) * 1000
            with lock:
                read_ms.append(elapsed)
                read_failures[0] += not ok
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))
        backend.close()

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(READERS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - began
    with lock:
        delivered = sum(c - s for c, s in zip(counts, start_counts, strict=True))
        latencies = list(delivery_ms)
        reads = list(read_ms)
    rss_end = _rss_mib(pid)
    for handle in handles:
        handle.stop()
    streamer.close()
    expected = len(devices) * RATE_HZ * duration
    print(
        f"\n{name}: {args.subscriptions} subscriptions at {RATE_HZ} Hz, "
        f"{len(reads) * BATCH / duration:.0f} device reads/s for {duration:.1f} s"
    )
    print(
        f"  readings delivered {delivered} of ~{expected:.0f} expected "
        f"({100 * delivered / expected:.2f} %), stream errors {len(errors)}"
    )
    print(f"  delivery latency   {_percentiles(latencies)}")
    print(
        f"  read latency       {_percentiles(reads)} ({len(reads)} calls, "
        f"{read_failures[0]} failed)"
    )
    print(f"  server RSS         {rss_start:.1f} MiB after warm-up -> {rss_end:.1f} MiB at end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--reads-per-second", type=float, default=1000.0)
    parser.add_argument("--only", choices=["dpm", "grpc"], default=None)
    args = parser.parse_args()

    if args.only in (None, "dpm"):
        from pacsys_dpm.client import DPMHTTPBackend

        port = _free_port()
        server = _start_server("--dpm-port", port)
        try:
            soak("DPMServer", lambda: DPMHTTPBackend("127.0.0.1", port), server.pid, args)
        finally:
            server.terminate()
            server.wait(10)
    if args.only in (None, "grpc"):
        from pacsys_grpc.backend import GRPCBackend

        port = _free_port()
        server = _start_server("--grpc-port", port)
        try:
            soak("SupervisedServer", lambda: GRPCBackend("127.0.0.1", port), server.pid, args)
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
