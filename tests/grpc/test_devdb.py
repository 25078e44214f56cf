"""DevDBClient against real gRPC peers on loopback: DevDBServer and a vector-replaying server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest

from pacsys.errors import DeviceError
from pacsys.metadata import (
    AlarmBlockInfo,
    AlarmInfo,
    AlarmText,
    ControlCommandDef,
    DeviceInfoResult,
    ExtStatusBitDef,
    PropertyInfo,
    StatusBitDef,
)
from pacsys.testing import FakeBackend
from pacsys_grpc import devdb as devdb_module
from pacsys_grpc._proto.services import devdb_pb2, devdb_pb2_grpc
from pacsys_grpc.devdb import DevDBClient
from pacsys_grpc.devdb_server import DevDBServer

from .catalogue import ACLTST, ALARM, OUTTMP, TEXT, Catalogue

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "grpc_vectors.json"


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue()


@pytest.fixture
def server(catalogue: Catalogue) -> Iterator[DevDBServer]:
    with DevDBServer(catalogue) as running:
        yield running


@pytest.fixture
def client(server: DevDBServer) -> Iterator[DevDBClient]:
    with DevDBClient("127.0.0.1", server.port, tls=False) as db:
        yield db


# --- against DevDBServer ----------------------------------------------------------------


def test_device_info_round_trip(client: DevDBClient) -> None:
    info = client.get_device_info(["Z:ACLTST", "M:OUTTMP"])
    assert info == {"Z:ACLTST": ACLTST, "M:OUTTMP": OUTTMP}
    assert info["M:OUTTMP"].control is None and info["M:OUTTMP"].status_bits == ()
    assert info["M:OUTTMP"].ext_status_bits == ()


def test_requested_spelling_is_echoed(client: DevDBClient) -> None:
    assert client.get_device_info(["z:acltst"]) == {"z:acltst": ACLTST}


def test_cache_hits_skip_the_rpc(client: DevDBClient, catalogue: Catalogue) -> None:
    client.get_device_info(["Z:ACLTST"])
    assert client.get_device_info(["z:AclTst"]) == {"z:AclTst": ACLTST}
    assert catalogue.lookups == ["Z:ACLTST"]
    client.get_device_info(["Z:ACLTST", "M:OUTTMP"])
    assert catalogue.lookups == ["Z:ACLTST", "M:OUTTMP"]  # only the miss is fetched
    client.clear_cache("z:acltst")
    client.get_device_info(["Z:ACLTST"])
    assert catalogue.lookups[-1] == "Z:ACLTST" and len(catalogue.lookups) == 3
    client.clear_cache()
    client.get_device_info(["M:OUTTMP"])
    assert len(catalogue.lookups) == 4


def test_cache_ttl_and_lru(
    server: DevDBServer, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(devdb_module.time, "monotonic", lambda: clock[0])
    with DevDBClient("127.0.0.1", server.port, tls=False, cache_ttl=10, max_cache_entries=1) as db:
        db.get_device_info(["Z:ACLTST"])
        clock[0] += 5
        db.get_device_info(["Z:ACLTST"])
        assert catalogue.lookups == ["Z:ACLTST"]
        clock[0] += 6  # now 11 s old: expired
        db.get_device_info(["Z:ACLTST"])
        assert catalogue.lookups == ["Z:ACLTST", "Z:ACLTST"]
        db.get_device_info(["M:OUTTMP"])  # evicts Z:ACLTST (one entry max)
        db.get_device_info(["Z:ACLTST"])
        assert catalogue.lookups[-1] == "Z:ACLTST" and len(catalogue.lookups) == 4


def test_unknown_device_raises(client: DevDBClient) -> None:
    with pytest.raises(DeviceError) as excinfo:
        client.get_device_info(["M:OUTTMP", "X:NOTREAL"])
    error = excinfo.value
    assert (error.drf, error.facility_code, error.error_code) == ("X:NOTREAL", 0, -1)
    assert "X:NOTREAL" in error.message
    assert client.get_device_info(["M:OUTTMP"]) == {"M:OUTTMP": OUTTMP}  # cached anyway


def test_alarm_queries(client: DevDBClient) -> None:
    assert client.get_alarm_info(["Z:ACLTST", "M:OUTTMP"]) == [ALARM]
    assert client.get_alarm_text([1234, 5]) == [TEXT]


def test_plot_methods_are_unimplemented(server: DevDBServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = devdb_pb2_grpc.DevDBStub(channel)
        with pytest.raises(grpc.RpcError) as excinfo:
            stub.getPlotConfiguration(devdb_pb2.PlotSelector(id=0), timeout=5)
    assert excinfo.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_closed_client_and_bad_arguments(server: DevDBServer) -> None:
    db = DevDBClient("127.0.0.1", server.port, tls=False)
    with pytest.raises(TypeError):
        db.get_device_info("Z:ACLTST")
    with pytest.raises(ValueError):
        db.get_alarm_text([-1])
    db.close()
    db.close()
    with pytest.raises(RuntimeError, match="DevDBClient is closed"):
        db.get_device_info(["Z:ACLTST"])
    with pytest.raises(ValueError):
        DevDBClient("127.0.0.1", 0, tls=False)
    with pytest.raises(ValueError):
        DevDBClient("127.0.0.1", 1, tls=False, cache_ttl=0)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PACSYS_DEVDB_HOST", "PACSYS_DEVDB_PORT", "PACSYS_DEVDB_TLS"):
        monkeypatch.delenv(var, raising=False)
    with DevDBClient() as db:
        assert (db.target, db.tls) == ("ad-services.fnal.gov:443", True)
    monkeypatch.setenv("PACSYS_DEVDB_HOST", "127.0.0.1")
    monkeypatch.setenv("PACSYS_DEVDB_PORT", "7777")
    monkeypatch.setenv("PACSYS_DEVDB_TLS", "0")
    with DevDBClient() as db:
        assert (db.target, db.tls) == ("127.0.0.1:7777", False)
    monkeypatch.setenv("PACSYS_DEVDB_TLS", "yes")
    with pytest.raises(ValueError, match="PACSYS_DEVDB_TLS"):
        DevDBClient()


def test_pacsys_devdb_is_module_and_factory(
    server: DevDBServer, monkeypatch: pytest.MonkeyPatch, clean_pacsys: None
) -> None:
    import pacsys
    import pacsys.devdb
    from pacsys.devdb import DevDBClient as Reexported
    from pacsys.devdb import DeviceInfoResult as Record

    assert Reexported is DevDBClient and Record is DeviceInfoResult
    monkeypatch.setenv("PACSYS_DEVDB_TLS", "0")
    pacsys.configure(devdb_host="127.0.0.1", devdb_port=server.port)
    with pacsys.devdb() as db:
        assert isinstance(db, DevDBClient) and not db.tls
        assert db.get_device_info(["Z:ACLTST"])["Z:ACLTST"].description == "ACL test device!"


def test_device_info_uses_the_global_client(
    server: DevDBServer, monkeypatch: pytest.MonkeyPatch, clean_pacsys: None
) -> None:
    import pacsys
    from pacsys import Device

    monkeypatch.setenv("PACSYS_DEVDB_TLS", "0")
    pacsys.configure(devdb_host="127.0.0.1", devdb_port=server.port)
    device = Device("z_acltst[0:1]@p,1000", backend=FakeBackend())
    assert device.info() == ACLTST
    with pytest.raises(DeviceError, match="X:NOTREAL"):
        Device("X:NOTREAL", backend=FakeBackend()).info()


# --- against the reference vectors -------------------------------------------------------


class ReplayDevDB(devdb_pb2_grpc.DevDBServicer):
    """Answers with fixed reply bytes from the vectors file and records requests."""

    def __init__(self) -> None:
        self.replies: dict[str, bytes] = {}
        self.requests: list[Any] = []

    def getDeviceInfo(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return devdb_pb2.DeviceInfoReply.FromString(self.replies["info"])

    def getAllAlarmInfo(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return devdb_pb2.AlarmInfoReply.FromString(self.replies["alarm"])

    def getAlarmText(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return devdb_pb2.DeviceAlarmTextList.FromString(self.replies["text"])


@pytest.fixture
def replay() -> Iterator[tuple[ReplayDevDB, DevDBClient]]:
    servicer = ReplayDevDB()
    server = grpc.server(ThreadPoolExecutor(2, thread_name_prefix="test-replay"))
    devdb_pb2_grpc.add_DevDBServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    client = DevDBClient("127.0.0.1", port, tls=False)
    yield servicer, client
    client.close()
    server.stop(0).wait(5)


def _vector(name: str) -> dict[str, Any]:
    (entry,) = [v for v in json.loads(VECTORS.read_text())["devdb"] if v["name"] == name]
    return entry


def _record(cls: type, raw: dict[str, Any]) -> Any:
    nested = {
        "reading": PropertyInfo,
        "setting": PropertyInfo,
        "alarm_block": AlarmBlockInfo,
    }
    items = {
        "control": ControlCommandDef,
        "status_bits": StatusBitDef,
        "ext_status_bits": ExtStatusBitDef,
    }
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in nested and value is not None:
            values[key] = _record(nested[key], value)
        elif key in items and value is not None:
            values[key] = tuple(_record(items[key], v) for v in value)
        elif key == "coeff":
            values[key] = tuple(value)
        else:
            values[key] = value
    if cls is StatusBitDef:
        values["mask"], values["match"] = values.pop("mask"), values.pop("match")
    return cls(**values)


@pytest.mark.parametrize("name", ["DeviceInfoReply.optional_presence"])
def test_vector_device_info(replay: Any, name: str) -> None:
    servicer, client = replay
    vector = _vector(name)
    servicer.replies["info"] = bytes.fromhex(vector["hex"])
    requested = list(vector["client_mapping"])
    result = client.get_device_info(requested)
    expected = {k: _record(DeviceInfoResult, v) for k, v in vector["client_mapping"].items()}
    assert result == expected
    assert list(servicer.requests[0].device) == requested


def test_vector_device_and_error(replay: Any) -> None:
    servicer, client = replay
    vector = _vector("DeviceInfoReply.device_and_error")
    servicer.replies["info"] = bytes.fromhex(vector["hex"])
    with pytest.raises(DeviceError) as excinfo:
        client.get_device_info(["Z:ACLTST", "X:NOTREAL"])
    assert (excinfo.value.drf, excinfo.value.message) == ("X:NOTREAL", "Device not found")
    # the good entry was cached despite the error: no second RPC
    cached = client.get_device_info(["Z:ACLTST"])["Z:ACLTST"]
    assert len(servicer.requests) == 1
    mapped = vector["client_mapping"]["Z:ACLTST"]
    assert cached == _record(DeviceInfoResult, mapped)


def test_vector_zeroed_unknown(replay: Any) -> None:
    servicer, client = replay
    servicer.replies["info"] = bytes.fromhex(_vector("DeviceInfoReply.zeroed_unknown")["hex"])
    with pytest.raises(DeviceError) as excinfo:
        client.get_device_info(["X:NOTREAL"])
    error = excinfo.value
    assert (error.drf, error.facility_code, error.error_code) == ("X:NOTREAL", 0, -1)
    assert error.message == "Device 'X:NOTREAL' not found in DevDB"


def test_vector_alarms(replay: Any) -> None:
    servicer, client = replay
    alarm, text = _vector("AlarmInfoReply.reply"), _vector("DeviceAlarmTextList.reply")
    servicer.replies["alarm"] = bytes.fromhex(alarm["hex"])
    servicer.replies["text"] = bytes.fromhex(text["hex"])
    assert client.get_alarm_info(["Z:ACLTST"]) == [
        _record(AlarmInfo, raw) for raw in alarm["client_mapping"]
    ]
    assert client.get_alarm_text([1234, 99999]) == [
        _record(AlarmText, raw) for raw in text["client_mapping"]
    ]
    request = servicer.requests[-1].SerializeToString().hex()
    assert request == _vector("AlarmTextIdList.request")["hex"]


# --- the pacsys serve endpoint ------------------------------------------------------------


class SimLike(FakeBackend):
    """A backend that is also a MetadataSource, as the simulator is."""

    def __init__(self) -> None:
        super().__init__()
        self.catalogue = Catalogue()

    def device_info(self, name: str) -> DeviceInfoResult | None:
        return self.catalogue.device_info(name)

    def alarm_info(self, name: str) -> AlarmInfo | None:
        return self.catalogue.alarm_info(name)

    def alarm_text(self, alarm_text_id: int) -> AlarmText | None:
        return self.catalogue.alarm_text(alarm_text_id)


def test_serve_endpoint_daq_and_devdb_on_one_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from pacsys.registry import get_registry
    from pacsys_grpc.backend import GRPCBackend

    monkeypatch.delenv("PACSYS_SUPERVISED_POLICIES", raising=False)
    monkeypatch.setenv("PACSYS_SUPERVISED_TOKEN", "tok")
    backend = SimLike()
    backend.set_reading("M:OUTTMP", 70.0)
    spec = get_registry().servers()["grpc"]
    assert (spec.option, spec.default) == ("--grpc-port", 50051)
    with spec.load()(backend, port=0) as endpoint:
        env = endpoint.client_env()
        port = str(endpoint.port)
        assert env == {
            "PACSYS_GRPC_HOST": "127.0.0.1",
            "PACSYS_GRPC_PORT": port,
            "PACSYS_DEVDB_HOST": "127.0.0.1",
            "PACSYS_DEVDB_PORT": port,
            "PACSYS_DEVDB_TLS": "0",
        }
        assert endpoint.address == f"127.0.0.1:{port}"
        from pacsys.auth import JWTAuth

        with GRPCBackend("127.0.0.1", endpoint.port, auth=JWTAuth("tok")) as daq:
            assert daq.read("M:OUTTMP") == 70.0
            denied = daq.write("M:OUTTMP", 1.0)  # no policy file: read-only
            assert "No policy explicitly allows write operations" in denied.message
        with DevDBClient("127.0.0.1", endpoint.port, tls=False) as db:
            assert db.get_device_info(["M:OUTTMP"]) == {"M:OUTTMP": OUTTMP}
    backend.close()
