"""A venv with only pacsys-core and pacsys-dpm: what its first hour meets, said in one line.

Writing without the Kerberos extra names ``pip install 'pacsys-dpm[kerberos]'`` (each case
in a subprocess whose ``sitecustomize`` blocks ``import gssapi``), and the README's
``pacsys serve`` line names the adapters that are missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pacsys.testing.blocked import blocked_imports, run_python

INSTALL = "pip install 'pacsys-dpm[kerberos]'"


@pytest.fixture
def no_gssapi(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import gssapi`` fails as if the package were absent."""
    return blocked_imports(tmp_path, ["gssapi"], drop=["KRB5CCNAME"])


@pytest.mark.parametrize(
    "call",
    [
        "pacsys.write('Z:ACLTST', 45.5)",
        "pacsys.Device('Z:SIMPS').on()",
    ],
)
def test_dpm_writes_raise_missing_package(no_gssapi: dict[str, str], call: str) -> None:
    # Port 1 on loopback: nothing listens, and the credentials are checked before any I/O.
    code = (
        "import pacsys\n"
        "from pacsys.errors import MissingPackageError\n"
        "pacsys.configure(backend='dpm', dpm_host='127.0.0.1', dpm_port=1)\n"
        "try:\n"
        f"    {call}\n"
        "except MissingPackageError as exc:\n"
        "    print(exc)\n"
    )
    done = run_python("-c", code, env=no_gssapi)
    assert done.returncode == 0, done.stderr
    assert INSTALL in done.stdout


def test_acput_says_one_line_and_exits_1(no_gssapi: dict[str, str]) -> None:
    argv = ["-m", "pacsys.cli.acput", "--backend", "dpm", "--host", "127.0.0.1", "--port", "1"]
    done = run_python(*argv, "Z:ACLTST", "45.5", env=no_gssapi)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("acput: ") and lines[0].endswith(INSTALL)


def test_demo_falls_back_to_the_simulator(no_gssapi: dict[str, str]) -> None:
    done = run_python("-m", "pacsys.cli", "demo", "--seconds", "0.3", env=no_gssapi)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert INSTALL in done.stderr
    assert "over    the in-process simulator" in done.stdout
    assert "write   Z:ACLTST" in done.stdout


def test_serve_on_a_dpm_only_install_answers_the_readme_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's ``pacsys serve`` line, with only the DPM adapter: one line, exit 2."""
    from pacsys import registry
    from pacsys.cli import main

    monkeypatch.setenv("PACSYS_PLUGINS", "dpm")
    saved = registry._registry
    registry.reset_registry()
    try:
        argv = ["serve", "--dpm-port", "26802", "--grpc-port", "25051", "--acl-port", "20080"]
        assert main(argv) == 2
    finally:
        registry._registry = saved
    assert capsys.readouterr().err.strip().splitlines() == [
        "pacsys serve: --grpc-port needs pacsys-grpc, --acl-port needs pacsys-acl "
        "(not installed): pip install pacsys-grpc pacsys-acl"
    ]
