"""gRPC DAQ benchmark: our client vs the reference pacsys 0.3.0 client vs bare grpcio.

Run: ``.venv/bin/python benchmarks/bench_grpc.py [--reads 1000] [--repeat 5] [--stream 20000]
[--runs 3] [--no-reference]``.

The servers run in this process; every client runs in a subprocess of its own (ours and
the bare-grpcio floor in ``.venv``, the reference in ``.bench-venv-ref``, created on first
use with ``pip install pacsys==0.3.0``), so no client shares a GIL with a server.  All
clients talk to the **same** servers:

* ``SupervisedServer(FakeBackend)``: ``--reads`` sequential ``read("M:OUTTMP")`` and
  100 ``get_many`` of 10 DRFs, best of ``--repeat`` (wall and client CPU time); and a
  flat-out stream: ``--stream`` readings emitted into the FakeBackend as fast as possible
  and received by one subscription (server and client both in the loop).
* A replay peer: a bare grpcio server that answers ``Read`` with ``--stream`` pre-encoded
  ``ReadingReply`` messages as fast as gRPC allows (1 sample per message, and 50 per
  message), so the number is bound by the client's receive, decode and delivery.
* ``floor``: the same RPCs made with a bare grpcio call (single-threaded unary-stream,
  protobuf decode only, no pacsys), i.e. the per-RPC cost every client pays.
* ``read() vs bare server``: the reads again against a replay peer that answers every
  ``Read`` with one pre-encoded reply (no backend, no policy): the best ratio any server
  could leave between two clients.

The whole set runs ``--runs`` times (clients interleaved); the table shows medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _reference import REF_PYTHON, ensure_reference_venv

READ_DRF = "M:OUTTMP"
MANY_DRFS = [f"Z:DEV{k:03d}" for k in range(10)]
STREAM_DRF = "Z:FLAT@p,1"
REPLAY_DRF = "Z:REPLAY@p,1"

# Every client runs the same bodies; only this prelude differs.
PACSYS_PRELUDE = """
import pacsys
def make(port):
    return pacsys.grpc(host="127.0.0.1", port=port, timeout=10)
"""

FLOOR_PRELUDE = '''
import threading

import grpc
from pacsys_grpc._proto.services import daq_pb2

class Floor:
    """Bare grpcio: one unary-stream Read per call, protobuf decode only."""

    def __init__(self, port):
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("SingleThreadedUnaryStream", 1)]
        )
        self._read = self._channel.unary_stream(
            "/services.daq.DAQ/Read",
            request_serializer=daq_pb2.ReadingList.SerializeToString,
            response_deserializer=daq_pb2.ReadingReply.FromString,
        )

    def _once(self, drfs):
        return [reply for reply in self._read(daq_pb2.ReadingList(drf=drfs), timeout=10)]

    def read(self, drf):
        return self._once([drf + ".READING@I"])[0]

    def get_many(self, drfs):
        return self._once([drf + ".READING@I" for drf in drfs])

    def subscribe(self, drfs, callback):
        call = self._read(daq_pb2.ReadingList(drf=drfs))

        def run():
            try:
                for reply in call:
                    for sample in reply.readings.reading:
                        callback(sample, None)
            except grpc.RpcError:
                pass

        threading.Thread(target=run, name="floor-stream", daemon=True).start()
        return call

    def close(self):
        self._channel.close()

def make(port):
    return Floor(port)
'''

READS = """
import json, statistics, sys, time
port, read_drf, many, reads, repeat = json.load(sys.stdin)
client = make(port)
for _ in range(50):
    client.read(read_drf)
    if many:
        client.get_many(many)

def measure(op, count):
    rows = []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(count):
            op()
        rows.append((time.perf_counter() - wall, time.process_time() - cpu))
    best = min(rows)
    return [best[0], best[1], statistics.median(r[0] for r in rows)]

out = {"read": measure(lambda: client.read(read_drf), reads)}
if many:
    out["get_many"] = measure(lambda: client.get_many(many), 100)
client.close()
print(json.dumps(out))
"""

STREAM = """
import json, sys, threading, time
port, drfs, count = json.load(sys.stdin)
client = make(port)
state = {"got": 0, "first": None, "last": None}
done = threading.Event()

def on_reading(reading, handle):
    state["got"] += 1
    now = time.perf_counter()
    if state["first"] is None:
        state["first"] = (now, time.process_time())
    state["last"] = (now, time.process_time())
    if state["got"] >= count:
        done.set()

handle = client.subscribe(drfs, callback=on_reading)
print("ready", flush=True)
seen = -1
while not done.wait(2.0) and state["got"] != seen:  # give up after 2 s without progress
    seen = state["got"]
(t0, c0), (t1, c1) = state["first"], state["last"]
got = state["got"]
client.close()
print(json.dumps([got, (got - 1) / (t1 - t0), (c1 - c0) / max(got - 1, 1) * 1e6]))
"""


def run_client(python: str, prelude: str, body: str, payload: object) -> Any:
    """Run one client snippet to completion; its last stdout line as JSON."""
    result = subprocess.run(
        [python, "-c", prelude + body],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd="/",
    )
    if result.returncode != 0:
        raise RuntimeError(f"client failed:\n{result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def stream_client(
    python: str, prelude: str, payload: object, emit: Callable[[], None] | None
) -> list[float]:
    """Start a streaming client, call ``emit()`` once it subscribed; [got, per s, cpu us]."""
    proc = subprocess.Popen(
        [python, "-c", prelude + STREAM],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(payload))
    proc.stdin.close()
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError(f"stream client failed:\n{proc.stderr.read()[-2000:]}")
    if emit is not None:
        emit()
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.wait(300) != 0:
        raise RuntimeError(f"stream client failed:\n{err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


class ReplayPeer:
    """A bare grpcio DAQ server: every ``Read`` gets ``count`` pre-encoded replies, then OK."""

    def __init__(self, count: int, per_message: int) -> None:
        import grpc

        from pacsys_grpc._proto.services import daq_pb2

        messages = []
        for start in range(0, count, per_message):
            reply = daq_pb2.ReadingReply(index=0)
            for k in range(start, min(count, start + per_message)):
                sample = reply.readings.reading.add()
                sample.timestamp.seconds = 1_704_067_200 + k // 1000
                sample.timestamp.nanos = (k % 1000) * 1_000_000
                sample.data.scalar = float(k)
                sample.status.SetInParent()
            messages.append(reply.SerializeToString())

        def read(request: bytes, context: object) -> Any:
            yield from messages

        def identity(data: bytes) -> bytes:
            return data

        handler = grpc.method_handlers_generic_handler(
            "services.daq.DAQ",
            {"Read": grpc.unary_stream_rpc_method_handler(read, identity, identity)},
        )
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="replay-peer")
        self._server = grpc.server(self._pool)
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    def close(self) -> None:
        self._server.stop(0).wait(5)
        self._pool.shutdown(wait=False)


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--reads", type=int, default=1000)
    options.add_argument("--repeat", type=int, default=5)
    options.add_argument("--stream", type=int, default=20000)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--no-reference", action="store_true")
    args = options.parse_args(argv)

    from pacsys.testing import FakeBackend
    from pacsys_grpc.supervised import SupervisedServer

    clients = [("ours", sys.executable, PACSYS_PRELUDE)]
    if not args.no_reference and ensure_reference_venv("pacsys.backends.grpc_backend"):
        clients.append(("reference", str(REF_PYTHON), PACSYS_PRELUDE))
    clients.append(("floor", sys.executable, FLOOR_PRELUDE))

    fake = FakeBackend()
    fake.set_reading(READ_DRF, 72.5)
    for drf in MANY_DRFS:
        fake.set_reading(drf, 1.0)
    replays = {1: ReplayPeer(args.stream, 1), 50: ReplayPeer(args.stream, 50)}
    bare = ReplayPeer(1, 1)
    runs: dict[str, list[dict[str, list[float]]]] = {name: [] for name, _, _ in clients}
    with SupervisedServer(fake, port=0, host="127.0.0.1") as server:

        def emit() -> None:
            if not fake.wait_for_subscription(STREAM_DRF, timeout=30):
                raise RuntimeError("the stream client never subscribed")
            for k in range(args.stream):
                fake.emit_reading(STREAM_DRF, float(k))

        for run in range(args.runs):
            for name, python, prelude in clients:
                payload = [server.port, READ_DRF, MANY_DRFS, args.reads, args.repeat]
                row = run_client(python, prelude, READS, payload)
                payload = [bare.port, READ_DRF, [], args.reads, args.repeat]
                row["read_bare"] = run_client(python, prelude, READS, payload)["read"]
                row["stream_server"] = stream_client(
                    python, prelude, [server.port, [STREAM_DRF], args.stream], emit
                )
                for size, peer in replays.items():
                    row[f"replay_{size}"] = stream_client(
                        python, prelude, [peer.port, [REPLAY_DRF], args.stream], None
                    )
                runs[name].append(row)
                print(f"run {run + 1}/{args.runs} {name}: {json.dumps(row)}", file=sys.stderr)
    for peer in [*replays.values(), bare]:
        peer.close()
    fake.close()
    report(runs, args)


def _median(rows: list[dict[str, list[float]]], key: str, field: int) -> float:
    return statistics.median(row[key][field] for row in rows)


def report(runs: dict[str, list[dict[str, list[float]]]], args: argparse.Namespace) -> None:
    """Medians over the runs; ratios are reference/ours for times, ours/reference for rates."""
    names = list(runs)
    print(
        f"\n{args.runs} runs, medians; reads: best of {args.repeat}; streams of {args.stream}; "
        "clients in subprocesses, one shared server"
    )
    print(f"{'metric':<34}" + "".join(f"{name:>12}" for name in names) + f"{'ref/ours':>10}")
    rows = [
        (f"{args.reads} x read() wall ms", "read", 0, 1e3, False),
        (f"{args.reads} x read() client CPU ms", "read", 1, 1e3, False),
        (f"{args.reads} x read() vs bare server ms", "read_bare", 0, 1e3, False),
        (f"{args.reads} x read() vs bare srv CPU ms", "read_bare", 1, 1e3, False),
        ("100 x get_many(10) wall ms", "get_many", 0, 1e3, False),
        ("100 x get_many(10) client CPU ms", "get_many", 1, 1e3, False),
        ("stream (server) readings/s", "stream_server", 1, 1.0, True),
        ("stream (server) received", "stream_server", 0, 1.0, True),
        ("stream (server) CPU us/reading", "stream_server", 2, 1.0, False),
        ("stream (replay 1/msg) readings/s", "replay_1", 1, 1.0, True),
        ("stream (replay 1/msg) CPU us/rd", "replay_1", 2, 1.0, False),
        ("stream (replay 50/msg) readings/s", "replay_50", 1, 1.0, True),
        ("stream (replay 50/msg) CPU us/rd", "replay_50", 2, 1.0, False),
    ]
    for title, key, field, scale, higher_better in rows:
        values = {name: _median(runs[name], key, field) * scale for name in names}
        cells = "".join(f"{values[name]:>12,.1f}" for name in names)
        ratio = ""
        if "ours" in values and "reference" in values and values["ours"] and values["reference"]:
            ours, ref = values["ours"], values["reference"]
            ratio = f"{(ours / ref if higher_better else ref / ours):>9.2f}x"
        print(f"{title:<34}{cells}{ratio}")
    print("(ratio > 1: ours is better; floor = bare grpcio against the same server)")


if __name__ == "__main__":
    main()
