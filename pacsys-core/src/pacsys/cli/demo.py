"""``pacsys demo``: a read, a stream, a verified write, a control command and a status.

Runs against the in-process simulator (no network needed). :func:`run_demo` takes any
Backend, so the same tour can run over a wire protocol against ``pacsys serve``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from pacsys.backends import Backend

STREAM_DRF = "M:OUTTMP@p,200"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="run a short read/stream/write/control demo",
        description="Read, stream, write and control devices through the pacsys API against "
        "the in-process simulator.",
        epilog="example:\n  pacsys demo --seconds 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="length of the stream (default 5.0)"
    )
    parser.set_defaults(run=run)


def run_demo(backend: Backend, seconds: float, out: TextIO | None = None) -> None:
    """The tour: each step prints one readable line (the stream one per reading)."""
    import pacsys

    out = out if out is not None else sys.stdout
    quick = pacsys.Verify(initial_delay=0.05, retry_delay=0.1)

    reading = backend.get("M:OUTTMP")
    what = reading.meta.description if reading.meta else ""
    print(f"read    {reading.name} = {reading.value:.2f} {reading.units}  ({what})", file=out)

    print(f"stream  {STREAM_DRF} for {seconds:g} s:", file=out)
    with backend.subscribe([STREAM_DRF]) as sub:
        for reading, _ in sub.readings(timeout=seconds):
            when = f"{reading.timestamp:%H:%M:%S.%f}"[:-3]
            print(
                f"        {when}  cycle {reading.cycle:>6}  {reading.value:.2f} {reading.units}",
                file=out,
            )

    device = pacsys.Device("Z:ACLTST", backend=backend)
    result = device.write(45.0, verify=quick)
    print(
        f"write   {result.drf} = 45.0 -> ok={result.ok} verified={result.verified} "
        f"readback={result.readback}",
        file=out,
    )

    supply = pacsys.Device("Z:SIMPS", backend=backend)
    result = supply.on(verify=quick)
    print(
        f"control {supply.name} ON -> ok={result.ok} verified={result.verified}; "
        f"current now {supply.read():.2f} A",
        file=out,
    )

    status = supply.digital_status()
    bits = ", ".join(f"{bit.name}={bit.value}" for bit in status.bits)
    print(f"status  {supply.name} 0x{status.raw_value:02X}: {bits}", file=out)


def run(args: argparse.Namespace) -> int:
    from pacsys.sim import SimBackend

    with SimBackend() as backend:
        run_demo(backend, args.seconds)
    return 0
