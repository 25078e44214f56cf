"""Pure response parsing and DRF -> command mapping (docs/protocols/acl.md §2-§4, §7.3)."""

from __future__ import annotations

import math

import pytest

from pacsys.types import ValueType
from pacsys_acl.parse import (
    ACLParseError,
    error_message,
    is_error_line,
    parse_raw,
    parse_status_line,
    parse_value,
    split_body,
)
from pacsys_acl.request import PlanKind, acl_quote, build_url, plan_read

# --- 4.1 / 4.2 value lines ---------------------------------------------------------------

VALUE_LINES = [
    ("M:OUTTMP       =  72.5 DegF", ValueType.SCALAR, 72.5),
    ("G:AMANDA       =  66", ValueType.SCALAR, 66.0),
    ("G:AMANDA       =  66    oops", ValueType.SCALAR, 66.0),
    ("Z:ACLTST alarm maximum = 50 blip", ValueType.SCALAR, 50.0),
    ("Z:ACLTST alarm minimum = -4.007 DegF", ValueType.SCALAR, -4.007),
    ("B:HS23T = 45  2.2  2  102.81933", ValueType.SCALAR_ARRAY, [45.0, 2.2, 2.0, 102.81933]),
    ("B:HS23T = 45  2.2  3.0 blip", ValueType.SCALAR_ARRAY, [45.0, 2.2, 3.0]),
    ("X:Y = 1.0  2.0 V", ValueType.SCALAR_ARRAY, [1.0, 2.0]),
    ("  12.68", ValueType.SCALAR, 12.68),
    ("X:Y = 1.23e-4", ValueType.SCALAR, 1.23e-4),
    ("X:Y = inf", ValueType.SCALAR, math.inf),
    ("X:Y = 1 of 2", ValueType.TEXT, "1 of 2"),
    ("M:X = MODE - MAIN_INJ", ValueType.TEXT, "MODE - MAIN_INJ"),
    ("X:Y =", ValueType.TEXT, "X:Y ="),
]


@pytest.mark.parametrize(("line", "value_type", "value"), VALUE_LINES)
def test_value_lines(line: str, value_type: ValueType, value: object) -> None:
    assert not is_error_line(line)
    assert parse_value(line) == (value_type, value)


def test_value_nan_and_description_is_always_text() -> None:
    kind, value = parse_value("X:Y = nan")
    assert kind is ValueType.SCALAR and math.isnan(value)  # type: ignore[arg-type]
    line = "M:OUTTMP = Outdoor temperature (F)"
    assert parse_value(line, description=True) == (ValueType.TEXT, "Outdoor temperature (F)")
    assert parse_value("M:X = 12 volts", description=True) == (ValueType.TEXT, "12 volts")


def test_first_equals_only() -> None:
    assert parse_value("A:B = x = y") == (ValueType.TEXT, "x = y")


# --- 4.3 raw -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "data"),
    [
        ("M:OUTTMP       = 2C9F", b"\x9f\x2c"),
        ("Z:ACLTST       = 000042F0", b"\xf0\x42\x00\x00"),
        ("X:Y = 0x4290 0x0000", b"\x90\x42\x00\x00"),
        ("X:Y = ABC", b"\xbc\x0a"),
        ("X:Y = 2C9F DegF", b"\x9f\x2c"),
        ("X:Y =", b""),
        (
            "N:H801 = C220 0000E7D8 0000F4A4 00 01 00 00 0000 0002 0000",
            bytes.fromhex("20c2d8e70000a4f4000000010000000002000000"),
        ),
    ],
)
def test_raw(line: str, data: bytes) -> None:
    assert parse_raw(line) == data


def test_raw_without_hex_is_an_error() -> None:
    with pytest.raises(ACLParseError, match="No hex data found in ACL /raw output"):
        parse_raw("X:Y = zz")


# --- 4.4 status lines --------------------------------------------------------------------


def test_status_lines() -> None:
    assert parse_status_line("N:LGXS is on = False", "ON") is False
    assert parse_status_line("N:LGXS is ramping = True", "RAMP") is True
    with pytest.raises(ACLParseError, match="Unparseable READY line"):
        parse_status_line("N:LGXS is ready = maybe", "READY")
    with pytest.raises(ACLParseError, match="Unparseable ON line"):
        parse_status_line("N:LGXS is on", "ON")


# --- 4.5 error lines ---------------------------------------------------------------------

ERROR_LINES = [
    ("! Device not found", "Device not found"),
    (
        "Invalid device name (Z:BAD) in read device command at line 0 - DIO_NO_SUCH",
        "Invalid device name (Z:BAD) in read device command at line 0 - DIO_NO_SUCH",
    ),
    (
        "Invalid read value variable (G:AMANDA) specified in read_device command at line 1"
        " - CLIB_SYNTAX",
        "Invalid read value variable (G:AMANDA) specified in read_device command at line 1"
        " - CLIB_SYNTAX",
    ),
    ("Error in read device command - DIO_NOSCALE", "Error in read device command - DIO_NOSCALE"),
    (
        "Error determining status text in read device command at line 1 - Z:ACLTST DIO_NOATT",
        "Error determining status text in read device command at line 1 - Z:ACLTST DIO_NOATT",
    ),
]


@pytest.mark.parametrize(("line", "message"), ERROR_LINES)
def test_error_lines(line: str, message: str) -> None:
    assert is_error_line(line)
    assert error_message(line) == message


@pytest.mark.parametrize(
    "line", ["M:X = MODE - MAIN_INJ", "a - lowercase_code", "x - NOUNDERSCORE", "plain"]
)
def test_not_error_lines(line: str) -> None:
    assert not is_error_line(line)


def test_split_body() -> None:
    assert split_body("\n  A = 1\nB = 2\n\n") == ["A = 1", "B = 2"]
    assert split_body("  \n") == []


# --- docs/protocols/acl.md §2, §3, §7.3: command mapping -----------------------------------

COMMANDS = [
    ("M:OUTTMP", "read+M:OUTTMP"),
    ("M:OUTTMP.READING", "read+M:OUTTMP.READING"),
    ("M:OUTTMP@U", "read+M:OUTTMP@U"),
    ("M_OUTTMP", "read+M:OUTTMP.SETTING"),
    ("M_OUTTMP@U", "read+M:OUTTMP.SETTING"),
    ("M~OUTTMP", "read+M:OUTTMP.DESCRIPTION"),
    ("M@OUTTMP", "read+M:OUTTMP.ANALOG"),
    ("M$OUTTMP", "read+M:OUTTMP.DIGITAL"),
    ("M:OUTTMP@I", "read+M:OUTTMP.READING"),
    ("M:OUTTMP@N", "read+M:OUTTMP.READING"),
    ("B:HS23T[0:3]@I", "read+B:HS23T.READING[0:3]"),
    ("B:HS23T[0:3]", "read+B:HS23T[0:3]"),
    ("M:OUTTMP.RAW", "read+M:OUTTMP.RAW/raw"),
    ("M:OUTTMP@e,02", "read/pendwait+M:OUTTMP.READING/event='e,02'"),
    ("M:OUTTMP@E,02,e,500", "read/pendwait+M:OUTTMP.READING/event='E,02,e,500'"),
    ("M:OUTTMP.RAW@e,0f", "read/pendwait+M:OUTTMP.READING.RAW/raw/event='e,0f'"),
    ("Z:ACLTST.MAX", "read+Z:ACLTST.MAX"),
    ("Z:ACLTST.STATUS.ON", "read+Z:ACLTST.STATUS.ON"),
]


@pytest.mark.parametrize(("drf", "command"), COMMANDS)
def test_command_mapping(drf: str, command: str) -> None:
    plan = plan_read(drf)
    assert plan.kind is PlanKind.READ
    assert plan.commands == (command,)


def test_plan_flags() -> None:
    assert plan_read("M~OUTTMP").description
    assert plan_read("M:OUTTMP.RAW").raw
    assert plan_read("Z:ACLTST.STATUS.ON").status_field == "ON"
    assert plan_read("Z:ACLTST.STATUS.RAW").status_field is None


@pytest.mark.parametrize(
    ("drf", "device"),
    [
        ("N|LGXS", "N:LGXS"),
        ("Z:ACLTST.STATUS", "Z:ACLTST"),
        ("N|LGXS[2]@I", "N:LGXS"),
        ("N:LGXS.STATUS.ALL", "N:LGXS"),
    ],
)
def test_basic_status_plan(drf: str, device: str) -> None:
    plan = plan_read(drf)
    assert plan.kind is PlanKind.STATUS
    assert plan.commands == tuple(
        f"read+{device}.STATUS.{w}" for w in ("ON", "READY", "REMOTE", "POSITIVE", "RAMP")
    )


@pytest.mark.parametrize(
    ("drf", "words"),
    [
        ("M:OUTTMP@p,1000", "periodic/streaming events"),
        ("M:OUTTMP@q,500", "periodic/streaming events"),
        ("M:OUTTMP<-LOGGER:1000:2000", "<- extra/logger qualifier"),
    ],
)
def test_refused(drf: str, words: str) -> None:
    plan = plan_read(drf)
    assert plan.kind is PlanKind.REFUSED
    assert plan.refusal is not None and words in plan.refusal


def test_malformed_drf_raises() -> None:
    with pytest.raises(ValueError):
        plan_read("M:OUTTMP.NOPE")
    with pytest.raises(TypeError):
        plan_read(42)  # type: ignore[arg-type]


def test_quoting() -> None:
    assert acl_quote("B:X[0:3]{1:2}@U|$,") == "B:X[0:3]{1:2}@U|$,"
    assert acl_quote("a b/c'") == "a%20b%2Fc%27"
    assert build_url("http://h/acl.pl", "read+X") == "http://h/acl.pl?acl=read+X"
    assert build_url("http://h/acl.pl?x=1", "read+X") == "http://h/acl.pl?x=1&acl=read+X"
