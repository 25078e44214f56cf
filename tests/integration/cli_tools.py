"""Running the installed pacsys command-line tools as subprocesses, shared by the CLI tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool_env() -> dict[str, str]:
    """This environment without PACSYS_* settings, the device database on a closed port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSYS_")}
    env.update(PACSYS_DEVDB_HOST="127.0.0.1", PACSYS_DEVDB_PORT=str(closed_port()))
    return env


def run(
    *argv: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the tool ``argv[0]`` with the rest as arguments (``env``: default tool_env())."""
    tool, *args = argv
    return subprocess.run(
        [str(BIN / tool), *args],
        capture_output=True,
        text=True,
        env=tool_env() if env is None else env,
        timeout=timeout,
    )


def address(server: Any) -> tuple[str, ...]:
    """``-H HOST -P PORT`` of a DPMServer, as the tools take it."""
    env = server.client_env()
    return ("-H", env["PACSYS_DPM_HOST"], "-P", env["PACSYS_DPM_PORT"])


@contextmanager
def simulated_dpm(**kwargs: Any) -> Iterator[tuple[Any, Any]]:
    """The simulator behind a DPMServer on loopback (``kwargs`` for the server)."""
    from pacsys.sim import SimBackend
    from pacsys_dpm.server import DPMServer

    with SimBackend() as sim, DPMServer(sim, port=0, **kwargs) as server:
        yield sim, server


def start(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start the tool ``argv[0]`` with the rest as arguments; stdout and stderr piped, text."""
    tool, *args = argv
    return subprocess.Popen(
        [str(BIN / tool), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=tool_env() if env is None else env,
    )


@contextmanager
def reaped(process: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    """``process``, killed on the way out if a failed check left it running."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
