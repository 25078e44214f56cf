"""The server protocol engine alone and against the client engine, in memory.

The test plays the backend: it answers the engine's events. No sockets, threads or clocks.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from pacsys.acnet import DPM_BAD_EVENT, DPM_BAD_REQUEST, DPM_PRIV
from pacsys.drf3 import parse_request
from pacsys.types import DeviceMeta, Reading, ValueType
from pacsys_dpm.codec import (
    HANDSHAKE,
    AddToListRequest,
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateReply,
    AuthenticateRequest,
    ClearListRequest,
    DeviceInfoReply,
    DPMProtocolError,
    EnableSettingsRequest,
    FrameDecoder,
    ListStatusReply,
    OpenListReply,
    RemoveFromListRequest,
    ScaledSetting,
    ServiceDiscoveryRequest,
    StartListReply,
    StartListRequest,
    StatusReply,
    TextSetting,
    decode_reply,
    encode_message,
    frame,
    frame_many,
)
from pacsys_dpm.protocol import (
    ConnectionClosed,
    Entry,
    ListAuth,
    ListOpened,
    ListStarted,
    ListStream,
    ReadPlan,
    Refused,
    RolePolicy,
    ServerProtocol,
    SettingsRequested,
)

TS = 1704067200000
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
LIST = 4200


def _server(**kwargs: Any) -> ServerProtocol:
    return ServerProtocol(LIST, ListAuth("daeset/bd@localhost", None), RolePolicy({}), lambda: TS,
                          **kwargs)  # fmt: skip


def _requests(*requests: Any) -> bytes:
    return frame_many([encode_message(r) for r in requests])


def _events(server: ServerProtocol) -> list[Any]:
    events = []
    while (event := server.next_event()) is not None:
        events.append(event)
        if isinstance(event, (ListStarted, SettingsRequested)):
            break
    return events


def _replies(server: ServerProtocol) -> list[Any]:
    decoder = FrameDecoder()
    while data := server.data_to_send():
        decoder.feed(data)
    return [decode_reply(body) for body in decoder]


def _open(**kwargs: Any) -> ServerProtocol:
    server = _server(**kwargs)
    server.receive_data(HANDSHAKE)
    assert [type(e) for e in _events(server)] == [ListOpened]
    assert _replies(server) == [OpenListReply(LIST)]
    return server


# --------------------------------------------------------------------------- handshake


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (b"GET /other HTTP/1.1\r\n\r\n", 404),
        (b"GET /dpm HTTP/1.1\r\nContent-Type: application/json\r\n\r\n", 404),
        (b"garbage\r\n\r\n", 400),
        (b"GET /dpm HTTP/1.1\r\nX: " + b"y" * 9000, 400),
    ],
    ids=["target", "content-type", "request-line", "too-long"],
)
def test_refused_handshakes_get_an_http_error(head: bytes, code: int) -> None:
    server = _server()
    server.receive_data(head)
    (event,) = _events(server)
    assert isinstance(event, Refused) and event.code == code
    assert server.data_to_send().startswith(f"HTTP/1.1 {code} ".encode())
    assert server.next_event() is None  # nothing after a refusal


def test_handshake_in_pieces_with_requests_behind_it() -> None:
    server = _server()
    stream = HANDSHAKE + _requests(StartListRequest(0))
    for i in range(len(stream)):  # one byte at a time
        server.receive_data(stream[i : i + 1])
    opened, started = _events(server)
    assert isinstance(opened, ListOpened) and opened.head.header("content-type") == "application/pc"
    assert started == ListStarted((), (), ())
    server.answer_start({})
    assert _replies(server) == [OpenListReply(LIST), StartListReply(LIST, 0)]


def test_eof_before_and_after_requests() -> None:
    early = _server()
    early.receive_data(b"GET /dpm")
    early.receive_data(b"")
    assert _events(early) == [ConnectionClosed()]
    server = _open()
    server.receive_data(_requests(StartListRequest(LIST)))
    server.receive_data(b"")
    assert [type(e) for e in _events(server)] == [ListStarted]  # the request first
    server.answer_start({})
    assert _events(server) == [ConnectionClosed()]
    assert server.next_event() is None


@pytest.mark.parametrize(
    "data",
    [
        frame(b"SDD\x02garbage"),
        b"\x00\x00\x00\x00",
        frame(encode_message(StartListReply(LIST, 0))),  # a reply where a request belongs
    ],
    ids=["garbage", "zero-length", "reply"],
)
def test_malformed_requests_fail_the_connection(data: bytes) -> None:
    server = _open()
    with pytest.raises(DPMProtocolError):
        server.receive_data(data)
        server.next_event()
    assert server.failed
    with pytest.raises(DPMProtocolError):
        server.next_event()


def test_requests_before_a_bad_frame_are_handled_then_the_connection_fails() -> None:
    server = _open()
    server.receive_data(_requests(StartListRequest(LIST)) + b"\xff\xff\xff\xff")
    assert [type(e) for e in _events(server)] == [ListStarted]  # no more bytes needed
    server.answer_start({})
    with pytest.raises(DPMProtocolError, match="invalid frame length"):
        server.next_event()
    assert _replies(server) == [StartListReply(LIST, 0)]


# --------------------------------------------------------------------------- list state


def test_entries_properties_and_bad_drfs() -> None:
    server = _open()
    server.receive_data(
        _requests(
            AddToListRequest(LIST, 0, "#ROLE:ops"),
            AddToListRequest(LIST, 1, "M:OUTTMP@I"),
            AddToListRequest(LIST, 2, "M:OUTTMP.NOPROP@I"),
            AddToListRequest(LIST, 3, "M:OUTTMP@X"),
            AddToListRequest(LIST, 4, "G:AMANDA@p,1000"),
            AddToListRequest(LIST, 5, "Z:ACLTST.SETTING@N"),
            AddToListRequest(LIST, 6, "Z:GONE@I"),
            RemoveFromListRequest(LIST, 6),
            ServiceDiscoveryRequest(),
            StartListRequest(LIST),
        )
    )
    (started,) = _events(server)
    assert server.role == "ops"
    assert server.entries == {1: "M:OUTTMP@I", 4: "G:AMANDA@p,1000", 5: "Z:ACLTST.SETTING@N"}
    assert [e.ref_id for e in started.reads] == [1]
    assert [e.ref_id for e in started.streams] == [4]
    assert [e.ref_id for e in started.never] == [5]
    assert _replies(server) == [StatusReply(2, TS, 0, DPM_BAD_REQUEST),
                                StatusReply(3, TS, 0, DPM_BAD_EVENT)]  # fmt: skip
    with pytest.raises(RuntimeError, match="answer the StartList"):
        server.next_event()
    with pytest.raises(RuntimeError, match="no ApplySettings"):
        server.answer_settings([])
    server.answer_start({1: Reading("M:OUTTMP@I", facility_code=17, error_code=-26)}, {},
                        job_status=-11007)  # fmt: skip
    assert _replies(server) == [
        StatusReply(1, TS, 0, -6639),
        DeviceInfoReply(5, 0, "Z:ACLTST", ""),
        StatusReply(0, TS, 0, -11007),
        StartListReply(LIST, 0),
    ]
    with pytest.raises(RuntimeError, match="no StartList"):
        server.answer_start({})
    server.receive_data(_requests(ClearListRequest(LIST), StartListRequest(LIST)))
    assert _events(server) == [ListStarted((), (), ())]


def test_the_same_addtolist_again_restores_its_entry() -> None:
    server = _open()
    adds = _requests(AddToListRequest(LIST, 1, "Z:A@I"), AddToListRequest(LIST, 2, "Z:B@I"))
    server.receive_data(adds + _requests(ClearListRequest(LIST)) + adds)
    server.receive_data(_requests(StartListRequest(LIST)))
    (started,) = _events(server)
    assert [(e.ref_id, e.drf) for e in started.reads] == [(1, "Z:A@I"), (2, "Z:B@I")]


def test_start_answer_comes_in_bounded_lazy_pieces() -> None:
    server = _open(frames_per_write=100)
    count = 450
    server.receive_data(
        _requests(*(AddToListRequest(LIST, i + 1, f"Z:D{i}@I") for i in range(count)))
        + _requests(StartListRequest(LIST))
    )
    (started,) = _events(server)
    meta = DeviceMeta(1, "Z:D", "d", "mm")
    readings = {e.ref_id: Reading(e.drf, ValueType.SCALAR, value=float(e.ref_id), timestamp=T0,
                                  meta=meta) for e in started.reads}  # fmt: skip
    server.answer_start(readings)
    pieces = []
    while data := server.data_to_send():
        decoder = FrameDecoder()
        decoder.feed(data)
        pieces.append([decode_reply(body) for body in decoder])
    assert all(len(piece) <= 100 for piece in pieces) and len(pieces) == 10
    flat = [reply for piece in pieces for reply in piece]
    assert [type(r).__name__ for r in flat[count - 1 : count + 2]] == ["DeviceInfo" + "Reply",
            "StartListReply", "ScalarReply"]  # fmt: skip
    assert [r.data for r in flat[count + 1 :]] == [float(i + 1) for i in range(count)]


def test_heartbeat_is_a_list_status_frame() -> None:
    server = _open()
    assert decode_reply(server.heartbeat()[4:]) == ListStatusReply(LIST, 0)


# --------------------------------------------------------------------------- settings


class _Acceptor:
    complete = False
    initiator = "someone@FNAL.GOV"

    def step(self, token: bytes) -> bytes:
        if token == b"bad":
            raise ValueError("not a GSS token")
        self.complete = True
        return b""

    def verify_mic(self, message: bytes, mic: bytes) -> None:
        if mic != b"good":
            raise ValueError("bad MIC")


def _authenticated(roles: dict[str, list[str]]) -> ServerProtocol:
    server = ServerProtocol(LIST, ListAuth("svc@host", _Acceptor), RolePolicy(roles), lambda: TS)
    server.receive_data(HANDSHAKE)
    _events(server)
    server.receive_data(
        _requests(
            AuthenticateRequest(LIST, b""),
            AuthenticateRequest(LIST, b"bad"),
            AuthenticateRequest(LIST, b"token"),
            EnableSettingsRequest(LIST, b"forged", b"1234"),
            EnableSettingsRequest(LIST, b"good", b"1234"),
            AddToListRequest(LIST, 0, "#ROLE:ops"),
            AddToListRequest(LIST, 1, "Z:ACLTST.SETTING@N"),
            AddToListRequest(LIST, 2, "G:AMANDA.SETTING@N"),
        )
    )
    assert _events(server) == []
    assert _replies(server) == [
        OpenListReply(LIST),
        AuthenticateReply("svc@host"),
        StatusReply(0, TS, 0, DPM_PRIV),
        AuthenticateReply("svc@host"),
        StatusReply(0, 0, -1, DPM_PRIV),
        StatusReply(0, 0, -1, 0),
    ]
    return server


def test_settings_are_checked_then_written_by_the_backend() -> None:
    server = _authenticated({"ops": ["Z:ACLTST"]})
    server.receive_data(
        _requests(
            ApplySettingsRequest(
                "ignored",
                LIST,
                scaled_array=[ScaledSetting(1, [5.0]), ScaledSetting(9, [1.0])],
                text_array=[TextSetting(2, ["on"])],
            )
        )
    )
    (requested,) = _events(server)
    assert requested == SettingsRequested("someone@FNAL.GOV", "ops", (("Z:ACLTST.SETTING", 5.0),))
    with pytest.raises(ValueError, match="2 statuses for 1 writes"):
        server.answer_settings([0, 0])
    server.answer_settings([-3570])
    (reply,) = _replies(server)
    assert isinstance(reply, ApplySettingsReply)
    assert [(s.ref_id, s.status) for s in reply.status] == [(1, -3570), (9, DPM_BAD_REQUEST),
                                                            (2, DPM_PRIV)]  # fmt: skip


def test_settings_without_a_user_are_refused_without_an_event() -> None:
    server = _open()
    server.receive_data(
        _requests(
            AddToListRequest(LIST, 1, "Z:ACLTST.SETTING@N"),
            ApplySettingsRequest("me", LIST, scaled_array=[ScaledSetting(1, [np.pi])]),
        )
    )
    assert _events(server) == []
    (reply,) = _replies(server)
    assert [(s.ref_id, s.status) for s in reply.status] == [(1, DPM_PRIV)]


# --------------------------------------------------------------------------- streams


def test_list_stream_sends_device_info_once_then_data_and_failures() -> None:
    entries = [Entry(1, "M:OUTTMP@p,1000", parse_request("M:OUTTMP@p,1000")),
               Entry(2, "M:OUTTMP@p,1000", parse_request("M:OUTTMP@p,1000"))]  # fmt: skip
    stream = ListStream(entries, lambda: TS)
    assert stream.drfs == ["M:OUTTMP@p,1000"]
    meta = DeviceMeta(5, "M:OUTTMP", "temp", "DegF")
    reading = Reading("M:OUTTMP@p,1000", ValueType.SCALAR, value=1.5, timestamp=T0, meta=meta)
    first = _decode(stream.encode(reading))
    assert [(type(r).__name__, r.ref_id) for r in first] == [
        ("DeviceInfoReply", 1), ("ScalarReply", 1), ("DeviceInfoReply", 2), ("ScalarReply", 2),
    ]  # fmt: skip
    assert [type(r).__name__ for r in _decode(stream.encode(reading))] == ["ScalarReply"] * 2
    assert len(_decode(stream.encode(Reading("Q:RELABELLED", ValueType.SCALAR, value=1.0)))) == 2
    pair = ListStream(
        [entries[0], Entry(3, "G:AMANDA@e,02", parse_request("G:AMANDA@e,02"))], lambda: TS
    )
    assert pair.encode(Reading("Q:OTHER", ValueType.SCALAR, value=1.0)) == b""  # whose is it?
    assert _decode(stream.failure(-11007)) == [StatusReply(0, TS, 0, -11007)]


def test_a_stream_between_the_engines(protocol_pair: Any) -> None:
    pair = protocol_pair(LIST)
    pair.open()
    stream = pair.client.stream(["M:OUTTMP@p,1000"], 10.0)
    (started,) = pair.to_server()
    pair.server.answer_start({})
    pair.to_client()
    encoder = ListStream(started.streams, lambda: TS)
    meta = DeviceMeta(5, "M:OUTTMP", "temp", "DegF")
    for value in (1.0, 2.0, 3.0):
        data = encoder.encode(Reading("M:OUTTMP@p,1000", ValueType.SCALAR, value=value,
                                      timestamp=T0, meta=meta))  # fmt: skip
        pair.to_client([data])
    pair.to_client([pair.server.heartbeat(), encoder.failure(-11007)])
    readings = stream.take()
    assert [(r.value, r.units, r.drf) for r in readings] == [
        (v, "DegF", "M:OUTTMP@p,1000") for v in (1.0, 2.0, 3.0)
    ]
    assert stream.done and "ACNET_SYS" in str(stream.failure)


def test_a_chunked_logger_read_between_the_engines(protocol_pair: Any) -> None:
    pair = protocol_pair(LIST)
    pair.open()
    drf = "M:OUTTMP<-LOGGER:1704067200000:1704067300000"
    read = pair.client.read(ReadPlan([drf]))
    (started,) = pair.to_server()
    micros = np.arange(1000, dtype=np.int64) * 1000 + TS * 1000
    value = {"data": np.arange(1000.0), "micros": micros}
    reading = Reading(drf, ValueType.TIMED_SCALAR_ARRAY, value=value, timestamp=T0)
    pair.server.answer_start({started.reads[0].ref_id: reading})
    pair.to_client()
    (got,) = read.result(1.0)
    assert np.array_equal(got.value["data"], value["data"])
    assert np.array_equal(got.value["micros"], micros)


def _decode(data: bytes) -> list[Any]:
    decoder = FrameDecoder()
    decoder.feed(data)
    return [decode_reply(body) for body in decoder]
