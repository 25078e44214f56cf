"""The gRPC client against SupervisedServer(SimBackend) with DevDB on the same port."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from pacsys.auth import JWTAuth
from pacsys.policies import DeviceAccessPolicy
from pacsys_grpc.backend import GRPCBackend
from pacsys_grpc.devdb import DevDBClient
from pacsys_grpc.supervised import SupervisedServer

sim = pytest.importorskip("pacsys.sim")

TOKEN = "sim-token"


@pytest.fixture
def sim_server() -> Iterator[SupervisedServer]:
    backend = sim.SimBackend()
    server = SupervisedServer(
        backend,
        port=0,
        host="127.0.0.1",
        policies=[DeviceAccessPolicy(["Z:ACLTST"], action="set")],
        token=TOKEN,
        metadata_source=backend,
    )
    with server:
        yield server
    backend.close()


def _jwt() -> JWTAuth:
    payload = base64.urlsafe_b64encode(b'{"sub": "sim@FNAL.GOV"}').decode().rstrip("=")
    return JWTAuth(f"e30.{payload}.sig")


def test_read_stream_write_devdb(sim_server: SupervisedServer) -> None:
    with GRPCBackend("127.0.0.1", sim_server.port, auth=JWTAuth(TOKEN)) as client:
        temperature = client.read("M:OUTTMP")
        assert isinstance(temperature, float) and 0 < temperature < 200
        readings = client.get_many(["M:OUTTMP", "G:AMANDA", "Z:ACLTST"])
        assert all(r.ok for r in readings), readings
        with client.subscribe(["M:OUTTMP@p,100"]) as sub:
            got: list[Any] = []
            for reading, _ in sub.readings(timeout=10):
                got.append(reading)
                if len(got) == 3:
                    break
        assert len(got) == 3 and all(r.ok for r in got)
        assert got[0].timestamp < got[2].timestamp
        result = client.write("Z:ACLTST", 12.5)
        assert result.ok, result
        assert client.read("Z:ACLTST.SETTING") == pytest.approx(12.5)
        denied = client.write("M:OUTTMP", 1.0)
        assert not denied.ok and "No write policy approves: M:OUTTMP" in denied.message
    with GRPCBackend("127.0.0.1", sim_server.port, auth=_jwt()) as wrong_token:
        refused = wrong_token.write("Z:ACLTST", 1.0)
        assert "UNAUTHENTICATED" in refused.message
    with DevDBClient("127.0.0.1", sim_server.port, tls=False) as db:
        info = db.get_device_info(["z:acltst"])["z:acltst"]
        assert info.description and info.reading is not None
