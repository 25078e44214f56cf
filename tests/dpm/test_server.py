"""DPMServer against raw loopback sockets speaking the codec: handshake, reads, streams, writes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.acnet import DPM_BAD_EVENT, DPM_BAD_REQUEST, DPM_NO_SUCH_DEVICE, DPM_PRIV
from pacsys.backends import Backend
from pacsys.testing import FakeBackend
from pacsys.types import BackendCapability, DeviceMeta, Reading, ValueType
from pacsys_dpm.codec import (
    HANDSHAKE,
    AddToListRequest,
    AnalogAlarmReply,
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateReply,
    AuthenticateRequest,
    BasicStatusReply,
    ClearListRequest,
    DeviceInfoReply,
    DigitalAlarmReply,
    EnableSettingsRequest,
    ListStatusReply,
    OpenListReply,
    RawReply,
    RawSetting,
    Reply,
    ScalarArrayReply,
    ScalarReply,
    ScaledSetting,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    TextArrayReply,
    TextReply,
    TextSetting,
    TimedScalarArrayReply,
    encode_message,
    frame,
    message_from_json,
)
from pacsys_dpm.server import DPMServer

from .raw_client import WAIT, RawClient
from .raw_client import write_setup as _write_setup

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "dpm_vectors.json"
BY_NAME = {v["name"]: v for v in json.loads(VECTORS.read_text(encoding="utf-8"))}
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)  # 1704067200000 ms


# --------------------------------------------------------------------------- helpers


class StaticBackend(Backend):
    """Answers reads with prepared Readings (exact metadata, for byte-exact vector replays)."""

    def __init__(self, readings: dict[str, Reading]) -> None:
        self.readings = readings

    @property
    def capabilities(self) -> BackendCapability:
        return BackendCapability.READ | BackendCapability.BATCH

    def read(self, drf: str, timeout: float | None = None) -> Any:
        return self.get(drf).value

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        return self.readings[drf]

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        return [self.get(d) for d in drfs]

    def close(self) -> None:
        pass


def _server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("pacsys-dpm")}


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    backend.set_reading("M:OUTTMP", 72.5, units="DegF", description="Outdoor temp", timestamp=T0)
    backend.set_reading("Z:ACLTST", 1.0, units="mm", timestamp=T0)
    yield backend
    backend.close()


@pytest.fixture
def server(fake: FakeBackend) -> Iterator[DPMServer]:
    with DPMServer(fake, port=0, heartbeat_interval=30.0) as srv:
        yield srv
    assert not _server_threads()


@pytest.fixture
def client(server: DPMServer) -> Iterator[RawClient]:
    c = RawClient(server.port).open()
    yield c
    c.close()


def _client_frames(name: str, list_id: int) -> list[Any]:
    frames = []
    for f in BY_NAME[name]["fields"]["frames"]:
        fields = dict(f["fields"])
        if "list_id" in fields:
            fields["list_id"] = list_id
        frames.append(message_from_json("request", f["message"], fields))
    return frames


def _server_frames(name: str) -> list[Reply]:
    return [
        message_from_json("reply", f["message"], f["fields"])  # type: ignore[misc]
        for f in BY_NAME[name]["fields"]["frames"]
    ]


# --------------------------------------------------------------------------- connection


def test_handshake_gets_openlist_as_first_frame(server: DPMServer) -> None:
    a = RawClient(server.port)
    try:
        a.sock.settimeout(WAIT)
        head = a.sock.recv(4)
        assert head == b"\x00\x00\x00\x16"  # OpenList: 22 bytes (docs/protocols/dpm.md §4.2)
        a.decoder.feed(head)
        first = a.recv(skip_heartbeats=False)
        assert first == OpenListReply(4096)
        b = RawClient(server.port).open()
        assert 4096 < b.list_id <= 6143
        b.close()
    finally:
        a.close()


def test_handshake_pipelined_with_requests(server: DPMServer) -> None:
    c = RawClient(server.port, handshake=HANDSHAKE + frame(encode_message(StartListRequest(0))))
    try:
        assert isinstance(c.recv(), OpenListReply)
        assert isinstance(c.recv(), StartListReply)
    finally:
        c.close()


def test_wrong_handshake_gets_http_404_and_close(server: DPMServer) -> None:
    c = RawClient(server.port, handshake=b"GET /other HTTP/1.1\r\n\r\n")
    try:
        assert c.wait_eof().startswith(b"HTTP/1.1 404 Not Found\r\n")
    finally:
        c.close()


def test_malformed_frame_drops_only_that_connection(server: DPMServer) -> None:
    bad = RawClient(server.port).open()
    good = RawClient(server.port).open()
    try:
        bad.sock.sendall(frame(b"SDD\x02garbage"))
        assert bad.wait_eof() == b""
        zero = RawClient(server.port).open()
        zero.sock.sendall(b"\x00\x00\x00\x00")
        assert zero.wait_eof() == b""
        zero.close()
        good.send(AddToListRequest(good.list_id, 1, "M:OUTTMP.READING@I"))
        good.send(StartListRequest(good.list_id))
        assert [type(r) for r in good.recv_n(3)] == [DeviceInfoReply, StartListReply, ScalarReply]
    finally:
        bad.close()
        good.close()


def test_heartbeat_when_idle(fake: FakeBackend) -> None:
    with DPMServer(fake, port=0, heartbeat_interval=0.1) as srv:
        c = RawClient(srv.port).open()
        start = time.monotonic()
        beats = [c.recv(skip_heartbeats=False) for _ in range(3)]
        elapsed = time.monotonic() - start
        assert beats == [ListStatusReply(c.list_id, 0)] * 3
        assert 0.15 <= elapsed < 3.0
        c.close()
    assert not _server_threads()


def test_stop_closes_clients_and_joins_threads(fake: FakeBackend) -> None:
    before = set(threading.enumerate())
    srv = DPMServer(fake, port=0).start()
    clients = [RawClient(srv.port).open() for _ in range(3)]
    clients[0].send(AddToListRequest(clients[0].list_id, 1, "M:OUTTMP@p,1000"))
    clients[0].send(StartListRequest(clients[0].list_id))
    assert isinstance(clients[0].recv(), StartListReply)
    assert srv.connection_count == 3
    srv.stop()
    for c in clients:
        c.wait_eof()
        c.close()
    assert srv.wait(0)
    assert srv.connection_count == 0
    assert set(threading.enumerate()) <= before
    assert not fake._active()  # the stream subscription was ended
    srv.stop()  # idempotent


def test_address_and_client_env(server: DPMServer) -> None:
    assert server.port > 0
    assert server.address == f"127.0.0.1:{server.port}"
    assert server.client_env() == {
        "PACSYS_DPM_HOST": "127.0.0.1",
        "PACSYS_DPM_PORT": str(server.port),
    }
    assert not server.wait(0.01)


def test_constructor_rejects_bad_arguments(fake: FakeBackend, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Backend"):
        DPMServer(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port"):
        DPMServer(fake, port=70000)
    with pytest.raises(ValueError, match="heartbeat_interval"):
        DPMServer(fake, heartbeat_interval=0)
    with pytest.raises(FileNotFoundError, match="keytab"):
        DPMServer(fake, keytab=tmp_path / "missing.keytab")
    with pytest.raises(ValueError, match="list of names"):
        DPMServer(fake, roles={"ops": "Z:ACLTST"})


# --------------------------------------------------------------------------- reads


def test_oneshot_read_replays_reference_stream_byte_exact() -> None:
    meta = DeviceMeta(27235, "M:OUTTMP", "Outdoor temperature", "DegF")
    reading = Reading(
        "M:OUTTMP.READING@I", ValueType.SCALAR, value=72.5, timestamp=T0, cycle=0, meta=meta
    )
    with DPMServer(StaticBackend({"M:OUTTMP.READING@I": reading}), port=0) as srv:
        c = RawClient(srv.port)
        requests = _client_frames("stream_oneshot_single_client", 4096)
        c.send(*requests[:2])  # AddToList + StartList in one write
        replies = [c.recv(skip_heartbeats=False) for _ in range(4)]
        assert replies == _server_frames("stream_oneshot_single_server")
        assert bytes(c.raw) == bytes.fromhex(BY_NAME["stream_oneshot_single_server"]["hex"])
        c.send(*requests[2:])
        c.sync()
        c.close()


def test_batch_partial_failure_matches_reference_order() -> None:
    readings = {
        "M:OUTTMP.READING@I": Reading(
            "M:OUTTMP.READING@I",
            ValueType.SCALAR,
            value=72.5,
            timestamp=T0,
            cycle=0,
            meta=DeviceMeta(27235, "M:OUTTMP", "Outdoor temperature", "DegF"),
        ),
        "Z:NOTFND.READING@I": Reading("Z:NOTFND.READING@I", facility_code=17, error_code=-26),
        "B:HS23T.READING[0:3]@I": Reading(
            "B:HS23T.READING[0:3]@I",
            ValueType.SCALAR_ARRAY,
            value=np.array([1.0, 2, 3, 4]),
            timestamp=datetime.fromtimestamp(1704067200.001, timezone.utc),
            cycle=0,
            meta=DeviceMeta(140013, "B:HS23T", "Array device", "mm"),
        ),
    }
    with DPMServer(StaticBackend(readings), port=0) as srv:
        c = RawClient(srv.port).open()
        c.send(*_client_frames("stream_oneshot_batch_partial_failure_client", c.list_id)[:4])
        got = c.recv_n(6)
        expected = [
            r
            for r in _server_frames("stream_oneshot_batch_partial_failure_server")[1:]
            if not isinstance(r, ListStatusReply)
        ]
        assert (
            isinstance(got[1], StatusReply) and abs(got[1].timestamp - time.time() * 1000) < 60_000
        )
        got[1] = StatusReply(2, 1704067200000, 0, got[1].status)
        got[3] = StartListReply(4097, 0) if got[3] == StartListReply(c.list_id, 0) else got[3]
        assert got == expected
        c.close()


def test_missing_device_gets_status_reply(client: RawClient, fake: FakeBackend) -> None:
    fake.set_error("Z:NOTFND", -26, "no such device")
    client.send(
        AddToListRequest(client.list_id, 1, "M:OUTTMP.READING@I"),
        AddToListRequest(client.list_id, 2, "Z:NOTFND.READING@I"),
        AddToListRequest(client.list_id, 3, "Q:NOPE@I"),
        StartListRequest(client.list_id),
    )
    replies = client.recv_n(5)
    info, missing, unknown, start, scalar = replies
    assert info == DeviceInfoReply(1, 0, "M:OUTTMP", "Outdoor temp", "DegF")
    assert isinstance(missing, StatusReply) and missing.ref_id == 2 and missing.status == -26 * 256
    assert isinstance(unknown, StatusReply) and unknown.ref_id == 3 and unknown.status < 0
    assert start == StartListReply(client.list_id, 0)
    assert scalar == ScalarReply(1, 1704067200000, 0, 0, 72.5)


def test_bad_drf_gets_status_at_add(client: RawClient) -> None:
    client.send(
        AddToListRequest(client.list_id, 7, "M:OUTTMP.NOPROP@I"),
        AddToListRequest(client.list_id, 8, "M:OUTTMP@X"),
        AddToListRequest(client.list_id, 9, "M:OUTTMP@p,abc"),
    )
    got = [client.recv() for _ in range(3)]
    assert all(isinstance(r, StatusReply) for r in got)
    assert [(r.ref_id, r.status) for r in got] == [  # type: ignore[attr-defined]
        (7, DPM_BAD_REQUEST),
        (8, DPM_BAD_EVENT),
        (9, DPM_BAD_EVENT),
    ]
    client.send(StartListRequest(client.list_id))
    assert client.recv() == StartListReply(client.list_id, 0)  # bad entries were not kept


@pytest.mark.parametrize(
    ("value", "value_type", "check"),
    [
        (
            np.array([1.0, 2.5]),
            ValueType.SCALAR_ARRAY,
            lambda r: isinstance(r, ScalarArrayReply) and list(r.data) == [1.0, 2.5],
        ),
        ("µA ok", ValueType.TEXT, lambda r: r == TextReply(1, 1704067200000, 0, 0, "µA ok")),
        (
            ["a", "é"],
            ValueType.TEXT_ARRAY,
            lambda r: r == TextArrayReply(1, 1704067200000, 0, 0, ("a", "é")),
        ),
        (b"\x01\x02", ValueType.RAW, lambda r: r == RawReply(1, 1704067200000, 0, 0, b"\x01\x02")),
        (
            {"on": True, "ready": False},
            ValueType.BASIC_STATUS,
            lambda r: r == BasicStatusReply(1, 1704067200000, 0, on=True, ready=False),
        ),
        (
            {
                "minimum": -1.0,
                "maximum": 5.0,
                "alarm_enable": True,
                "alarm_status": False,
                "abort": False,
                "abort_inhibit": True,
                "tries_needed": 2,
                "tries_now": 0,
            },
            ValueType.ANALOG_ALARM,
            lambda r: (
                r
                == AnalogAlarmReply(1, 1704067200000, 0, -1.0, 5.0, True, False, False, True, 2, 0)
            ),
        ),
        (
            {
                "nominal": 3,
                "mask": 255,
                "alarm_enable": False,
                "alarm_status": True,
                "abort": True,
                "abort_inhibit": False,
                "tries_needed": 1,
                "tries_now": 1,
            },
            ValueType.DIGITAL_ALARM,
            lambda r: (
                r == DigitalAlarmReply(1, 1704067200000, 0, 3, 255, False, True, True, False, 1, 1)
            ),
        ),
        (
            {"data": np.array([1.0, 2.0]), "micros": np.array([10, 20], dtype=np.int64)},
            ValueType.TIMED_SCALAR_ARRAY,
            lambda r: isinstance(r, TimedScalarArrayReply) and list(r.micros) == [10, 20],
        ),
    ],
    ids=["array", "text", "textArr", "raw", "basicStatus", "anaAlarm", "digAlarm", "timed"],
)
def test_value_types_map_to_reply_types(
    client: RawClient, fake: FakeBackend, value: Any, value_type: ValueType, check: Any
) -> None:
    fake.set_reading("T:VALUE", value, value_type=value_type, timestamp=T0)
    client.send(AddToListRequest(client.list_id, 1, "T:VALUE@I"), StartListRequest(client.list_id))
    info, start, data = client.recv_n(3)
    assert isinstance(info, DeviceInfoReply) and info.name == "T:VALUE"
    assert isinstance(start, StartListReply)
    assert check(data), data


def test_oversized_array_gets_reply_overflow(client: RawClient, fake: FakeBackend) -> None:
    fake.set_reading("T:HUGE", np.zeros(20_000), value_type=ValueType.SCALAR_ARRAY)
    client.send(AddToListRequest(client.list_id, 1, "T:HUGE@I"), StartListRequest(client.list_id))
    *_, data = client.recv_n(3)
    assert isinstance(data, StatusReply) and data.status == -11247  # DPM_REPLY_OVERFLOW


# --------------------------------------------------------------------------- streams


def test_periodic_stream_then_stop(client: RawClient, fake: FakeBackend) -> None:
    drf = "M:OUTTMP@p,1000"
    client.send(AddToListRequest(client.list_id, 1, drf), AddToListRequest(client.list_id, 2, drf))
    client.send(StartListRequest(client.list_id))
    assert client.recv() == StartListReply(client.list_id, 0)
    assert fake.wait_for_subscription(drf, WAIT)
    fake.emit_reading(drf, 1.5, units="DegF", timestamp=T0, cycle=7)
    got = client.recv_n(4)
    assert {(type(r), r.ref_id) for r in got} == {
        (DeviceInfoReply, 1),
        (ScalarReply, 1),
        (DeviceInfoReply, 2),
        (ScalarReply, 2),
    }
    assert ScalarReply(1, 1704067200000, 7, 0, 1.5) in got
    fake.emit_reading(drf, 2.5, timestamp=T0)
    assert [r.data for r in client.recv_n(2)] == [2.5, 2.5]  # type: ignore[attr-defined]
    client.send(StopListRequest(client.list_id))
    client.sync()
    assert not fake._active()
    fake.emit_reading(drf, 3.5)
    client.sync()  # the next frame is the sync reply: nothing was sent after StopList


def test_restart_after_stop_and_clear(client: RawClient, fake: FakeBackend) -> None:
    client.send(
        AddToListRequest(client.list_id, 1, "M:OUTTMP@p,500"), StartListRequest(client.list_id)
    )
    assert isinstance(client.recv(), StartListReply)
    client.send(StopListRequest(client.list_id), StartListRequest(client.list_id))
    assert isinstance(client.recv(), StartListReply)  # entries kept across StopList
    assert fake.wait_for_subscription("M:OUTTMP@p,500", WAIT)
    client.send(ClearListRequest(client.list_id), StopListRequest(client.list_id))
    client.send(StartListRequest(client.list_id))
    assert client.recv() == StartListReply(client.list_id, 0)
    client.sync()
    assert not fake._active()


def test_stream_error_reading_becomes_status(client: RawClient, fake: FakeBackend) -> None:
    drf = "M:OUTTMP@e,02"
    client.send(AddToListRequest(client.list_id, 4, drf), StartListRequest(client.list_id))
    assert isinstance(client.recv(), StartListReply)
    assert fake.wait_for_subscription(drf, WAIT)
    for handle in fake._active():
        handle.deliver(Reading(drf, facility_code=17, error_code=-26))
    reply = client.recv()
    assert isinstance(reply, StatusReply) and (reply.ref_id, reply.status) == (
        4,
        DPM_NO_SUCH_DEVICE,
    )


def test_client_eof_ends_subscription(server: DPMServer, fake: FakeBackend) -> None:
    c = RawClient(server.port).open()
    c.send(AddToListRequest(c.list_id, 1, "M:OUTTMP@p,1000"), StartListRequest(c.list_id))
    assert isinstance(c.recv(), StartListReply)
    assert fake.wait_for_subscription("M:OUTTMP@p,1000", WAIT)
    c.close()
    with fake._subs_changed:
        assert fake._subs_changed.wait_for(lambda: not fake._active(), WAIT)


# --------------------------------------------------------------------------- writes


def test_writes_refused_without_keytab(client: RawClient, fake: FakeBackend) -> None:
    client.send(AuthenticateRequest(client.list_id, b""))
    assert client.recv() == AuthenticateReply("daeset/bd@localhost")
    client.send(AuthenticateRequest(client.list_id, b"\x60\x82token"))
    refused = client.recv()
    assert isinstance(refused, StatusReply) and refused.status == DPM_PRIV
    client.send(EnableSettingsRequest(client.list_id, b"mic", b"1234"))
    assert client.recv() == StatusReply(0, 0, -1, DPM_PRIV)
    _write_setup(client, "Z:ACLTST.SETTING@N", "G:TEXT.SETTING@N", "Z:RAW.SETTING@N")
    client.send(
        ApplySettingsRequest(
            "someone@FNAL.GOV",
            client.list_id,
            raw_array=[RawSetting(3, b"\x00")],
            scaled_array=[ScaledSetting(1, [5.0])],
            text_array=[TextSetting(2, ["hi"])],
        )
    )
    reply = client.recv()
    assert isinstance(reply, ApplySettingsReply)
    assert sorted((s.ref_id, s.status) for s in reply.status) == [
        (1, DPM_PRIV),
        (2, DPM_PRIV),
        (3, DPM_PRIV),
    ]
    assert fake.writes == []


def test_apply_settings_for_unknown_ref(client: RawClient, fake: FakeBackend) -> None:
    client.send(ApplySettingsRequest("", client.list_id, scaled_array=[ScaledSetting(9, [1.0])]))
    reply = client.recv()
    assert isinstance(reply, ApplySettingsReply)
    assert [(s.ref_id, s.status) for s in reply.status] == [(9, DPM_BAD_REQUEST)]
    assert fake.writes == []


def test_never_entries_get_device_info_only(client: RawClient, fake: FakeBackend) -> None:
    client.send(
        AddToListRequest(client.list_id, 1, "Z:ACLTST.SETTING@N"), StartListRequest(client.list_id)
    )
    assert client.recv_n(2) == [
        DeviceInfoReply(1, 0, "Z:ACLTST", ""),
        StartListReply(client.list_id, 0),
    ]
    client.sync()
    assert fake.reads == []


# --------------------------------------------------------------------------- logger, plugin


def test_chunked_logger_read_sends_chunks_and_terminator() -> None:
    drf = "M:OUTTMP<-LOGGER:1704067200000:1704067300000"
    micros = np.arange(1000, dtype=np.int64) * 1000 + 1704067200000000
    value = {"data": np.arange(1000.0), "micros": micros}
    reading = Reading(drf, ValueType.TIMED_SCALAR_ARRAY, value=value, timestamp=T0)
    with DPMServer(StaticBackend({drf: reading}), port=0) as srv:
        c = RawClient(srv.port).open()
        c.send(AddToListRequest(c.list_id, 1, drf), StartListRequest(c.list_id))
        info, start, *chunks = c.recv_n(6)
        assert isinstance(info, DeviceInfoReply) and isinstance(start, StartListReply)
        assert all(isinstance(r, TimedScalarArrayReply) for r in chunks)
        sizes = [len(r.data) for r in chunks]  # type: ignore[attr-defined]
        assert sizes == [487, 487, 26, 0]
        data = np.concatenate([r.data for r in chunks])  # type: ignore[attr-defined]
        stamps = np.concatenate([r.micros for r in chunks])  # type: ignore[attr-defined]
        assert np.array_equal(data, value["data"]) and np.array_equal(stamps, micros)
        c.close()


def test_registered_as_pacsys_server(fake: FakeBackend) -> None:
    from pacsys.registry import Registry

    spec = Registry().servers()["dpm"]
    assert (spec.option, spec.option_kwarg, spec.default) == ("--dpm-port", "port", 6802)
    with spec.load()(fake, **{spec.option_kwarg: 0}) as srv:
        assert isinstance(srv, DPMServer) and srv.address.endswith(f":{srv.port}")
        c = RawClient(srv.port).open()
        assert 4096 <= c.list_id <= 6143
        c.close()


def test_a_slow_client_loses_readings_visibly_and_stalls_no_one() -> None:
    """A client that stops reading: its readings are dropped, counted and announced with
    ACNET_QUEFULL when it reads again; the backend's thread never waits for it, so another
    client on the same device gets every reading in order."""
    from pacsys.acnet.status import ACNET_QUEFULL
    from pacsys.types import DispatchMode
    from pacsys_dpm.client import DPMHTTPBackend

    drf, count = "Z:WAVE@p,1", 2_000  # 8 kB each: 16 MB, more than any socket buffers
    fake = FakeBackend(dispatch_mode=DispatchMode.DIRECT)  # emit_reading runs the server's code
    with DPMServer(fake, port=0, stream_buffer=65536) as server:
        slow = RawClient(server.port, rcvbuf=4096).open()
        slow.send(AddToListRequest(slow.list_id, 1, drf), StartListRequest(slow.list_id))
        assert isinstance(slow.recv(), StartListReply)
        arrived = threading.Condition()
        values: list[float] = []

        def take(reading: Reading, _handle: object) -> None:
            with arrived:
                values.append(float(reading.value[0]))
                arrived.notify_all()

        with DPMHTTPBackend("127.0.0.1", server.port, timeout=WAIT) as client:
            handle = client.subscribe([drf], callback=take)
            assert fake.wait_for_subscription(drf, WAIT, count=2)
            for k in range(count):
                fake.emit_reading(drf, np.full(1000, float(k)), ValueType.SCALAR_ARRAY)
                if k % 4 == 3:  # pace to the reading client: it never falls far behind
                    with arrived:
                        assert arrived.wait_for(lambda k=k: len(values) > k - 4, WAIT)
            with arrived:
                assert arrived.wait_for(lambda: len(values) == count, WAIT)
            assert values == [float(k) for k in range(count)] and handle.dropped == 0
        assert server.dropped_readings > 0
        # The slow client reads again: the first reading it can take after its backlog comes
        # right after the notice of what it lost.
        notices: list[StatusReply] = []
        data_after_notice = False
        deadline = time.monotonic() + 30
        while not data_after_notice and time.monotonic() < deadline:
            fake.emit_reading(drf, np.zeros(1000), ValueType.SCALAR_ARRAY)
            try:
                while not data_after_notice:
                    reply = slow.recv(timeout=0.5)
                    if isinstance(reply, StatusReply):
                        notices.append(reply)
                    else:
                        data_after_notice = bool(notices)
            except TimeoutError:
                continue  # backlog read; emit again
        assert data_after_notice
        assert [(n.ref_id, n.status) for n in notices] == [(1, ACNET_QUEFULL)]
        slow.close()
    fake.close()
