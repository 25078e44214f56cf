"""``acinfo``: what a device is (DevDB metadata) and what it reads now (like ``cainfo``).

Metadata comes from the backend itself when it is a :class:`pacsys.metadata.MetadataSource`
(the simulator), else from DevDB (``pacsys.devdb()``, needs pacsys-grpc).  Without either,
the current reading, setting and status are still shown.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from pacsys.cli._format import (
    device_error,
    format_value,
    jsonable,
    reading_record,
    render_json,
    short_error,
    status_name,
)
from pacsys.cli._inforef import info_json, info_text, section_drfs
from pacsys.cli._options import (
    EXIT_DEVICE,
    EXIT_OK,
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
from pacsys.cli._refformat import ref_value, slice_value
from pacsys.metadata import DeviceInfoResult, PropertyInfo
from pacsys.metadata_sources import backend_source
from pacsys.types import Reading

__all__ = ["build_parser", "main", "metadata_for"]

PROG = "acinfo"
LIVE = ("reading", "setting", "status")

EXAMPLES = """examples:
  acinfo M:OUTTMP                 description, reading, setting, alarms, status
  acinfo -v Z:SIMPS               also each status bit and digital alarm bit
  acinfo M:OUTTMP G:AMANDA        several devices
  acinfo -f .2f Z:ACLTST          numbers through a Python format spec
  acinfo --format json Z:SIMPS    one JSON object per device
  acinfo --format details Z:ACLTST    DevDB metadata: units, limits, scaling, commands
  acinfo --format details -v Z:SIMPS  also scaling, status bit masks, property details
  acinfo --format details-json Z:ACLTST   all of it as JSON
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``acinfo``."""
    parser = tool_parser(
        PROG, "Show device metadata (DevDB) and the current reading, setting and status.", EXAMPLES
    )
    parser.add_argument("devices", nargs="+", metavar="DEVICE", help="device names (or DRFs)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show more detail")
    parser.add_argument(
        "--format",
        choices=("text", "json", "details", "details-json"),
        default="text",
        help="text (default): labelled sections; json: an object per line; details: DevDB "
        "metadata (units, limits, scaling, commands, bits) with the live values; details-json",
    )
    add_reference_options(parser, terse=False)
    add_connection_options(parser)
    return parser


def metadata_for(
    backend: object, name: str, timeout: float = 5.0
) -> tuple[DeviceInfoResult | None, str]:
    """(metadata or None, where it came from / why it is missing) for device ``name``.

    A backend source of the pacsys_metadata_sources hook answers first (the simulator for
    itself); otherwise the shared DevDB client.
    """
    own = backend_source(backend)
    if own is not None:
        return own.device_info(name), "backend"
    try:
        from pacsys import _simple

        devdb = _simple.get_devdb()
    except Exception as exc:
        return None, f"DevDB unavailable ({short_error(exc)})"
    if devdb is None:
        return None, "DevDB unavailable (install pacsys-grpc)"
    try:
        found = devdb.get_device_info([name], timeout=timeout)
    except Exception as exc:
        return None, f"DevDB unreachable ({short_error(exc)})"
    info = found.get(name) if hasattr(found, "get") else None
    return info, "DevDB"


def live_drfs(name: str, info: DeviceInfoResult | None) -> dict[str, str]:
    """What to read now: reading, setting, status (and the raw status word for bit states)."""
    drfs = {key: f"{name}.{key.upper()}@I" for key in LIVE}
    if info is not None and info.status_bits:
        drfs["bit_value"] = f"{name}.STATUS.BIT_VALUE@I"
    return drfs


def _shown(
    reading: Reading, units: str | None = None, spec: str | None = None, selection: Any = None
) -> str:
    if not reading.ok:
        return f"- ({status_name(reading.facility_code, reading.error_code)})"
    units = reading.units or units
    value = slice_value(reading.value, selection)
    text = format_value(value) if spec is None else ref_value(value, spec)
    return text + (f" {units}" if units else "")


def _units(prop: PropertyInfo | None) -> str | None:
    if prop is None:
        return None
    return prop.common_units or prop.primary_units


def _property_lines(label: str, prop: PropertyInfo, verbose: bool) -> list[str]:
    lines = []
    units = prop.common_units or "-"
    primary = f" (primary {prop.primary_units})" if prop.primary_units else ""
    lines.append(f"  {label} units: {units}{primary}")
    if prop.min_val != 0.0 or prop.max_val != 0.0:
        lines.append(f"  {label} limits: {prop.min_val:g} .. {prop.max_val:g}")
    if verbose:
        coeff = " ".join(f"{c:g}" for c in prop.coeff) or "-"
        lines.append(
            f"  {label} scaling: p_index {prop.p_index}, c_index {prop.c_index}, coeff {coeff}"
        )
        flags = [
            name
            for name in (
                "is_step_motor",
                "is_destructive_read",
                "is_fe_scaling",
                "is_contr_setting",
                "is_knobbable",
            )
            if getattr(prop, name)
        ]
        if flags:
            lines.append(f"  {label} flags: {', '.join(f[3:] for f in flags)}")
    return lines


def render_text(
    name: str,
    info: DeviceInfoResult | None,
    source: str,
    live: dict[str, Reading],
    verbose: bool,
    spec: str | None = None,
    selection: Any = None,
) -> str:
    """The text block for one device (``spec``/``selection``: ``-f``/``-r`` for values)."""
    reading = live["reading"]
    description = info.description if info is not None else None
    if not description and reading.meta is not None:
        description = reading.meta.description
    lines = [f"{name}  {description or ''}".rstrip()]
    if info is not None and verbose:
        lines.append(f"  device index: {info.device_index}  (metadata from {source})")
    elif info is None:
        lines.append(f"  metadata: {source}")
    reading_units = _units(info.reading) if info else None
    setting_units = _units(info.setting) if info else None
    lines.append(f"  reading: {_shown(live['reading'], reading_units, spec, selection)}")
    lines.append(f"  setting: {_shown(live['setting'], setting_units, spec, selection)}")
    lines.append(f"  status:  {_shown(live['status'])}")
    if info is not None:
        if info.reading is not None:
            lines += _property_lines("reading", info.reading, verbose)
        if info.setting is not None:
            lines += _property_lines("setting", info.setting, verbose)
        if info.control:
            commands = ", ".join(f"{c.short_name}({c.value})" for c in info.control)
            lines.append(f"  control commands: {commands}")
            if verbose:
                lines += [f"    {c.value}: {c.short_name}  {c.long_name}" for c in info.control]
        if info.status_bits:
            raw = _raw_status(live.get("bit_value"))
            lines.append("  status bits:")
            for bit in info.status_bits:
                state = ""
                if raw is not None:
                    state = bit.true_str if bit.is_active(raw) else bit.false_str
                    state = f" = {state}"
                detail = (
                    f"  (mask 0x{bit.mask:x} match 0x{bit.match:x}"
                    f"{' inverted' if bit.invert else ''})"
                    if verbose
                    else ""
                )
                lines.append(f"    {bit.short_name or bit.long_name}{state}{detail}")
        if verbose and info.ext_status_bits:
            lines.append("  extended status bits:")
            lines += [
                f"    bit {b.bit_no}: {b.description} ({b.name0}/{b.name1})"
                for b in info.ext_status_bits
            ]
    return "\n".join(lines)


def _raw_status(reading: Reading | None) -> int | None:
    """The raw status word from a BIT_VALUE reading, or None."""
    value = reading.value if reading is not None and reading.ok else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def record(
    name: str, info: DeviceInfoResult | None, source: str, live: dict[str, Reading]
) -> dict[str, Any]:
    """The JSON record for one device."""
    return {
        "name": name,
        "metadata_source": source,
        "metadata": jsonable(dataclasses.asdict(info)) if info is not None else None,
        **{key: reading_record(reading.drf, reading) for key, reading in live.items()},
    }


def _failure(name: str, exc: Exception) -> str:
    """One line for a batch that failed as a whole (same cause for every property)."""
    failed = [r for r in getattr(exc, "readings", ()) if not r.ok]
    if failed:
        first = failed[0]
        return device_error(name, first.facility_code, first.error_code, first.message)
    return f"{name}: {exc}"


def run(args: argparse.Namespace) -> int:
    """Print each device: 0.3.0's sections (text, json) or metadata and live values (details)."""
    requests = parse_drfs(args.devices)
    names = list(dict.fromkeys(request.device for request in requests))
    timeout = timeout_of(args)
    selection = range_of(args)
    reference = args.format in ("text", "json")
    failed = printed = 0
    records = []
    said: set[str] = set()  # one connection failure is reported once, not per property
    from pacsys import _simple
    from pacsys.errors import ReadError

    try:
        with open_backend(args) as backend:
            for name in names:
                info, source = metadata_for(backend, name, timeout)
                wanted = section_drfs(name, info) if reference else live_drfs(name, info)
                try:
                    readings = backend.get_many(list(wanted.values()), timeout=timeout)
                except ReadError as exc:
                    failed += 1
                    text = _failure(name, exc)
                    cause = text.removeprefix(f"{name}: ")
                    if cause not in said:
                        said.add(cause)
                        print_error(PROG, text)
                    continue
                live = dict(zip(wanted, readings, strict=True))
                index = info.device_index if info is not None else None
                if args.format == "json":
                    line, bad = info_json(name, live, index)
                    failed += bad
                    print(line, flush=True)
                    continue
                if args.format == "text":
                    block, bad = info_text(
                        name,
                        live,
                        device_index=index,
                        verbose=args.verbose,
                        spec=args.number_format,
                        selection=selection,
                    )
                    failed += bad
                    print(("\n" if printed else "") + block, flush=True)
                    printed += 1
                    continue
                if info is None and all(not r.ok for r in readings):
                    failed += 1
                    first = readings[0]
                    code, error = first.facility_code, first.error_code
                    print_error(PROG, device_error(name, code, error, first.message))
                    continue
                if args.format == "details-json":
                    records.append(record(name, info, source, live))
                else:
                    if printed:
                        print()
                    printed += 1
                    block = render_text(
                        name, info, source, live, args.verbose, args.number_format, selection
                    )
                    print(block, flush=True)
    finally:
        _simple.shutdown()  # the DevDB client, if one was created
    if args.format == "details-json":
        print(render_json(records))
    return EXIT_DEVICE if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """The ``acinfo`` console script: run with ``argv`` (default sys.argv); the exit status."""
    return run_tool(PROG, build_parser(), run, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
