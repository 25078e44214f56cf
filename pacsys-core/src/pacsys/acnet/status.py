"""ACNET status codes: (facility, error) packing, the named-code table and message helpers.

A status is a facility (1-255, the subsystem that reported it) plus a signed 8-bit error number
(0 success, > 0 warning, < 0 failure). The 216 named codes live in the shipped ``codes.json``;
each becomes a module constant holding its composite value (``ACNET_REQTMO == -1535``), so the
table has a single source.
"""

from __future__ import annotations

import enum
import functools
import json
import os
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "ACNET_OK",
    "ACNET_SUCCESS",
    "ERR_NOPROP",
    "ERR_OK",
    "ERR_RETRY",
    "ERR_TIMEOUT",
    "FACILITY_ACNET",
    "FACILITY_APM",
    "FACILITY_APPDS",
    "FACILITY_CBS",
    "FACILITY_CLIB",
    "FACILITY_CMU",
    "FACILITY_DAE",
    "FACILITY_DBM",
    "FACILITY_DIO",
    "FACILITY_DMQ",
    "FACILITY_DPM",
    "FACILITY_FSHARE",
    "FACILITY_FTP",
    "FACILITY_LJ",
    "FACILITY_LOCK",
    "AcnetFacility",
    "StatusCode",
    "ftp_status_message",
    "lookup",
    "lookup_name",
    "make_error",
    "normalize_error_code",
    "parse_error",
    "status_message",
]


class AcnetFacility(enum.IntEnum):
    """Subsystem that produced a status (the low byte of the 16-bit status word)."""

    ACNET = 1
    FSHARE = 2
    APM = 3
    LJ = 4
    CBS = 5
    CMU = 6
    CLIB = 7
    LOCK = 8
    APPDS = 9
    DIO = 14
    FTP = 15
    DBM = 16
    DPM = 17
    DAE = 66
    DMQ = 72


# Plain-integer facility and error numbers for code that builds Readings/WriteResults.
FACILITY_ACNET: Final = 1
FACILITY_FSHARE: Final = 2
FACILITY_APM: Final = 3
FACILITY_LJ: Final = 4
FACILITY_CBS: Final = 5
FACILITY_CMU: Final = 6
FACILITY_CLIB: Final = 7
FACILITY_LOCK: Final = 8
FACILITY_APPDS: Final = 9
FACILITY_DIO: Final = 14
FACILITY_FTP: Final = 15
FACILITY_DBM: Final = 16
FACILITY_DPM: Final = 17
FACILITY_DAE: Final = 66
FACILITY_DMQ: Final = 72

ERR_OK: Final = 0
ERR_RETRY: Final = -1
ERR_TIMEOUT: Final = -6
ERR_QUEFULL: Final = -7
ERR_NOPROP: Final = -13

ACNET_OK: Final = 0
ACNET_SUCCESS: Final = 0

# Name prefixes status_message() will quote; FTP codes are deliberately left out.
_MESSAGE_PREFIXES: Final = frozenset({"ACNET", "DIO", "DPM", "DBM", "DAE", "DMQ"})


def make_error(facility: int, error: int) -> int:
    """Composite status ``facility + error * 256`` (negative for failures)."""
    return facility + error * 256


def parse_error(code: int) -> tuple[int, int]:
    """Decode a composite or unsigned 16-bit status into ``(facility, signed error)``."""
    facility = code & 0xFF
    error = (code >> 8) & 0xFF
    return facility, error - 256 if error > 127 else error


def normalize_error_code(code: int) -> int:
    """Reinterpret an error byte delivered unsigned (e.g. 250) as signed (-6)."""
    return code - 256 if code > 127 else code


@dataclass(frozen=True)
class StatusCode:
    """One named status code from the table."""

    name: str
    facility: int
    error: int
    meaning: str
    description: str | None = None
    ftp_message: str | None = None

    @property
    def composite(self) -> int:
        return make_error(self.facility, self.error)

    @property
    def status_u16(self) -> int:
        """The 16-bit wire form: high byte error (two's complement), low byte facility."""
        return self.composite & 0xFFFF

    @property
    def severity(self) -> str:
        """``"success"``, ``"warning"`` or ``"error"`` from the sign of the error number."""
        if self.error == 0:
            return "success"
        return "warning" if self.error > 0 else "error"


def _load_rows() -> tuple[list[str], list[list[object]]]:
    """The shipped ``codes.json``: its field names and its rows (table order)."""
    with open(os.path.join(os.path.dirname(__file__), "codes.json"), encoding="utf-8") as file:
        raw = json.load(file)
    return raw["fields"], raw["codes"]


_FIELDS, _ROWS = _load_rows()
_NAME, _FACILITY, _ERROR = (_FIELDS.index(key) for key in ("name", "facility", "error"))


@functools.cache
def _tables() -> tuple[MappingProxyType[str, StatusCode], MappingProxyType[int, StatusCode]]:
    """Name -> StatusCode and composite -> StatusCode, built on first lookup: the records
    cost every process that only needs the constants (all of them) a few milliseconds."""
    codes: MappingProxyType[str, StatusCode] = MappingProxyType(
        {
            str(row[_NAME]): StatusCode(**dict(zip(_FIELDS, row, strict=True)))  # type: ignore[arg-type]  # codes.json rows
            for row in _ROWS
        }
    )
    return codes, MappingProxyType({code.composite: code for code in codes.values()})


def lookup_name(name: str) -> StatusCode:
    """The named code (case-insensitive); KeyError for an unknown name."""
    try:
        return _tables()[0][name.upper()]
    except KeyError:
        raise KeyError(name) from None


def lookup(facility: int, error: int) -> StatusCode | None:
    """The named code for ``(facility, error)``, or None when it has no name."""
    return _tables()[1].get(make_error(facility, error))


def status_message(facility: int, error: int) -> str | None:
    """Human-readable text for a status; None for success (error 0)."""
    if error == 0:
        return None
    where = f"(facility={facility}, error={error})"
    code = lookup(facility, error)
    if code is not None and code.name.split("_", 1)[0] in _MESSAGE_PREFIXES:
        if code.description:
            return f"{code.name}: {code.description} {where}"
        return f"{code.name}: {'warning' if error > 0 else 'error'} {where}"
    return f"Device error {where}" if error < 0 else f"Warning {where}"


def ftp_status_message(status: int) -> str:
    """Fast Time Plot text for a status (composite or unsigned 16-bit form)."""
    facility, error = parse_error(status)
    if facility != FACILITY_FTP:
        return f"non-FTP status (facility={facility}, error={error})"
    code = lookup(facility, error)
    if code is not None and code.ftp_message:
        return code.ftp_message
    return f"unknown FTP status (error={error})"


# Every named code becomes a module constant holding its composite value
# (ACNET_REQTMO == -1535), generated from the data file and listed in __all__ so that
# ``from pacsys.acnet import DPM_PRIV`` and star re-exports see them.
globals().update({str(row[_NAME]): make_error(row[_FACILITY], row[_ERROR]) for row in _ROWS})  # type: ignore[arg-type]
__all__.extend(row[_NAME] for row in _ROWS)  # type: ignore[misc]

CODES: MappingProxyType[str, StatusCode]
"""Every named status code, by name, in table order (built on first use, so not in
``__all__``: star imports take the constants, not the records)."""


def __getattr__(name: str) -> Any:
    """``CODES`` on first use; otherwise only for static type checkers: the generated
    constants above are ``int``, and at run time already module globals."""
    if name == "CODES":
        return _tables()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
