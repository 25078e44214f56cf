"""End-to-end DMQ benchmark through a real RabbitMQ broker and a real (throw-away) KDC.

Run: ``.venv/bin/python benchmarks/bench_dmq.py [--devices 100] [--rounds 50]``.

Starts a MiniKDC (realm FNAL.GOV), a DMQServer in strict Kerberos mode serving a
FakeBackend with ``--devices`` devices, and a DMQBackend client; all on loopback. Needs
RabbitMQ on 127.0.0.1:5672 (guest/guest); uses a private vhost when ``rabbitmqctl`` is
available. Measures:

* ``get_many`` of one device (4 x ``--rounds`` calls) and of all devices: calls/s,
  readings/s and per-call latency p50/p99;
* a subscription to all devices: ``--rounds`` bursts of one reading per device emitted
  by the backend, flat out (throughput) and paced at 10 bursts/s (latency); readings/s at
  the client and emit-to-callback latency p50/p99.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pacsys.testing import FakeBackend


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def vhost() -> Iterator[str]:
    """A private vhost (deleted afterwards), or ``/`` when rabbitmqctl is missing."""
    if shutil.which("rabbitmqctl") is None:
        yield "/"
        return
    name = f"pacsys-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False)


@contextmanager
def kerberos(workdir: Path) -> Iterator[Path]:
    """A KDC with testuser (ticket in KRB5CCNAME) and the DMQ service; yields the keytab."""
    from pacsys.testing.kerberos import MiniKDC

    with MiniKDC(workdir / "kdc") as kdc:
        os.environ.update(kdc.env())
        password = secrets.token_urlsafe(12)
        user = kdc.add_principal("testuser", password)
        ccache = kdc.kinit(user, workdir / "ccache", password=password)
        os.environ["KRB5CCNAME"] = f"FILE:{ccache}"
        service = kdc.add_principal("daeset/bd/dmq.fnal.gov")
        yield kdc.keytab(service)


def bench_get_many(client: object, drfs: list[str], rounds: int) -> None:
    client.get_many(drfs)  # type: ignore[attr-defined]  # warm-up: connection, caches
    latencies = []
    start = time.perf_counter()
    for _ in range(rounds):
        t0 = time.perf_counter()
        readings = client.get_many(drfs)  # type: ignore[attr-defined]
        latencies.append(time.perf_counter() - t0)
        assert all(r.ok for r in readings)
    elapsed = time.perf_counter() - start
    print(
        f"get_many x{len(drfs)}: {rounds / elapsed:8.1f} calls/s  "
        f"{rounds * len(drfs) / elapsed:9.0f} readings/s  "
        f"p50 {percentile(latencies, 0.5) * 1e3:6.2f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1e3:6.2f} ms"
    )


def bench_stream(
    client: object, fake: FakeBackend, drfs: list[str], rounds: int, rate: float | None
) -> None:
    """``rounds`` bursts of one reading per device; paced at ``rate`` bursts/s, or flat out."""
    expected = rounds * len(drfs)
    latencies: list[float] = []
    done = threading.Event()

    def on_reading(reading: object, handle: object) -> None:
        latencies.append(time.time() - reading.value)  # type: ignore[attr-defined]
        if len(latencies) >= expected:
            done.set()

    handle = client.subscribe(drfs, callback=on_reading)  # type: ignore[attr-defined]
    for drf in drfs:
        if not fake.wait_for_subscription(drf, timeout=10):
            raise RuntimeError(f"server did not subscribe to {drf}")
    start = time.perf_counter()
    for burst in range(rounds):
        if rate is not None:
            pause = start + burst / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        for drf in drfs:
            fake.emit_reading(drf, time.time())
    finished = done.wait(60)
    elapsed = time.perf_counter() - start
    handle.stop()
    got = len(latencies)
    note = "" if finished else f"  (only {got}/{expected} arrived)"
    mode = "flat out" if rate is None else f"{rate:g} bursts/s"
    print(
        f"stream x{len(drfs)} ({mode}): {got / elapsed:9.0f} readings/s  "
        f"p50 {statistics.median(latencies) * 1e3:7.2f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1e3:7.2f} ms{note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    from pacsys.auth import KerberosAuth
    from pacsys_dmq.client import DMQBackend
    from pacsys_dmq.server import DMQServer

    fake = FakeBackend()
    names = [f"B:DEV{i:03d}" for i in range(args.devices)]
    for name in names:
        fake.set_reading(name, 1.0)
    streams = [f"{name}@p,1000" for name in names]
    with tempfile.TemporaryDirectory() as tmp, kerberos(Path(tmp)) as keytab, vhost() as vh:
        url = f"amqp://guest:guest@127.0.0.1:5672/{vh.replace('/', '%2F')}"
        with (
            DMQServer(fake, url, keytab=keytab),
            DMQBackend("127.0.0.1", 5672, auth=KerberosAuth(), vhost=vh) as client,
        ):
            bench_get_many(client, names[:1], args.rounds * 4)
            bench_get_many(client, names, args.rounds)
            bench_stream(client, fake, streams, args.rounds, None)
            bench_stream(client, fake, streams, args.rounds, 10.0)


if __name__ == "__main__":
    main()
