"""A DPM read through an SSH tunnel: pacsys.dpm -> Tunnel -> sshd -> DPMServer(SimBackend)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import pacsys
from pacsys.sim import SimBackend
from pacsys_dpm.server import DPMServer
from pacsys_ssh.client import SSHClient


@pytest.fixture
def dpm_behind_ssh() -> Iterator[DPMServer]:
    with SimBackend() as backend, DPMServer(backend, port=0) as server:
        yield server


def test_dpm_read_through_tunnel(ssh_client: SSHClient, dpm_behind_ssh: DPMServer) -> None:
    with ssh_client.forward(0, "127.0.0.1", dpm_behind_ssh.port) as tunnel:
        backend = pacsys.dpm(host="127.0.0.1", port=tunnel.local_port, timeout=10)
        try:
            reading = backend.get("M:OUTTMP", timeout=10)
            values = backend.read_many(["M:OUTTMP", "G:AMANDA"], timeout=10)
        finally:
            backend.close()
    assert reading.ok and reading.units == "DegF"
    assert isinstance(reading.value, float)
    assert len(values) == 2 and all(isinstance(v, float) for v in values)
