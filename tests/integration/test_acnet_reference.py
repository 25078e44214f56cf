"""Interop: the reference pacsys 0.3.0's ``pacsys.acnet`` client, unchanged, against our
acnetd emulator (over the simulator): TCP and UDP connections, lookups, RETDAT, GETS32,
FTPMAN continuous plot and snapshot, DPM over ACNET, and routing between client tasks.

The reference runs in a throw-away venv (installed offline from uv's cache), in its own
process, with ``acnet_reference/client.py``; it prints what it got as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.acnet import status as st
from pacsys.sim import SimBackend
from pacsys_acnet.server import AcnetServer

from .conftest import Uv

CLIENT = Path(__file__).with_name("acnet_reference") / "client.py"


@pytest.fixture(scope="module")
def reference_python(tmp_path_factory: pytest.TempPathFactory, uv: Uv) -> Path:
    venv = tmp_path_factory.mktemp("reference") / "venv"
    python = venv / "bin" / "python"
    try:
        uv("venv", "--quiet", "--python", sys.executable, venv)
        uv("pip", "install", "--quiet", "--python", python, "pacsys==0.3.0")
    except AssertionError as exc:
        pytest.skip(f"pacsys 0.3.0 is not in uv's cache (offline install failed): {exc}")
    return python


@pytest.fixture(scope="module")
def server() -> Iterator[AcnetServer]:
    with SimBackend() as sim, AcnetServer(sim) as acnetd:
        yield acnetd


@pytest.fixture(scope="module")
def got(reference_python: Path, server: AcnetServer) -> dict[str, Any]:
    done = subprocess.run(
        [str(reference_python), str(CLIENT), "127.0.0.1", str(server.port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_connections_and_lookups(got: dict[str, Any]) -> None:
    assert got["handle"] == "REFTST"
    assert (got["dpm06"], got["local"], got["name"]) == (0x0A06, 0x0A01, "ACNEMU")
    assert got["udp_handle"].startswith("%") and len(got["udp_handle"]) == 6


def test_raw_reads(got: dict[str, Any]) -> None:
    (status, data), (missing, pad) = got["retdat"]
    assert status == 0 and len(bytes.fromhex(data)) == 2
    assert (missing, pad) == (st.DPM_NO_SUCH_DEVICE, "0000")
    assert got["retdat_stream"] == 3
    assert got["gets32"] == [1, 0, 2]
    assert got["gets32_stream"] == [1, 2, 3]
    assert got["udp_retdat"] == 0


def _steps(points: list[list[int]]) -> set[int]:
    stamps = np.array([t for t, _ in points])
    return set((np.diff(stamps) % 6_553_600).tolist())


def test_fast_time_plot_and_snapshot(got: dict[str, Any]) -> None:
    assert got["class_codes"] == [19, 12, 0]
    assert got["setup_statuses"] == [0]
    plot = got["continuous"]
    assert len(plot) == 720 and _steps(plot) <= {600, 700}  # 1440 Hz in 100 us ticks
    assert np.std([v for _, v in plot]) > 1000  # the simulated sine
    assert got["snapshot_ready"] is True
    snapshot = got["snapshot"]
    assert len(snapshot) == 2048 and _steps(snapshot) <= {600, 700}


def test_dpm_over_acnet(got: dict[str, Any]) -> None:
    assert got["dpm_read"] == [0, "float", "M:OUTTMP", "DegF"]
    assert got["dpm_stream"] == [1, 1, 1]


def test_routing_between_client_tasks(got: dict[str, Any]) -> None:
    assert got["echo"] == [[0, True, "0201"]]
    assert got["usm"] == ["0304"]
