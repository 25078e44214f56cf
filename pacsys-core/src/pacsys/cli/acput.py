"""``acput``: write one ACNET device (value, array, text or control command), like ``caput``.

The value is parsed completely before any backend is opened, so a parse error never
writes.  A summary shows the old and new value; ``--verify`` reads back until it matches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from pacsys.cli._format import device_error, format_value, status_name
from pacsys.cli._options import (
    EXIT_DEVICE,
    EXIT_OK,
    UsageError,
    add_connection_options,
    open_backend,
    parse_drfs,
    print_error,
    run_tool,
    timeout_of,
    tool_parser,
)
from pacsys.cli._values import CONTROL_WORDS, PutValue, parse_put_value
from pacsys.drf3 import DRF_PROPERTY, DataRequest
from pacsys.types import BasicControl, Reading, WriteResult

__all__ = ["build_parser", "main"]

PROG = "acput"

EXAMPLES = f"""examples:
  acput Z:ACLTST 45.5                 write the setting (prints old and new value)
  acput Z:ACLTST 45.5 --verify --tolerance 0.01 --retries 5
  acput 'B:WAVE[0:3]' 1 2 3 4         an array (also: 1,2,3,4 or '[1 2 3 4]')
  acput --text Z:TEXT 'beam on target'
  acput Z:ACLTST on                   a control command ({", ".join(CONTROL_WORDS)})
  acput Z:ACLTST.CONTROL reset --verify
  acput --dry-run Z:ACLTST 45.5       show what would be written, write nothing
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``acput``."""
    parser = tool_parser(
        PROG, "Write one ACNET device: a number, an array, text, or a control command.", EXAMPLES
    )
    parser.add_argument("drf", metavar="DRF", help="device to write (its SETTING property)")
    parser.add_argument("values", nargs="+", metavar="VALUE", help="value(s) to write")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("-s", "--text", action="store_true", help="write the words as text")
    kind.add_argument(
        "-A", "--array", action="store_true", help="write an array even for one value"
    )
    parser.add_argument("--verify", action="store_true", help="read back until it matches")
    parser.add_argument(
        "--tolerance", type=float, default=0.0, metavar="X", help="readback tolerance (--verify)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="extra readbacks before verification fails (default 2)",
    )
    parser.add_argument(
        "--verify-delay",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="wait before the first readback and between readbacks (default 0.3)",
    )
    parser.add_argument("-n", "--dry-run", action="store_true", help="show, but do not write")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stdout")
    add_connection_options(parser)
    return parser


def _verify_policy(args: argparse.Namespace) -> Any:
    from pacsys.verify import Verify

    if not args.verify:
        for option, given in (
            ("--tolerance", args.tolerance != 0.0),
            ("--retries", args.retries != 2),
            ("--verify-delay", args.verify_delay != 0.3),
        ):
            if given:
                raise UsageError(f"{option} needs --verify")
        return None
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    try:
        return Verify(
            tolerance=args.tolerance,
            initial_delay=args.verify_delay,
            retry_delay=args.verify_delay,
            max_attempts=args.retries + 1,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def _readback_drf(request: DataRequest, value: PutValue) -> tuple[str, str]:
    """(label, DRF) the summary reads before and after: STATUS for commands, else SETTING."""
    if not request.is_acnet:
        return request.to_canonical(event="U"), request.to_canonical(event="I")
    if value.kind == "control":
        label = request.to_canonical(
            property=DRF_PROPERTY.STATUS, range=None, event="U", extra=None
        )
        return label, f"{label}@I"
    label = request.to_canonical(property=DRF_PROPERTY.SETTING, event="U", extra=None)
    return label, request.to_canonical(property=DRF_PROPERTY.SETTING, event="I", extra=None)


def _shown(reading: Reading | None) -> str:
    if reading is None:
        return "(not read)"
    if not reading.ok:
        return f"({status_name(reading.facility_code, reading.error_code)})"
    units = f" {reading.units}" if reading.units else ""
    return f"{format_value(reading.value)}{units}"


def _try_get(backend: Any, drf: str, timeout: float) -> Reading | None:
    """Best-effort read for the summary; a failure only hides the line's value."""
    try:
        return backend.get(drf, timeout=timeout)
    except Exception:
        return None


def _write(device: Any, value: PutValue, verify: Any, timeout: float) -> WriteResult:
    if value.kind == "control":
        assert isinstance(value.value, BasicControl)
        return device.control(value.value, verify=verify or False, timeout=timeout)
    return device.write(value.value, verify=verify or False, timeout=timeout)


def run(args: argparse.Namespace) -> int:
    """Parse the value, write it (unless ``--dry-run``) and print the old and new value."""
    (request,) = parse_drfs([args.drf])
    try:
        value = parse_put_value(
            args.values, text=args.text, array=args.array, prop=request.property
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if value.kind == "control" and not request.is_acnet:
        raise UsageError(f"control commands need an ACNET device, not {args.drf!r}")
    verify = _verify_policy(args)
    timeout = timeout_of(args)
    label, readback = _readback_drf(request, value)
    if value.kind == "control":
        target = request.to_canonical(
            property=DRF_PROPERTY.CONTROL, range=None, event="U", extra=None
        )
    else:
        setting = DRF_PROPERTY.SETTING if request.is_acnet else None
        target = request.to_canonical(property=setting, event="U", extra=None)
    if args.dry_run:
        print(f"Would write {value.describe()} to {target} (nothing written)")
        return EXIT_OK

    from pacsys.device import Device

    with open_backend(args) as backend:
        device = Device(args.drf, backend=backend)
        old = None if args.quiet else _try_get(backend, readback, timeout)
        result = _write(device, value, verify, timeout)
        new = None
        if not args.quiet and result.ok:
            new = _try_get(backend, readback, timeout)
    if not args.quiet:
        print(f"Old : {label}  {_shown(old)}")
        if result.ok:
            print(f"New : {label}  {_shown(new)}")
        if result.verified is not None:
            verdict = "verified" if result.verified else "NOT verified"
            print(f"Sent: {value.describe()} to {target}  {verdict} (readbacks: {result.attempts})")
        elif result.ok:
            print(f"Sent: {value.describe()} to {target}")
    if not result.ok:
        code, error = result.facility_code, result.error_code
        print_error(PROG, "write failed: " + device_error(result.drf, code, error, result.message))
        return EXIT_DEVICE
    if result.verified is False:
        got = format_value(result.readback) if result.readback is not None else "nothing"
        print_error(
            PROG,
            f"{result.drf}: verification failed: read back {got}, expected "
            f"{value.describe()}" + (f" ({result.message})" if result.message else ""),
        )
        return EXIT_DEVICE
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The ``acput`` console script: run with ``argv`` (default sys.argv); the exit status."""
    return run_tool(PROG, build_parser(), run, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
