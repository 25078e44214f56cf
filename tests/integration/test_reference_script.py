"""A script written for pacsys 0.3.0 runs unchanged here, with the simulator as its backend.

``reference_script.py`` uses only the reference's public API; this test runs it as a separate
process, configured the way a site would (the global backend set to ``sim`` before the
script starts, DevDB found through ``PACSYS_DEVDB_*`` pointing at a DevDB server on loopback
that serves the simulator's metadata), and checks what it printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pacsys_grpc", reason="the script uses DevDB and the supervised server")

from pacsys.sim import SimBackend
from pacsys_grpc.devdb_server import DevDBServer

SCRIPT = Path(__file__).resolve().parent / "reference_script.py"

#: Runs a script with the simulator as the global backend, leaving the script untouched.
RUNNER = (
    "import runpy, sys, pacsys\n"
    "pacsys.configure(backend='sim')\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')\n"
)


@pytest.fixture(scope="module")
def devdb_env() -> Iterator[dict[str, str]]:
    with SimBackend() as sim, DevDBServer(sim) as server:
        yield server.client_env()


def test_reference_script_runs_unchanged_against_the_simulator(
    devdb_env: dict[str, str],
) -> None:
    env = {**os.environ, **devdb_env}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["read"] is True
    assert results["get"] == [True, False, "M:OUTTMP", True]
    assert results["get_many"] == [True, True, False]
    assert results["device_error"][1] is True
    assert results["write"] == [True, 45.5]
    assert results["scalar_device"] is True
    assert results["subscription"] == [3, True]
    assert results["devdb"] == results["device_info"] != ""
    assert results["supervised_read"] == 72.5
    ok, message = results["supervised_write"]
    assert ok is False and "Write operations disabled" in message  # the policy said no
    assert results["backend_writes"] == 0
