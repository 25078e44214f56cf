"""The ``acnet`` backend (DPM lists through acnetd) against the acnetd emulator on loopback,
backed by the simulator: reads of every value type, errors, timeouts, streams, a lost
connection, the global API, and close() leaving nothing behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import pacsys
from pacsys.errors import DeviceError, ReadError
from pacsys.registry import get_registry
from pacsys.sim import SimBackend
from pacsys.testing import FakeBackend
from pacsys.testing.resources import leaves_nothing
from pacsys.types import ValueType
from pacsys_acnet.backend import AcnetBackend
from pacsys_acnet.server import AcnetServer


@pytest.fixture(scope="module")
def sim() -> Iterator[SimBackend]:
    with SimBackend() as backend:
        yield backend


@pytest.fixture(scope="module")
def server(sim: SimBackend) -> Iterator[AcnetServer]:
    with AcnetServer(sim) as acnetd:
        yield acnetd


@pytest.fixture
def backend(server: AcnetServer) -> Iterator[AcnetBackend]:
    with AcnetBackend("127.0.0.1", server.port, timeout=5.0) as acnet:
        yield acnet


def test_reads_of_every_kind(backend: AcnetBackend, sim: SimBackend) -> None:
    outtmp = backend.get("M:OUTTMP")
    assert outtmp.ok and outtmp.value_type is ValueType.SCALAR and outtmp.units == "DegF"
    assert outtmp.meta is not None and outtmp.meta.device_index == 27235
    assert outtmp.timestamp is not None and outtmp.drf == "M:OUTTMP"
    assert backend.read("Z:ACLTST.SETTING") == sim.read("Z:ACLTST.SETTING")
    wave = backend.get("Z:SIMWAV")
    assert wave.value_type is ValueType.SCALAR_ARRAY and np.shape(wave.value) == (1024,)
    assert backend.read("Z:SIMTXT") == sim.read("Z:SIMTXT")
    assert backend.read("Z:SIMRAW.RAW") == sim.read("Z:SIMRAW.RAW")
    status = backend.get("Z:SIMPS.STATUS")
    assert status.value_type is ValueType.BASIC_STATUS and status.value == sim.read(
        "Z:SIMPS.STATUS"
    )
    alarm = backend.get("M:OUTTMP.ANALOG")
    assert alarm.value_type is ValueType.ANALOG_ALARM
    assert alarm.value == sim.read("M:OUTTMP.ANALOG")


def test_get_many_keeps_order_and_reports_device_errors(backend: AcnetBackend) -> None:
    drfs = ["G:AMANDA", "Z:NOSUCH", "M:OUTTMP"]
    readings = backend.get_many(drfs)
    assert [r.drf for r in readings] == drfs
    assert [r.ok for r in readings] == [True, False, True]
    assert readings[1].facility_code == 17 and readings[1].error_code < 0
    with pytest.raises(DeviceError):
        backend.read("Z:NOSUCH")
    with pytest.raises(ReadError):
        backend.read_many(drfs)
    assert len(backend.get_many([f"G:AMANDA[{i}]" for i in range(300)])) == 300  # pooled list


def test_bad_drf_raises_before_any_io(backend: AcnetBackend) -> None:
    with pytest.raises(ValueError):
        backend.get_many(["M:OUTTMP", "not a drf @@"])
    with pytest.raises(TypeError):
        backend.get_many("M:OUTTMP")  # type: ignore[arg-type]


def test_read_timeout() -> None:
    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5)
    with AcnetServer(fake) as server, AcnetBackend("127.0.0.1", server.port) as backend:
        with pytest.raises(ReadError) as info:  # the stream of the second never delivers
            backend.get_many(["M:OUTTMP", "M:OUTTMP@p,1000"], timeout=0.5)
        first, second = info.value.readings
        assert first.value == 72.5
        assert (second.facility_code, second.error_code) == (1, -6)
        assert "Request timeout" in info.value.message
        assert backend.read("M:OUTTMP") == 72.5  # the backend is still usable


def test_stream_iteration_and_callbacks(backend: AcnetBackend) -> None:
    with backend.subscribe(["M:OUTTMP@p,100", "G:AMANDA@p,100"]) as handle:
        got = [r for r, _ in handle.readings(timeout=5.0, count=6)]
    assert {r.drf for r in got} == {"M:OUTTMP@p,100", "G:AMANDA@p,100"}
    assert all(r.ok and r.meta is not None for r in got)
    seen: list[Any] = []
    done = threading.Event()

    def on_reading(reading: Any, handle: Any) -> None:
        seen.append(reading)
        if len(seen) == 3:
            done.set()

    handle = backend.subscribe(["M:OUTTMP@p,100"], callback=on_reading)
    assert done.wait(5.0)
    backend.remove(handle)
    assert handle.stopped


def test_lost_connection_fails_streams_and_reads(sim: SimBackend) -> None:
    server = AcnetServer(sim)
    backend = AcnetBackend("127.0.0.1", server.port, timeout=2.0)
    failed = threading.Event()
    handle = backend.subscribe(["M:OUTTMP@p,100"], on_error=lambda exc, h: failed.set())
    next(iter(handle.readings(timeout=5.0)))
    server.close()
    assert failed.wait(5.0)
    assert handle.exc is not None and "ended" in str(handle.exc)
    with pytest.raises(ReadError):
        backend.get("M:OUTTMP")
    backend.close()


def test_global_backend_acnet(
    server: AcnetServer, monkeypatch: pytest.MonkeyPatch, clean_pacsys: None
) -> None:
    monkeypatch.setenv("PACSYS_ACNET_HOST", "127.0.0.1")
    monkeypatch.setenv("PACSYS_ACNET_PORT", str(server.port))
    assert "acnet" in get_registry().backend_names()
    pacsys.configure(backend="acnet", default_timeout=3.0)
    assert isinstance(pacsys.read("M:OUTTMP"), float)


def _session(port: int) -> None:
    backend = AcnetBackend("127.0.0.1", port)
    assert backend.read("M:OUTTMP") is not None
    with backend.subscribe(["M:OUTTMP@p,100"]) as handle:
        next(iter(handle.readings(timeout=5)))
    backend.close()


def test_close_leaves_nothing(server: AcnetServer) -> None:
    _session(server.port)  # the server's threads start on first use and stay
    with leaves_nothing():
        _session(server.port)
