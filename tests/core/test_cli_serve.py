"""``pacsys serve``: options from ServerSpecs, endpoints around the simulator, clean stop.

The adapter here is a tiny real TCP server (one DRF per line in, one value per line out)
registered in-process through ``pacsys_servers``, so these tests need no transport package.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pacsys.cli import build_parser, main
from pacsys.cli import serve as serve_cli
from pacsys.hookspecs import ServerSpec, hookimpl
from pacsys.registry import get_registry

HERE = Path(__file__).resolve().parent


class LineServer:
    """Serves ``backend.read(line)`` over TCP on 127.0.0.1 (port 0 = any free port)."""

    started = threading.Event()

    def __init__(self, backend: Any, port: int = 0) -> None:
        self.backend = backend
        self._sock = socket.create_server(("127.0.0.1", port))
        self._thread = threading.Thread(target=self._accept, name="line-server", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"{host}:{port}"

    def client_env(self) -> dict[str, str]:
        return {"LINE_HOST": "127.0.0.1", "LINE_PORT": str(self._sock.getsockname()[1])}

    def __enter__(self) -> LineServer:
        self._thread.start()
        LineServer.started.set()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._sock.close()
        self._thread.join(5.0)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rw") as stream:
                for line in stream:
                    stream.write(f"{self.backend.read(line.strip())}\n")
                    stream.flush()


class BrokenServer:
    def __init__(self, backend: Any, port: int = 0) -> None:
        raise OSError("address already in use")


class Plugin:
    @hookimpl
    def pacsys_servers(self) -> list[ServerSpec]:
        return [
            ServerSpec("line", LineServer, "toy line protocol", option="--line-port", default=0),
            ServerSpec("broken", BrokenServer, "always fails", option="--broken-port", default=1),
        ]


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PACSYS_PLUGINS", "")  # no installed adapters: only ours
    from pacsys import registry

    saved = registry._registry
    registry.reset_registry()
    try:
        with get_registry().plugin(Plugin(), name="test-servers"):
            yield
    finally:
        registry._registry = saved


def ask(address: str, drf: str) -> str:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(f"{drf}\n".encode())
        return conn.makefile().readline().strip()


def test_options_come_from_server_specs(plugin: None) -> None:
    parser = build_parser()
    args = parser.parse_args(["serve", "--line-port", "1234", "--catalogue", "x.json"])
    assert args.server_line == 1234 and args.server_broken == 1 and args.catalogue == "x.json"
    help_text = io.StringIO()
    with pytest.raises(SystemExit):
        sys.stdout, saved = help_text, sys.stdout
        try:
            parser.parse_args(["serve", "--help"])
        finally:
            sys.stdout = saved
    assert "--line-port" in help_text.getvalue() and "toy line protocol" in help_text.getvalue()


def test_serve_in_process_serves_the_simulator(plugin: None) -> None:
    args = build_parser().parse_args(["serve"])
    stop, ready, out = threading.Event(), threading.Event(), io.StringIO()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(serve_cli.run(args, stop, out=out, ready=ready)), name="srv"
    )
    thread.start()
    try:
        assert ready.wait(10)
        text = out.getvalue()
        assert text.startswith("pacsys simulator: ")
        line = next(x for x in text.splitlines() if x.strip().startswith("line"))
        address = line.split()[1]
        assert float(ask(address, "Z:ACLTST")) == 40.0
        assert "LINE_PORT=" + address.split(":")[1] in text
        assert "broken   FAILED to start: OSError: address already in use" in text
        assert "export LINE_HOST=127.0.0.1" in text
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
    assert out.getvalue().endswith("Stopped.\n")
    assert not any(t.name in ("pacsys-sim-scheduler", "line-server") for t in threading.enumerate())


def test_no_adapters_installed_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PACSYS_PLUGINS", "")
    from pacsys import registry

    saved = registry._registry
    registry.reset_registry()
    try:
        assert main(["serve"]) == 1
    finally:
        registry._registry = saved
    assert "No server adapters are installed" in capsys.readouterr().err


def test_bad_catalogue_is_reported(
    plugin: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(["serve", "--catalogue", str(bad)]) == 2
    assert "expected an object" in capsys.readouterr().err


SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import test_cli_serve
from pacsys.registry import get_registry
get_registry().register(test_cli_serve.Plugin(), name="test-servers")
from pacsys.cli import main
sys.exit(main(["serve", "--broken-port", "0"]))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_subprocess_stops_cleanly_on_signal(signum: int) -> None:
    env = dict(os.environ, PACSYS_PLUGINS="", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(here=str(HERE))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Serving"):
                break
        address = next(x for x in lines if x.strip().startswith("line")).split()[1]
        assert ask(address, "Z:SIMTXT") == "Hello from the pacsys simulator"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "Stopped." in out


def test_known_options_of_missing_adapters_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No adapter plugin loaded (as with pacsys-core alone): the options are still recognised.
    monkeypatch.setenv("PACSYS_PLUGINS", "")
    from pacsys import registry

    saved = registry._registry
    registry.reset_registry()
    try:
        assert main(["serve", "--grpc-port", "25051", "--acl-port", "20080"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        with pytest.raises(SystemExit):
            main(["serve", "--help"])
        help_text = capsys.readouterr().out
    finally:
        registry._registry = saved
    assert err == [
        "pacsys serve: --grpc-port needs pacsys-grpc, --acl-port needs pacsys-acl "
        "(not installed): pip install pacsys-grpc pacsys-acl"
    ]
    assert "--dmq-url" in help_text and "needs pacsys-dmq" in help_text
