"""The client protocol engine alone: fed reply bytes by hand, no sockets, threads or clocks.

Covers what a well-behaved server never sends (malformed frames, unknown ids, other lists,
answers out of order or twice) and the rules of the conversations themselves.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from pacsys.acnet import DPM_PRIV
from pacsys.errors import AuthenticationError, ReadError
from pacsys.types import ValueType
from pacsys_dpm.codec import (
    HANDSHAKE,
    AddToListReply,
    AddToListRequest,
    ApplySettingsReply,
    AuthenticateReply,
    DeviceInfoReply,
    DPMHTTPRejected,
    DPMProtocolError,
    FrameDecoder,
    ListStatusReply,
    OpenListReply,
    ScalarReply,
    SettingStatus,
    StartListReply,
    StartListRequest,
    StatusReply,
    TextReply,
    TimedScalarArrayReply,
    decode_request,
    encode_message,
    frame,
    frame_many,
)
from pacsys_dpm.protocol import (
    ClientProtocol,
    DPMConnectionError,
    ReadPlan,
    SetupFailed,
    make_setting,
)

TS = 1704067200000
LIST = 4096


def _frames(*replies: Any) -> bytes:
    return frame_many([encode_message(r) for r in replies])


def _opened(**kwargs: Any) -> ClientProtocol:
    client = ClientProtocol(**kwargs)
    assert client.data_to_send() == HANDSHAKE
    client.receive_data(_frames(OpenListReply(LIST)))
    assert client.is_open and client.list_id == LIST
    return client


def _sent(client: ClientProtocol) -> bytes:
    out = b""
    while data := client.data_to_send():
        out += data
    return out


# --------------------------------------------------------------------------- connection


def test_nothing_but_the_handshake_before_the_open_list_reply() -> None:
    client = ClientProtocol()
    assert not client.is_open and client.list_id is None
    with pytest.raises(RuntimeError, match="not open"):
        client.read(ReadPlan(["M:OUTTMP"]))
    assert client.data_to_send() == HANDSHAKE and client.data_to_send() == b""
    client.receive_data(_frames(OpenListReply(LIST))[:7])  # a partial frame
    assert not client.is_open
    client.receive_data(_frames(OpenListReply(LIST))[7:])
    assert client.is_open


def test_first_frame_must_be_open_list_and_the_failure_sticks() -> None:
    client = ClientProtocol()
    with pytest.raises(DPMProtocolError, match="ListStatusReply before the OpenList"):
        client.receive_data(_frames(ListStatusReply(LIST, 0)))
    assert client.failed and not client.is_open
    with pytest.raises(DPMProtocolError, match="before the OpenList"):
        client.receive_data(_frames(OpenListReply(LIST)))


def test_http_rejection_names_the_status_line() -> None:
    whole = ClientProtocol()
    with pytest.raises(DPMHTTPRejected, match="404 Not Found") as info:
        whole.receive_data(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert info.value.status_line == "HTTP/1.1 404 Not Found"
    cut = ClientProtocol()
    cut.receive_data(b"HTTP/1.1 503 Busy")  # no line end yet: wait for more
    with pytest.raises(DPMConnectionError, match=r"rejected by proxy: HTTP/1\.1 503 Busy"):
        cut.receive_data(b"")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (frame(b"SDD\x02garbage"), "invalid header|truncated"),
        (b"\x00\x00\x00\x00", "invalid frame length 0"),
        (((1 << 20) + 1).to_bytes(4, "big") + b"x", "invalid frame length"),
        (frame(encode_message(ScalarReply(1, TS, 0, 0, 1.0))[:-3]), "truncated"),
        (frame(b"SDD\x02\x51\x03\x14\xb1\x3a\x70\x3a\x12\x12\x34\x51\x00"), "unknown reply type"),
    ],
    ids=["garbage", "zero-length", "oversize", "truncated", "unknown-type"],
)
def test_malformed_replies_fail_the_connection(data: bytes, match: str) -> None:
    client = _opened()
    read = client.read(ReadPlan(["M:OUTTMP"]))
    with pytest.raises(DPMProtocolError, match=match):
        client.receive_data(data)
    assert client.failed and not read.done
    with pytest.raises(DPMProtocolError):
        client.receive_data(_frames(ScalarReply(1, TS, 0, 0, 1.0)))
    assert read.failure("DPM protocol error").readings[0].error_code == -1


def test_replies_before_a_bad_frame_are_taken_then_the_connection_fails() -> None:
    client = _opened()
    stream = client.stream(["A:ONE@p,1000"], 10.0)
    good = _frames(ScalarReply(1, TS, 0, 0, 1.0), ScalarReply(1, TS, 1, 0, 2.0))
    with pytest.raises(DPMProtocolError, match="invalid frame length 0"):
        client.receive_data(good + b"\x00\x00\x00\x00")
    assert [r.value for r in stream.take()] == [1.0, 2.0] and client.failed


def test_eof_is_a_connection_error() -> None:
    client = _opened()
    with pytest.raises(DPMConnectionError, match="Connection closed by server"):
        client.receive_data(b"")
    assert client.failed


def test_one_conversation_at_a_time() -> None:
    client = _opened()
    client.read(ReadPlan(["M:OUTTMP"]))
    with pytest.raises(RuntimeError, match="ReadOp is still running"):
        client.stream(["M:OUTTMP@p,1000"], 10.0)
    with pytest.raises(RuntimeError, match="still running"):
        client.clear_list()


def test_idle_heartbeats_are_dropped_and_unsolicited_floods_fail() -> None:
    client = _opened()
    client.receive_data(_frames(*[ListStatusReply(LIST, 0)] * 10_000))
    read = client.read(ReadPlan(["M:OUTTMP"]))
    client.receive_data(_frames(ScalarReply(1, TS, 0, 0, 4.0)))
    assert read.done and read.result(1.0)[0].value == 4.0
    with pytest.raises(DPMProtocolError, match="unsolicited replies"):
        client.receive_data(_frames(*[StatusReply(7, TS, 0, 0)] * 5000))


# --------------------------------------------------------------------------- one-shot reads


def test_request_bytes_and_the_list_memo() -> None:
    client = _opened()
    plan = ReadPlan(["M:OUTTMP", "G:AMANDA@p,1000"])
    assert plan.wire == ["M:OUTTMP.READING@I", "G:AMANDA@p,1000"] and not plan.reusable
    client.read(plan)
    first = _sent(client)
    decoder = FrameDecoder()
    decoder.feed(first)
    assert [decode_request(body) for body in decoder] == [
        AddToListRequest(LIST, 1, "M:OUTTMP.READING@I"),
        AddToListRequest(LIST, 2, "G:AMANDA@p,1000"),
        StartListRequest(LIST),
    ]
    client.receive_data(_frames(ScalarReply(1, TS, 0, 0, 1.0), ScalarReply(2, TS, 0, 0, 2.0)))
    client.clear_list()
    _sent(client)
    client.read(ReadPlan(["M:OUTTMP", "G:AMANDA@p,1000"]))
    assert _sent(client) == first  # the same list again: the same bytes
    with pytest.raises(ValueError):
        ReadPlan(["M:OUTTMP["])


def test_answers_in_any_order_unknown_refs_and_other_lists_are_ignored() -> None:
    client = _opened()
    read = client.read(ReadPlan(["A:ONE", "A:TWO", "A:THREE"]))
    client.receive_data(
        _frames(
            ScalarReply(3, TS, 0, 0, 3.0),  # before its DeviceInfo: no metadata
            DeviceInfoReply(3, 3, "A:THREE", "three", "mm"),
            ScalarReply(0, TS, 0, 0, 0.0),  # no such ref
            ScalarReply(9, TS, 0, 0, 9.0),
            StartListReply(LIST + 1, -1),  # another list's failure
            AddToListReply(LIST + 1, 1, -6639),
            DeviceInfoReply(1, 1, "A:ONE", "one", "V"),
            TextReply(1, TS, 0, 0, "first"),
            ScalarReply(1, TS, 0, 0, 1.5),  # a second answer: the first stays
            StartListReply(LIST, 0),
        )
    )
    assert not read.done
    client.receive_data(_frames(StatusReply(2, TS, 0, -6639)))
    one, two, three = read.result(1.0)
    assert (one.value, one.units, one.value_type) == ("first", "V", ValueType.TEXT)
    assert (two.facility_code, two.error_code, two.value) == (17, -26, None)
    assert three.value == 3.0 and three.meta is None
    assert read.clean


def test_later_frames_wait_for_the_next_conversation() -> None:
    client = _opened()
    read = client.read(ReadPlan(["Z:A", "Z:B"]))
    client.receive_data(
        _frames(
            DeviceInfoReply(1, 7, "Z:A", "a", "mm"),
            ScalarReply(1, TS, 0, 0, 1.5),
            StartListReply(LIST, 0),
            ScalarReply(2, TS, 0, 0, 2.5),
            ListStatusReply(LIST, 0),  # after the last answer: not the read's
            StatusReply(9, 0, 0, -1),
        )
    )
    assert read.done and [r.value for r in read.result(1.0)] == [1.5, 2.5]
    assert read.readings[0].meta.device_index == 7  # type: ignore[union-attr]
    client.receive_data(_frames(ScalarReply(1, TS, 0, 0, 9.5)))  # idle: kept in order
    following = client.read(ReadPlan(["Z:C"]))  # the leftovers are the next one's first
    assert following.done and following.result(1.0)[0].value == 9.5


def test_start_list_failure_ends_the_read_and_job_errors_wait_for_the_deadline() -> None:
    client = _opened()
    read = client.read(ReadPlan(["A:ONE", "A:TWO"]))
    client.receive_data(_frames(ScalarReply(1, TS, 0, 0, 1.0), StartListReply(LIST, -11007)))
    assert read.done and not read.complete and not read.clean
    with pytest.raises(ReadError, match="DPM StartList failed: ACNET_SYS") as info:
        read.result(2.0)
    assert info.value.readings[0].value == 1.0
    assert (info.value.readings[1].error_code, info.value.readings[1].message) == (
        -6,
        "Request timeout",
    )
    other = _opened()
    job = other.read(ReadPlan(["A:ONE"]))
    other.receive_data(_frames(StatusReply(0, TS, 0, -11007), StartListReply(LIST, 0)))
    assert not job.done  # as the reference: the driver's deadline ends it
    with pytest.raises(ReadError, match="DPM job start failed") as failed:
        job.result(0.3)
    assert failed.value.readings[0].error_code == -43  # ACNET_SYS: facility 1, error -43


def test_timeout_message_names_what_is_missing() -> None:
    client = _opened()
    read = client.read(ReadPlan(["A:ONE", "A:TWO"]))
    client.receive_data(_frames(ScalarReply(2, TS, 0, 0, 2.0)))
    with pytest.raises(ReadError, match=r"Request timeout: 1 of 2 without reply after 0.5 s"):
        read.result(0.5)


def test_chunked_logger_answers_concatenate_until_the_empty_chunk() -> None:
    client = _opened()
    drf = "M:OUTTMP<-LOGGER:1700000000000:1700000100000"
    read = client.read(ReadPlan([drf, "A:ONE"]))
    assert not read.plan.reusable and read.plan.chunked == {0}
    client.receive_data(
        _frames(
            TimedScalarArrayReply(1, TS, 0, 0, [1.0, 2.0], [10, 20]),
            ScalarReply(2, TS, 0, 0, 5.0),
            TimedScalarArrayReply(1, TS, 1, 0, [3.0], [30]),
        )
    )
    assert not read.done
    client.receive_data(_frames(TimedScalarArrayReply(1, TS, 2, 0, [], [])))
    logged, _ = read.result(1.0)
    assert logged.value_type is ValueType.TIMED_SCALAR_ARRAY
    assert np.array_equal(logged.value["data"], [1.0, 2.0, 3.0])
    assert np.array_equal(logged.value["micros"], [10, 20, 30])


def test_traced_connections_log_every_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pacsys_dpm.connection")
    client = _opened(trace=True)
    read = client.read(ReadPlan(["A:ONE"]))
    _sent(client)
    client.receive_data(
        _frames(DeviceInfoReply(1, 1, "A:ONE", "one"), ScalarReply(1, TS, 0, 0, 1.0))
    )
    assert read.result(1.0)[0].meta is not None
    assert "-> AddToListRequest" in caplog.text and "<- ScalarReply" in caplog.text
    assert client.device_infos == {}  # the caches (fast lanes) are off


# --------------------------------------------------------------------------- streams


def test_stream_readings_unknown_refs_and_failures(caplog: pytest.LogCaptureFixture) -> None:
    client = _opened()
    stream = client.stream(["A:ONE@p,1000", "A:TWO@p,1000"], 0.5)
    assert stream.heartbeat_timeout == 0.5
    assert "0.5 s" in str(stream.silence_error())
    client.receive_data(
        _frames(
            StartListReply(LIST, 0),
            DeviceInfoReply(1, 1, "A:ONE", "one", "V"),
            ScalarReply(1, TS, 0, 0, 1.0),
            ScalarReply(5, TS, 0, 0, 5.0),
            AddToListReply(LIST, 2, -6639),
            ListStatusReply(LIST, 0),
            ScalarReply(1, TS, 1, 0, 2.0),
        )
    )
    one, bad, again = stream.take()
    assert (one.value, one.units, again.value, again.cycle) == (1.0, "V", 2.0, 1)
    assert bad.drf == "A:TWO@p,1000" and bad.error_code == -26
    assert "unknown ref 5" in caplog.text and stream.take() == []
    client.receive_data(_frames(ScalarReply(2, TS, 0, 0, 3.0), StatusReply(0, TS, 0, -11007)))
    assert [r.value for r in stream.take()] == [3.0]
    assert stream.done and "job start failed" in str(stream.failure)
    assert not client.busy
    failed = _opened().stream(["A:ONE@p,1000"], 10.0)
    failed._protocol.receive_data(_frames(StartListReply(LIST, -11007)))
    assert isinstance(failed.failure, DPMConnectionError)
    assert "DPM StartList failed" in str(failed.failure)


# --------------------------------------------------------------------------- settings


class _Initiator:
    def __init__(self, complete_after: int = 1) -> None:
        self.steps = 0
        self.complete_after = complete_after

    @property
    def complete(self) -> bool:
        return self.steps >= self.complete_after

    def step(self, token: bytes | None) -> bytes:
        self.steps += 1
        return b"token%d" % self.steps

    def get_mic(self, message: bytes) -> bytes:
        return b"mic:" + message


@pytest.mark.parametrize(
    ("replies", "match"),
    [
        ([StatusReply(0, TS, 0, DPM_PRIV)], "DPM rejected authentication: DPM_PRIV"),
        ([AuthenticateReply("")], "no service name"),
        ([ScalarReply(1, TS, 0, 0, 1.0)], "Unexpected ScalarReply reply during authentication"),
        (
            [
                AuthenticateReply("s@h"),
                AuthenticateReply("s@h", b"more"),
                AuthenticateReply("s@h", b"again"),
            ],
            "s/h@FNAL.GOV was not established",
        ),
        (
            [AuthenticateReply("s@h"), AuthenticateReply("s@h"), StatusReply(0, 0, -1, DPM_PRIV)],
            "EnableSettings failed: DPM_PRIV",
        ),
        (
            [AuthenticateReply("s@h"), AuthenticateReply("s@h"), TextReply(1, 0, 0, 0, "x")],
            "Unexpected TextReply reply to EnableSettings",
        ),
    ],
)
def test_authentication_refusals(replies: list[Any], match: str) -> None:
    client = _opened()
    contexts: list[_Initiator] = []
    steps = 3 if "established" in match else 1  # a context that never completes, or at once
    auth = client.authenticate(lambda target: contexts.append(_Initiator(steps)) or contexts[-1])
    client.receive_data(_frames(ListStatusReply(LIST, 0), *replies))
    assert auth.done
    with pytest.raises(AuthenticationError, match=match):
        auth.result()


def test_authentication_takes_a_second_token_round() -> None:
    client = _opened()
    contexts: list[_Initiator] = []
    auth = client.authenticate(lambda target: contexts.append(_Initiator(2)) or contexts[-1])
    assert "Authenticate in time" in str(auth.timeout_error())
    client.receive_data(_frames(AuthenticateReply("daeset/bd@host"), AuthenticateReply("s", b"x")))
    client.receive_data(_frames(AuthenticateReply("s")))
    assert "EnableSettings in time" in str(auth.timeout_error())
    sent = _sent(client)
    assert b"token1" in sent and b"token2" in sent and b"mic:1234" in sent
    client.receive_data(_frames(StatusReply(0, 0, -1, 0)))
    assert auth.result() == "daeset/bd/host@FNAL.GOV" and not client.busy


def _write(client: ClientProtocol, count: int = 2) -> Any:
    drfs = [f"Z:D{i}.SETTING@N" for i in range(count)]
    return client.write(drfs, [make_setting(i + 1, float(i)) for i in range(count)],
                        user_name="u@FNAL.GOV", role=None)  # fmt: skip


def test_write_cycle_keeps_entry_errors_and_fills_the_rest() -> None:
    client = _opened()
    cycle = _write(client, 3)
    setup = _sent(client)
    assert b"#ROLE" not in setup and setup.count(b"SETTING@N") == 3
    client.receive_data(
        _frames(
            DeviceInfoReply(1, 1, "Z:D0", ""),
            StatusReply(2, TS, 0, -6639),
            AddToListReply(LIST, 3, 0),  # status 0: not an answer
            StartListReply(LIST, 0),
        )
    )
    assert _sent(client) == b""  # ref 3 has not answered yet
    client.receive_data(_frames(DeviceInfoReply(3, 3, "Z:D2", "")))
    assert b"u@FNAL.GOV" in _sent(client)  # ApplySettings
    with pytest.raises(RuntimeError, match="WriteOp is still running"):
        client.clear_list()
    client.receive_data(_frames(ApplySettingsReply((SettingStatus(1, 0),))))
    assert cycle.done and cycle.reusable
    assert cycle.outcomes[0] == (0, 0, None)
    assert cycle.outcomes[1][:2] == (17, -26)
    assert cycle.outcomes[2] == (1, -6, "No reply from server")
    assert len(_sent(client)) > 0  # the closing StopList


def test_write_cycle_failures_before_and_after_apply() -> None:
    client = _opened()
    cycle = _write(client)
    with pytest.raises(SetupFailed):
        cycle.failed(DPMConnectionError("gone"))
    assert cycle.timed_out() == [(1, -6, "Request timeout")] * 2
    client.receive_data(_frames(DeviceInfoReply(1, 1, "", ""), DeviceInfoReply(2, 2, "", "")))
    client.receive_data(_frames(StartListReply(LIST, 0)))
    assert cycle.failed(DPMConnectionError("gone"))[0] == (1, -1, "Write outcome unknown: gone")
    aborted = _opened()
    abort = _write(aborted)
    aborted.receive_data(_frames(StatusReply(1, TS, 0, -6639), StartListReply(LIST, -11007)))
    assert abort.done and not abort.reusable
    assert [o[:2] for o in abort.outcomes] == [(17, -26), (1, -43)]
