"""The ``pacsys`` command: plugins listing, --version, demo, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pacsys.cli import main

PACSYS = [sys.executable, "-m", "pacsys.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PACSYS, *args], capture_output=True, text=True, timeout=120)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import pacsys

    with pytest.raises(SystemExit) as excinfo:
        main(["--version"])
    assert excinfo.value.code == 0
    assert capsys.readouterr().out.strip() == f"pacsys {pacsys.__version__}"


def test_plugins_json_lists_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    plugins = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert plugins["pacsys.builtins"]["distribution"] == "pacsys-core"
    assert "jwt" in plugins["pacsys.builtins"]["auth_methods"]
    assert "read_only" in plugins["pacsys.builtins"]["policies"]
    assert plugins["pacsys.builtins"]["metadata_sources"] == ["sim"]


def test_plugins_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "pacsys.builtins  (pacsys-core" in out
    assert "auth methods: kerberos, jwt" in out
    assert "metadata sources: sim" in out


def test_help_has_examples() -> None:
    done = run("--help")
    assert done.returncode == 0 and "examples:" in done.stdout
    done = run("plugins", "--help")
    assert done.returncode == 0 and "pacsys plugins --json" in done.stdout


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def check_demo_tour(lines: list[str]) -> None:
    assert lines[0].startswith("read    M:OUTTMP = ") and "DegF  (Outdoor temperature)" in lines[0]
    assert lines[1].startswith("stream  M:OUTTMP@p,200")
    stream = [line for line in lines if line.startswith("        ")]
    assert len(stream) >= 3 and all(line.endswith("DegF") and "cycle" in line for line in stream)
    write = next(line for line in lines if line.startswith("write"))
    assert "Z:ACLTST.SETTING@N = 45.0 -> ok=True verified=True readback=45.0" in write
    control = next(line for line in lines if line.startswith("control"))
    assert "Z:SIMPS ON -> ok=True verified=True" in control
    assert lines[-1].startswith("status  Z:SIMPS 0x0F: On=On, Ready=Ready")


def test_demo_without_pacsys_dpm_runs_in_process() -> None:
    """No DPM transport (here: no plugin enabled): the whole tour uses the simulator directly."""
    done = subprocess.run(
        [*PACSYS, "demo", "--seconds", "0.7"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PACSYS_PLUGINS": ""},
    )
    assert done.returncode == 0, done.stderr
    over, *tour = done.stdout.splitlines()
    assert over == "over    the in-process simulator"
    check_demo_tour(tour)


def test_demo_in_process() -> None:
    done = run("demo", "--seconds", "0.7", "--in-process")
    assert done.returncode == 0, done.stderr
    over, *tour = done.stdout.splitlines()
    assert over == "over    the in-process simulator"
    check_demo_tour(tour)


def test_demo_runs_on_any_backend() -> None:
    """run_demo takes the backend as a parameter."""
    import io

    from pacsys.cli.demo import run_demo
    from pacsys.sim import SimBackend

    out = io.StringIO()
    with SimBackend() as backend:
        run_demo(backend, 0.25, out)
        assert backend.read("Z:ACLTST") == 45.0
    assert "verified=True" in out.getvalue()


def test_output_piped_into_a_closed_pipe_ends_quietly() -> None:
    """``pacsys demo | head -1``: no BrokenPipeError traceback, exit status 0."""
    process = subprocess.Popen(
        [*PACSYS, "demo", "--in-process", "--seconds", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith("over")
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in process.stderr.read()


def test_redact_url() -> None:
    from pacsys.cli._format import redact_url

    assert redact_url("amqp://u:s3cret@h:5672/%2F") == "amqp://u:***@h:5672/%2F"
    assert redact_url("amqp://h:5672/") == "amqp://h:5672/"
    assert redact_url(6802) == 6802
