"""``acmonitor``: stream ACNET devices and print each reading with its time (like ``camonitor``).

Runs until ``-n`` readings, ``--duration`` seconds, or Ctrl-C (a clean exit, status 0).
When the stream fails it says so on stderr and subscribes again (``--no-reconnect`` to stop).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from pacsys.cli._format import (
    device_error,
    format_timestamp,
    format_value,
    reading_record,
    render_csv,
    render_json,
    status_name,
)
from pacsys.cli._options import (
    EXIT_DEVICE,
    EXIT_OK,
    UsageError,
    add_connection_options,
    open_backend,
    parse_drfs,
    print_error,
    report_exception,
    run_tool,
    tool_parser,
)
from pacsys.drf3 import DataRequest
from pacsys.types import Reading

__all__ = ["build_parser", "main"]

PROG = "acmonitor"
DEFAULT_EVENT = "p,1000"
CSV_COLUMNS = ("timestamp", "drf", "value", "units", "status")
#: How long one wait for readings lasts, so stop conditions are checked regularly.
POLL = 0.25

EXAMPLES = """examples:
  acmonitor M:OUTTMP                    every second (default event @p,1000)
  acmonitor 'M:OUTTMP@p,200' G:AMANDA   several devices, own events
  acmonitor -e e,02 M:OUTTMP            on clock event $02
  acmonitor -n 10 M:OUTTMP              stop after 10 readings
  acmonitor --duration 30 --format csv M:OUTTMP > outtmp.csv
  acmonitor --format json M:OUTTMP | jq .value      (one JSON object per line)
  Stop with Ctrl-C.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``acmonitor``."""
    parser = tool_parser(
        PROG, "Stream ACNET devices and print every reading with its timestamp.", EXAMPLES
    )
    parser.add_argument("drfs", nargs="+", metavar="DRF", help="device requests to stream")
    parser.add_argument(
        "-e",
        "--event",
        default=DEFAULT_EVENT,
        help=f"event for DRFs that have none (default {DEFAULT_EVENT})",
    )
    parser.add_argument(
        "-n",
        "--count",
        type=int,
        metavar="COUNT",
        help="stop after COUNT readings (all DRFs together)",
    )
    parser.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after SECONDS seconds"
    )
    parser.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="default text"
    )
    parser.add_argument("--full", action="store_true", help="show every array element")
    parser.add_argument("--utc", action="store_true", help="timestamps in UTC, not local time")
    parser.add_argument(
        "--no-reconnect", action="store_true", help="exit (status 1) when the stream fails"
    )
    parser.add_argument(
        "--reconnect-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="wait before subscribing again (default 1)",
    )
    add_connection_options(parser)
    return parser


def stream_drf(request: DataRequest, event: str) -> str:
    """The DRF to subscribe: as given when it has an event, else with ``event`` added."""
    if request.event.mode != "U":
        return request.raw_string
    try:
        return request.to_canonical(event=event)
    except ValueError as exc:
        raise UsageError(f"invalid event {event!r}: {exc}") from None


class Printer:
    """Formats readings for ``--format`` and writes them to stdout, one per line."""

    def __init__(self, args: argparse.Namespace, labels: dict[str, str]) -> None:
        self._format = args.format
        self._full = args.full
        self._utc = args.utc
        self._labels = labels
        self._header_done = False

    def line(self, reading: Reading) -> str:
        label = self._labels.get(reading.drf, reading.drf)
        if self._format == "json":
            return render_json([reading_record(label, reading)], lines=True)
        if self._format == "csv":
            record = reading_record(label, reading)
            record["timestamp"] = format_timestamp(reading.timestamp, utc=self._utc)
            text = render_csv([record], CSV_COLUMNS, header=not self._header_done)
            self._header_done = True
            return text
        when = format_timestamp(reading.timestamp, utc=self._utc)
        if not reading.ok:
            status = status_name(reading.facility_code, reading.error_code)
            return f"{when}  {label}  {status}"
        units = f" {reading.units}" if reading.units else ""
        warn = (
            ""
            if reading.is_success
            else "  " + status_name(reading.facility_code, reading.error_code)
        )
        return f"{when}  {label}  {format_value(reading.value, full=self._full)}{units}{warn}"

    def show(self, reading: Reading) -> None:
        print(self.line(reading), flush=True)


def _validate(args: argparse.Namespace) -> None:
    if args.count is not None and args.count < 1:
        raise UsageError("-n COUNT must be at least 1")
    if args.duration is not None and not args.duration > 0:
        raise UsageError("--duration must be positive")
    if not args.reconnect_delay >= 0:
        raise UsageError("--reconnect-delay must be 0 or more")


def run(args: argparse.Namespace) -> int:
    """Stream until a stop condition or Ctrl-C, subscribing again after failures."""
    _validate(args)
    requests = parse_drfs(args.drfs)
    drfs = [stream_drf(request, args.event) for request in requests]
    labels = dict(zip(drfs, args.drfs, strict=True))
    printer = Printer(args, labels)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    state = {"seen": 0, "errors": 0}
    reported: set[str] = set()

    def remaining() -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def done() -> bool:
        left = remaining()
        return (args.count is not None and state["seen"] >= args.count) or (
            left is not None and left <= 0
        )

    ended = False
    try:
        with open_backend(args) as backend:
            handle = backend.subscribe(drfs)
            attempt = 0
            while not done():
                try:
                    if _pump(handle, printer, state, reported, remaining, done):
                        attempt = 0  # data flows again: the next failure backs off afresh
                except BrokenPipeError:
                    raise  # stdout closed (e.g. piped to head): not a stream failure
                except Exception as exc:
                    handle.stop()
                    if args.no_reconnect:
                        return report_exception(PROG, exc)
                    attempt += 1
                    print_error(PROG, f"stream lost ({type(exc).__name__}: {exc}); reconnecting")
                    handle = _resubscribe(backend, drfs, args, remaining, attempt)
                    if handle is None:
                        break
                    print_error(PROG, "reconnected")
                    continue
                if handle.stopped and not done():
                    if handle.exc is not None:
                        continue  # the next _pump raises it
                    print_error(PROG, "stream ended by the server")
                    ended = True
                    break
            if handle is not None:
                handle.stop()
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_DEVICE if state["errors"] or ended else EXIT_OK


def _pump(
    handle: Any,
    printer: Printer,
    state: dict[str, int],
    reported: set[str],
    remaining: Any,
    done: Any,
) -> int:
    """Print readings for up to POLL seconds (or until a stop condition); how many."""
    left = remaining()
    window = POLL if left is None else max(0.0, min(POLL, left))
    if window == 0:
        return 0
    shown = 0
    for reading, _ in handle.readings(timeout=window):
        shown += 1
        printer.show(reading)
        state["seen"] += 1
        if reading.is_error:
            state["errors"] += 1
            if reading.drf not in reported:
                reported.add(reading.drf)
                code, error = reading.facility_code, reading.error_code
                print_error(PROG, device_error(reading.drf, code, error, reading.message))
        if done():
            return shown
    if handle.exc is not None:
        raise handle.exc
    return shown


def _resubscribe(
    backend: Any,
    drfs: list[str],
    args: argparse.Namespace,
    remaining: Any,
    attempt: int,
) -> Any:
    """Subscribe again after a growing pause (capped at 30 s); None when time ran out."""
    delay = min(args.reconnect_delay * (2 ** min(attempt - 1, 5)), 30.0)
    while True:
        left = remaining()
        if left is not None and left <= delay:
            return None
        threading.Event().wait(delay)  # an interruptible pause (Ctrl-C ends it)
        try:
            return backend.subscribe(drfs)
        except Exception as exc:
            print_error(PROG, f"reconnect failed ({type(exc).__name__}: {exc}); retrying")
            delay = min(delay * 2 or 0.5, 30.0)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``acmonitor`` console script: run with ``argv`` (default sys.argv); the exit status."""
    return run_tool(PROG, build_parser(), run, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
