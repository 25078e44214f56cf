"""DPMHTTPBackend against DPMServer(SimBackend()): the simulator over real DPM on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pacsys.auth import KerberosAuth
from pacsys.types import ValueType
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.server import DPMServer

sim = pytest.importorskip("pacsys.sim")


@pytest.fixture
def served() -> Iterator[DPMServer]:
    backend = sim.SimBackend()
    try:
        with DPMServer(backend, port=0) as srv:
            yield srv
    finally:
        backend.close()


def test_read_and_metadata_from_the_simulator(served: DPMServer) -> None:
    with DPMHTTPBackend("127.0.0.1", served.port, auth=None) as client:
        outtmp, amanda = client.get_many(["M:OUTTMP", "G:AMANDA"])
    assert outtmp.ok and outtmp.value_type is ValueType.SCALAR
    assert outtmp.units == "DegF" and outtmp.meta is not None
    assert outtmp.meta.description == "Outdoor temperature" and outtmp.meta.device_index == 27235
    assert amanda.ok and isinstance(amanda.value, float)


def test_periodic_stream_from_the_simulator(served: DPMServer) -> None:
    with DPMHTTPBackend("127.0.0.1", served.port, auth=None) as client:
        with client.subscribe(["M:OUTTMP@p,100"]) as handle:
            readings = []
            for reading, _ in handle.readings(timeout=5):
                readings.append(reading)
                if len(readings) == 3:
                    break
    assert len(readings) == 3
    assert all(r.ok and r.units == "DegF" for r in readings)
    stamps = [r.timestamp for r in readings]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_verified_write_to_the_simulator(service_keytab: object, kerberos_user: str) -> None:
    backend = sim.SimBackend()
    keytab: Path = service_keytab("daeset/bd/localhost")  # type: ignore[operator]
    try:
        with DPMServer(backend, port=0, keytab=keytab, roles={"testing": ["Z:ACLTST"]}) as srv:
            with DPMHTTPBackend(
                "127.0.0.1", srv.port, auth=KerberosAuth(), role="testing"
            ) as client:
                result = client.write("Z:ACLTST", 12.5)
                assert result.ok, result
                assert client.read("Z:ACLTST.SETTING") == 12.5
    finally:
        backend.close()
