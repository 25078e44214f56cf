"""The project's DPM client backend against DPMServer over loopback (reads, streams, writes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from pacsys.testing import FakeBackend
from pacsys.types import ValueType
from pacsys_dpm.server import DPMServer

client_mod = pytest.importorskip("pacsys_dpm.client")


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    backend.set_reading("M:OUTTMP", 72.5, units="DegF", description="Outdoor temperature")
    backend.set_reading("B:WAVE", np.arange(5.0), value_type=ValueType.SCALAR_ARRAY)
    backend.set_reading("G:TEXT", "héllo", value_type=ValueType.TEXT)
    backend.set_reading("Z:ACLTST", 1.0, units="mm")
    yield backend
    backend.close()


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("pacsys-dpm")]


def test_client_reads_and_streams(fake: FakeBackend) -> None:
    with DPMServer(fake, port=0) as srv:
        with client_mod.DPMHTTPBackend("127.0.0.1", srv.port, auth=None, timeout=5.0) as dpm:
            assert dpm.read("M:OUTTMP") == 72.5
            temp, wave, text, missing = dpm.get_many(["M:OUTTMP", "B:WAVE", "G:TEXT", "Z:NOPE"])
            assert temp.meta is not None and temp.meta.units == "DegF"
            assert wave.value_type is ValueType.SCALAR_ARRAY
            assert list(wave.value) == [0.0, 1.0, 2.0, 3.0, 4.0]  # type: ignore[arg-type]
            assert text.value == "héllo"
            assert not missing.ok and missing.error_code < 0
            handle = dpm.subscribe(["M:OUTTMP@p,1000"])
            assert fake.wait_for_subscription("M:OUTTMP@p,1000", 5.0)
            fake.emit_reading("M:OUTTMP@p,1000", 80.0, units="DegF")
            reading, _ = next(iter(handle.readings(timeout=5.0)))
            assert reading.value == 80.0 and reading.units == "DegF"
            handle.stop()
    assert not _threads()


def test_client_kerberos_write(
    fake: FakeBackend, service_keytab: Callable[[str], Path], kerberos_user: str
) -> None:
    from pacsys.auth import KerberosAuth

    keytab = service_keytab("daeset/bd/localhost")
    roles = {"testing": ["Z:ACLTST"]}
    with DPMServer(fake, port=0, keytab=keytab, roles=roles) as srv:
        with client_mod.DPMHTTPBackend(
            "127.0.0.1", srv.port, auth=KerberosAuth(), role="testing", timeout=5.0
        ) as dpm:
            ok = dpm.write("Z:ACLTST", 4.5)
            assert ok.ok, ok
            assert fake.writes == [("Z:ACLTST.SETTING", 4.5)]
            refused = dpm.write("M:OUTTMP", 1.0)
            assert not refused.ok and (refused.facility_code, refused.error_code) == (17, -17)
            assert len(fake.writes) == 1
    assert not _threads()
