"""DPM client benchmark: pacsys-dpm (this tree) against the reference pacsys 0.3.0 client.

Run: ``.venv/bin/python benchmarks/bench_dpm_client.py [--devices 1000] [--repeat 5]
[--stream 20000] [--no-reference]``.

The servers run in this process; both clients run as subprocesses (ours in the workspace
venv, the reference in ``.bench-venv-ref``), so neither shares a GIL with the server.

* ``get_many``: one batch of ``--devices`` scalar devices from ``DPMServer(FakeBackend)``,
  best of ``--repeat`` on a warm pooled connection.
* ``stream (server)``: ``--stream`` readings emitted into the FakeBackend behind
  ``DPMServer`` and received by one subscription (server and client both in the loop).
* ``stream (replay)``: a raw peer replays ``--stream`` pre-encoded Scalar frames as fast
  as the socket allows, so the number is bound by the client's decode and delivery.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF_VENV = ROOT / ".bench-venv-ref"
REF_PYTHON = REF_VENV / "bin" / "python"
REF_REQUIREMENT = "pacsys==0.3.0"

# Both clients run the same snippets; only the backend construction differs.
OURS = (
    "from pacsys_dpm.client import DPMHTTPBackend\n"
    "def make(port): return DPMHTTPBackend('127.0.0.1', port, auth=None, timeout=60)\n"
)
REFERENCE = (
    "import pacsys\n"
    "def make(port): return pacsys.dpm_http(host='127.0.0.1', port=port, timeout=60)\n"
)
GET_MANY = """
import json, sys, time
port, drfs, repeat = json.load(sys.stdin)
with make(port) as backend:
    backend.get_many(drfs[:10])
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        readings = backend.get_many(drfs)
        best = min(best, time.perf_counter() - start)
        assert len(readings) == len(drfs) and all(r.ok for r in readings)
print(json.dumps(best))
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
            start = time.perf_counter()
        got += 1
        if got == count:
            break
    elapsed = time.perf_counter() - start
    handle.stop()
print(json.dumps([got, elapsed]))
"""


def ensure_reference_venv() -> bool:
    """Create ``.bench-venv-ref`` with the reference installed, once. False when impossible."""
    if REF_PYTHON.exists():
        probe = subprocess.run(
            [str(REF_PYTHON), "-c", "import pacsys.backends.dpm_http"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return True
    steps = [
        [sys.executable, "-m", "venv", str(REF_VENV)],
        [str(REF_PYTHON), "-m", "pip", "install", "--quiet", REF_REQUIREMENT],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"reference unavailable: {' '.join(step)} failed:\n{result.stderr.strip()}")
            return False
    return True


def run_client(python: str, prelude: str, body: str, payload: object) -> str:
    result = subprocess.run(
        [python, "-c", prelude + body],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"client failed:\n{result.stderr.strip()[-2000:]}")
    return result.stdout.strip().splitlines()[-1]


def stream_client(python: str, prelude: str, payload: object, emit: object) -> float:
    """Start a streaming client, call ``emit()`` once it is subscribed; readings per second."""
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
    got, elapsed = json.loads(out.strip().splitlines()[-1])
    return got / elapsed


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
            threading.Thread(target=self._one, args=(sock,), daemon=True).start()

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


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--devices", type=int, default=1000)
    options.add_argument("--repeat", type=int, default=5)
    options.add_argument("--stream", type=int, default=20000)
    options.add_argument("--no-reference", action="store_true")
    args = options.parse_args(argv)

    import numpy as np

    from pacsys.testing import FakeBackend
    from pacsys.types import DispatchMode
    from pacsys_dpm.codec import ScalarReply, encode_message, frame
    from pacsys_dpm.server import DPMServer

    clients = [("pacsys-dpm (ours)", sys.executable, OURS)]
    if not args.no_reference and ensure_reference_venv():
        clients.append((f"reference {REF_REQUIREMENT}", str(REF_PYTHON), REFERENCE))

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

        for name, python, prelude in clients:
            row = results.setdefault(name, {})
            seconds = float(run_client(python, prelude, GET_MANY, [server.port, drfs, args.repeat]))
            row["get_many"] = seconds
            row["stream_server"] = stream_client(
                python, prelude, [server.port, [stream_drf], args.stream], emit
            )
            row["stream_replay"] = stream_client(
                python, prelude, [replay.port, ["Z:REPLAY@p,1000"], args.stream], None
            )
    replay.close()
    fake.close()

    reference = results.get(f"reference {REF_REQUIREMENT}")
    print(
        f"get_many of {args.devices} devices (best of {args.repeat}); "
        f"streams of {args.stream} readings; clients in subprocesses"
    )
    header = f"{'client':<26}{'get_many ms':>12}{'devices/s':>12}{'stream srv/s':>14}"
    print(header + f"{'replay/s':>12}")
    for name, row in results.items():
        print(
            f"{name:<26}{row['get_many'] * 1e3:>12.1f}{args.devices / row['get_many']:>12,.0f}"
            f"{row['stream_server']:>14,.0f}{row['stream_replay']:>12,.0f}"
        )
    if reference:
        ours = results["pacsys-dpm (ours)"]
        print(
            f"{'ratio ours/reference':<26}{reference['get_many'] / ours['get_many']:>11.2f}x"
            f"{'':>12}{ours['stream_server'] / reference['stream_server']:>13.2f}x"
            f"{ours['stream_replay'] / reference['stream_replay']:>11.2f}x"
        )
        print("(ratios > 1 mean ours is faster)")
    del np


if __name__ == "__main__":
    main()
