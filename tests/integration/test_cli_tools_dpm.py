"""acget, acput, acmonitor, acinfo end to end: subprocesses against the simulator over DPM.

The ``served`` fixture yields what a tool needs to reach a backend (extra arguments and
environment): the simulator behind a DPM server on loopback.  A few tests run ``main()``
in-process with a FakeBackend plugin, where they must observe the backend directly
(nothing written on a parse error, reconnects after a stream failure, the progress bar).
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from pacsys.backends.reconnect import ReconnectPolicy
from pacsys.hookspecs import BackendSpec, hookimpl
from pacsys.registry import get_registry
from pacsys.testing import FakeBackend
from pacsys.types import BackendCapability, WriteResult

from .cli_tools import BIN, closed_port, reaped, start, tool_env

TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


@attrs.frozen
class Served:
    """How a tool reaches the backend under test."""

    args: tuple[str, ...]
    env: dict[str, str]


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    from pacsys.sim import SimBackend

    with SimBackend() as backend:
        yield backend


@pytest.fixture(scope="module")
def served(sim: Any) -> Iterator[Served]:
    """The simulator served over DPM on loopback."""
    from pacsys_dpm.server import DPMServer

    with DPMServer(sim, port=0) as server:
        yield Served((), {**tool_env(), **server.client_env()})


def run(
    tool: str, *args: str, served: Served | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run an installed console script (``acget`` ...) and capture its output."""
    env = served.env if served is not None else tool_env()
    extra = served.args if served is not None else ()
    return subprocess.run(
        [str(BIN / tool), *args, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


# --- acget ----------------------------------------------------------------------------------


def test_acget_table_aligned(served: Served) -> None:
    done = run(
        "acget",
        "--format",
        "table",
        "--header",
        "M:OUTTMP",
        "Z:ACLTST.SETTING",
        "Z:SIMTXT",
        served=served,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VALUE", "UNITS", "STATUS"]
    column = lines[0].index("VALUE")
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in lines)
    name, value, units, status = lines[1].split()
    assert (name, units, status) == ("M:OUTTMP", "DegF", "OK")
    assert -40 <= float(value) <= 130
    assert lines[2].split()[1:] == ["40", "mm", "OK"]
    assert "Hello from the pacsys simulator" in lines[3]


def test_acget_json_and_csv(served: Served) -> None:
    done = run("acget", "--format", "json", "M:OUTTMP", "Z:SIMWAV", "Z:SIMRAW", served=served)
    assert done.returncode == 0, done.stderr
    outtmp, wave, raw = (json.loads(line) for line in done.stdout.splitlines())
    assert isinstance(outtmp["value"], float) and outtmp["units"] == "DegF"
    assert len(wave["value"]) == 1024 and wave["ok"] is True
    assert raw["value"] == "ABEiM0RVZneImaq7zN3u/w=="  # 0.3.0's JSON: bytes as base64
    done = run("acget", "--format", "csv", "M:OUTTMP", "Z:SIMWAV", served=served)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["drf"] for r in rows] == ["M:OUTTMP", "Z:SIMWAV"]
    assert len(rows[1]["value"].split()) == 1024 and rows[0]["status"] == "OK"


def test_acget_arrays_compact_unless_full(served: Served) -> None:
    done = run("acget", "--format", "table", "Z:SIMWAV", "Z:SIMWAV[0:3]", served=served)
    assert done.returncode == 0, done.stderr
    compact, short = done.stdout.splitlines()
    assert "(1024 values)" in compact and " ... " in compact
    assert re.search(r"\[\S+ \S+ \S+ \S+\]", short)
    done = run("acget", "--format", "table", "--full", "Z:SIMWAV", served=served)
    values = done.stdout.split("[", 1)[1].split("]", 1)[0].split()
    assert len(values) == 1024


def test_acget_raw_shows_hex_bytes(served: Served) -> None:
    done = run("acget", "--format", "table", "--raw", "M:OUTTMP", served=served)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"M:OUTTMP\s+([0-9a-f]{2} ?)+\s+OK\n", done.stdout)


def test_acget_device_error_exit_1_with_status_name(served: Served) -> None:
    done = run("acget", "--format", "table", "M:OUTTMP", "M:NOPE", served=served)
    assert done.returncode == 1
    assert "M:OUTTMP" in done.stdout and "DPM_NO_SUCH_DEVICE" in done.stdout
    assert "acget: M:NOPE: DPM_NO_SUCH_DEVICE" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("M:OUTTMP.FOO",), "invalid DRF 'M:OUTTMP.FOO'"),
        (("-b", "nosuch", "M:OUTTMP"), "unknown backend 'nosuch'; installed backends: "),
        (("-a", "nosuch", "M:OUTTMP"), "unknown auth method 'nosuch'"),
        (("--raw", "M:OUTTMP.DESCRIPTION"), "--raw is not possible"),
        ((), "give at least one DRF"),
        (("--format", "xml", "M:OUTTMP"), "invalid choice: 'xml'"),
        (("-a", "jwt", "M:OUTTMP"), "backend 'dpm' accepts auth kerberos, not 'jwt'"),
        (("-b", "sim", "--host", "h", "M:OUTTMP"), "backend 'sim' does not take --host"),
        (("-b", "sim", "--role", "r", "M:OUTTMP"), "backend 'sim' does not use --role"),
        (("--port", "0", "M:OUTTMP"), "port must be from 1 to 65535"),
    ],
)
def test_acget_usage_errors_exit_2(served: Served, args: tuple[str, ...], message: str) -> None:
    done = run("acget", *args, served=served)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "usage: acget" in done.stderr
    assert "Traceback" not in done.stderr


def test_host_and_port_options_override_environment(served: Served) -> None:
    host, port = served.env["PACSYS_DPM_HOST"], served.env["PACSYS_DPM_PORT"]
    elsewhere = Served((), {**served.env, "PACSYS_DPM_PORT": str(closed_port())})
    done = run("acget", "--timeout", "2", "M:OUTTMP", served=elsewhere)
    assert done.returncode == 1 and "M:OUTTMP" in done.stderr
    done = run(
        "acget", "--format", "table", "--host", host, "--port", port, "M:OUTTMP", served=elsewhere
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[2:] == ["DegF", "OK"]


def test_unknown_backend_lists_installed_ones(served: Served) -> None:
    done = run("acget", "-b", "nosuch", "M:OUTTMP", served=served)
    for name in get_registry().backend_names():
        assert name in done.stderr


def test_acget_piped_to_head_no_traceback(served: Served) -> None:
    args = [str(BIN / "acget"), "--full", *(["Z:SIMWAV"] * 12)]
    producer = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=served.env
    )
    head = subprocess.run(["head", "-c", "50"], stdin=producer.stdout, capture_output=True)
    assert producer.stdout is not None
    producer.stdout.close()
    _, err = producer.communicate(timeout=60)
    assert len(head.stdout) == 50
    assert producer.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_acget_reads_drfs_from_stdin(served: Served, tmp_path: Path) -> None:
    listing = tmp_path / "devices.txt"
    listing.write_text("# a comment\nM:OUTTMP\n\nG:AMANDA  # trailing comment\n")
    done = run("acget", "--file", str(listing), served=served)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["M:OUTTMP", "G:AMANDA"]


# --- acput ----------------------------------------------------------------------------------


def test_acput_scalar_verified_summary() -> None:
    done = run(
        "acput",
        "-b",
        "sim",
        "--format",
        "summary",
        "Z:ACLTST",
        "45.5",
        "--verify",
        "--verify-delay",
        "0",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Old : Z:ACLTST.SETTING  40 mm"
    assert lines[1] == "New : Z:ACLTST.SETTING  45.5 mm"
    assert lines[2] == "Sent: 45.5 to Z:ACLTST.SETTING@N  verified (readbacks: 1)"


def test_acput_array_text_and_control() -> None:
    summary = ("-b", "sim", "--format", "summary")
    done = run("acput", *summary, "Z:SIMTBL[0:2]", "1", "2", "3", "--verify")
    assert done.returncode == 0, done.stderr
    assert "New : Z:SIMTBL.SETTING[0:2]  [1 2 3] A" in done.stdout
    done = run("acput", *summary, "--text", "Z:SIMTXT", "beam", "on", "target")
    assert done.returncode == 0, done.stderr
    assert "New : Z:SIMTXT.SETTING  beam on target" in done.stdout
    done = run("acput", *summary, "Z:SIMPS", "on", "--verify", "--verify-delay", "0.05")
    assert done.returncode == 0, done.stderr
    assert "Old : Z:SIMPS.STATUS  on=false" in done.stdout
    assert "New : Z:SIMPS.STATUS  on=true" in done.stdout
    assert "Sent: ON to Z:SIMPS.CONTROL@N  verified" in done.stdout


def test_acput_negative_value_and_dry_run() -> None:
    done = run("acput", "-b", "sim", "--dry-run", "Z:ACLTST", "-5")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Would write -5 to Z:ACLTST.SETTING@N (nothing written)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Z:ACLTST", "1", "x"), "array element 'x' is not a number"),
        (("Z:ACLTST", "45", "--retries", "2"), "--retries needs --verify"),
        (("Z:ACLTST.CONTROL", "45"), "control command must be one of"),
        (("Z:ACLTST",), "give a DEVICE and a VALUE"),
        (("Z:ACLTST", "nan"), "non-finite value not allowed: 'nan'"),
        (("--verify", "Z:SIMPS.ANALOG", "1"), "single ANALOG/DIGITAL alarm fields"),
    ],
)
def test_acput_usage_errors(args: tuple[str, ...], message: str) -> None:
    done = run("acput", "-b", "sim", *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_acput_write_refused_exit_1(served: Served) -> None:
    """The DPM server without a keytab refuses settings; acput says why, exit 1."""
    done = run("acput", "Z:ACLTST", "3", served=served)
    assert done.returncode == 1
    assert done.stderr.startswith("acput: ") and "Traceback" not in done.stderr


@pytest.mark.kerberos
def test_acput_over_dpm_with_kerberos(
    service_keytab: Callable[[str], Path], kerberos_user: str
) -> None:
    from pacsys.sim import SimBackend
    from pacsys_dpm.server import DPMServer

    keytab = service_keytab("daeset/bd/localhost")
    roles = {"testing": ["Z:ACLTST"]}
    with SimBackend() as sim, DPMServer(sim, port=0, keytab=keytab, roles=roles) as server:
        served = Served((), {**tool_env(), **server.client_env()})
        done = run(
            "acput",
            *("-a", "kerberos", "--role", "testing", "--format", "summary"),
            *("Z:ACLTST", "12.5", "--verify"),
            served=served,
        )
        assert done.returncode == 0, done.stderr
        assert "New : Z:ACLTST.SETTING  12.5 mm" in done.stdout
        assert "verified" in done.stdout
        done = run("acget", "Z:ACLTST.SETTING", served=served)
        assert done.stdout.split()[1:3] == ["12.5", "mm"]


# --- acmonitor ------------------------------------------------------------------------------


def test_acmonitor_count_with_timestamps(served: Served) -> None:
    done = run("acmonitor", "--format", "log", "-n", "3", "M:OUTTMP@p,100", served=served)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.fullmatch(TIMESTAMP + r"  M:OUTTMP@p,100  -?\d+(\.\d+)? DegF", line), line


def test_acmonitor_duration_json_lines(served: Served) -> None:
    done = run(
        "acmonitor", "--duration", "0.6", "--format", "json", "G:AMANDA@p,100", served=served
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert 2 <= len(records) <= 10
    assert {r["device"] for r in records} == {"G:AMANDA"}
    assert all(r["ok"] is True and r["timestamp"] for r in records)


def test_acmonitor_ctrl_c_exits_cleanly(served: Served) -> None:
    with reaped(start("acmonitor", "M:OUTTMP@p,100", env=served.env)) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("M:OUTTMP  ")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_acmonitor_piped_to_head_stops_cleanly(served: Served) -> None:
    producer = subprocess.Popen(
        [str(BIN / "acmonitor"), "M:OUTTMP@p,50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=served.env,
    )
    head = subprocess.run(["head", "-n", "2"], stdin=producer.stdout, capture_output=True)
    assert producer.stdout is not None
    producer.stdout.close()
    with reaped(producer):
        _, err = producer.communicate(timeout=30)
    assert len(head.stdout.splitlines()) == 2
    assert producer.returncode == 0
    assert b"Traceback" not in err and b"reconnecting" not in err


def test_acmonitor_bad_device_exit_1(served: Served) -> None:
    done = run("acmonitor", "-n", "1", "M:NOPE@p,100", served=served)
    assert done.returncode == 1
    assert "DPM_NO_SUCH_DEVICE" in done.stdout and "Traceback" not in done.stderr


# --- acinfo ---------------------------------------------------------------------------------


def test_acinfo_with_simulator_metadata() -> None:
    done = run("acinfo", "-b", "sim", "--format", "details", "-v", "Z:SIMPS")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Z:SIMPS  Simulated power supply")
    assert "  setting: 100 A" in out
    assert "  reading units: A (primary Volts)" in out
    assert "  setting limits: -500 .. 500" in out
    assert "reading scaling: p_index 2, c_index 2, coeff 50 1 0" in out
    assert "ON(1)" in out and "OFF(2)" in out and "RESET(0)" in out
    assert re.search(r"^    On = Off", out, re.M)
    assert "extended status bits:" in out


def test_acinfo_over_dpm_without_devdb(served: Served) -> None:
    done = run("acinfo", "--format", "details", "M:OUTTMP", "Z:ACLTST", served=served)
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].startswith("M:OUTTMP  Outdoor temperature")
    assert "metadata: DevDB" in blocks[0]
    assert re.search(r"reading: -?\d+(\.\d+)? DegF", blocks[0])
    assert "setting: - (DPM_NO_SUCH_PROP)" in blocks[0]
    assert "setting: 40 mm" in blocks[1]


def test_acinfo_json_and_unknown_device(served: Served) -> None:
    done = run("acinfo", "--format", "details-json", "-b", "sim", "Z:ACLTST", "M:NOPE")
    assert done.returncode == 1
    (record,) = json.loads(done.stdout)
    assert record["metadata"]["setting"]["common_units"] == "mm"
    assert record["setting"]["value"] == 40.0
    assert "acinfo: M:NOPE: DPM_NO_SUCH_DEVICE" in done.stderr


# --- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["pacsys-get", "pacsys-put", "pacsys-monitor", "pacsys-info"])
def test_aliases_help_with_examples(tool: str) -> None:
    done = run(tool, "--help")
    assert done.returncode == 0
    assert "examples:" in done.stdout and "exit status: 0 success" in done.stdout


@pytest.mark.parametrize("tool", ["acget", "acput", "acmonitor", "acinfo"])
def test_help_in_process(tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    module = importlib.import_module(f"pacsys.cli.{tool}")
    with pytest.raises(SystemExit) as excinfo:
        module.main(["--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: {tool}" in out and "examples:" in out and "--backend" in out


# --- in-process, with a FakeBackend plugin -------------------------------------------------


class _SharedFake(FakeBackend):
    """A FakeBackend that outlives each tool run (the tools close their backend)."""

    ignore_writes = False

    def close(self) -> None:
        pass

    def really_close(self) -> None:
        super().close()

    def write(self, drf: str, value: Any, timeout: float | None = None) -> WriteResult:
        if self.ignore_writes:  # accepted but never applied: verification must fail
            return WriteResult(drf=drf)
        return super().write(drf, value, timeout)


class _FakePlugin:
    """Registers backend ``clifake``; records how often it was created."""

    def __init__(self, backend: _SharedFake) -> None:
        self.backend = backend
        self.created = 0

    def make(self, reconnect: ReconnectPolicy | None = None, **kwargs: Any) -> _SharedFake:
        self.created += 1
        self.backend.reconnect = reconnect  # the tool's policy for lost streams
        return self.backend

    @hookimpl
    def pacsys_backends(self) -> list[BackendSpec]:
        capabilities = BackendCapability.READ | BackendCapability.WRITE | BackendCapability.STREAM
        return [BackendSpec("clifake", self.make, capabilities=capabilities)]


@pytest.fixture
def clifake() -> Iterator[_FakePlugin]:
    fake = _SharedFake()
    fake.set_reading("M:OUTTMP", 72.5, units="DegF")
    fake.set_reading("Z:ACLTST.SETTING", 40.0, units="mm")
    plugin = _FakePlugin(fake)
    with get_registry().plugin(plugin, "clifake-test"):
        yield plugin
    fake.really_close()


def test_acput_parse_error_never_opens_backend(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from pacsys.cli import acput

    assert acput.main(["-b", "clifake", "Z:ACLTST.CONTROL", "4x5"]) == 2
    assert acput.main(["-b", "clifake", "Z:ACLTST", "1", "2", "x"]) == 2
    assert acput.main(["-b", "clifake", "Z:ACLTST", "1", "--retries", "-1", "--verify"]) == 2
    assert clifake.created == 0 and clifake.backend.writes == []
    assert "array element 'x' is not a number" in capsys.readouterr().err
    assert acput.main(["-b", "clifake", "-q", "Z:ACLTST", "41"]) == 0
    assert clifake.backend.writes == [("Z:ACLTST.SETTING@N", 41.0)]


def test_acput_verification_failure_exit_1(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from pacsys.cli import acput

    clifake.backend.ignore_writes = True
    argv = ["-b", "clifake", "--format", "summary", "Z:ACLTST", "41", "--verify"]
    argv += ["--verify-delay", "0", "--retries", "2"]
    assert acput.main(argv) == 1
    captured = capsys.readouterr()
    assert "NOT verified (readbacks: 2)" in captured.out
    assert "verification failed: read back 40, expected 41" in captured.err


def test_acget_progress_bar_on_terminal(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pacsys.cli import acget

    names = [f"S:DEV{i:03d}" for i in range(150)]
    for i, name in enumerate(names):
        clifake.backend.set_reading(name, float(i))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert acget.main(["-b", "clifake", *names]) == 0
    captured = capsys.readouterr()
    assert "100/150" in captured.err and "150/150" in captured.err
    assert len(captured.out.splitlines()) == 150
    assert acget.main(["-b", "clifake", "--no-progress", *names]) == 0
    assert "150" not in capsys.readouterr().err


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], bool]:
    """``printed(n)`` waits until acmonitor has printed ``n`` readings."""
    from pacsys.cli import acmonitor

    count = [0]
    changed = threading.Condition()
    original = acmonitor.Printer.show

    def show(self: Any, reading: Any) -> None:
        original(self, reading)
        with changed:
            count[0] += 1
            changed.notify_all()

    monkeypatch.setattr(acmonitor.Printer, "show", show)

    def wait(n: int) -> bool:
        with changed:
            return changed.wait_for(lambda: count[0] >= n, timeout=10)

    return wait


def test_acmonitor_reconnects_after_stream_failure(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str], printed: Callable[[int], bool]
) -> None:
    from pacsys.cli import acmonitor

    fake = clifake.backend
    drf = "M:OUTTMP@p,1000"
    result: list[int] = []
    argv = ["-b", "clifake", "-t", "-n", "2", "--reconnect-delay", "0", drf]
    worker = threading.Thread(
        target=lambda: result.append(acmonitor.main(argv)), name="test-acmonitor", daemon=True
    )
    worker.start()
    assert fake.wait_for_subscription(drf, timeout=10)
    fake.emit_reading(drf, 1.5, units="DegF")
    assert printed(1)
    fake.emit_error(ConnectionError("server went away"))
    assert fake.wait_for_subscription(drf, timeout=10)
    before = capsys.readouterr()  # subscribed again, but nothing has arrived yet
    assert "stream lost (ConnectionError: server went away); reconnecting" in before.err
    assert "reconnected" not in before.err
    fake.emit_reading(drf, 2.5, units="DegF")
    worker.join(timeout=20)
    assert not worker.is_alive() and result == [0]
    after = capsys.readouterr()
    assert (before.out + after.out).splitlines() == ["1.5", "2.5"]
    assert "acmonitor: reconnected" in after.err


class _PlainPlugin:
    """Registers ``cliplain``: a factory that names no ``reconnect`` keyword."""

    def __init__(self, backend: _SharedFake) -> None:
        self.backend = backend

    @hookimpl
    def pacsys_backends(self) -> list[BackendSpec]:
        capabilities = BackendCapability.READ | BackendCapability.STREAM
        return [BackendSpec("cliplain", lambda **_: self.backend, capabilities=capabilities)]


def test_acmonitor_backend_without_reconnect_stops_and_says_why(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from pacsys.cli import acmonitor

    fake = clifake.backend
    fake.reconnect = ReconnectPolicy(initial=0.05)  # the factory would drop the tool's policy
    drf = "M:OUTTMP@p,1000"
    result: list[int] = []
    with get_registry().plugin(_PlainPlugin(fake), "cliplain-test"):
        worker = threading.Thread(
            target=lambda: result.append(acmonitor.main(["-b", "cliplain", drf])),
            name="test-acmonitor",
            daemon=True,
        )
        worker.start()
        assert fake.wait_for_subscription(drf, timeout=10)
        fake.reconnect = None
        fake.emit_error(ConnectionError("server went away"))
        worker.join(timeout=20)
    assert not worker.is_alive() and result == [1]
    err = capsys.readouterr().err
    assert (
        "acmonitor: stream lost (ConnectionError: server went away); backend 'cliplain' "
        "cannot reconnect (it takes no reconnect policy), stopping"
    ) in err
    assert "reconnecting" not in err


def test_acmonitor_stream_ended_by_server_exit_1(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from pacsys.cli import acmonitor

    drf = "M:OUTTMP@p,1000"
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(acmonitor.main(["-b", "clifake", drf])),
        name="test-acmonitor",
        daemon=True,
    )
    worker.start()
    assert clifake.backend.wait_for_subscription(drf, timeout=10)
    clifake.backend.stop_streaming()
    worker.join(timeout=20)
    assert result == [1]
    assert "acmonitor: stream ended by the server" in capsys.readouterr().err


def test_acmonitor_no_reconnect_exit_1(
    clifake: _FakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from pacsys.cli import acmonitor

    fake = clifake.backend
    drf = "M:OUTTMP@p,1000"
    result: list[int] = []
    argv = ["-b", "clifake", "--no-reconnect", drf]
    worker = threading.Thread(
        target=lambda: result.append(acmonitor.main(argv)), name="test-acmonitor", daemon=True
    )
    worker.start()
    assert fake.wait_for_subscription(drf, timeout=10)
    fake.emit_error(ConnectionError("server went away"))
    worker.join(timeout=20)
    assert result == [1]
    assert "ConnectionError: server went away" in capsys.readouterr().err
