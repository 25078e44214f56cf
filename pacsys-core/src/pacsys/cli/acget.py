"""``acget``: read ACNET devices once and print them (the ACNET ``caget``)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import IO

from pacsys.cli._format import (
    device_error,
    progress_text,
    reading_record,
    render_csv,
    render_json,
    render_table,
    table_row,
)
from pacsys.cli._options import (
    EXIT_DEVICE,
    EXIT_OK,
    UsageError,
    add_connection_options,
    add_reference_options,
    open_backend,
    parse_drfs,
    print_error,
    range_of,
    run_tool,
    timeout_of,
    tool_parser,
)
from pacsys.cli._refformat import reading_line, ref_value, slice_value
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest, is_field_allowed
from pacsys.types import Reading

__all__ = ["build_parser", "main"]

PROG = "acget"
#: Requests per get_many call; larger batches are split so a progress bar can advance.
BATCH = 100
CSV_COLUMNS = ("drf", "value", "units", "status", "error_code", "timestamp")

FORMAT_CHOICES = ("text", "json", "table", "csv")

EXAMPLES = """examples:
  acget M:OUTTMP                      one device: name, value, units, timestamp
  acget -t M:OUTTMP G:AMANDA          bare values, one per line
  acget -f .2f M:OUTTMP               numbers through a Python format spec
  acget -r 0:5 Z:SIMWAV               array elements 0..4
  acget --format json M:OUTTMP        one JSON object per line
  acget --format table M:OUTTMP G:AMANDA Z:ACLTST   an aligned table with status names
  acget Z:ACLTST.SETTING M:OUTTMP.DESCRIPTION Z:ACLTST.ANALOG.MAX
  acget --format table --full 'Z:SIMWAV[0:9]'       an array slice, every element
  acget --format table --raw M:OUTTMP   raw (unscaled) bytes, in hex
  acget --file devices.txt --format csv   DRFs from a file (one per line, '-' for stdin)
  acget -b sim M:OUTTMP               from the in-process simulator
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``acget``."""
    parser = tool_parser(
        PROG, "Read ACNET devices once (DRF syntax) and print value, units and status.", EXAMPLES
    )
    parser.add_argument("drfs", nargs="*", metavar="DRF", help="device requests to read")
    parser.add_argument(
        "--file", metavar="PATH", help="read more DRFs from PATH, one per line ('-' stdin)"
    )
    parser.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        default="text",
        help="text (default): NAME  VALUE UNITS  TIME; json: an object per line; "
        "table: aligned columns with status names; csv",
    )
    add_reference_options(parser)
    parser.add_argument(
        "--raw", action="store_true", help="read the RAW field (unscaled bytes, shown in hex)"
    )
    parser.add_argument(
        "--full", action="store_true", help="show every array element (tables compact arrays)"
    )
    parser.add_argument(
        "-p", "--precision", type=int, metavar="N", help="significant digits for floats"
    )
    parser.add_argument("--header", action="store_true", help="print a table header")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar for large batches"
    )
    add_connection_options(parser)
    return parser


def _read_drf_file(path: str) -> list[str]:
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return [s for line in lines if (s := line.split("#", 1)[0].strip())]


def request_drf(request: DataRequest, raw: bool) -> str:
    """The DRF sent: unchanged, or with the RAW field for ``--raw``."""
    if request.is_acnet and request.property is DRF_PROPERTY.CONTROL:
        raise UsageError(
            f"cannot read the CONTROL property ({request.raw_string}); use acput to send commands"
        )
    if not raw:
        return request.raw_string
    if not request.is_acnet or not is_field_allowed(request.property, DRF_FIELD.RAW):
        raise UsageError(f"--raw is not possible for {request.raw_string!r} (no RAW field)")
    return request.to_canonical(field=DRF_FIELD.RAW)


class Progress:
    """A one-line progress bar on ``stream``, drawn only when enabled."""

    def __init__(self, stream: IO[str], total: int, enabled: bool) -> None:
        self._stream = stream
        self._total = total
        self._enabled = enabled

    def update(self, done: int) -> None:
        if self._enabled:
            self._stream.write(f"\r{progress_text(done, self._total)}")
            self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()


def read_all(backend: object, drfs: list[str], timeout: float, progress: Progress) -> list[Reading]:
    """Readings in order, ``BATCH`` DRFs per call, advancing ``progress``."""
    readings: list[Reading] = []
    for start in range(0, len(drfs), BATCH):
        readings.extend(backend.get_many(drfs[start : start + BATCH], timeout=timeout))  # type: ignore[attr-defined]
        progress.update(len(readings))
    progress.finish()
    return readings


def render(args: argparse.Namespace, labels: Sequence[str], readings: Sequence[Reading]) -> str:
    """The whole output for ``--format`` (``-t`` wins over it), ``-r`` applied first."""
    selection = range_of(args)
    if selection is not None:
        readings = [
            dataclasses.replace(r, value=slice_value(r.value, selection)) if r.ok else r
            for r in readings
        ]
    style = "terse" if args.terse else args.format
    if style in ("text", "terse", "json"):
        spec = args.number_format
        return "\n".join(reading_line(r, style, spec=spec) for r in readings)
    if style == "table":
        rows = [
            table_row(label, reading, full=args.full, precision=args.precision)
            for label, reading in zip(labels, readings, strict=True)
        ]
        if args.number_format is not None:
            for row, reading in zip(rows, readings, strict=True):
                if reading.ok:
                    row[1] = ref_value(reading.value, args.number_format)
        header = ("NAME", "VALUE", "UNITS", "STATUS") if args.header else None
        return render_table(rows, header)
    records = [reading_record(label, r) for label, r in zip(labels, readings, strict=True)]
    if args.format == "json":
        return render_json(records)
    return render_csv(records, CSV_COLUMNS)


def run(args: argparse.Namespace) -> int:
    """Read every DRF once, print them in ``--format``; exit status 1 if any failed."""
    drfs = list(args.drfs)
    if args.file:
        drfs += _read_drf_file(args.file)
    if not drfs:
        raise UsageError("give at least one DRF (or -f FILE)")
    if args.precision is not None and not 1 <= args.precision <= 17:
        raise UsageError("--precision must be from 1 to 17")
    range_of(args)  # a bad -r is a usage error before anything is sent
    _check_spec(args.number_format)
    requests = parse_drfs(drfs)
    sent = [request_drf(request, args.raw) for request in requests]
    timeout = timeout_of(args)
    show = len(sent) > BATCH and not args.no_progress and sys.stderr.isatty()
    from pacsys.errors import ReadError

    with open_backend(args) as backend:
        try:
            readings = read_all(backend, sent, timeout, Progress(sys.stderr, len(sent), show))
        except ReadError as exc:
            if args.format == "table" and not args.terse:
                raise
            # 0.3.0: the back-filled readings, then the error on stderr.
            partial = render(args, drfs[: len(exc.readings)], exc.readings)
            if partial:
                print(partial)
            print_error(PROG, str(exc))
            return EXIT_DEVICE
    output = render(args, drfs, readings)
    if output:
        print(output)
    if args.terse or args.format in ("text", "json"):  # errors are in the output lines
        return EXIT_DEVICE if any(not r.ok for r in readings) else EXIT_OK
    failed = 0
    for label, reading in zip(drfs, readings, strict=True):
        if reading.is_error:
            failed += 1
            code, error = reading.facility_code, reading.error_code
            print_error(PROG, device_error(label, code, error, reading.message))
    return EXIT_DEVICE if failed else EXIT_OK


def _check_spec(spec: str | None) -> None:
    """A ``-f`` spec no number accepts is a usage error (``-f x`` on a float still fails later)."""
    if spec is None:
        return
    for sample in (1.5, 1):
        try:
            format(sample, spec)
            return
        except (ValueError, TypeError):
            continue
    raise UsageError(f"invalid number format {spec!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """The ``acget`` console script: run with ``argv`` (default sys.argv); the exit status."""
    return run_tool(PROG, build_parser(), run, argv)
