"""GRPCBackend against a real SupervisedServer(FakeBackend) (docs/protocols/grpc.md §5)."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pytest

from pacsys.auth import JWTAuth
from pacsys.errors import AuthenticationError, DeviceError, ReadError
from pacsys.policies import DeviceAccessPolicy, Policy, PolicyDecision, RequestContext
from pacsys.testing import FakeBackend
from pacsys.types import BackendCapability, DispatchMode, Reading, ValueType, WriteResult
from pacsys_grpc.backend import GRPCBackend


def make_token() -> str:
    import base64

    payload = base64.urlsafe_b64encode(b'{"sub": "me@FNAL.GOV"}').decode().rstrip("=")
    return f"e30.{payload}.sig"


class Recorder(Policy):
    """Allows everything (writes too) and remembers each request context."""

    def __init__(self) -> None:
        self.seen: list[RequestContext] = []

    def check(self, ctx: RequestContext) -> PolicyDecision:
        self.seen.append(ctx)
        return PolicyDecision(True, ctx=ctx.approve(range(len(ctx.drfs))))

    @property
    def allows_writes(self) -> bool:
        return True


class BlockingBackend(FakeBackend):
    """get_many blocks until released (for deadline tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_many(self, drfs: Any, timeout: float | None = None) -> list[Reading]:
        self.release.wait(10)
        return super().get_many(drfs, timeout)


# --- construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"host": ""}, "host"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"auth": "token"}, "JWTAuth"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GRPCBackend(**{"host": "127.0.0.1", **kwargs})


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, jwt: JWTAuth) -> None:
    monkeypatch.delenv("PACSYS_GRPC_HOST", raising=False)
    monkeypatch.delenv("PACSYS_GRPC_PORT", raising=False)
    monkeypatch.delenv("PACSYS_JWT_TOKEN", raising=False)
    with GRPCBackend() as backend:
        assert backend.target == "dce08.fnal.gov:50051"
        assert backend.timeout == 5.0
        assert not backend.authenticated and backend.principal is None
        assert backend.capabilities == (
            BackendCapability.READ | BackendCapability.STREAM | BackendCapability.BATCH
        )
    monkeypatch.setenv("PACSYS_GRPC_HOST", "example.invalid")
    monkeypatch.setenv("PACSYS_GRPC_PORT", "1234")
    monkeypatch.setenv("PACSYS_JWT_TOKEN", jwt.token)
    with GRPCBackend() as backend:
        assert backend.target == "example.invalid:1234"
        assert backend.principal == "jdoe@FNAL.GOV"
        assert BackendCapability.WRITE in backend.capabilities
        assert BackendCapability.AUTH_JWT in backend.capabilities
        assert jwt.token not in repr(backend)


def test_factory_goes_through_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    import pacsys

    backend = pacsys.grpc(host="127.0.0.1", port=50999, timeout=2.0)
    try:
        assert isinstance(backend, GRPCBackend)
        assert backend.target == "127.0.0.1:50999" and backend.timeout == 2.0
        assert backend.dispatch_mode is DispatchMode.WORKER
    finally:
        backend.close()


# --- reads ------------------------------------------------------------------------------


def test_read_get_and_get_many(fake: FakeBackend, serve: Any, client_for: Any) -> None:
    client = client_for(serve())
    assert client.read("M:OUTTMP") == 72.5
    reading = client.get("m:outtmp")
    assert reading.ok and reading.value == 72.5 and reading.drf == "m:outtmp"
    assert reading.value_type is ValueType.SCALAR and reading.timestamp is not None
    readings = client.get_many(["M:OUTTMP", "G:AMANDA", "X:NOPE", "M:OUTTMP"])
    assert [r.drf for r in readings] == ["M:OUTTMP", "G:AMANDA", "X:NOPE", "M:OUTTMP"]
    assert [r.value for r in readings] == [72.5, 1.5, None, 72.5]
    assert (readings[2].facility_code, readings[2].error_code) == (1, -1)
    assert client.get_many([]) == []


def test_oneshot_drfs_are_canonical_immediate(fake: FakeBackend, serve: Any, client_for: Any):
    client = client_for(serve())
    client.get_many(["M_OUTTMP", "m:outtmp@U", "M|OUTTMP", "M:OUTTMP.RAW", "M:OUTTMP@N"])
    assert fake.reads[-5:] == [
        "M:OUTTMP.SETTING@I",
        "M:OUTTMP.READING@I",
        "M:OUTTMP.STATUS@I",
        "M:OUTTMP.READING.RAW@I",
        "M:OUTTMP@N",
    ]


def test_periodic_read_in_one_shot_list_is_routed_to_a_stream(
    fake: FakeBackend, serve: Any, client_for: Any
) -> None:
    """An explicit periodic event is sent unchanged; the server streams it, first reply wins."""
    client = client_for(serve())
    done: list[Reading] = []
    thread = threading.Thread(target=lambda: done.append(client.get("M:OUTTMP@p,1000")))
    thread.start()
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
    fake.emit_reading("M:OUTTMP@p,1000", 9.0)
    thread.join(5)
    assert done and done[0].value == 9.0


def test_read_raises_device_error(serve: Any, client_for: Any) -> None:
    client = client_for(serve())
    with pytest.raises(DeviceError) as excinfo:
        client.read("X:NOPE")
    assert excinfo.value.error_code == -1 and excinfo.value.drf == "X:NOPE"


def test_values_of_every_kind_round_trip(fake: FakeBackend, serve: Any, client_for: Any) -> None:
    fake.set_reading("Z:ARR", np.array([1.0, 2.0, 3.0]), value_type=ValueType.SCALAR_ARRAY)
    fake.set_reading("Z:TXT", "hello", value_type=ValueType.TEXT)
    fake.set_reading("Z:RAW", b"\x01\x02", value_type=ValueType.RAW)
    fake.set_reading("Z:STS", {"on": True, "ready": False}, value_type=ValueType.BASIC_STATUS)
    client = client_for(serve())
    arr, txt, raw, sts = client.get_many(["Z:ARR", "Z:TXT", "Z:RAW", "Z:STS"])
    assert np.array_equal(arr.value, [1.0, 2.0, 3.0]) and arr.value_type is ValueType.SCALAR_ARRAY
    assert txt.value == "hello" and raw.value == b"\x01\x02"
    assert sts.value == {"on": True, "ready": False}


def test_warning_and_error_status(fake: FakeBackend, serve: Any, client_for: Any) -> None:
    fake.set_error("Z:ERR", -42, "broken")
    client = client_for(serve())
    (err,) = client.get_many(["Z:ERR"])
    assert (err.error_code, err.message, err.value) == (-42, "broken", None)


def test_jwt_sent_on_reads_and_writes(
    fake: FakeBackend, serve: Any, client_for: Any, jwt: JWTAuth
) -> None:
    recorder = Recorder()
    client = client_for(serve(policies=[recorder]), auth=jwt)
    client.read("M:OUTTMP")
    assert client.write("Z:ACLTST", 4.0).ok
    assert [c.rpc_method for c in recorder.seen] == ["Read", "Set"]
    for ctx in recorder.seen:
        assert ctx.metadata["authorization"] == f"Bearer {jwt.token}"


def test_no_metadata_without_jwt(monkeypatch: pytest.MonkeyPatch, serve: Any, client_for: Any):
    monkeypatch.delenv("PACSYS_JWT_TOKEN", raising=False)
    recorder = Recorder()
    client = client_for(serve(policies=[recorder]))
    client.read("M:OUTTMP")
    assert "authorization" not in recorder.seen[0].metadata


def test_deadline_exceeded_maps_to_timeout(serve: Any, client_for: Any) -> None:
    blocking = BlockingBackend()
    blocking.set_reading("M:OUTTMP", 1.0)
    try:
        client = client_for(serve(blocking), timeout=0.3)
        with pytest.raises(ReadError) as excinfo:
            client.get_many(["M:OUTTMP", "G:AMANDA"])
        readings = excinfo.value.readings
        assert [(r.facility_code, r.error_code) for r in readings] == [(1, -6), (1, -6)]
        assert "DEADLINE_EXCEEDED" in readings[0].message
        assert isinstance(excinfo.value.__cause__, Exception)
    finally:
        blocking.release.set()
        blocking.close()


def test_unreachable_server_gives_read_error(client_for: Any, serve: Any) -> None:
    server = serve()
    port = server.port
    server.stop()
    client = GRPCBackend(host="127.0.0.1", port=port, timeout=1.0)
    try:
        with pytest.raises(ReadError) as excinfo:
            client.read("M:OUTTMP")
        (reading,) = excinfo.value.readings
        assert reading.facility_code == 1 and reading.error_code in (-1, -6)
        assert reading.message.startswith(f"gRPC error (127.0.0.1:{port}): ")
    finally:
        client.close()


def test_denied_read_raises_read_error(serve: Any, client_for: Any) -> None:
    client = client_for(serve(policies=[DeviceAccessPolicy(["G:*"], mode="deny")]))
    with pytest.raises(ReadError) as excinfo:
        client.get_many(["M:OUTTMP", "G:AMANDA"])
    # A policy refusal is a privilege error (DIO_NOPRIV), not ACNET_RETRY: retrying cannot help.
    assert all((r.facility_code, r.error_code) == (14, -59) for r in excinfo.value.readings)
    assert "PERMISSION_DENIED: Device G:AMANDA is denied" in excinfo.value.readings[0].message


def test_closed_backend(serve: Any, client_for: Any) -> None:
    client = client_for(serve())
    client.read("M:OUTTMP")
    client.close()
    client.close()
    for call in (
        lambda: client.read("M:OUTTMP"),
        lambda: client.subscribe(["M:OUTTMP@p,1000"]),
        lambda: client.write("M:OUTTMP", 1.0),
    ):
        with pytest.raises(RuntimeError, match="Backend is closed"):
            call()


# --- writes -----------------------------------------------------------------------------


def test_write_needs_jwt(monkeypatch: pytest.MonkeyPatch, serve: Any, client_for: Any) -> None:
    monkeypatch.delenv("PACSYS_JWT_TOKEN", raising=False)
    client = client_for(serve())
    assert client.write_many([]) == []
    with pytest.raises(AuthenticationError):
        client.write("M:OUTTMP", 1.0)


def test_writes_prepared_and_applied(
    fake: FakeBackend, serve: Any, client_for: Any, jwt: JWTAuth
) -> None:
    client = client_for(serve(policies=[Recorder()]), auth=jwt)
    results = client.write_many(
        [("M:OUTTMP", 75.0), ("Z:ACLTST.STATUS", 1), ("G:AMANDA[0:1]", [1.0, 2.0])]
    )
    assert [r.drf for r in results] == [
        "M:OUTTMP.SETTING@N",
        "Z:ACLTST.CONTROL@N",
        "G:AMANDA.SETTING[0:1]@N",
    ]
    assert results[0].ok
    assert fake.writes[0] == ("M:OUTTMP.SETTING@N", 75.0)
    assert client.read("M:OUTTMP.SETTING") == 75.0


def test_write_local_validation_is_per_item(
    fake: FakeBackend, serve: Any, client_for: Any, jwt: JWTAuth
) -> None:
    client = client_for(serve(policies=[Recorder()]), auth=jwt)
    results = client.write_many(
        [
            ("M:OUTTMP", {"minimum": 1.0}),
            ("M:OUTTMP", 5.0),
            ("M:OUTTMP", np.zeros((2, 2))),
            ("M:OUTTMP..", 1.0),
            ("#LOG:1234", 1.0),
        ]
    )
    assert [r.ok for r in results] == [False, True, False, False, False]
    assert "list directive" in results[4].message
    assert all(r.facility_code == 1 and r.error_code == -1 for r in results if not r.ok)
    assert len(fake.writes) == 1


def test_write_rpc_failure_is_a_result(serve: Any, client_for: Any, jwt: JWTAuth) -> None:
    client = client_for(serve(), auth=jwt)  # no policy: every write denied
    result = client.write("M:OUTTMP", 1.0)
    assert isinstance(result, WriteResult) and not result.ok
    # A refused setting reads as DPM refuses one (DPM_PRIV), with the policy's reason.
    assert (result.facility_code, result.error_code) == (17, -17)
    assert "PERMISSION_DENIED: No policy explicitly allows write operations" in result.message


def test_backend_write_error_status(
    fake: FakeBackend, serve: Any, client_for: Any, jwt: JWTAuth
) -> None:
    fake.set_write_result("Z:ACLTST.SETTING@N", success=False, error_code=-19, message="nope")
    client = client_for(serve(policies=[Recorder()]), auth=jwt)
    result = client.write("Z:ACLTST", 1.0)
    assert (result.error_code, result.message) == (-19, "nope")


# --- streams ----------------------------------------------------------------------------


def test_subscribe_iterator(fake: FakeBackend, serve: Any, client_for: Any) -> None:
    client = client_for(serve())
    drfs = ["M:OUTTMP@p,1000", "G:AMANDA@p,1000", "M:OUTTMP@p,1000"]
    with client.subscribe(drfs) as sub:
        assert fake.wait_for_subscription("G:AMANDA@p,1000", timeout=5)
        fake.emit_reading("M:OUTTMP@p,1000", 1.0)
        fake.emit_reading("G:AMANDA@p,1000", 2.0)
        got = []
        for reading, handle in sub.readings(timeout=5):
            assert handle is sub
            got.append((reading.drf, reading.value))
            if len(got) == 3:
                break
    assert sorted(got) == sorted(
        [("M:OUTTMP@p,1000", 1.0), ("M:OUTTMP@p,1000", 1.0), ("G:AMANDA@p,1000", 2.0)]
    )
    assert sub.stopped


@pytest.mark.parametrize("mode", [DispatchMode.WORKER, DispatchMode.DIRECT])
def test_subscribe_callback(
    fake: FakeBackend, serve: Any, client_for: Any, mode: DispatchMode
) -> None:
    client = client_for(serve(), dispatch_mode=mode)
    received: list[tuple[float, str]] = []
    done = threading.Event()

    def on_reading(reading: Reading, handle: Any) -> None:
        received.append((reading.value, threading.current_thread().name))
        if len(received) == 3:
            done.set()

    handle = client.subscribe(["Z:ACLTST@p,100"], callback=on_reading)
    assert fake.wait_for_subscription("Z:ACLTST@p,100", timeout=5)
    for value in (1.0, 2.0, 3.0):
        fake.emit_reading("Z:ACLTST@p,100", value)
    assert done.wait(5)
    handle.stop()
    assert [value for value, _ in received] == [1.0, 2.0, 3.0]
    expected = "pacsys-dispatch" if mode is DispatchMode.WORKER else "pacsys-grpc-stream"
    assert all(name.startswith(expected) for _, name in received)
    with pytest.raises(RuntimeError):
        next(iter(handle.readings(timeout=0)))


def test_stream_status_reply_is_an_error_reading(
    fake: FakeBackend, serve: Any, client_for: Any
) -> None:
    client = client_for(serve())
    with client.subscribe(["M:OUTTMP@p,1000"]) as sub:
        assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
        two_d = np.zeros((2, 2))  # the server cannot encode it: status reply
        fake.emit_reading("M:OUTTMP@p,1000", two_d, value_type=ValueType.SCALAR_ARRAY)
        fake.emit_reading("M:OUTTMP@p,1000", 5.0)
        readings = []
        for reading, _ in sub.readings(timeout=5):
            readings.append(reading)
            if len(readings) == 2:
                break
    assert (readings[0].facility_code, readings[0].error_code) == (1, -1)
    assert readings[0].message.startswith("Cannot encode reading:") and not readings[0].ok
    assert readings[1].value == 5.0


def test_fatal_stream_error_raises_from_iterator(
    fake: FakeBackend, serve: Any, client_for: Any
) -> None:
    client = client_for(serve())
    errors: list[BaseException] = []
    sub = client.subscribe(["M:OUTTMP@p,1000"], on_error=lambda exc, h: errors.append(exc))
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
    fake.emit_error(ValueError("bad device"))
    with pytest.raises(DeviceError) as excinfo:
        for _ in sub.readings(timeout=5):
            pass
    error = excinfo.value
    assert (error.drf, error.facility_code, error.error_code) == ("M:OUTTMP@p,1000", 1, -1)
    assert "INVALID_ARGUMENT: bad device (devices: M:OUTTMP@p,1000)" in error.message
    assert error.message.startswith("gRPC stream error (127.0.0.1:")
    assert sub.stopped


def test_server_end_of_stream_ends_subscription_quietly(
    fake: FakeBackend, serve: Any, client_for: Any
) -> None:
    client = client_for(serve())
    sub = client.subscribe(["M:OUTTMP@p,1000"])
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
    fake.stop_streaming()  # backend subscription stops gracefully -> stream ends OK
    assert list(sub.readings(timeout=10)) == []
    assert sub.stopped and sub.exc is None


@pytest.mark.slow
def test_stream_reconnects_when_server_returns(fake: FakeBackend, serve: Any, client_for: Any):
    """Server stopped mid-stream: on_error hears UNAVAILABLE; same port back -> data again."""
    server = serve()
    client = client_for(server)  # the default policy resubscribes, as the reference does
    errors: list[BaseException] = []
    lost = threading.Event()

    def on_error(exc: BaseException, handle: Any) -> None:
        errors.append(exc)
        lost.set()

    sub = client.subscribe(["M:OUTTMP@p,1000"], on_error=on_error)
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
    fake.emit_reading("M:OUTTMP@p,1000", 1.0)
    first = next(iter(sub.readings(timeout=5)))[0]
    assert first.value == 1.0
    server.stop()
    # stop() returns only once the old backend subscription is stopped, in either mode.
    assert fake.wait_for_no_subscription("M:OUTTMP@p,1000", timeout=0)
    assert lost.wait(10)
    assert isinstance(errors[0], DeviceError)
    assert "UNAVAILABLE" in errors[0].message or "CANCELLED" in errors[0].message
    assert not sub.stopped
    server.start()  # same object, same port
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=40)
    fake.emit_reading("M:OUTTMP@p,1000", 2.0)
    again = next(iter(sub.readings(timeout=10)))[0]
    assert again.value == 2.0
    sub.stop()


def test_without_a_policy_a_lost_stream_ends_the_subscription(
    fake: FakeBackend, serve: Any, client_for: Any
) -> None:
    """reconnect=None: UNAVAILABLE is terminal, as on every transport."""
    server = serve()
    client = client_for(server, reconnect=None)
    errors: list[BaseException] = []
    lost = threading.Event()

    def on_error(exc: BaseException, handle: Any) -> None:
        errors.append(exc)
        lost.set()

    sub = client.subscribe(["M:OUTTMP@p,1000"], on_error=on_error)
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
    server.stop()
    assert lost.wait(10)
    assert isinstance(errors[0], DeviceError)
    assert "UNAVAILABLE" in errors[0].message or "CANCELLED" in errors[0].message
    assert sub.stopped and sub.exc is errors[0]


def test_close_leaves_no_threads(fake: FakeBackend, serve: Any) -> None:
    server = serve()
    client = GRPCBackend(host="127.0.0.1", port=server.port)
    client.subscribe(["M:OUTTMP@p,1000"], callback=lambda r, h: None)
    client.subscribe(["G:AMANDA@p,1000"])
    assert fake.wait_for_subscription("G:AMANDA@p,1000", timeout=5)
    assert any(t.name.startswith("pacsys-grpc-stream") for t in threading.enumerate())
    client.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("pacsys-grpc-stream")]


def test_global_backend_grpc(
    fake: FakeBackend, serve: Any, monkeypatch: pytest.MonkeyPatch, clean_pacsys: None
) -> None:
    """configure(backend="grpc") builds the global backend through the registry spec."""
    import pacsys

    server = serve()
    monkeypatch.setenv("PACSYS_GRPC_HOST", "127.0.0.1")
    monkeypatch.setenv("PACSYS_GRPC_PORT", str(server.port))
    pacsys.configure(backend="grpc", default_timeout=2.0)
    assert pacsys.read("M:OUTTMP") == 72.5
    pacsys.configure(auth=JWTAuth(make_token()))
    result = pacsys.write("M:OUTTMP", 1.0)  # auth reached the backend; the server denies
    assert "PERMISSION_DENIED" in result.message
    assert fake.writes == []
