"""``acput``: write one ACNET device (value, array, text or control command), like ``caput``.

The value is parsed completely before any backend is opened, so a parse error never
writes.  A summary shows the old and new value; ``--verify`` reads back until it matches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from pacsys.cli._format import device_error, format_value, status_name
from pacsys.cli._options import (
    EXIT_DEVICE,
    EXIT_OK,
    UsageError,
    add_connection_options,
    add_reference_options,
    open_backend,
    parse_drfs,
    print_error,
    run_tool,
    timeout_of,
    tool_parser,
)
from pacsys.cli._refformat import write_result_line
from pacsys.cli._values import CONTROL_WORDS, PutValue, parse_put_value
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest, parse_request
from pacsys.drf_utils import prepare_for_write
from pacsys.types import BasicControl, Reading, WriteResult

__all__ = ["build_parser", "main"]

PROG = "acput"
#: ``--retries`` default: readbacks in total (0.3.0's meaning).
RETRIES = 3
VERIFY_DELAY = 0.3

EXAMPLES = f"""examples:
  acput Z:ACLTST 45.5                 write the setting; prints "Z:ACLTST ok"
  acput Z:ACLTST 41 G:AMANDA 11       several DEVICE VALUE pairs
  acput -t Z:ACLTST 42                terse: just "ok"
  acput --verify --tolerance 0.01 --retries 5 Z:ACLTST 45.5
  acput --format json Z:ACLTST 43     one JSON object per write
  acput 'Z:SIMTBL[0:3]' 1,2,3,4       an array (also: 1 2 3 4 or '[1 2 3 4]')
  acput Z:SIMTXT 'beam on, target'    a word that is not a number is written as text
  acput --text Z:SIMTXT beam on target    several words as one text
  acput Z:SIMPS on                    a control command ({", ".join(CONTROL_WORDS)})
  acput --verify Z:SIMPS.CONTROL reset
  acput Z:ACLTST.ANALOG.MAX 80        one alarm field (also .MIN, .ALARM_ENABLE, .NOM, .MASK)
  acput --format summary Z:ACLTST 45.5    old and new value
  acput --dry-run Z:ACLTST 45.5       show what would be written, write nothing
"""

FORMAT_CHOICES = ("text", "json", "summary")


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``acput``."""
    parser = tool_parser(
        PROG,
        "Write ACNET devices: numbers, arrays, text, control commands or alarm fields.",
        EXAMPLES,
    )
    parser.add_argument(
        "items",
        nargs="+",
        metavar="DEVICE VALUE",
        help="DEVICE VALUE pairs, or one DEVICE followed by several array values",
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("-s", "--text", action="store_true", help="write the words as one text")
    kind.add_argument(
        "-A", "--array", action="store_true", help="write an array even for one value"
    )
    parser.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        default="text",
        help="text (default): 'DEVICE ok'; json: an object per write; summary: old/new value",
    )
    add_reference_options(parser, number_format=False)
    parser.add_argument("--verify", action="store_true", help="read back until it matches")
    parser.add_argument(
        "--tolerance", type=float, metavar="X", help="readback tolerance (implies --verify)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=RETRIES,
        metavar="N",
        help=f"readbacks in total before verification fails (default {RETRIES})",
    )
    parser.add_argument(
        "--verify-delay",
        type=float,
        default=VERIFY_DELAY,
        metavar="SECONDS",
        help=f"wait before the first readback and between readbacks (default {VERIFY_DELAY})",
    )
    parser.add_argument("-n", "--dry-run", action="store_true", help="show, but do not write")
    parser.add_argument("-q", "--quiet", action="store_true", help="nothing on stdout")
    add_connection_options(parser)
    return parser


def _verify_policy(args: argparse.Namespace) -> Any:
    from pacsys.verify import Verify

    if args.tolerance is not None:
        args.verify = True
    if not args.verify:
        for option, given in (
            ("--retries", args.retries != RETRIES),
            ("--verify-delay", args.verify_delay != VERIFY_DELAY),
        ):
            if given:
                raise UsageError(f"{option} needs --verify")
        return None
    if args.retries < 1:
        raise UsageError("--retries must be at least 1")
    try:
        return Verify(
            tolerance=args.tolerance or 0.0,
            initial_delay=args.verify_delay,
            retry_delay=args.verify_delay,
            max_attempts=args.retries,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


@attrs.frozen
class Planned:
    """One write, decided before any backend is opened."""

    label: str
    request: DataRequest
    value: PutValue
    target: str


def _is_device(word: str) -> bool:
    try:
        return parse_request(word).is_acnet
    except (ValueError, TypeError):
        return False


def split_pairs(items: Sequence[str], text: bool, array: bool) -> list[tuple[str, list[str]]]:
    """``[(DEVICE, value words)]``: DEVICE VALUE pairs, else one DEVICE and its value words.

    Several pairs need an even count with a device name at every other place (0.3.0's
    form); otherwise everything after the first DEVICE is its value words (an array).
    """
    if len(items) < 2:
        raise UsageError("give a DEVICE and a VALUE")
    pairs = [(items[i], [items[i + 1]]) for i in range(0, len(items) - 1, 2)]
    if (
        not text
        and not array
        and len(items) % 2 == 0
        and all(_is_device(device) for device, _ in pairs)
    ):
        return pairs
    if not text and any(_is_device(word) for word in items[1:]):
        raise UsageError("arguments must be alternating DEVICE VALUE pairs")
    return [(items[0], list(items[1:]))]


def _verify_target_ok(request: DataRequest, value: PutValue) -> None:
    """``--verify`` can check SETTING, control commands and single alarm fields."""
    if not request.is_acnet or value.kind == "control":
        return
    if request.field is DRF_FIELD.RAW:
        raise UsageError(
            f"--verify cannot check RAW fields (values are not bytes): {request.raw_string}"
        )
    alarm = request.property in (DRF_PROPERTY.ANALOG, DRF_PROPERTY.DIGITAL)
    if alarm and request.field is DRF_FIELD.ALL:
        raise UsageError(
            "--verify supports SETTING, basic control, and single ANALOG/DIGITAL alarm "
            f"fields, not {request.raw_string}"
        )


def plan(args: argparse.Namespace, verifying: bool) -> list[Planned]:
    """Parse every DEVICE and VALUE; UsageError before anything is written."""
    planned = []
    for device, words in split_pairs(args.items, args.text, args.array):
        (request,) = parse_drfs([device])
        try:
            value = parse_put_value(words, text=args.text, array=args.array, prop=request.property)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if value.kind == "control":
            if not request.is_acnet:
                raise UsageError(f"control commands need an ACNET device, not {device!r}")
            target = request.to_canonical(
                property=DRF_PROPERTY.CONTROL, range=None, event="N", extra=None
            )
        else:
            target = prepare_for_write(request.to_canonical(extra=None))
        if verifying:
            _verify_target_ok(request, value)
        planned.append(Planned(device, request, value, target))
    return planned


def _readback_drf(request: DataRequest, value: PutValue) -> tuple[str, str]:
    """(label, DRF) read before and after: STATUS for commands, else the written property."""
    if not request.is_acnet:
        return request.to_canonical(event="U"), request.to_canonical(event="I")
    if value.kind == "control":
        label = request.to_canonical(
            property=DRF_PROPERTY.STATUS, range=None, event="U", extra=None
        )
        return label, f"{label}@I"
    written = parse_request(prepare_for_write(request.to_canonical(extra=None)))
    return written.to_canonical(event="U"), written.to_canonical(event="I")


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


def _write(backend: Any, item: Planned, verify: Any, timeout: float) -> WriteResult:
    """Send one planned write, verified when ``verify`` is a policy."""
    if item.value.kind == "control":
        from pacsys.device import Device

        assert isinstance(item.value.value, BasicControl)
        device = Device(item.label, backend=backend)
        return device.control(item.value.value, verify=verify or False, timeout=timeout)
    from pacsys.verify import verified_write

    value = item.value.value

    def send() -> WriteResult:
        return backend.write(item.target, value, timeout=timeout)

    if verify is None:
        return send()
    readback = _readback_drf(item.request, item.value)[1]
    return verified_write(
        write=send,
        read_back=lambda: backend.read(readback, timeout),
        expected=value,
        write_drf=item.target,
        verify=verify,
    )


def _summary(backend: Any, item: Planned, verify: Any, timeout: float) -> WriteResult:
    """Write with the old and new value around it (``--format summary``)."""
    label, readback = _readback_drf(item.request, item.value)
    old = _try_get(backend, readback, timeout)
    result = _write(backend, item, verify, timeout)
    new = _try_get(backend, readback, timeout) if result.ok else None
    print(f"Old : {label}  {_shown(old)}")
    if result.ok:
        print(f"New : {label}  {_shown(new)}")
    described = item.value.describe()
    if result.verified is not None:
        verdict = "verified" if result.verified else "NOT verified"
        print(f"Sent: {described} to {item.target}  {verdict} (readbacks: {result.attempts})")
    elif result.ok:
        print(f"Sent: {described} to {item.target}")
    if not result.ok:
        code, error = result.facility_code, result.error_code
        print_error(PROG, "write failed: " + device_error(result.drf, code, error, result.message))
    elif result.verified is False:
        got = format_value(result.readback) if result.readback is not None else "nothing"
        print_error(
            PROG,
            f"{result.drf}: verification failed: read back {got}, expected {described}"
            + (f" ({result.message})" if result.message else ""),
        )
    return result


def run(args: argparse.Namespace) -> int:
    """Parse every pair, write them (unless ``--dry-run``) and print one line per write."""
    verify = _verify_policy(args)
    planned = plan(args, verify is not None)
    timeout = timeout_of(args)
    if args.dry_run:
        for item in planned:
            print(f"Would write {item.value.describe()} to {item.target} (nothing written)")
        return EXIT_OK
    style = "terse" if args.terse else args.format
    failed = False
    with open_backend(args) as backend:
        for item in planned:
            if style == "summary" and not args.quiet:
                result = _summary(backend, item, verify, timeout)
            else:
                result = _write(backend, item, verify, timeout)
                if not args.quiet:
                    print(write_result_line(result, style, verify is not None), flush=True)
            if not result.ok or result.verified is False:
                failed = True
    return EXIT_DEVICE if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The ``acput`` console script: run with ``argv`` (default sys.argv); the exit status."""
    return run_tool(PROG, build_parser(), run, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
