"""SupervisedServer: statuses, token, policies, no-bypass, audit log (docs/protocols/grpc.md §7)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from pacsys.hookspecs import PolicySpec, hookimpl
from pacsys.policies import (
    DeviceAccessPolicy,
    Policy,
    PolicyDecision,
    RateLimitPolicy,
    RequestContext,
    ValueRangePolicy,
)
from pacsys.registry import get_registry
from pacsys.testing import AsyncFakeBackend, FakeBackend
from pacsys.types import Reading, ValueType
from pacsys_grpc._proto.common import device_pb2
from pacsys_grpc._proto.services import daq_pb2, daq_pb2_grpc
from pacsys_grpc.supervised import AuditLog, SupervisedServer, load_policies
from pacsys_grpc.supervised.audit import read_frames

TOKEN = "s3cret-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
WRITE_Z = DeviceAccessPolicy(["Z:ACLTST"], action="set")


def reading_list(*drfs: str) -> daq_pb2.ReadingList:
    return daq_pb2.ReadingList(drf=list(drfs))


def setting_list(*pairs: tuple[str, float]) -> daq_pb2.SettingList:
    return daq_pb2.SettingList(
        setting=[daq_pb2.Setting(device=d, value=device_pb2.Value(scalar=v)) for d, v in pairs]
    )


def read_status(stub: daq_pb2_grpc.DAQStub, *drfs: str, **kw: Any) -> tuple[Any, str, list]:
    """(status code, details, replies) of a one-shot Read."""
    replies: list[Any] = []
    try:
        for reply in stub.Read(reading_list(*drfs), timeout=5, **kw):
            replies.append(reply)
    except grpc.RpcError as exc:
        return exc.code(), exc.details(), replies
    return grpc.StatusCode.OK, "", replies


def set_status(stub: daq_pb2_grpc.DAQStub, request: Any, metadata: Any = AUTH) -> tuple[Any, str]:
    try:
        stub.Set(request, timeout=5, metadata=metadata)
    except grpc.RpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


# --- basics -----------------------------------------------------------------------------


def test_constructor_validation(fake: FakeBackend) -> None:
    with pytest.raises(TypeError):
        SupervisedServer(object())
    with pytest.raises(ValueError):
        SupervisedServer(fake, port=70000)
    with pytest.raises(TypeError):
        SupervisedServer(fake, policies=[object()])  # type: ignore[list-item]
    server = SupervisedServer(fake, port=0, token="hidden-token")
    assert "hidden-token" not in repr(server)


def test_bind_failure_raises(fake: FakeBackend, serve: Any) -> None:
    first = serve()
    second = SupervisedServer(fake, port=first.port, host="127.0.0.1")
    try:
        with pytest.raises(RuntimeError, match="could not bind"):
            second.start()
    finally:
        second.stop()


def test_lifecycle_leaves_no_pacsys_threads(fake: FakeBackend) -> None:
    before = {t.name for t in threading.enumerate()}
    with SupervisedServer(fake, port=0, host="127.0.0.1") as server:
        assert server.port > 0
        assert server.address == f"127.0.0.1:{server.port}"
        assert server.client_env() == {
            "PACSYS_GRPC_HOST": "127.0.0.1",
            "PACSYS_GRPC_PORT": str(server.port),
        }
        assert not server.wait(0.01)
    after = {t.name for t in threading.enumerate() if t.name.startswith("pacsys")}
    assert after <= before
    assert server.wait(0)


def test_one_shot_read_replies_and_ends(serve: Any, raw_stub: Any) -> None:
    stub = raw_stub(serve())
    code, _, replies = read_status(stub, "M:OUTTMP.READING@I", "X:NOPE@I", "M:OUTTMP@N")
    assert code == grpc.StatusCode.OK
    assert [r.index for r in replies] == [0, 1, 2]
    assert replies[0].readings.reading[0].data.scalar == 72.5
    assert replies[0].readings.reading[0].HasField("status")
    assert replies[1].status.status_code == -1
    assert replies[2].WhichOneof("value") == "status"


def test_logger_history_is_chunked(fake: FakeBackend, serve: Any, client_for: Any) -> None:
    drf = "M:OUTTMP<-LOGGER:1700000000000:1700000100000"
    data = np.arange(1000, dtype=np.float64)
    micros = np.arange(1000, dtype=np.int64) * 1000 + 1_700_000_000_000_000
    fake.set_reading(drf, {"data": data, "micros": micros}, value_type=ValueType.TIMED_SCALAR_ARRAY)
    server = serve()
    stub = daq_pb2_grpc.DAQStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
    code, _, replies = read_status(stub, drf)
    assert code == grpc.StatusCode.OK
    assert [len(r.readings.reading) for r in replies] == [487, 487, 26, 0]
    reading = client_for(server).get(drf)
    assert reading.value_type is ValueType.TIMED_SCALAR_ARRAY
    assert np.array_equal(reading.value["data"], data)
    assert np.array_equal(reading.value["micros"], micros)


def test_empty_requests(serve: Any, raw_stub: Any) -> None:
    stub = raw_stub(serve(token=TOKEN, policies=[WRITE_Z]))
    code, details, _ = read_status(stub)
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, "Empty DRF list")
    assert set_status(stub, daq_pb2.SettingList()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Empty settings list",
    )
    empty = daq_pb2.SettingList(setting=[daq_pb2.Setting(device="Z:ACLTST")])
    assert set_status(stub, empty) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Proto Value has no value set (empty oneof)",
    )


# --- token ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", f"bearer {TOKEN}"),),
        (("authorization", f"Bearer  {TOKEN}"),),
        (("authorization", f"Bearer {TOKEN} "),),
        (("authorization", f"Bearer {TOKEN}x"),),
        (("authorization", TOKEN),),
    ],
    ids=["missing", "lowercase", "two-spaces", "trailing-space", "longer", "no-scheme"],
)
def test_set_without_exact_token_is_unauthenticated(
    fake: FakeBackend, serve: Any, raw_stub: Any, metadata: Any
) -> None:
    stub = raw_stub(serve(token=TOKEN, policies=[WRITE_Z]))
    code, details = set_status(stub, setting_list(("Z:ACLTST.SETTING@N", 1.0)), metadata)
    assert (code, details) == (grpc.StatusCode.UNAUTHENTICATED, "Invalid or missing bearer token")
    assert fake.writes == []


def test_token_allows_write_and_any_entry_may_match(
    fake: FakeBackend, serve: Any, raw_stub: Any
) -> None:
    stub = raw_stub(serve(token=TOKEN, policies=[WRITE_Z]))
    metadata = (("authorization", "Bearer wrong"), ("authorization", f"Bearer {TOKEN}"))
    assert set_status(stub, setting_list(("Z:ACLTST.SETTING@N", 1.0)), metadata)[0] == (
        grpc.StatusCode.OK
    )
    assert fake.writes == [("Z:ACLTST.SETTING@N", 1.0)]
    code, _, _ = read_status(stub, "M:OUTTMP@I")  # reads never need the token
    assert code == grpc.StatusCode.OK


# --- policy decisions -------------------------------------------------------------------


def test_no_policies_is_read_only(fake: FakeBackend, serve: Any, raw_stub: Any) -> None:
    stub = raw_stub(serve())
    assert read_status(stub, "M:OUTTMP@I")[0] == grpc.StatusCode.OK
    assert set_status(stub, setting_list(("M:OUTTMP.SETTING@N", 1.0)), ()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "No policy explicitly allows write operations",
    )
    assert fake.writes == []


@pytest.mark.parametrize(
    "drf",
    ["#LOG:1", "0:1234", " M:OUTTMP@I", "M:OUTTMP@I ", "M:OUTTMP\tX", "M:OUTTMÉ", "M:OUTTMP.."],
)
def test_drf_gate(serve: Any, raw_stub: Any, drf: str) -> None:
    stub = raw_stub(serve())
    code, details, replies = read_status(stub, "M:OUTTMP@I", drf)
    assert (code, details) == (
        grpc.StatusCode.PERMISSION_DENIED,
        f"Malformed or disallowed DRF: {drf!r}",
    )
    assert replies == []


Z_VARIANTS = [
    "Z:ACLTST",
    "z:acltst",
    "Z_ACLTST",
    "z_acltst",
    "Z|ACLTST",
    "Z&ACLTST",
    "Z:ACLTST.SETTING",
    "Z:ACLTST.SETTING.RAW",
    "Z:ACLTST.READING[0:3]",
    "Z:ACLTST{0:2}",
    "Z:ACLTST.ANALOG.MAX",
    "Z:ACLTST.PRSET",
]


# ACNET names in disguise: the DRF grammar admits them, no policy can match them reliably.
DISGUISED = ["Z::ACLTST", "Z:ACLTST:", "Z;ACLTST", "z::acltst", "Z:ACLTST:VAL", "Z:ACL TST"]


@pytest.mark.parametrize("drf", DISGUISED)
def test_disguised_names_fail_closed(
    fake: FakeBackend, serve: Any, raw_stub: Any, drf: str
) -> None:
    stub = raw_stub(serve(token=TOKEN, policies=[DeviceAccessPolicy(["Z:ACLTST"], mode="deny")]))
    code, details, replies = read_status(stub, f"{drf}@I")
    assert (code, details) == (
        grpc.StatusCode.PERMISSION_DENIED,
        f"Malformed or disallowed DRF: {drf + '@I'!r}",
    )
    assert replies == []
    assert set_status(stub, setting_list((drf, 1.0)))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert fake.reads == [] and fake.writes == []


@pytest.mark.parametrize("drf", Z_VARIANTS)
def test_no_bypass_of_denied_read(fake: FakeBackend, serve: Any, raw_stub: Any, drf: str) -> None:
    stub = raw_stub(serve(policies=[DeviceAccessPolicy(["Z:ACLTST"], mode="deny")]))
    for variant in (f"{drf}@I", f"{drf}@p,1000", f"{drf}<-LOGGER:1:2"):
        code, details, replies = read_status(stub, "M:OUTTMP@I", variant)
        assert code == grpc.StatusCode.PERMISSION_DENIED, variant
        assert details == "Device Z:ACLTST is denied" and replies == []
    assert not any("ACLTST" in drf for drf in fake.reads)


@pytest.mark.parametrize("drf", Z_VARIANTS)
def test_no_bypass_of_write_allow_list(
    fake: FakeBackend, serve: Any, raw_stub: Any, drf: str
) -> None:
    """Only M:OUTTMP may be written: every spelling of Z:ACLTST stays unapproved."""
    stub = raw_stub(serve(token=TOKEN, policies=[DeviceAccessPolicy(["M:OUTTMP"], action="set")]))
    code, details = set_status(stub, setting_list((drf, 1.0)))
    assert (code, details) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "No write policy approves: Z:ACLTST",
    )
    mixed = setting_list(("M:OUTTMP.SETTING@N", 1.0), (drf, 2.0))
    assert set_status(stub, mixed)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert fake.writes == []
    assert set_status(stub, setting_list(("m_outtmp", 3.0)))[0] == grpc.StatusCode.OK
    assert fake.writes == [("m_outtmp", 3.0)]


def test_value_range_through_server(fake: FakeBackend, serve: Any, raw_stub: Any) -> None:
    limits = ValueRangePolicy({"Z:*": (0, 10)})
    stub = raw_stub(serve(token=TOKEN, policies=[WRITE_Z, limits]))
    assert set_status(stub, setting_list(("Z:ACLTST", 5.0)))[0] == grpc.StatusCode.OK
    code, details = set_status(stub, setting_list(("z_acltst", 11.0)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert details == "Value 11.0 for Z:ACLTST outside range [0, 10]"
    code, details = set_status(stub, setting_list(("Z:ACLTST.SETTING.RAW", 1.0)))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "RAW field write" in details
    assert fake.writes == [("Z:ACLTST", 5.0)]


def test_stream_then_widened_request_is_denied(
    fake: FakeBackend, serve: Any, raw_stub: Any
) -> None:
    stub = raw_stub(serve(policies=[DeviceAccessPolicy(["Z:*"], mode="deny")]))
    stream = stub.Read(reading_list("M:OUTTMP@p,1000"))
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
    fake.emit_reading("M:OUTTMP@p,1000", 1.0)
    assert next(stream).readings.reading[0].data.scalar == 1.0
    code, details, _ = read_status(stub, "M:OUTTMP@p,1000", "Z:ACLTST@p,1000")
    assert (code, details) == (grpc.StatusCode.PERMISSION_DENIED, "Device Z:ACLTST is denied")
    assert not fake.wait_for_subscription("Z:ACLTST@p,1000", timeout=0)
    fake.emit_reading("M:OUTTMP@p,1000", 2.0)
    assert next(stream).readings.reading[0].data.scalar == 2.0  # the old stream is untouched
    stream.cancel()


def test_rate_limit_counts_per_address_across_reconnects(serve: Any) -> None:
    server = serve(policies=[RateLimitPolicy(3, 60.0)])
    outcomes = []
    for _ in range(5):  # a fresh channel (new client port) each time
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            code, details, _ = read_status(daq_pb2_grpc.DAQStub(channel), "M:OUTTMP@I")
            outcomes.append((code, details))
    assert [code for code, _ in outcomes] == [grpc.StatusCode.OK] * 3 + [
        grpc.StatusCode.PERMISSION_DENIED
    ] * 2
    assert outcomes[3][1] == "Rate limit exceeded (3 per 60.0s)"


class Exploding(Policy):
    def check(self, ctx: RequestContext) -> PolicyDecision:
        raise RuntimeError("kaboom")


class Redirecting(Policy):
    def check(self, ctx: RequestContext) -> PolicyDecision:
        import dataclasses

        return PolicyDecision(True, ctx=dataclasses.replace(ctx, drfs=["G:AMANDA@I"]))


@pytest.mark.parametrize(
    "policy, details",
    [
        (Exploding(), "Policy error: kaboom"),
        (Redirecting(), "Policy error: policy Redirecting changed the request DRFs"),
    ],
)
def test_policy_failures_are_internal(serve: Any, raw_stub: Any, policy: Policy, details: str):
    stub = raw_stub(serve(policies=[policy]))
    assert read_status(stub, "M:OUTTMP@I")[:2] == (grpc.StatusCode.INTERNAL, details)


class FailingBackend(FakeBackend):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def get_many(self, drfs: Any, timeout: float | None = None) -> list[Reading]:
        raise self.exc


@pytest.mark.parametrize(
    "exc, code, details",
    [
        (ValueError("bad drf"), grpc.StatusCode.INVALID_ARGUMENT, "bad drf"),
        (
            NotImplementedError(),
            grpc.StatusCode.UNIMPLEMENTED,
            "Backend does not support this operation",
        ),
        (RuntimeError("down"), grpc.StatusCode.INTERNAL, "Backend error: down"),
    ],
)
def test_backend_exceptions_map_to_statuses(
    serve: Any, raw_stub: Any, exc: BaseException, code: Any, details: str
) -> None:
    backend = FailingBackend(exc)
    try:
        stub = raw_stub(serve(backend))
        assert read_status(stub, "M:OUTTMP@I")[:2] == (code, details)
    finally:
        backend.close()


def test_async_backend_is_awaited(serve: Any, client_for: Any, jwt: Any) -> None:
    backend = AsyncFakeBackend()
    backend.set_reading("M:OUTTMP", 12.0)
    server = serve(backend, token=TOKEN, policies=[DeviceAccessPolicy(["M:*"], action="set")])
    from pacsys.auth import JWTAuth

    client = client_for(server, auth=JWTAuth(TOKEN))
    assert client.read("M:OUTTMP") == 12.0
    assert client.write("M:OUTTMP", 13.0).ok
    assert backend.sync.writes == [("M:OUTTMP.SETTING@N", 13.0)]
    backend.sync.close()


# --- audit ------------------------------------------------------------------------------


def test_audit_log_records_and_capture(
    fake: FakeBackend, serve: Any, raw_stub: Any, tmp_path: Path
):
    audit = AuditLog(tmp_path / "audit.jsonl", tmp_path / "audit.bin", log_responses=True)
    stub = raw_stub(serve(token=TOKEN, policies=[WRITE_Z], audit_log=audit))
    read_status(stub, "M:OUTTMP.READING@I")
    set_status(stub, setting_list(("M:OUTTMP.SETTING@N", 1.0)))
    request = daq_pb2.SettingList(
        setting=[
            daq_pb2.Setting(
                device="Z:ACLTST.SETTING@N",
                value=device_pb2.Value(raw=b"\x01\x02"),
            )
        ]
    )
    assert set_status(stub, request)[0] == grpc.StatusCode.OK
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    inbound = [r for r in records if r["dir"] == "in"]
    assert [(r["seq"], r["method"], r["allowed"]) for r in inbound] == [
        (1, "Read", True),
        (2, "Set", False),
        (3, "Set", True),
    ]
    assert inbound[0]["drfs"] == ["M:OUTTMP.READING@I"] and "values" not in inbound[0]
    assert inbound[1]["reason"] == "No write policy approves: M:OUTTMP"
    assert inbound[1]["values"] == [{"drf": "M:OUTTMP.SETTING@N", "value": 1.0}]
    assert inbound[2]["values"] == [{"drf": "Z:ACLTST.SETTING@N", "value": "AQI="}]
    outbound = [r for r in records if r["dir"] == "out"]
    assert [(r["seq"], r["method"]) for r in outbound] == [(1, "Read"), (3, "Set")]
    assert inbound[0]["peer"].startswith("ipv4:127.0.0.1:")
    assert inbound[0]["ts"].endswith("+00:00")
    line = (tmp_path / "audit.jsonl").read_text().splitlines()[0]
    assert ", " not in line and '": ' not in line
    frames = list(read_frames((tmp_path / "audit.bin").read_bytes()))
    assert [tag for tag, _ in frames] == [0, 1, 2, 2, 3]
    assert list(frames[0][1].drf) == ["M:OUTTMP.READING@I"]
    assert frames[3][1] == request


class BrokenAudit(AuditLog):
    def log_request(self, **kwargs: Any) -> int:
        raise OSError("disk full")


def test_audit_failure_blocks_allowed_write(
    fake: FakeBackend, serve: Any, raw_stub: Any, tmp_path: Path
) -> None:
    audit = BrokenAudit(tmp_path / "audit.jsonl")
    stub = raw_stub(serve(token=TOKEN, policies=[WRITE_Z], audit_log=audit))
    assert set_status(stub, setting_list(("Z:ACLTST", 1.0))) == (
        grpc.StatusCode.INTERNAL,
        "Audit log failed; write blocked: disk full",
    )
    assert fake.writes == []
    assert read_status(stub, "M:OUTTMP@I")[0] == grpc.StatusCode.OK  # reads only log it


def test_audit_log_validation_and_reopen(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AuditLog(tmp_path / "a.jsonl", flush_interval=0)
    audit = AuditLog(tmp_path / "a.jsonl", flush_interval=2)
    audit.log_request(peer="p", method="Read", drfs=["A"], allowed=True, reason=None)
    audit.close()
    audit.log_request(peer="p", method="Read", drfs=["B"], allowed=False, reason="no")
    audit.close()
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]


# --- policies from configuration --------------------------------------------------------


class SitePolicy(Policy):
    """A site policy offered by an in-process plugin: approves writes to one device."""

    def __init__(self, device: str) -> None:
        self.device = device

    def check(self, ctx: RequestContext) -> PolicyDecision:
        from pacsys.drf_utils import get_device_name

        slots = [i for i, d in enumerate(ctx.drfs) if get_device_name(d) == self.device]
        return PolicyDecision(True, ctx=ctx.approve(slots))

    @property
    def allows_writes(self) -> bool:
        return True


class SitePlugin:
    @hookimpl
    def pacsys_policies(self) -> list[PolicySpec]:
        return [PolicySpec("site_single_device", SitePolicy, "Approve writes to one device")]


def test_policies_from_json_file_through_the_registry(
    fake: FakeBackend, serve: Any, raw_stub: Any, tmp_path: Path
) -> None:
    config = tmp_path / "policies.json"
    config.write_text(
        json.dumps(
            {
                "policies": [
                    {"name": "site_single_device", "options": {"device": "Z:ACLTST"}},
                    {"name": "value_range", "options": {"limits": {"Z:*": [0, 10]}}},
                ]
            }
        )
    )
    with get_registry().plugin(SitePlugin(), "site-policies"):
        server = serve(token=TOKEN, policies=str(config))
    assert [type(p).__name__ for p in server.policies] == ["SitePolicy", "ValueRangePolicy"]
    stub = raw_stub(server)
    assert set_status(stub, setting_list(("Z_ACLTST", 5.0)))[0] == grpc.StatusCode.OK
    assert set_status(stub, setting_list(("Z:ACLTST", 50.0)))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert set_status(stub, setting_list(("M:OUTTMP", 5.0))) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "No write policy approves: M:OUTTMP",
    )
    assert fake.writes == [("Z_ACLTST", 5.0)]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib needs Python 3.11")
def test_policies_from_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "policies.toml"
    config.write_text(
        '[[policy]]\nname = "device_access"\noptions = { patterns = ["M:*"], action = "set" }\n'
        '[[policy]]\nname = "rate_limit"\noptions = { max_requests = 5 }\n'
    )
    policies = load_policies(config)
    assert [type(p).__name__ for p in policies] == ["DeviceAccessPolicy", "RateLimitPolicy"]
    assert policies[0].allows_writes


@pytest.mark.parametrize(
    "content, match",
    [
        ("[{}]", "needs a non-empty 'name'"),
        ('[{"name": "no_such_policy"}]', "Unknown policy 'no_such_policy'"),
        ('[{"name": "rate_limit", "options": {"max_requests": -1}}]', "rate_limit"),
        ('[{"name": "read_only", "extra": 1}]', "unknown keys"),
        ("{not json", "invalid JSON"),
    ],
)
def test_bad_policy_files(tmp_path: Path, content: str, match: str) -> None:
    config = tmp_path / "p.json"
    config.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_policies(config)


def test_pacsys_supervised_reexports_the_server() -> None:
    import pacsys.supervised
    import pacsys_grpc.supervised

    assert pacsys.supervised.SupervisedServer is SupervisedServer
    assert pacsys.supervised.__all__ == pacsys_grpc.supervised.__all__
