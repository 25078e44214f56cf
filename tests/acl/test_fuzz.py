"""Fuzzing the ACL client's reply parsing, the CGI query decoding and the interpreter.

Replies come from a web server and scripts from users or HTTP clients: whatever the text,
the client produces a Reading, the emulator decodes a script or None, and the interpreter
answers with ACL's own error lines, never an unexpected exception.  ``--fuzz`` runs
10,000 inputs per target.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pacsys.testing import FakeBackend
from pacsys.types import Reading
from pacsys_acl.backend import reading_from_line
from pacsys_acl.interpreter import ACLInterpreter, ACLOutcome
from pacsys_acl.parse import split_body
from pacsys_acl.request import PlanKind, ReadPlan
from pacsys_acl.server import decode_query

PLANS = [
    ReadPlan("M:OUTTMP", PlanKind.READ),
    ReadPlan("M:OUTTMP.RAW", PlanKind.READ, raw=True),
    ReadPlan("M:OUTTMP.DESCRIPTION", PlanKind.READ, description=True),
    ReadPlan("Z:ACLTST.STATUS.ON", PlanKind.READ, status_field="ON"),
]

# Text that looks like ACL replies: names, '=', numbers, units, error words, odd spacing.
REPLY_PIECES = st.sampled_from(
    [
        "M:OUTTMP",
        " ",
        "  =  ",
        "=",
        "72.5",
        "-4.007",
        "1e309",
        "nan",
        "inf",
        "0x1F",
        "DegF",
        "DIO_NOATT",
        " - ",
        "at line 1",
        "CLIB_SYNTAX",
        "\t",
        "\n",
        "00112233",
        "True",
        "on",
        "alarm maximum",
        "(",
        ")",
        "'",
        '"',
        "\\",
        ",",
        "[",
        "]",
        "\x00",
        "é",
    ]
)
REPLY_TEXT = st.one_of(st.text(max_size=80), st.lists(REPLY_PIECES, max_size=12).map("".join))

# Scripts from ACL's vocabulary and punctuation, so the parser gets past its first word.
SCRIPT_PIECES = st.sampled_from(
    [
        "read ",
        "set ",
        "show ",
        "print ",
        "on ",
        "reset ",
        "exit",
        "device_list/create ",
        "read_list ",
        "x",
        " = ",
        "Z:ACLTST",
        "M:OUTTMP",
        "/raw",
        "/setting",
        "/event=",
        "'p,1'",
        "/no_name",
        "/bogus",
        "/",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/ 0",
        "1",
        "2.5",
        '"text"',
        ";",
        "\n",
        " ",
        "devices='A,B'",
        "device_list=",
        "\\",
        "#",
        "é",
    ]
)
SCRIPTS = st.one_of(st.text(max_size=60), st.lists(SCRIPT_PIECES, max_size=15).map("".join))


@given(st.sampled_from(PLANS), REPLY_TEXT)
def test_any_reply_line_is_a_reading(plan: ReadPlan, text: str) -> None:
    for line in split_body(text) or [text]:
        reading = reading_from_line(plan, line)
        assert isinstance(reading, Reading) and reading.drf == plan.drf
        str(reading)


@given(st.text(max_size=120))
def test_any_query_decodes_to_a_script_or_none(query: str) -> None:
    script = decode_query(query)
    assert script is None or isinstance(script, str)


@given(SCRIPTS)
def test_any_script_runs_to_an_outcome(script: str) -> None:
    backend = FakeBackend()
    backend.set_reading("M:OUTTMP", 72.5, units="DegF")
    backend.set_reading("Z:ACLTST", 1.0)
    outcome = ACLInterpreter(backend, allow_settings=False).run(script)
    assert isinstance(outcome, ACLOutcome)
    assert backend.writes == []
    if outcome.error is not None:
        assert outcome.outputs[-1] == outcome.error
