"""pacsys 0.3.0's documented tool invocations run unchanged here (docs/cli.md, "Compatibility").

Each tool runs as a subprocess, reads over DPM from the simulator behind a DPMServer on
loopback, addressed the 0.3.0 way (``-H 127.0.0.1 -P PORT``); writes go to the in-process
simulator (``-b sim``), since DPM writes need Kerberos (the Kerberos test covers that path).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .cli_tools import address, closed_port, run, simulated_dpm

TS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"
NUM = r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?"


@pytest.fixture(scope="module")
def dpm() -> Iterator[tuple[str, ...]]:
    """``-H 127.0.0.1 -P PORT`` of a DPMServer in front of the simulator."""
    with simulated_dpm() as (_, server):
        yield address(server)


def lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


# --- acget ----------------------------------------------------------------------------------


def test_acget_text_lines(dpm: tuple[str, ...]) -> None:
    out = lines(run("acget", *dpm, "M:OUTTMP", "G:AMANDA", "Z:SIMTXT", "Z:SIMRAW"))
    assert re.fullmatch(rf"M:OUTTMP  {NUM} DegF  {TS}", out[0]), out[0]
    assert re.fullmatch(rf"G:AMANDA  {NUM} V  {TS}", out[1]), out[1]
    assert re.fullmatch(rf"Z:SIMTXT  Hello from the pacsys simulator  {TS}", out[2]), out[2]
    assert re.fullmatch(rf"Z:SIMRAW  00112233445566778899aabbccddeeff  {TS}", out[3]), out[3]


def test_acget_terse_wins_over_json(dpm: tuple[str, ...]) -> None:
    outtmp, setting = lines(run("acget", *dpm, "-t", "M:OUTTMP", "G:AMANDA.SETTING"))
    assert re.fullmatch(NUM, outtmp) and setting == "10"
    (only,) = lines(run("acget", *dpm, "-t", "--format", "json", "M:OUTTMP"))
    assert re.fullmatch(NUM, only)


def test_acget_json_lines(dpm: tuple[str, ...]) -> None:
    out = lines(run("acget", *dpm, "--format", "json", "M:OUTTMP", "Z:SIMTXT", "Z:SIMPS.STATUS"))
    outtmp, text, status = (json.loads(line) for line in out)
    assert list(outtmp) == ["device", "ok", "value", "units", "timestamp"]
    assert outtmp["device"] == "M:OUTTMP" and outtmp["units"] == "DegF"
    assert text == {**text, "value": "Hello from the pacsys simulator", "units": None}
    assert status["device"] == "Z:SIMPS" and status["value"]["ready"] is True


def test_acget_number_format_and_range(dpm: tuple[str, ...]) -> None:
    (line,) = lines(run("acget", *dpm, "-f", ".2f", "M:OUTTMP"))
    assert re.fullmatch(rf"M:OUTTMP  -?\d+\.\d\d DegF  {TS}", line), line
    out = lines(run("acget", *dpm, "-f", "08.3f", "M:OUTTMP", "G:AMANDA.SETTING"))
    assert out[1].startswith("G:AMANDA  0010.000 V  ")
    (wave,) = lines(run("acget", *dpm, "-r", "0:5", "Z:SIMWAV"))
    assert re.fullmatch(rf"Z:SIMWAV  (?:{NUM} ){{5}}mV  {TS}", wave), wave
    (tail,) = lines(run("acget", *dpm, "-r=-3:", "-f", ".1f", "Z:SIMWAV"))
    assert re.fullmatch(rf"Z:SIMWAV  (?:-?\d+\.\d ){{3}}mV  {TS}", tail), tail
    (mixed,) = lines(run("acget", *dpm, "Z:SIMWAV", "-r", "-1"))  # options after DRFs
    assert len(mixed.split()) == 5


def test_acget_status_and_alarm_blocks(dpm: tuple[str, ...]) -> None:
    out = lines(run("acget", *dpm, "Z:SIMPS.STATUS", "Z:SIMPS.DIGITAL", "M:OUTTMP.ANALOG"))
    assert re.fullmatch(rf"Z:SIMPS  on=F ready=T remote=T positive=T ramp=F  {TS}", out[0])
    assert out[1].startswith('Z:SIMPS  {"nominal":3,"mask":3,')
    assert out[2].startswith('M:OUTTMP  {"minimum":0.0,"maximum":100.0,')


def test_acget_error_lines_exit_1(dpm: tuple[str, ...]) -> None:
    done = run("acget", *dpm, "Z:NOSUCH", "M:OUTTMP")
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"{'Z:NOSUCH':<28} [ERROR] ") and "DPM_NO_SUCH_DEVICE" in first
    done = run("acget", *dpm, "-t", "Z:NOSUCH")
    assert done.returncode == 1 and done.stdout.startswith("[ERROR] ")
    done = run("acget", *dpm, "--format", "json", "Z:NOSUCH")
    record = json.loads(done.stdout)
    assert (
        done.returncode == 1 and record["ok"] is False and "DPM_NO_SUCH_DEVICE" in record["error"]
    )


def test_acget_nothing_listening_exit_1() -> None:
    done = run("acget", "-H", "127.0.0.1", "-P", str(closed_port()), "--timeout", "5", "M:OUTTMP")
    assert done.returncode == 1
    assert done.stdout.startswith(f"{'M:OUTTMP':<28} [ERROR] ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("-r", "1:2:3:4", "M:OUTTMP"), 2, "Invalid slice: '1:2:3:4'"),
        (("Z:SIMPS.CONTROL",), 2, "cannot read the CONTROL property"),
        (("-f", "x", "M:OUTTMP"), 1, "Unknown format code 'x'"),
        (("M:OUTTMP@",), 2, "invalid DRF"),
    ],
)
def test_acget_refusals(args: tuple[str, ...], status: int, message: str) -> None:
    done = run("acget", "-b", "sim", *args)
    assert done.returncode == status, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


# --- acput ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("Z:ACLTST", "45.5"), ["Z:ACLTST ok"]),
        (("Z:ACLTST", "41", "G:AMANDA", "11"), ["Z:ACLTST ok", "G:AMANDA ok"]),
        (("-t", "Z:ACLTST", "42"), ["ok"]),
        (("--verify", "Z:ACLTST", "44"), ["Z:ACLTST ok (verified, readback=44.0)"]),
        (("--tolerance", "0.01", "-t", "Z:ACLTST", "44.5"), ["ok (verified)"]),
        (("--verify", "Z:SIMPS", "OFF"), ["Z:SIMPS ok (verified, readback=False)"]),
        (("Z:SIMTBL[0:3]", "1,2,3,4"), ["Z:SIMTBL ok"]),
        (("Z:SIMTXT", "beam on, target"), ["Z:SIMTXT ok"]),
    ],
)
def test_acput_reference_lines(args: tuple[str, ...], expected: list[str]) -> None:
    assert lines(run("acput", "-b", "sim", *args)) == expected


def test_acput_json_lines() -> None:
    (plain,) = lines(run("acput", "-b", "sim", "--format", "json", "Z:ACLTST", "43"))
    assert json.loads(plain) == {"device": "Z:ACLTST", "ok": True, "confirmed": True}
    (checked,) = lines(run("acput", "-b", "sim", "--verify", "--format", "json", "Z:ACLTST", "45"))
    assert json.loads(checked) == {
        "device": "Z:ACLTST",
        "ok": True,
        "confirmed": True,
        "verified": True,
        "readback": 45.0,
    }


def test_acput_failures_exit_1() -> None:
    done = run("acput", "-b", "sim", "Z:ACLTST", "450")
    assert done.returncode == 1 and done.stdout.startswith("Z:ACLTST  FAILED: ")
    assert "DIO_RANGE" in done.stdout
    done = run("acput", "-b", "sim", "Z:ACLTST", "0x10")  # 0.3.0 sends this as text
    assert done.returncode == 1 and "needs a number, got str" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--retries", "0", "--verify", "Z:ACLTST", "1"), "--retries must be at least 1"),
        (("Z:ACLTST", "nan"), "non-finite value not allowed: 'nan'"),
        (("Z:ACLTST", "1", "G:AMANDA"), "arguments must be alternating DEVICE VALUE pairs"),
        (("--verify", "Z:SIMPS.ANALOG", "1"), "single ANALOG/DIGITAL alarm fields"),
        (("--verify", "Z:SIMRAW.SETTING.RAW", "1"), "--verify cannot check RAW fields"),
    ],
)
def test_acput_refusals_exit_2(args: tuple[str, ...], message: str) -> None:
    done = run("acput", "-b", "sim", *args)
    assert done.returncode == 2 and message in done.stderr


# --- acmonitor ------------------------------------------------------------------------------


def test_acmonitor_text_lines_and_summary(dpm: tuple[str, ...]) -> None:
    done = run("acmonitor", *dpm, "-n", "4", "M:OUTTMP@p,500", "G:AMANDA")
    out = lines(done)
    assert len(out) == 4
    assert all(re.fullmatch(rf"(M:OUTTMP|G:AMANDA)  {NUM} (DegF|V)  {TS}", x) for x in out), out
    summary = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"--- \d readings from (M:OUTTMP@p,500|G:AMANDA\.READING@p,1000)"
        r"(, \d readings from \S+)? \(total in \d+\.\ds\) ---",
        summary,
    ), summary


def test_acmonitor_timestamp_formats(dpm: tuple[str, ...]) -> None:
    out = lines(run("acmonitor", *dpm, "-n", "3", "-s", "epoch", "M:OUTTMP@p,200"))
    assert all(re.fullmatch(rf"M:OUTTMP  {NUM} DegF  \d{{10}}\.\d{{3}}", x) for x in out), out
    out = lines(run("acmonitor", *dpm, "-n", "3", "-s", "relative", "M:OUTTMP@p,200"))
    assert out[0].endswith("  0.000")
    assert all(re.fullmatch(rf"M:OUTTMP  {NUM} DegF  \d+\.\d{{3}}", x) for x in out), out
    out = lines(run("acmonitor", *dpm, "-n", "2", "--format", "json", "-s", "epoch", "M:OUTTMP"))
    assert all(isinstance(json.loads(x)["timestamp"], float) for x in out)


def test_acmonitor_terse_format_and_range(dpm: tuple[str, ...]) -> None:
    out = lines(run("acmonitor", *dpm, "-n", "3", "-t", "M:OUTTMP@p,200"))
    assert len(out) == 3 and all(re.fullmatch(NUM, x) for x in out)
    out = lines(run("acmonitor", *dpm, "-n", "2", "-r", "0:3", "-f", ".2f", "Z:SIMWAV@p,200"))
    assert all(re.fullmatch(rf"Z:SIMWAV  (?:-?\d+\.\d\d ){{3}}mV  {TS}", x) for x in out), out


def test_acmonitor_count_below_one_exit_2() -> None:
    done = run("acmonitor", "-b", "sim", "-n", "0", "M:OUTTMP")
    assert done.returncode == 2 and "COUNT must be at least 1" in done.stderr


# --- acinfo, --version ------------------------------------------------------------------------


def test_acinfo_host_port_and_number_format(dpm: tuple[str, ...]) -> None:
    out = lines(run("acinfo", *dpm, "-f", ".2f", "M:OUTTMP"))
    assert out[0] == "M:OUTTMP (di=27235)"
    assert out[1] == "  Description:      Outdoor temperature"
    assert re.fullmatch(r"  Reading:          -?\d+\.\d\d DegF \(SCALAR\)", out[2]), out
    assert out[3].startswith("  Analog alarm:     minimum=0.00, maximum=100.00, alarm_enable=True")
    assert len(out) == 4  # no setting, status or digital alarm: those sections are left out


def test_acinfo_sections_verbose_and_json(dpm: tuple[str, ...]) -> None:
    out = lines(run("acinfo", *dpm, "Z:SIMPS"))
    assert out[0] == "Z:SIMPS (di=283924)"
    assert "  Setting:          100 A (SCALAR)" in out
    assert "  Status:           OFF, READY, REMOTE, POSITIVE, DC" in out
    assert "  Digital status:   001110  (6 bits)" in out
    assert out[-1].startswith("  Digital alarm:    nominal=00000011, mask=00000011, ")
    verbose = lines(run("acinfo", *dpm, "-v", "Z:SIMPS"))
    assert "    Bit 3:  1  Polarity: Pos" in verbose
    assert "    Bit 0:  nominal=1  mask=1  (monitored)" in verbose
    assert any(x.startswith("  Analog alarm:     Z:SIMPS.ANALOG@I: ") for x in verbose)
    (line,) = lines(run("acinfo", *dpm, "--format", "json", "Z:SIMPS"))
    record = json.loads(line)
    assert list(record)[:3] == ["device", "device_index", "description"]
    assert record["setting"] == {"value": 100.0, "units": "A", "type": "SCALAR"}
    assert record["digital_status"][1] == {"bit": 1, "value": 1, "label": "Ready", "text": "Ready"}
    assert "analog_alarm" not in record


def test_acinfo_unknown_device_sections_fail(dpm: tuple[str, ...]) -> None:
    done = run("acinfo", *dpm, "Z:NOSUCH")
    assert done.returncode == 1
    out = done.stdout.splitlines()
    assert out[0] == "Z:NOSUCH"
    assert out[1].startswith("  Description:      [ERROR] ") and "DPM_NO_SUCH_DEVICE" in out[1]


@pytest.mark.parametrize(
    "argv",
    [
        *[(tool, "--version") for tool in ("acget", "acput", "acmonitor", "acinfo")],
        *[(tool, "--version") for tool in ("pacsys-get", "pacsys-put", "pacsys-monitor")],
        ("pacsys-info", "--version"),
        *[("pacsys", command, "--version") for command in ("plugins", "demo", "serve")],
        ("pacsys", "--version"),
    ],
)
def test_version_everywhere(argv: tuple[str, ...]) -> None:
    import pacsys

    done = run(*argv)
    assert done.returncode == 0, done.stderr
    if argv == ("pacsys", "--version"):  # the umbrella command also lists the distributions
        assert done.stdout.startswith(f"pacsys {pacsys.__version__} (pacsys-core ")
    else:
        assert done.stdout == f"pacsys {pacsys.__version__}\n"


# --- Issue 20: single alarm fields -----------------------------------------------------------


@pytest.mark.parametrize(
    ("drf", "value", "readback"),
    [
        ("Z:ACLTST.ANALOG.MAX", "50", "50.0"),
        ("Z:ACLTST.ANALOG.MIN", "-50", "-50.0"),
        ("Z:SIMPS.DIGITAL.NOM", "1", "1"),
        ("Z:SIMPS.DIGITAL.MASK", "2", "2"),
    ],
)
def test_acput_alarm_field_verified_subprocess(drf: str, value: str, readback: str) -> None:
    done = run("acput", "-b", "sim", "--verify", "--verify-delay", "0", drf, value)
    assert done.stdout == f"{drf.split('.', maxsplit=1)[0]} ok (verified, readback={readback})\n", (
        done.stderr
    )
    dry = run("acput", "-b", "sim", "--dry-run", drf, value)
    assert dry.stdout == f"Would write {value} to {drf}@N (nothing written)\n"


@pytest.mark.kerberos
def test_acput_alarm_field_over_dpm(
    service_keytab: Callable[[str], Path], kerberos_user: str
) -> None:
    """Over DPM with Kerberos: the alarm field is written, then read back by acget."""
    keytab = service_keytab("daeset/bd/localhost")
    roles = {"testing": ["Z:ACLTST", "Z:SIMPS"]}
    with simulated_dpm(keytab=keytab, roles=roles) as (sim, server):
        where = address(server)
        auth = ("-a", "kerberos", "--role", "testing")
        done = run("acput", *where, *auth, "--verify", "Z:ACLTST.ANALOG.MAX", "55")
        assert done.stdout == "Z:ACLTST ok (verified, readback=55.0)\n", done.stderr
        done = run("acput", *where, *auth, "Z:SIMPS.DIGITAL.NOM", "1")
        assert done.stdout == "Z:SIMPS ok\n", done.stderr
        out = lines(run("acget", *where, "-t", "Z:ACLTST.ANALOG.MAX", "Z:SIMPS.DIGITAL.NOM"))
        assert out == ["55", "1"]
        assert sim.read("Z:ACLTST.SETTING@I") == 40.0  # the setting was not touched
