"""Start-up benchmark: ``import pacsys`` and the command-line tools, ours against pacsys 0.3.0.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--runs 15] [--no-reference] [--workspace]``.

What is measured, and how it is kept fair:

* Each row is one command run as a fresh process, from spawn to exit (wall time), the way
  a shell loop runs it; the table shows the median of ``--runs`` and the ratio ours /
  reference. ``cpu`` is the median user+system time of the process, which load from other
  processes disturbs less than wall time; ``cpu o/r`` is its ratio.
* Both sides run in the same loop, alternating one run each, so load hits both alike. The
  reference runs in ``.bench-venv-ref`` (``_reference.py``); ours, installed from the tree as
  a user installs it (wheels of every distribution plus the Kerberos extra), in
  ``.bench-venv-ours`` (``_ours.py``), rebuilt at each run. ``--workspace`` measures the
  development venv instead (editable installs and test packages: a few ms more per start).
* The tools of both talk to one server in this process: the simulator behind a
  ``DPMServer`` on loopback, found through ``PACSYS_DPM_HOST``/``PACSYS_DPM_PORT``.
  Writes are Kerberos-authenticated as on site: a throw-away KDC (``MiniKDC``) holds a
  user with a ticket and the service keytab, and the server lets role ``bench`` set
  ``Z:ACLTST``. Without the KDC tools the ``acput`` row is left out.
* Rows: ``python -c pass`` (the interpreter's own floor), ``import pacsys``, ``acget
  M:OUTTMP``, ``acmonitor -n 1 M:OUTTMP`` (first reading of a 1 Hz stream, then exit) and
  ``acput -a kerberos --role bench Z:ACLTST 45.5``. Only options both tools share.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _ours import install_ours
from _reference import REF_PYTHON, REF_REQUIREMENT, ensure_reference_venv

REF_BIN = REF_PYTHON.parent
ROLE = "bench"
WRITE = ["-a", "kerberos", "--role", ROLE, "Z:ACLTST", "45.5"]


@dataclass
class Row:
    label: str
    ours: list[str]
    reference: list[str]


def rows(our_python: Path, with_writes: bool) -> list[Row]:
    our_bin = our_python.parent

    def both(tool: str, *args: str) -> Row:
        return Row(
            f"{tool} {' '.join(args)}", [str(our_bin / tool), *args], [str(REF_BIN / tool), *args]
        )

    python = [
        Row("python -c pass", [str(our_python), "-c", "pass"], [str(REF_PYTHON), "-c", "pass"]),
        Row(
            "import pacsys",
            [str(our_python), "-c", "import pacsys"],
            [str(REF_PYTHON), "-c", "import pacsys"],
        ),
    ]
    tools = [both("acget", "M:OUTTMP"), both("acmonitor", "-n", "1", "M:OUTTMP")]
    if with_writes:
        tools.append(both("acput", *WRITE))
    return python + tools


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, cpu seconds) of one run; raises with its stderr if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


@contextlib.contextmanager
def kerberos(workdir: Path) -> Iterator[tuple[dict[str, str], Path] | None]:
    """A KDC with a user holding a ticket: (environment, service keytab), or None."""
    from pacsys.testing.kerberos import MiniKDC

    try:
        kdc = MiniKDC(workdir / "kdc").start()
    except RuntimeError as exc:
        print(f"(no KDC, so no acput row: {exc})")
        yield None
        return
    try:
        user = kdc.add_principal("bench")
        ccache = kdc.kinit(user, workdir / "ccache", keytab=kdc.keytab(user))
        service = kdc.add_principal("daeset/bd/localhost")
        yield kdc.env(ccache), kdc.keytab(service)
    finally:
        kdc.stop()


@contextlib.contextmanager
def server(keytab: Path | None) -> Iterator[str]:
    """The simulator served over DPM on loopback; yields ``host:port``."""
    from pacsys.sim import SimBackend
    from pacsys_dpm.server import DPMServer

    roles = {ROLE: ["Z:ACLTST"]} if keytab is not None else None
    with SimBackend() as sim, DPMServer(sim, port=0, keytab=keytab, roles=roles) as dpm:
        yield dpm.address


def measure(table: list[Row], env: dict[str, str], runs: int, reference: bool) -> None:
    sides = ("ours", "reference") if reference else ("ours",)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row in table:  # warm-up: bytecode caches, page cache
        for side in sides:
            run_once(getattr(row, side), env)
    for _ in range(runs):
        for row in table:
            for side in sides:
                results.setdefault((row.label, side), []).append(run_once(getattr(row, side), env))
    print_table(table, results, runs, reference)


def _median_ms(samples: list[tuple[float, float]], index: int) -> float:
    return 1000 * statistics.median(sample[index] for sample in samples)


def print_table(table: list[Row], results: dict, runs: int, reference: bool) -> None:
    head = f"{'command':<44} {'ours ms':>8} {'cpu':>6}"
    if reference:
        head += f" {'ref ms':>8} {'cpu':>6} {'ours/ref':>9} {'cpu o/r':>8}"
    print(f"\nmedian of {runs} runs, process start to exit\n")
    print(head)
    print("-" * len(head))
    for row in table:
        ours = results[(row.label, "ours")]
        line = f"{row.label:<44} {_median_ms(ours, 0):>8.1f} {_median_ms(ours, 1):>6.1f}"
        if reference:
            ref = results[(row.label, "reference")]
            ratio = _median_ms(ours, 0) / _median_ms(ref, 0)
            cpu_ratio = _median_ms(ours, 1) / _median_ms(ref, 1)
            line += f" {_median_ms(ref, 0):>8.1f} {_median_ms(ref, 1):>6.1f} {ratio:>9.2f}"
            line += f" {cpu_ratio:>8.2f}"
        print(line)
    print(f"\nload average at the end: {' '.join(map(str, os.getloadavg()))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--no-reference", action="store_true", help="measure ours only")
    parser.add_argument(
        "--workspace", action="store_true", help="measure ours in the development venv"
    )
    args = parser.parse_args()
    our_python = None if args.workspace else install_ours()
    if our_python is None:
        our_python = Path(sys.executable)
    reference = not args.no_reference and ensure_reference_venv("pacsys")
    print(f"ours: {our_python.parent.parent}   reference: {REF_REQUIREMENT if reference else '-'}")
    with (
        tempfile.TemporaryDirectory(prefix="pacsys-bench-startup-") as tmp,
        kerberos(Path(tmp)) as krb,
    ):
        # As installed tools run: with compiled bytecode (the warm-up run writes it).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        keytab = None
        if krb is not None:
            os.environ.update(krb[0])  # the server in this process accepts with it
            env.update(krb[0])
            keytab = krb[1]
        with server(keytab) as address:
            host, _, port = address.rpartition(":")
            env.update(PACSYS_DPM_HOST=host, PACSYS_DPM_PORT=port)
            measure(rows(our_python, krb is not None), env, args.runs, reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
