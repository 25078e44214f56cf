"""Raw ACNET benchmark: pacsys-acnet (this tree) against the reference pacsys 0.3.0 client,
both talking to the same acnetd emulator (``pacsys_acnet.server.AcnetServer``).

Run: ``.venv/bin/python benchmarks/bench_acnet.py [--runs 3] [--rounds 10]
[--devices 1000] [--plot-devices 8] [--plot-seconds 3] [--speed 200] [--no-reference]``.

What is measured, and how it is kept fair:

* One emulator in this process serves both clients; each client runs in its own
  subprocess (ours in the workspace venv, the reference in ``.bench-venv-ref``), with the
  same script: both are driven through ``pacsys.acnet``'s public names. The clients run
  one after the other, ``--runs`` times alternately; the best run of each counts.
* The emulator's backend is a small in-memory one (raw 2-byte readings, a numpy sine for
  fast sampling), so the emulator's own cost stays small next to the clients'.
* ``RETDAT``: ``RetdatClient.read`` of ``--devices`` devices on a warm connection (request
  limit raised to fit them), ``--rounds`` reads; best wall time and the client's CPU time.
* ``FTP plot`` (last, so its backlog cannot slow the rest): ``start_continuous`` of
  ``--plot-devices`` devices at 1440 Hz, with the emulator's time ``--speed`` times faster
  than the wall clock (``--plot-devices`` x 1440 x ``--speed`` samples/s offered, more
  than a client keeps up with) for ``--plot-seconds``: samples received per second of wall
  time, and per second of the client's CPU. Ours reads numpy arrays
  (``FTPStream.samples``); the reference its FTPDataPoint lists.
* ``snapshot``: a 4,096-point snapshot at 1440 Hz armed once, then every page retrieved
  ``--rounds`` times (``reset_pointers`` between rounds, not timed); best wall time and
  the client's CPU time. Ours uses ``retrieve_all`` (numpy), the reference ``retrieve``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _reference import REF_PYTHON, REF_REQUIREMENT, ensure_reference_venv

OURS_NAME = "pacsys-acnet (ours)"
REF_NAME = f"reference {REF_REQUIREMENT}"
FIRST_DI = 100000
PLOT_DI = 90000

CLIENT = """
import itertools, json, sys, time
from pacsys.acnet import AcnetConnectionTCP, FTPClient, FTPDevice, ReadDevice, RetdatClient

port, args = int(sys.argv[1]), json.loads(sys.argv[2])
ssdn = bytes(8)
out = {}


def clock():
    return time.perf_counter(), time.process_time()


with AcnetConnectionTCP("127.0.0.1", port, "BENCH") as conn:
    devices = [ReadDevice(args["first_di"] + i, 12, ssdn, 2) for i in range(args["devices"])]
    retdat = RetdatClient(conn, max_request_size=65484)
    for _ in range(3):
        retdat.read(0, devices, timeout=10.0)
    walls, cpus = [], []
    for _ in range(args["rounds"]):
        wall, cpu = clock()
        reply = retdat.read(0, devices, timeout=10.0)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert len(reply.values) == len(devices) and reply.values[-1].status == 0
    out["retdat"] = [min(walls), min(cpus)]

    ftp = FTPClient(conn)
    snap = ftp.start_snapshot(0, [FTPDevice(args["plot_di"], 12, ssdn)], 1440,
                              num_points=4096, snap_class_code=12)
    assert snap.wait(30.0)
    walls, cpus = [], []
    for _ in range(args["rounds"]):
        snap.reset_pointers()
        wall, cpu = clock()
        if hasattr(snap, "retrieve_all"):
            points = len(snap.retrieve_all(0).values)
        else:
            points = 0
            while page := snap.retrieve(0):
                points += len(page)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert points == 4096, points
    snap.cancel()
    out["snapshot"] = [min(walls), min(cpus)]

    plot = [FTPDevice(args["plot_di"] + i, 12, ssdn) for i in range(args["plot_devices"])]
    stream = ftp.start_continuous(0, plot, 1440)
    fast = hasattr(stream, "samples")
    batches = stream.samples(timeout=1.0) if fast else stream.readings(timeout=1.0)
    next(batches)
    got, wall, cpu = 0, *clock()
    for batch in batches:
        got += sum(len(s.values) if fast else len(s) for s in batch.values())
        if time.perf_counter() - wall >= args["plot_seconds"]:
            break
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stream.stop()
    out["plot"] = [got / wall, got / cpu]

print(json.dumps(out))
"""


class BenchBackend:
    """Raw 2-byte readings of ``B:Dnnnnnn`` devices and a fast-sampled sine (numpy)."""

    def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Any]:
        from pacsys.types import Reading, ValueType

        return [
            Reading(drf=d, value_type=ValueType.RAW, value=int(d[3:9]).to_bytes(4, "little"))
            for d in drfs
        ]

    def sample_raw(self, drf: str, times: np.ndarray, width: int) -> np.ndarray:
        return (16000 * np.sin(2 * np.pi * 10 * np.asarray(times))).astype(np.int64)


def run_client(python: str, port: int, args: dict[str, Any]) -> dict[str, list[float]]:
    done = subprocess.run(
        [python, "-c", CLIENT, str(port), json.dumps(args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{python} client failed:\n{done.stderr}")
    return json.loads(done.stdout)


def best(results: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    return {
        "retdat": min((r["retdat"] for r in results), key=lambda v: v[0]),
        "plot": max((r["plot"] for r in results), key=lambda v: v[0]),
        "snapshot": min((r["snapshot"] for r in results), key=lambda v: v[0]),
    }


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--rounds", type=int, default=10)
    options.add_argument("--devices", type=int, default=1000)
    options.add_argument("--plot-devices", type=int, default=8)
    options.add_argument("--plot-seconds", type=float, default=3.0)
    options.add_argument("--speed", type=float, default=200.0)
    options.add_argument("--no-reference", action="store_true")
    args = options.parse_args(argv)

    from pacsys_acnet.server import AcnetServer

    clients = [(OURS_NAME, sys.executable)]
    if not args.no_reference and ensure_reference_venv("pacsys.acnet"):
        clients.append((REF_NAME, str(REF_PYTHON)))
    names = {FIRST_DI + i: f"B:D{FIRST_DI + i:06d}" for i in range(args.devices)}
    names.update({PLOT_DI + i: f"B:P{PLOT_DI + i:06d}" for i in range(args.plot_devices)})
    client_args = {
        "first_di": FIRST_DI,
        "plot_di": PLOT_DI,
        "devices": args.devices,
        "plot_devices": args.plot_devices,
        "plot_seconds": args.plot_seconds,
        "rounds": args.rounds,
    }
    runs: dict[str, list[dict[str, list[float]]]] = {name: [] for name, _ in clients}
    with AcnetServer(BenchBackend(), devices=names, speed=args.speed) as server:
        for _ in range(args.runs):
            for name, python in clients:
                runs[name].append(run_client(python, server.port, client_args))
    report({name: best(r) for name, r in runs.items()}, args)


def report(results: dict[str, dict[str, list[float]]], args: Any) -> None:
    offered = args.plot_devices * 1440 * args.speed
    print(
        f"acnetd emulator on loopback, clients in subprocesses, best of {args.runs} runs: "
        f"RETDAT of {args.devices} devices and 4,096-point snapshot retrieve ({args.rounds} "
        f"rounds each), FTP plot of {args.plot_devices} x 1440 Hz at x{args.speed:g} "
        f"({offered:,.0f} samples/s offered) for {args.plot_seconds:g} s"
    )
    print(
        f"{'client':<26}{'RETDAT ms':>10}{'(CPU)':>8}{'plot samples/s':>16}{'per CPU s':>12}"
        f"{'snapshot ms':>13}{'(CPU)':>8}"
    )
    for name, row in results.items():
        (rw, rc), (pw, pc), (sw, sc) = row["retdat"], row["plot"], row["snapshot"]
        print(
            f"{name:<26}{rw * 1e3:>10.2f}{rc * 1e3:>8.2f}{pw:>16,.0f}{pc:>12,.0f}"
            f"{sw * 1e3:>13.2f}{sc * 1e3:>8.2f}"
        )
    reference, ours = results.get(REF_NAME), results[OURS_NAME]
    if reference is None:
        return
    ratios = {
        "RETDAT (wall)": reference["retdat"][0] / ours["retdat"][0],
        "RETDAT (client CPU)": reference["retdat"][1] / ours["retdat"][1],
        "FTP plot samples/s (wall)": ours["plot"][0] / reference["plot"][0],
        "FTP plot samples per client CPU s": ours["plot"][1] / reference["plot"][1],
        "snapshot retrieve (wall)": reference["snapshot"][0] / ours["snapshot"][0],
        "snapshot retrieve (client CPU)": reference["snapshot"][1] / ours["snapshot"][1],
    }
    print("ours vs reference (goal >= 3x):")
    for what, ratio in ratios.items():
        print(f"  {what:<36}{ratio:>7.1f}x")


if __name__ == "__main__":
    main()
