"""ACLInterpreter: the transcripts of docs/protocols/acl.md byte for byte, and ACL semantics."""

from __future__ import annotations

import re

import pytest

from pacsys.testing import FakeBackend
from pacsys.types import BasicControl
from pacsys_acl.backend import ACLBackend
from pacsys_acl.interpreter import ACLInterpreter, ACLSyntaxError
from pacsys_acl.server import ACLServer

NOATT = "Error determining status text in read device command at line 1 - Z:ACLTST DIO_NOATT"

# (docs/protocols/acl.md section, device seed, interpreter options, script, exact output)
TRANSCRIPTS = [
    ("10 one-shot", {}, {}, "read M:OUTTMP", "M:OUTTMP       =  72.500 DegF"),
    (
        "10 one-shot, two commands",
        {"outtmp": 7.313, "amanda_units": "oops"},
        {},
        "read M:OUTTMP; read G:AMANDA",
        "M:OUTTMP       =  7.313 DegF\n\nG:AMANDA       =  66    oops",
    ),
    ("10 one-shot, no output", {}, {}, "set x 1", ""),
    ("11.2 session read", {}, {}, "read M:OUTTMP", "M:OUTTMP       =  72.500 DegF"),
    ("11.2 session assignment", {}, {}, "myvar = M:OUTTMP", ""),
    ("9 mock line", {}, {"decimals": 1}, "read M:OUTTMP", "M:OUTTMP       =  72.5 DegF"),
    ("4.1 scalar no units", {}, {}, "read G:AMANDA", "G:AMANDA       =  66"),
    (
        "4.1 padded units",
        {"amanda_units": "oops"},
        {},
        "read G:AMANDA",
        "G:AMANDA       =  66    oops",
    ),
    ("4.1 alarm max", {}, {}, "read Z:ACLTST.MAX", "Z:ACLTST alarm maximum = 50 blip"),
    ("4.1 alarm min", {}, {}, "read Z:ACLTST.MIN", "Z:ACLTST alarm minimum = -4.007 DegF"),
    (
        "7.2 description",
        {},
        {},
        "read M:OUTTMP.DESCRIPTION",
        "M:OUTTMP = Outdoor temperature (F)",
    ),
    ("7.2 description ~", {}, {}, "read M~OUTTMP", "M:OUTTMP = Outdoor temperature (F)"),
    ("9 raw", {}, {}, "read M:OUTTMP.RAW/raw", "M:OUTTMP       = 2C9F"),
    ("4.1 raw 4 bytes", {}, {}, "read Z:ACLTST.RAW/raw", "Z:ACLTST       = 000042F0"),
    ("4.1 status field", {}, {}, "read N:LGXS.STATUS.ON", "N:LGXS is on = False"),
    ("9 status on", {}, {}, "read Z:ACLTST.STATUS.ON", "Z:ACLTST is on = False"),
    ("9 status ready", {}, {}, "read Z:ACLTST.STATUS.READY", "Z:ACLTST is ready = True"),
    ("9 status remote", {}, {}, "read Z:ACLTST.STATUS.REMOTE", NOATT),
    ("9 status positive", {}, {}, "read Z:ACLTST.STATUS.POSITIVE", "Z:ACLTST is positive = False"),
    ("9 status ramp", {}, {}, "read Z:ACLTST.STATUS.RAMP", "Z:ACLTST is ramping = False"),
    (
        "4.5 not found",
        {},
        {},
        "read Z:NOTFND",
        "Invalid device name (Z:NOTFND) in read device command at line 1 - DBM_NOREC",
    ),
    (
        "8 device list",
        {},
        {},
        "device_list/create devs devices='M:OUTTMP,G:AMANDA';"
        "read_list/no_name/no_units device_list=devs",
        "  72.500\n  66",
    ),
]


@pytest.mark.parametrize(
    ("where", "seed", "options", "script", "expected"),
    TRANSCRIPTS,
    ids=[t[0] for t in TRANSCRIPTS],
)
def test_spec_transcripts(make_spec_backend, where, seed, options, script, expected) -> None:
    interp = ACLInterpreter(make_spec_backend(**seed), **options)
    assert interp.execute(script) == expected


def test_cgi_exchange_bytes(make_spec_backend) -> None:
    """docs/protocols/acl.md §9: the two-device exchange, byte for byte (mock precision)."""
    import httpx

    with ACLServer(make_spec_backend(), decimals=1) as server:
        response = httpx.get(f"{server.url}?acl=read+M:OUTTMP\\;read+G:AMANDA", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == b"M:OUTTMP       =  72.5 DegF\nG:AMANDA       =  66\n"


# --- script semantics -----------------------------------------------------------------------


def test_abort_keeps_output_so_far(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    outcome = interp.run("read M:OUTTMP; read Z:NOTFND; read G:AMANDA")
    assert outcome.failed
    assert outcome.outputs == (
        "M:OUTTMP       =  72.500 DegF",
        "Invalid device name (Z:NOTFND) in read device command at line 1 - DBM_NOREC",
    )
    assert outcome.error == outcome.outputs[-1]
    assert not spec_backend.was_read("G:AMANDA")


def test_line_numbers_count_script_lines(spec_backend) -> None:
    out = ACLInterpreter(spec_backend).execute("read M:OUTTMP\n\nread Z:NOTFND")
    assert out.endswith("at line 3 - DBM_NOREC")


def test_syntax_errors_stop_before_anything_runs(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    outcome = interp.run("read M:OUTTMP; frobnicate M:OUTTMP")
    assert outcome.outputs == ("Unknown command (frobnicate) at line 1 - CLIB_SYNTAX",)
    assert outcome.failed
    assert spec_backend.reads == []
    with pytest.raises(ACLSyntaxError) as info:
        interp.run("read M:OUTTMP\nfrobnicate", strict=True)
    assert isinstance(info.value, ValueError) and info.value.line == 2
    with pytest.raises(TypeError):
        interp.execute(b"read M:OUTTMP")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("read/raw M:OUTTMP", "Invalid qualifier (/raw) in read command"),
        ("read M:OUTTMP/bogus", "Invalid device qualifier (/bogus)"),
        ("read", "Missing device name in read command"),
        ("print 'unterminated", "Unterminated quoted string"),
        ("read 42", "Invalid read value variable (42) specified in read_device command"),
        ("print nope", "Undefined variable (nope)"),
        ("read M:OUTTMP/event='zz'", "Invalid event (zz)"),
        ("set M:OUTTMP", "set needs a device or variable and a value"),
    ],
)
def test_syntax_error_lines(spec_backend, script, words) -> None:
    out = ACLInterpreter(spec_backend).execute(script)
    assert out.startswith(words)
    assert re.fullmatch(r".* at line 1 - CLIB_SYNTAX", out)


def test_event_and_pendwait(spec_backend) -> None:
    out = ACLInterpreter(spec_backend).execute("read/pendwait M:OUTTMP.READING/event='e,02'")
    assert spec_backend.reads == ["M:OUTTMP.READING@e,02"]
    assert out == "M:OUTTMP       =  72.480 DegF"  # FakeBackend's deterministic event offset


def test_setting_property_label_and_qualifier(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    assert interp.execute("read M_OUTTMP") == "M_OUTTMP       =  70.000 DegF"
    assert interp.execute("read M:OUTTMP/setting") == "M_OUTTMP       =  70.000 DegF"


def test_arrays_and_whole_status(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    assert interp.execute("read B:HS23T") == "B:HS23T        =  45.000  2.200  2.000  102.819 mm"
    assert interp.execute("read/no_units B:HS23T[1:2]") == "B:HS23T        =  2.200  2.000"
    assert interp.execute("read Z:ACLTST.STATUS") == (
        "Z:ACLTST = on False, ready True, positive False, ramp False"
    )


def test_set_device_and_variables(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    assert interp.execute("set M:OUTTMP 80; read M:OUTTMP") == "M:OUTTMP       =  80.000 DegF"
    assert spec_backend.writes == [("M:OUTTMP", 80.0)]
    assert interp.execute("set x 1; set x x + 1; read x") == "x              =  2"


def test_set_failures(spec_backend) -> None:
    spec_backend.set_write_result("Z:ACLTST", success=False, error_code=-17, message="nope")
    out = ACLInterpreter(spec_backend).execute("set Z:ACLTST 5")
    assert out.startswith("Error in set device command at line 1 - Z:ACLTST ")
    assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", out.split()[-1])


def test_basic_control_verbs(spec_backend) -> None:
    assert ACLInterpreter(spec_backend).execute("on Z:ACLTST; reset Z:ACLTST") == ""
    assert spec_backend.writes == [
        ("Z:ACLTST.CONTROL", BasicControl.ON),
        ("Z:ACLTST.CONTROL", BasicControl.RESET),
    ]


def test_show_device_and_variable(spec_backend) -> None:
    out = ACLInterpreter(spec_backend).execute("show M:OUTTMP; y = 'hello'; show y")
    assert out == (
        "M:OUTTMP = Outdoor temperature (F)\n"
        "M:OUTTMP       =  72.500 DegF\n"
        "M_OUTTMP       =  70.000 DegF\n\n"
        "y = hello"
    )
    assert ACLInterpreter(spec_backend).execute("show Z:NOTFND").endswith("DBM_NOREC")


def test_print_and_expressions(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    script = "x = 2; y = (x + 1) * 3 - 1; print 'y=' y ', t=' M:OUTTMP / 2 ' a;b'"
    assert interp.execute(script) == "y=8, t=36.250 a;b"
    assert interp.execute("print 1 / 0") == "Division by zero at line 1 - CLIB_DIVZERO"
    assert interp.execute("print -x") == "Undefined variable (x) at line 1 - CLIB_SYNTAX"


def test_scope_shared_between_runs(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend)
    scope = interp.new_scope()
    assert interp.execute("x = 5", scope=scope) == ""
    assert interp.execute("print x * 2", scope=scope) == "10"
    assert interp.execute("print x").endswith("CLIB_SYNTAX")  # fresh scope per run


def test_exit_and_outcome_lines(spec_backend) -> None:
    outcome = ACLInterpreter(spec_backend).run("show M:OUTTMP; read G:AMANDA; exit; read M:OUTTMP")
    assert not outcome.failed
    assert outcome.lines == [
        "M:OUTTMP = Outdoor temperature (F)",
        "M:OUTTMP       =  72.500 DegF",
        "M_OUTTMP       =  70.000 DegF",
        "G:AMANDA       =  66",
    ]


def test_device_errors_from_plain_fake() -> None:
    fake = FakeBackend()
    fake.set_reading("Z:ACLTST", 1.0)
    out = ACLInterpreter(fake).execute("read Z:ACLTST.DESCRIPTION")
    assert out == "Error in read device command at line 1 - Z:ACLTST DBM_NOPROP"


def test_over_the_acl_backend_itself(acl_server) -> None:
    """Interpreter -> ACLBackend -> HTTP -> emulator -> FakeBackend: errors pass through."""
    with ACLBackend(acl_server.url, timeout=5) as backend:
        interp = ACLInterpreter(backend)
        assert interp.execute("read M:OUTTMP") == "M:OUTTMP       =  72.500"
        assert interp.execute("read Z:NOTFND") == (
            "Invalid device name (Z:NOTFND) in read device command at line 1 - DBM_NOREC"
        )
        assert interp.execute("set M:OUTTMP 1") == (
            "Settings are not supported in set device command at line 1 - "
            "M:OUTTMP DIO_NOT_SUPPORTED"
        )


def test_constructor_validation(spec_backend) -> None:
    with pytest.raises(TypeError):
        ACLInterpreter(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ACLInterpreter(spec_backend, decimals=-1)
    with pytest.raises(ValueError):
        ACLInterpreter(spec_backend, timeout=0)


def test_settings_can_be_disabled(spec_backend) -> None:
    interp = ACLInterpreter(spec_backend, allow_settings=False)
    assert interp.execute("off Z:ACLTST") == (
        "Settings are disabled in off device command at line 1 - Z:ACLTST DIO_NOPRIV"
    )
    assert interp.execute("set x 3; print x") == "3"  # variables are not settings
    assert spec_backend.writes == []


# --- hostile scripts: every malformed input is a CLIB_SYNTAX line, never an exception --------

# Found before anything runs (``strict=True`` raises them); then found while evaluating.
HOSTILE_SCRIPTS = [
    ("set Z:ACLTST/ 45", "Empty qualifier in (Z:ACLTST/) at line 1 - CLIB_SYNTAX"),
    ("set Z:ACLTST/bogus 45", "Invalid device qualifier (/bogus) at line 1 - CLIB_SYNTAX"),
]
HOSTILE_EXPRESSIONS = [
    (
        "x = " + "(" * 1000 + "1" + ")" * 1000,
        "Expression nested more than 100 levels deep at line 1 - CLIB_SYNTAX",
    ),
    (
        "print " + "(" * 101 + "1" + ")" * 101,
        "Expression nested more than 100 levels deep at line 1 - CLIB_SYNTAX",
    ),
]


@pytest.mark.parametrize(
    ("script", "line"),
    HOSTILE_SCRIPTS + HOSTILE_EXPRESSIONS,
    ids=range(len(HOSTILE_SCRIPTS + HOSTILE_EXPRESSIONS)),
)
def test_hostile_script_is_a_syntax_line(script: str, line: str) -> None:
    backend = FakeBackend()
    backend.set_reading("Z:ACLTST", 1.0)
    outcome = ACLInterpreter(backend).run(script)
    assert outcome.error == line
    assert backend.writes == []


@pytest.mark.parametrize(("script", "line"), HOSTILE_SCRIPTS)
def test_hostile_script_raises_when_strict(script: str, line: str) -> None:
    with pytest.raises(
        ACLSyntaxError, match=re.escape(line.removesuffix(" at line 1 - CLIB_SYNTAX"))
    ):
        ACLInterpreter(FakeBackend()).run(script, strict=True)


def test_deep_but_legal_nesting_and_long_sign_chains() -> None:
    interp = ACLInterpreter(FakeBackend())
    assert interp.execute("print " + "(" * 100 + "1" + ")" * 100) == "1"
    assert interp.execute("x = " + "-" * 5000 + "2; print x") == "2"
    assert interp.execute("print -+-2.5") == "2.500"
