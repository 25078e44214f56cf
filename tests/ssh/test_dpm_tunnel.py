"""A DPM read through an SSH tunnel: pacsys.dpm -> Tunnel -> sshd -> DPMServer(SimBackend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pacsys_ssh.client import SSHClient

sim = pytest.importorskip("pacsys.sim")
dpm_server = pytest.importorskip("pacsys_dpm.server")


@pytest.fixture
def dpm_behind_ssh() -> Iterator[Any]:
    backend = sim.SimBackend()
    try:
        with dpm_server.DPMServer(backend, port=0) as server:
            yield server
    finally:
        backend.close()


def test_dpm_read_through_tunnel(client: SSHClient, dpm_behind_ssh: Any) -> None:
    import pacsys

    with client.forward(0, "127.0.0.1", dpm_behind_ssh.port) as tunnel:
        backend = pacsys.dpm(host="127.0.0.1", port=tunnel.local_port, timeout=10)
        try:
            reading = backend.get("M:OUTTMP", timeout=10)
            values = backend.read_many(["M:OUTTMP", "G:AMANDA"], timeout=10)
        finally:
            backend.close()
    assert reading.ok and reading.units == "DegF"
    assert isinstance(reading.value, float)
    assert len(values) == 2 and all(isinstance(v, float) for v in values)
