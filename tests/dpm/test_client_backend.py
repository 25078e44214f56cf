"""DPMHTTPBackend against the project's DPMServer serving a FakeBackend over loopback TCP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import pacsys
from pacsys.errors import AuthenticationError, DeviceError, ReadError
from pacsys.testing import FakeBackend
from pacsys.types import BackendCapability, DispatchMode, Reading, ValueType
from pacsys_dpm.client import DPMConnectionError, DPMHTTPBackend
from pacsys_dpm.server import DPMServer

DRF = "M:OUTTMP@p,1000"


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend(dispatch_mode=DispatchMode.DIRECT)
    backend.set_reading("M:OUTTMP", 72.5, units="DegF", description="Outdoor temperature")
    backend.set_reading("B:HS23T", np.arange(5.0), value_type=ValueType.SCALAR_ARRAY)
    backend.set_reading("M:TEXT", "µA ok", value_type=ValueType.TEXT)
    yield backend
    backend.close()


@pytest.fixture
def server(fake: FakeBackend) -> Iterator[DPMServer]:
    with DPMServer(fake, port=0) as srv:
        yield srv


@pytest.fixture
def client(server: DPMServer) -> Iterator[DPMHTTPBackend]:
    with DPMHTTPBackend("127.0.0.1", server.port, timeout=3.0, auth=None) as backend:
        yield backend


def _dpm_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pacsys-dpm-stream")]


def test_read_get_and_metadata(client: DPMHTTPBackend) -> None:
    assert client.read("M:OUTTMP") == 72.5
    reading = client.get("M:OUTTMP")
    assert reading.ok and reading.value_type is ValueType.SCALAR
    assert reading.drf == "M:OUTTMP"
    assert reading.units == "DegF" and reading.meta is not None
    assert reading.meta.description == "Outdoor temperature"
    assert reading.timestamp is not None and reading.timestamp.tzinfo is not None


def test_values_of_several_types(client: DPMHTTPBackend) -> None:
    array, text = client.get_many(["B:HS23T", "M:TEXT"])
    assert array.value_type is ValueType.SCALAR_ARRAY
    assert np.array_equal(array.value, np.arange(5.0)) and not array.value.flags.writeable
    assert text.value == "µA ok"


def test_batch_with_missing_device_gives_partial_results(client: DPMHTTPBackend) -> None:
    readings = client.get_many(["M:OUTTMP", "Z:NOPE", "B:HS23T"])
    assert [r.ok for r in readings] == [True, False, True]
    assert readings[1].is_error and readings[1].value is None and readings[1].message
    with pytest.raises(ReadError) as info:
        client.read_many(["M:OUTTMP", "Z:NOPE"])
    assert [r.ok for r in info.value.readings] == [True, False]
    assert "Z:NOPE" in str(info.value)
    with pytest.raises(DeviceError) as single:
        client.read("Z:NOPE")
    assert single.value.drf == "Z:NOPE" and single.value.error_code < 0


def test_invalid_drf_fails_before_io(client: DPMHTTPBackend) -> None:
    with pytest.raises(ValueError):
        client.get_many(["M:OUTTMP", "M:OUTTMP["])
    assert client._pool.size == 0


def test_pool_reuses_connections_and_stays_within_size(server: DPMServer) -> None:
    with DPMHTTPBackend("127.0.0.1", server.port, pool_size=2, auth=None) as backend:
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                for _ in range(5):
                    assert backend.read("M:OUTTMP") == 72.5
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader, name=f"reader-{i}") for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert 1 <= backend._pool.size <= 2


def test_pooled_read_after_server_restart_reconnects(fake: FakeBackend) -> None:
    srv = DPMServer(fake, port=0).start()
    port = srv.port
    try:
        with DPMHTTPBackend("127.0.0.1", port, auth=None) as backend:
            assert backend.read("M:OUTTMP") == 72.5
            assert backend._pool.size == 1
            srv.stop()
            srv = DPMServer(fake, port=port).start()
            assert backend.read("M:OUTTMP") == 72.5
    finally:
        srv.stop()


def test_stream_iterator(client: DPMHTTPBackend, fake: FakeBackend) -> None:
    with client.subscribe([DRF]) as handle:
        assert handle.ref_ids == [1]
        assert fake.wait_for_subscription(DRF, timeout=5)
        fake.emit_reading(DRF, 1.0)
        fake.emit_reading(DRF, 2.0)
        values = []
        for reading, h in handle.readings(timeout=5):
            assert h is handle and reading.drf == DRF
            values.append(reading.value)
            if len(values) == 2:
                break
    assert values == [1.0, 2.0]
    assert handle.stopped


@pytest.mark.parametrize("mode", [DispatchMode.WORKER, DispatchMode.DIRECT])
def test_stream_callbacks_in_both_dispatch_modes(
    server: DPMServer, fake: FakeBackend, mode: DispatchMode
) -> None:
    got: list[tuple[float, str]] = []
    done = threading.Event()

    def on_reading(reading: Reading, handle: Any) -> None:
        got.append((reading.value, threading.current_thread().name))
        if len(got) == 3:
            done.set()

    with DPMHTTPBackend("127.0.0.1", server.port, auth=None, dispatch_mode=mode) as backend:
        handle = backend.subscribe([DRF], callback=on_reading)
        assert fake.wait_for_subscription(DRF, timeout=5)
        for value in (1.0, 2.0, 3.0):
            fake.emit_reading(DRF, value)
        assert done.wait(5)
        with pytest.raises(RuntimeError, match="callback"):
            next(iter(handle.readings(timeout=0)))
    assert [v for v, _ in got] == [1.0, 2.0, 3.0]
    expected = "pacsys-dispatch" if mode is DispatchMode.WORKER else "pacsys-dpm-stream"
    assert all(name.startswith(expected) for _, name in got)


def test_server_closed_mid_stream_reports_error_within_window(fake: FakeBackend) -> None:
    srv = DPMServer(fake, port=0).start()
    errors: list[BaseException] = []
    failed = threading.Event()

    def on_error(exc: BaseException, handle: Any) -> None:
        errors.append(exc)
        failed.set()

    try:
        with DPMHTTPBackend("127.0.0.1", srv.port, auth=None) as backend:
            handle = backend.subscribe([DRF], lambda r, h: None, on_error)
            assert fake.wait_for_subscription(DRF, timeout=5)
            started = time.monotonic()
            srv.stop()
            assert failed.wait(10)
            assert time.monotonic() - started < 10
            assert isinstance(errors[0], DPMConnectionError)
            assert handle.stopped and handle.exc is errors[0]
            assert backend.active_subscriptions == 0
    finally:
        srv.stop()


def test_slow_callback_does_not_stall_another_subscription(
    server: DPMServer, fake: FakeBackend
) -> None:
    release = threading.Event()
    blocked = threading.Event()
    fast: list[float] = []
    fast_done = threading.Event()

    def slow(reading: Reading, handle: Any) -> None:
        blocked.set()
        release.wait(10)

    def quick(reading: Reading, handle: Any) -> None:
        fast.append(reading.value)
        if len(fast) == 3:
            fast_done.set()

    with DPMHTTPBackend(
        "127.0.0.1", server.port, auth=None, dispatch_mode=DispatchMode.DIRECT
    ) as backend:
        backend.subscribe(["A:SLOW@p,1000"], callback=slow)
        backend.subscribe(["A:FAST@p,1000"], callback=quick)
        assert fake.wait_for_subscription("A:SLOW@p,1000", timeout=5)
        assert fake.wait_for_subscription("A:FAST@p,1000", timeout=5)
        fake.emit_reading("A:SLOW@p,1000", 0.0)
        assert blocked.wait(5)
        for value in (1.0, 2.0, 3.0):
            fake.emit_reading("A:FAST@p,1000", value)
        try:
            assert fast_done.wait(5)
        finally:
            release.set()
    assert fast == [1.0, 2.0, 3.0]


def test_unconsumed_iterator_does_not_stall_another(
    client: DPMHTTPBackend, fake: FakeBackend
) -> None:
    idle = client.subscribe(["A:IDLE@p,1000"])
    busy = client.subscribe(["A:BUSY@p,1000"])
    assert fake.wait_for_subscription("A:IDLE@p,1000", timeout=5)
    assert fake.wait_for_subscription("A:BUSY@p,1000", timeout=5)
    for value in range(50):
        fake.emit_reading("A:IDLE@p,1000", float(value))
    fake.emit_reading("A:BUSY@p,1000", 9.0)
    reading, _ = next(iter(busy.readings(timeout=5)))
    assert reading.value == 9.0
    idle.stop()
    busy.stop()


def test_stop_streaming_and_close_leave_no_thread_or_socket(server: DPMServer) -> None:
    backend = DPMHTTPBackend("127.0.0.1", server.port, auth=None)
    handles = [backend.subscribe([f"A:DEV{i}@p,1000"]) for i in range(3)]
    assert backend.read("M:OUTTMP") == 72.5
    assert server.wait_for_connections(4, timeout=10)
    backend.stop_streaming()
    assert all(h.stopped for h in handles)
    assert backend.active_subscriptions == 0
    backend.subscribe(["A:LATE@p,1000"])
    backend.close()
    backend.close()  # idempotent
    assert not _dpm_threads()
    assert not [t for t in threading.enumerate() if t.name == "pacsys-dispatch"]
    assert server.wait_for_connections(0, timeout=10)
    with pytest.raises(RuntimeError, match="closed"):
        backend.read("M:OUTTMP")


def test_subscribe_validates_arguments(client: DPMHTTPBackend) -> None:
    with pytest.raises(ValueError, match="drfs cannot be empty"):
        client.subscribe([])
    with pytest.raises(TypeError, match="callback must be callable"):
        client.subscribe([DRF], callback=3)  # type: ignore[arg-type]
    assert not _dpm_threads()


def test_writes_without_auth_raise_authentication_error(client: DPMHTTPBackend) -> None:
    assert not client.capabilities & BackendCapability.WRITE
    with pytest.raises(AuthenticationError):
        client.write("Z:ACLTST", 1.0)


def test_capabilities_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACSYS_DPM_HOST", "dpm.example")
    monkeypatch.setenv("PACSYS_DPM_PORT", "6803")
    backend = DPMHTTPBackend()
    try:
        assert (backend.host, backend.port, backend.pool_size, backend.timeout) == (
            "dpm.example",
            6803,
            4,
            5.0,
        )
        caps = backend.capabilities
        assert caps & BackendCapability.WRITE and caps & BackendCapability.AUTH_KERBEROS
        assert backend.principal is None  # lazy Kerberos: nothing acquired yet
    finally:
        backend.close()
    with pytest.raises(ValueError, match="pool_size"):
        DPMHTTPBackend("h", 1, pool_size=0)
    with pytest.raises(ValueError, match="auth"):
        DPMHTTPBackend("h", 1, auth=pacsys.JWTAuth("a.b.c"))


def test_factory_and_global_backend_through_the_registry(
    server: DPMServer, clean_pacsys: None
) -> None:
    with pacsys.dpm_http(host="127.0.0.1", port=server.port) as backend:
        assert isinstance(backend, DPMHTTPBackend)
        assert backend.read("M:OUTTMP") == 72.5
        assert not backend.capabilities & BackendCapability.WRITE  # factory auth=None
    pacsys.configure(dpm_host="127.0.0.1", dpm_port=server.port, default_timeout=2.0)
    assert pacsys.read("M:OUTTMP") == 72.5
    global_backend = pacsys._simple.get_global_backend()
    assert isinstance(global_backend, DPMHTTPBackend) and global_backend.timeout == 2.0
    assert global_backend.capabilities & BackendCapability.WRITE  # lazy Kerberos
