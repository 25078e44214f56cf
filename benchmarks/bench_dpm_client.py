"""DPM client benchmark: pacsys-dpm (this tree) against the reference pacsys 0.3.0 client.

Run: ``.venv/bin/python benchmarks/bench_dpm_client.py [--devices 1000] [--rounds 15]
[--stream 20000] [--stream-runs 3] [--no-reference]``.

What is measured, and how it is kept fair:

* One ``DPMServer(FakeBackend)`` in this process serves both clients; each client runs in
  its own subprocess (ours in the workspace venv, the reference in ``.bench-venv-ref``), so
  neither shares a GIL with the server or with the other client.
* ``get_many``: one batch of ``--devices`` scalar devices (``Z:Dnnnnn``, value, units and
  description set) on a warm pooled connection. Both clients are persistent workers that
  alternate, one call each per round, for ``--rounds`` rounds, so load from other processes
  hits both alike. Reported: the best wall time (the least disturbed run), the median, the
  client process's CPU time for the call (all its threads) and the server process's CPU
  time during the call. The server time is in both clients' wall times.
* ``stream (server)``: ``--stream`` readings emitted into the FakeBackend behind
  ``DPMServer`` as fast as it goes, received by one subscription (server and client both in
  the loop). Best of ``--stream-runs``, readings per second.
* ``stream (replay)``: a raw peer replays ``--stream`` pre-encoded Scalar frames as fast as
  the socket allows, so the number is bound by the client's decode and delivery.
* ``replay CPU``: the client process's CPU time per replayed reading (all its threads), the
  least of ``--stream-runs``; unlike readings per second it barely moves when other
  processes load the machine.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from _reference import REF_PYTHON, REF_REQUIREMENT, ensure_reference_venv

OURS_NAME = "pacsys-dpm (ours)"
REF_NAME = f"reference {REF_REQUIREMENT}"

# Both clients run the same snippets; only the backend construction differs.
OURS = (
    "from pacsys_dpm.client import DPMHTTPBackend\n"
    "def make(port): return DPMHTTPBackend('127.0.0.1', port, auth=None, timeout=60)\n"
)
REFERENCE = (
    "import pacsys\n"
    "def make(port): return pacsys.dpm_http(host='127.0.0.1', port=port, timeout=60)\n"
)
# A persistent get_many worker: one JSON line in ("go"), one JSON line out per call.
GET_MANY_WORKER = """
import json, sys, time
port, drfs = json.loads(sys.stdin.readline())
with make(port) as backend:
    for _ in range(3):  # warm up: connection open, caches, code paths
        backend.get_many(drfs)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        cpu, start = time.process_time(), time.perf_counter()
        readings = backend.get_many(drfs)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert len(readings) == len(drfs) and all(r.ok for r in readings)
        assert readings[-1].value == float(len(drfs) - 1), readings[-1]
        print(json.dumps([wall, cpu]), flush=True)
"""
STREAM = """
import json, sys, time
port, drfs, count = json.load(sys.stdin)
with make(port) as backend:
    handle = backend.subscribe(drfs)
    print("ready", flush=True)
    got = 0
    start = None
    for reading, _ in handle.readings(timeout=120):
        if start is None:
            start, cpu = time.perf_counter(), time.process_time()
        got += 1
        if got == count:
            break
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    handle.stop()
print(json.dumps([got, elapsed, cpu]))
"""


class GetManyWorker:
    """A client subprocess that performs one timed ``get_many`` per :meth:`call`."""

    def __init__(self, python: str, prelude: str, port: int, drfs: list[str]) -> None:
        self._proc = subprocess.Popen(
            [python, "-c", prelude + GET_MANY_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._send(json.dumps([port, drfs]))
        if self._line() != "ready":
            self._fail()

    def _send(self, line: str) -> None:
        stdin: IO[str] | None = self._proc.stdin
        assert stdin is not None
        stdin.write(line + "\n")
        stdin.flush()

    def _line(self) -> str:
        assert self._proc.stdout is not None
        return self._proc.stdout.readline().strip()

    def _fail(self) -> None:
        self._proc.kill()
        assert self._proc.stderr is not None
        raise RuntimeError(f"get_many client failed:\n{self._proc.stderr.read()[-2000:]}")

    def call(self) -> tuple[float, float, float]:
        """(wall s, client CPU s, server-process CPU s) of one get_many."""
        server_cpu = time.process_time()
        self._send("go")
        line = self._line()
        server_cpu = time.process_time() - server_cpu
        if not line:
            self._fail()
        wall, cpu = json.loads(line)
        return wall, cpu, server_cpu

    def close(self) -> None:
        self._send("stop")
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        if self._proc.wait(60) != 0:
            self._fail()


def stream_client(python: str, prelude: str, payload: object, emit: object) -> tuple[float, float]:
    """Start a streaming client, call ``emit()`` once subscribed; (readings/s, CPU s/reading)."""
    proc = subprocess.Popen(
        [python, "-c", prelude + STREAM],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(payload))
    proc.stdin.close()
    assert proc.stderr is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError(f"stream client failed:\n{proc.stderr.read()[-2000:]}")
    if callable(emit):
        emit()
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.wait(300) != 0:
        raise RuntimeError(f"stream client failed:\n{err.strip()[-2000:]}")
    got, elapsed, cpu = json.loads(out.strip().splitlines()[-1])
    return float(got / elapsed), float(cpu / got)


class ReplayPeer:
    """A raw DPM peer: after StartList it sends ``frames`` at full speed, then heartbeats."""

    def __init__(self, payload: bytes) -> None:
        from pacsys_dpm.codec import ListStatusReply, OpenListReply, encode_message, frame

        self._open = frame(encode_message(OpenListReply(4096)))
        self._heartbeat = frame(encode_message(ListStatusReply(4096, 0)))
        self._payload = payload
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="replay-peer", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._one, args=(sock,), name="replay-conn", daemon=True
            ).start()

    def _one(self, sock: socket.socket) -> None:
        from pacsys_dpm.codec import FrameDecoder, HeadReader, StartListRequest, decode_request

        with sock:
            try:
                reader, decoder = HeadReader(), FrameDecoder()
                while reader.feed(sock.recv(65536)) is None:
                    pass
                decoder.feed(reader.remainder)
                sock.sendall(self._open)
                started = False
                while not started:
                    for body in decoder:
                        started = started or isinstance(decode_request(body), StartListRequest)
                    if not started:
                        data = sock.recv(65536)
                        if not data:
                            return
                        decoder.feed(data)
                sock.sendall(self._payload)
                sock.settimeout(1.0)
                while True:  # heartbeats until the client hangs up
                    try:
                        if not sock.recv(65536):
                            return
                    except TimeoutError:
                        sock.sendall(self._heartbeat)
            except OSError:
                return

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)


def measure_get_many(
    clients: list[tuple[str, str, str]], port: int, drfs: list[str], rounds: int
) -> dict[str, list[tuple[float, float, float]]]:
    """Alternate one get_many per client per round; every (wall, client CPU, server CPU)."""
    workers = {
        name: GetManyWorker(python, prelude, port, drfs) for name, python, prelude in clients
    }
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in workers}
    try:
        for round_index in range(rounds):
            order = list(workers.items())
            if round_index % 2:
                order.reverse()  # neither client always runs right after the other
            for name, worker in order:
                samples[name].append(worker.call())
    finally:
        for worker in workers.values():
            worker.close()
    return samples


def summarize(samples: list[tuple[float, float, float]]) -> dict[str, float]:
    walls = [s[0] for s in samples]
    return {
        "best": min(walls),
        "median": statistics.median(walls),
        "client_cpu": min(s[1] for s in samples),
        "server_cpu": min(s[2] for s in samples),
    }


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--devices", type=int, default=1000)
    options.add_argument("--rounds", type=int, default=15)
    options.add_argument("--stream", type=int, default=20000)
    options.add_argument("--stream-runs", type=int, default=3)
    options.add_argument("--no-reference", action="store_true")
    args = options.parse_args(argv)

    from pacsys.testing import FakeBackend
    from pacsys.types import DispatchMode
    from pacsys_dpm.codec import ScalarReply, encode_message, frame
    from pacsys_dpm.server import DPMServer

    clients = [(OURS_NAME, sys.executable, OURS)]
    if not args.no_reference and ensure_reference_venv("pacsys.backends.dpm_http"):
        clients.append((REF_NAME, str(REF_PYTHON), REFERENCE))

    fake = FakeBackend(dispatch_mode=DispatchMode.DIRECT)
    drfs = [f"Z:D{i:05d}" for i in range(args.devices)]
    for i, drf in enumerate(drfs):
        fake.set_reading(drf, float(i), units="mm", description=f"bench device {i}")
    stream_drf = "Z:STREAM@p,1000"
    replay = ReplayPeer(
        b"".join(
            frame(encode_message(ScalarReply(1, 1704067200000 + i, i, 0, float(i))))
            for i in range(args.stream)
        )
    )
    results: dict[str, dict[str, float]] = {}
    with DPMServer(fake, port=0) as server:

        def emit() -> None:
            if not fake.wait_for_subscription(stream_drf, timeout=30):
                raise RuntimeError("the stream client never subscribed")
            for i in range(args.stream):
                fake.emit_reading(stream_drf, float(i))

        samples = measure_get_many(clients, server.port, drfs, args.rounds)
        for name, python, prelude in clients:
            row = results.setdefault(name, summarize(samples[name]))
            row["stream_server"] = max(
                stream_client(python, prelude, [server.port, [stream_drf], args.stream], emit)[0]
                for _ in range(args.stream_runs)
            )
            replays = [
                stream_client(
                    python, prelude, [replay.port, ["Z:REPLAY@p,1000"], args.stream], None
                )
                for _ in range(args.stream_runs)
            ]
            row["stream_replay"] = max(rate for rate, _ in replays)
            row["replay_cpu"] = min(cpu for _, cpu in replays)
    replay.close()
    fake.close()
    report(results, args)


def report(results: dict[str, dict[str, float]], args: Any) -> None:
    print(
        f"get_many of {args.devices} devices: {args.rounds} alternating rounds, one warm "
        f"DPMServer(FakeBackend); streams of {args.stream} readings, best of "
        f"{args.stream_runs}; clients in subprocesses"
    )
    print(
        f"{'client':<26}{'best ms':>9}{'median ms':>11}{'client CPU':>12}{'server CPU':>12}"
        f"{'stream srv/s':>14}{'replay/s':>11}{'replay CPU':>12}"
    )
    for name, row in results.items():
        print(
            f"{name:<26}{row['best'] * 1e3:>9.1f}{row['median'] * 1e3:>11.1f}"
            f"{row['client_cpu'] * 1e3:>10.1f}ms{row['server_cpu'] * 1e3:>10.1f}ms"
            f"{row['stream_server']:>14,.0f}{row['stream_replay']:>11,.0f}"
            f"{row['replay_cpu'] * 1e6:>8.1f}µs/r"
        )
    reference, ours = results.get(REF_NAME), results[OURS_NAME]
    if reference is None:
        return
    cpu_ours = ours["client_cpu"] + ours["server_cpu"]
    cpu_ref = reference["client_cpu"] + reference["server_cpu"]
    print(
        f"{'ratio (reference / ours)':<26}{reference['best'] / ours['best']:>8.2f}x"
        f"{reference['median'] / ours['median']:>10.2f}x"
        f"{reference['client_cpu'] / ours['client_cpu']:>11.2f}x{'':>12}"
        f"{ours['stream_server'] / reference['stream_server']:>13.2f}x"
        f"{ours['stream_replay'] / reference['stream_replay']:>10.2f}x"
        f"{reference['replay_cpu'] / ours['replay_cpu']:>11.2f}x"
    )
    stream_ratio = ours["stream_server"] / reference["stream_server"]
    print(
        f"get_many time ratio (goal >= 3): {reference['best'] / ours['best']:.2f}x wall (best), "
        f"{cpu_ref / cpu_ours:.2f}x CPU (client + server); "
        f"stream readings/s ratio (goal >= 3): {stream_ratio:.2f}x; replay CPU per reading "
        f"ratio: {reference['replay_cpu'] / ours['replay_cpu']:.2f}x"
    )
    print("(ratios > 1 mean ours is faster)")


if __name__ == "__main__":
    main()
