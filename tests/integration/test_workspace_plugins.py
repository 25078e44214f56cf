"""Every transport installed together: found through entry points, listed, used by the demo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pacsys.cli import main
from pacsys.registry import Registry, TransportNotInstalledError, get_registry

TRANSPORTS = ("dpm", "grpc", "dmq", "acl", "ssh")
PACSYS = [sys.executable, "-m", "pacsys.cli"]


def test_installed_transport_plugins_are_discovered_from_entry_points() -> None:
    names = {p.name: p for p in get_registry().plugins()}
    for transport in TRANSPORTS:
        assert names[transport].distribution == f"pacsys-{transport}"
        assert names[transport].version
        assert names[transport].loaded


def test_all_transports_load_without_pacsys_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACSYS_PLUGINS", raising=False)
    assert set(TRANSPORTS) <= {p.name for p in Registry().plugins()}


def test_disabled_transport_error_mentions_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACSYS_PLUGINS", "")
    with pytest.raises(
        TransportNotInstalledError, match="installed but not enabled in PACSYS_PLUGINS"
    ):
        Registry().backend("grpc")


def test_plugins_json_lists_every_transport(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    plugins = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    for transport in TRANSPORTS:
        assert plugins[transport]["distribution"] == f"pacsys-{transport}"


def test_plugins_lists_server_adapters_without_url_passwords(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plugins", "--json"]) == 0
    plugins = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    (dpm,) = plugins["dpm"]["servers"]
    assert (dpm["name"], dpm["option"], dpm["default"]) == ("dpm", "--dpm-port", 6802)
    (dmq,) = plugins["dmq"]["servers"]
    assert dmq["default"] == "amqp://guest:***@127.0.0.1:5672/%2F"
    assert main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert "  server dpm (--dpm-port, default 6802): " in text
    assert "guest:guest" not in text


def _verified_writes(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines if "-> ok=True verified=True" in line]


def test_demo_runs_over_dpm_with_kerberos_writes() -> None:
    """The README's demo: the simulator behind DPMServer, a throw-away KDC for the writes."""
    done = subprocess.run(
        [*PACSYS, "demo", "--seconds", "0.7"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    over, *tour = done.stdout.splitlines()
    assert over.startswith("over    DPM/TCP at 127.0.0.1:")
    assert over.endswith("(Kerberos as demo@FNAL.GOV, role 'demo')")
    assert _verified_writes(tour) == ["write", "control"]


def test_demo_without_kdc_tools_runs_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DPM writes need Kerberos: with no KDC tools the whole tour uses the simulator directly."""
    from pacsys.testing import kerberos

    def missing(self: object) -> None:
        raise RuntimeError("krb5kdc not found: install the Debian package krb5-kdc")

    monkeypatch.setattr(kerberos.MiniKDC, "start", missing)
    assert main(["demo", "--seconds", "0.7"]) == 0
    captured = capsys.readouterr()
    assert "no throw-away KDC for DPM writes: krb5kdc not found" in captured.err
    over, *tour = captured.out.splitlines()
    assert over == "over    the in-process simulator"
    assert _verified_writes(tour) == ["write", "control"]
