"""``pacsys demo``: a read, a short stream and a verified write, printed readably.

Runs against an in-process FakeBackend that a feeder thread animates; no network needed.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

STREAM_DRF = "M:OUTTMP@p,200"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="run a short read/stream/write demo",
        description="Read, stream and write devices through the pacsys API against an "
        "in-process fake control system.",
        epilog="example:\n  pacsys demo --seconds 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="length of the stream (default 1.0)"
    )
    parser.set_defaults(run=run)


def _feed(fake: Any, stop: threading.Event, period: float) -> None:
    """Emit a slowly drifting outdoor temperature until stopped."""
    temperature = 72.5
    while not stop.wait(period):
        temperature += 0.1
        fake.emit_reading(STREAM_DRF, round(temperature, 2), units="DegF")


def run(args: argparse.Namespace) -> int:
    import pacsys
    from pacsys.testing import FakeBackend

    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5, units="DegF", description="Outdoor temperature")
    fake.set_reading("Z:ACLTST.SETTING", 40.0, units="mm", description="ACL test device")
    previous = pacsys._simple.set_global_backend(fake)
    stop = threading.Event()
    try:
        reading = pacsys.get("M:OUTTMP")
        what = reading.meta.description if reading.meta else ""
        print(f"read    {reading.name} = {reading.value} {reading.units}  ({what})")

        print(f"stream  {STREAM_DRF} for {args.seconds:g} s:")
        feeder = threading.Thread(target=_feed, args=(fake, stop, 0.2), daemon=True)
        with pacsys.subscribe([STREAM_DRF]) as sub:
            feeder.start()
            for reading, _ in sub.readings(timeout=args.seconds):
                when = f"{reading.timestamp:%H:%M:%S.%f}"[:-3]
                print(f"        {when}  {reading.value:.2f} {reading.units}")
        stop.set()
        feeder.join()

        device = pacsys.Device("Z:ACLTST")
        result = device.write(45.0, verify=pacsys.Verify(initial_delay=0, retry_delay=0))
        print(
            f"write   {result.drf} = 45.0 -> ok={result.ok} verified={result.verified} "
            f"readback={result.readback}"
        )
    finally:
        stop.set()
        pacsys._simple.set_global_backend(previous)
        fake.close()
    return 0
