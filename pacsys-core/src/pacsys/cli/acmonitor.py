"""``acmonitor``: stream ACNET devices and print each reading with its time (like ``camonitor``).

Runs until ``-n`` readings, ``--duration`` seconds, or Ctrl-C/SIGTERM (a clean exit, status 0).
When the stream fails it says so on stderr and the backend subscribes again under a
ReconnectPolicy (docs/protocols/semantics.md §6.4; ``--no-reconnect`` to stop instead).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
    StopRequest,
    UsageError,
    add_connection_options,
    add_reference_options,
    backend_takes,
    on_stop_signals,
    open_backend,
    parse_drfs,
    print_error,
    range_of,
    report_exception,
    run_tool,
    tool_parser,
)
from pacsys.cli._refformat import TIMESTAMP_FORMATS, reading_line, slice_value
from pacsys.drf3 import DataRequest
from pacsys.types import Reading

if TYPE_CHECKING:
    from pacsys.backends.reconnect import ReconnectPolicy

__all__ = ["build_parser", "main"]

PROG = "acmonitor"
DEFAULT_EVENT = "p,1000"
CSV_COLUMNS = ("timestamp", "drf", "value", "units", "status")
#: How long one wait for readings lasts, so stop conditions are checked regularly.
POLL = 0.25

FORMAT_CHOICES = ("text", "json", "log", "csv")
#: Statuses after which a request can never deliver data: the device, property or event
#: does not exist.  When every DRF has one, acmonitor stops (status 1) instead of waiting.
PERMANENT = frozenset(
    (
        "DPM_NO_SUCH_DEVICE",
        "DPM_NO_SUCH_PROP",
        "DPM_BAD_EVENT",
        "DPM_BAD_REQUEST",
        "DBM_NOREC",
        "DBM_NOPROP",
        "DIO_NO_SUCH",
        "DIO_INVDEV",
        "DIO_INVPROP",
        "DIO_NOATT",
        "DIO_SYNTAX",
        "DIO_RETIRED",
    )
)
#: Longest pause between two reconnect attempts.
MAX_BACKOFF = 30.0
#: Shortest first pause: a ReconnectPolicy needs a positive one, and a dead server should
#: not be hammered (``--reconnect-delay 0`` means this).
MIN_RECONNECT_DELAY = 0.05

EXAMPLES = """examples:
  acmonitor M:OUTTMP                    every second (default event @p,1000)
  acmonitor 'M:OUTTMP@p,200' G:AMANDA   several devices, own events
  acmonitor -e e,8F M:OUTTMP            on clock event $8F
  acmonitor -n 10 M:OUTTMP              stop after 10 readings
  acmonitor -n 3 -t 'M:OUTTMP@p,200'    bare values
  acmonitor -n 3 -s relative -f .2f 'M:OUTTMP@p,200'   seconds since the first reading
  acmonitor -n 2 -r 0:3 'Z:SIMWAV@p,200'              array elements 0..2
  acmonitor --format json M:OUTTMP      one JSON object per line
  acmonitor --format log --utc M:OUTTMP   time first, the DRF as given
  acmonitor --duration 3 --format csv M:OUTTMP
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
        "--format",
        choices=FORMAT_CHOICES,
        default="text",
        help="text (default): NAME  VALUE UNITS  TIME; json: an object per line; "
        "log: local TIME  DRF  VALUE; csv",
    )
    add_reference_options(parser)
    parser.add_argument(
        "-s",
        "--timestamp-format",
        choices=TIMESTAMP_FORMATS,
        default="iso",
        help="text/json timestamps: iso (as delivered, UTC), epoch seconds, or relative "
        "to the first reading (default iso)",
    )
    parser.add_argument("--full", action="store_true", help="every array element (log, csv)")
    parser.add_argument("--utc", action="store_true", help="log/csv timestamps in UTC")
    parser.add_argument(
        "--no-reconnect", action="store_true", help="exit (status 1) when the stream fails"
    )
    parser.add_argument(
        "--reconnect-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help=f"wait before subscribing again, doubled after each failed attempt up to "
        f"{MAX_BACKOFF:g} (default 1, at least {MIN_RECONNECT_DELAY:g})",
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
        self._format = "terse" if args.terse else args.format
        self._full = args.full
        self._utc = args.utc
        self._spec = args.number_format
        self._range = range_of(args)
        self._stamps = args.timestamp_format
        self._first: float | None = None
        self._labels = labels
        self._header_done = False

    @property
    def reference(self) -> bool:
        """Whether lines follow pacsys 0.3.0's layout (text, terse, json)."""
        return self._format in ("text", "terse", "json")

    def _stamp(self, reading: Reading) -> str | float | None:
        """``-s``: None (iso, the default), epoch seconds, or seconds since the first."""
        if self._stamps == "iso" or reading.timestamp is None:
            return None
        epoch = reading.timestamp.timestamp()
        if self._stamps == "relative":
            if self._first is None:
                self._first = epoch
            epoch -= self._first
        return epoch if self._format == "json" else f"{epoch:.3f}"

    def line(self, reading: Reading) -> str:
        if self._range is not None and reading.ok:
            reading = dataclasses.replace(reading, value=slice_value(reading.value, self._range))
        if self.reference:
            stamp = self._stamp(reading) if reading.ok else None
            return reading_line(reading, self._format, spec=self._spec, stamp=stamp)
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
    if not 0 <= args.reconnect_delay < float("inf"):
        raise UsageError("--reconnect-delay must be a finite number, 0 or more")


def reconnect_policy(args: argparse.Namespace) -> ReconnectPolicy | None:
    """The backend's policy for lost streams: None with ``--no-reconnect``."""
    from pacsys.backends.reconnect import ReconnectPolicy

    if args.no_reconnect:
        return None
    initial = max(args.reconnect_delay, MIN_RECONNECT_DELAY)
    return ReconnectPolicy(initial=initial, maximum=max(MAX_BACKOFF, initial))


class Monitor:
    """The streaming loop: prints readings until ``-n``, ``--duration`` or a stop request.

    Ctrl-C and SIGTERM only set ``stop.requested`` (see :class:`StopRequest`); every wait
    here lasts at most :data:`POLL` seconds, so the request is answered within that time
    wherever it arrives.  Lost streams are the backend's to resubscribe (``policy``); the
    backend tells :meth:`on_error`, and "reconnected" is said once a reading arrives after.
    A backend that takes no policy (``reconnects`` False) ends the stream on a loss.
    """

    def __init__(
        self,
        args: argparse.Namespace,
        drfs: list[str],
        printer: Printer,
        stop: StopRequest,
        *,
        policy: ReconnectPolicy | None = None,
        reconnects: bool = False,
    ) -> None:
        self._args = args
        self._drfs = drfs
        self._printer = printer
        self._stop = stop
        self._policy = policy if reconnects else None
        self._wanted = policy is not None  # the user asked for reconnects
        self._backoff = None if self._policy is None else self._policy.backoff()
        self._deadline = None if args.duration is None else time.monotonic() + args.duration
        self._reported: set[str] = set()
        self._failed: set[str] = set()
        self._counts: dict[str, int] = {}
        self._lost = threading.Event()
        self._started = time.monotonic()
        self._attempt_started = self._started
        self.seen = 0
        self.errors = 0

    def remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def done(self) -> bool:
        """A stop request, ``-n`` readings shown, or ``--duration`` over."""
        if self._stop.requested:
            return True
        if self._args.count is not None and self.seen >= self._args.count:
            return True
        left = self.remaining()
        return left is not None and left <= 0

    def on_error(self, exc: BaseException, handle: Any) -> None:
        """The backend lost the stream and will subscribe again: say so, with its pause.

        The pause is the policy's (the same Backoff the backend follows, fed with how long
        the connection lived).  A terminal error (``handle.exc``) is left to :meth:`run`.
        """
        if exc is handle.exc or self._backoff is None:
            return
        now = time.monotonic()
        delay = self._backoff.after_failure(now - self._attempt_started)
        if delay is None:
            return
        self._attempt_started = now + delay
        what = "reconnect failed" if self._lost.is_set() else "stream lost"
        self._lost.set()
        print_error(PROG, f"{what} ({type(exc).__name__}: {exc}); reconnecting in {delay:g} s")

    def run(self, backend: Any, name: str | None = None) -> int:
        """Stream until done; the exit status."""
        self._started = self._attempt_started = time.monotonic()
        handle = backend.subscribe(self._drfs, on_error=self.on_error)
        ended = False
        try:
            while not self.done():
                try:
                    self._pump(handle)
                except BrokenPipeError:
                    raise  # stdout closed (e.g. piped to head): not a stream failure
                except Exception as exc:
                    if self._wanted and self._policy is None:
                        which = "this backend" if name is None else f"backend {name!r}"
                        print_error(
                            PROG,
                            f"stream lost ({type(exc).__name__}: {exc}); {which} cannot "
                            "reconnect (it takes no reconnect policy), stopping",
                        )
                        return EXIT_DEVICE
                    return report_exception(PROG, exc)
                if self.dead():
                    failed = ", ".join(sorted(self._failed))
                    print_error(PROG, f"every device failed permanently ({failed}); stopping")
                    return EXIT_DEVICE
                if handle.stopped and not self.done():
                    if handle.exc is not None:
                        continue  # the next _pump raises it
                    print_error(PROG, "stream ended by the server")
                    ended = True
                    break
        finally:
            handle.stop()
        if self._printer.reference:
            self._summarise()
        return EXIT_DEVICE if self.errors or ended else EXIT_OK

    def dead(self) -> bool:
        """Every requested DRF answered with a status after which no data can come."""
        return bool(self._drfs) and set(self._drfs) <= self._failed

    def _summarise(self) -> None:
        """0.3.0's stderr summary: ``--- 3 readings from DRF (total in 1.7s) ---``."""
        parts = [f"{count} readings from {drf}" for drf, count in self._counts.items()]
        took = time.monotonic() - self._started
        body = ", ".join(parts) if parts else "0 readings"
        print(f"--- {body} (total in {took:.1f}s) ---", file=sys.stderr, flush=True)

    def _pump(self, handle: Any) -> int:
        """Print readings for up to POLL seconds (or until done); how many."""
        left = self.remaining()
        window = POLL if left is None else max(0.0, min(POLL, left))
        if window == 0:
            return 0
        shown = 0
        for reading, _ in handle.readings(timeout=window):
            if self._lost.is_set():
                self._lost.clear()
                print_error(PROG, "reconnected")
            shown += 1
            self._printer.show(reading)
            self.seen += 1
            self._counts[reading.drf] = self._counts.get(reading.drf, 0) + 1
            if reading.is_error:
                self.errors += 1
                if status_name(reading.facility_code, reading.error_code) in PERMANENT:
                    self._failed.add(reading.drf)
                if reading.drf not in self._reported and not self._printer.reference:
                    self._reported.add(reading.drf)
                    code, error = reading.facility_code, reading.error_code
                    print_error(PROG, device_error(reading.drf, code, error, reading.message))
            else:
                self._failed.discard(reading.drf)
            if self.done() or self.dead():
                return shown
        if handle.exc is not None:
            raise handle.exc
        return shown


def run(args: argparse.Namespace) -> int:
    """Stream until a stop condition, Ctrl-C or SIGTERM (status 0); the backend reconnects."""
    _validate(args)
    requests = parse_drfs(args.drfs)
    drfs = [stream_drf(request, args.event) for request in requests]
    printer = Printer(args, dict(zip(drfs, args.drfs, strict=True)))
    policy = reconnect_policy(args)
    reconnects = backend_takes(args, "reconnect")
    extra = {"reconnect": policy} if reconnects else {}
    stop = StopRequest()
    monitor = Monitor(args, drfs, printer, stop, policy=policy, reconnects=reconnects)
    try:
        with on_stop_signals(stop), open_backend(args, extra) as backend:
            return monitor.run(backend, args.backend)
    except KeyboardInterrupt:  # a second Ctrl-C before the first was answered
        return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The ``acmonitor`` console script: run with ``argv`` (default sys.argv); the exit status."""
    return run_tool(PROG, build_parser(), run, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
