"""What goes wrong, between the engines in memory: MICs, correlation, lost heartbeats by
injected time, session expiry and limits, timeouts, lost channels and connections."""

from __future__ import annotations

from typing import Any

import pytest

from pacsys.acnet import status_message
from pacsys.errors import DeviceError
from pacsys.testing import FakeBackend
from pacsys.types import WriteResult
from pacsys_dmq.codec import (
    ErrorSample,
    ReadingRequest,
    SettingRequest,
    decode_reply,
    encode_message,
)
from pacsys_dmq.protocol import (
    AmqpMessage,
    ApplySetting,
    Close,
    Publish,
    ReadDevices,
    ReadDone,
    StopStream,
    StreamData,
    StreamEnded,
    Timing,
    WritesDone,
)
from pacsys_dmq.testing import START_MS, FakeGss, ProtocolPair


@pytest.fixture
def fake() -> FakeBackend:
    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5)
    fake.set_reading("Z:ACLTST", 1.25)
    return fake


def _error_of(message: AmqpMessage) -> tuple[int, int]:
    reply = decode_reply(message.body)
    assert isinstance(reply, ErrorSample)
    return reply.facility_code, reply.error_number


# --- authentication ----------------------------------------------------------------------------


def test_bad_init_mic_fails_read_stream_and_write(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    forger = FakeGss(b"another key").signer()
    job = pair.read(["M:OUTTMP"], signer=forger)
    pair.pump()
    [status] = pair.sent("server")
    assert (
        _error_of(status) == (72, -99)
        and status.correlation_id == pair.sent("client")[0].message_id
    )
    failure = pair.event(ReadDone, job).failure
    assert (failure.facility_code, failure.error_number) == (72, -99)
    assert fake.reads == []

    init = pair.init(pair.sent("client", "I")[0].body, forger)
    pair.run("client", pair.client.start_stream(init, ["M:OUTTMP@p,1000"], pair.now))
    pair.pump()
    [ended] = pair.events(StreamEnded, init.reply_to)
    assert isinstance(ended.error, DeviceError) and ended.error.error_code == -99

    call = pair.write([("Z:ACLTST", 1.0)], sign=False)
    bad_init = pair.init(encode_message(SettingRequest(("Z:ACLTST.SETTING@N",))), forger)
    signed = {"Z:ACLTST.SETTING@N": (bad_init, forger)}
    pair.run("client", pair.client.sign_sessions(call, signed, pair.now))
    pair.pump()
    [result] = pair.event(WritesDone, call).results
    assert (result.facility_code, result.error_code) == (72, -99)
    assert pair.client.sessions == {} and fake.writes == []


def test_token_not_accepted() -> None:
    pair = ProtocolPair()

    class NoToken:
        token = b"garbage"

        def sign(self, data: bytes) -> bytes:
            return FakeGss().signer().sign(data)

    job = pair.read(["M:OUTTMP"], signer=NoToken())
    pair.pump()
    failure = pair.event(ReadDone, job).failure
    assert failure.error_number == -99 and "GSS token refused" in (failure.message or "")


def test_bad_setting_mic_is_refused_and_not_written(fake: FakeBackend) -> None:
    """The session's INIT is signed well; its SETTINGs are signed with the wrong key."""
    pair = ProtocolPair(fake)
    call = pair.write([("Z:ACLTST", 9.0)], sign=False)
    good, forger = pair.gss.signer(), FakeGss(b"another key").signer()
    init = pair.init(encode_message(SettingRequest(("Z:ACLTST.SETTING@N",))), good)
    pair.run("client", pair.client.sign_sessions(call, {"Z:ACLTST.SETTING@N": (init, forger)}, 0))
    pair.pump()
    [result] = pair.event(WritesDone, call).results
    assert (result.facility_code, result.error_code, result.message) == (
        72,
        -99,
        "Setting signature rejected",
    )
    assert fake.writes == []
    assert "Z:ACLTST.SETTING@N" in pair.client.sessions  # a device error: the session stays


# --- correlation and job-level status ----------------------------------------------------------


def test_job_status_for_another_request_is_dropped(fake: FakeBackend) -> None:
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP"])
    status = encode_message(ErrorSample(72, -98, START_MS))
    other = AmqpMessage(job, "R", status, correlation_id="someone-else")
    pair.run("client", pair.client.receive(job, other, pair.now))
    assert pair.events(ReadDone) == []  # not ours: ignored, the read goes on
    ours = AmqpMessage(job, "R.null", status)
    pair.run("client", pair.client.receive(job, ours, pair.now))
    done = pair.event(ReadDone, job)
    assert done.failure.error_number == -98 and done.readings == (None,)
    assert pair.sent("client")[-1].routing_key == "D"


def test_write_init_failure_fails_queued_settings() -> None:
    """An ErrorSample on R before PENDING (no correlation id) fails the whole session."""
    pair = ProtocolPair()
    call = pair.write([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0)])
    [init] = pair.sent("client", "I")
    session = init.reply_to
    body = encode_message(ErrorSample(72, -97, START_MS))
    pair.run("client", pair.client.receive(session, AmqpMessage(session, "R", body), pair.now))
    results = pair.event(WritesDone, call).results
    text = status_message(72, -97)  # no text from the server: the ACNET status text
    assert (
        text
        and [(r.facility_code, r.error_code, r.message) for r in results] == [(72, -97, text)] * 2
    )
    assert pair.client.sessions == {}
    assert pair.sent("client", "S.Z:ACLTST.SETTING@N") == []  # held until PENDING: never sent


def test_undecodable_write_reply_fails_the_oldest_setting() -> None:
    pair = ProtocolPair()
    call = pair.write([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0)])
    pair.pump()
    session = pair.sent("client", "I")[0].reply_to
    message = AmqpMessage(session, "R.Z:ACLTST.SETTING@N", b"not SDD")
    pair.run("client", pair.client.receive(session, message, pair.now))
    for apply in [e for e in pair.server_events if isinstance(e, ApplySetting)]:
        pair.run("server", pair.server.setting_applied(apply.job, apply.seq, WriteResult("x"), 0))
    pair.pump()
    first, second = pair.event(WritesDone, call).results
    assert first.error_code == -1 and first.message.startswith("Unmarshal error: ")
    assert second.ok  # the first server reply went to the only one left


# --- heartbeats by injected time ---------------------------------------------------------------


def test_lost_server_heartbeat_fails_subscription(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.subscribe(["M:OUTTMP@p,1000"])
    pair.pump()
    pair.server.send_heartbeats = False
    pair.advance(30)
    assert pair.events(StreamEnded, job) == []  # 30 s of silence are tolerated
    pair.advance(5)
    [ended] = pair.events(StreamEnded, job)
    assert isinstance(ended.error, ConnectionError) and ended.started
    assert str(ended.error) == "DMQ server heartbeat lost for 30s (server job disposed)"
    assert pair.sent("client")[-1].routing_key == "D"
    assert pair.server.jobs == {} and not fake._active()


def test_lost_server_heartbeat_closes_write_session() -> None:
    pair = ProtocolPair(client_timing=Timing(heartbeat_interval=1.0, peer_timeout=3.0))
    call = pair.write([("Z:ACLTST", 1.0)])
    pair.pump()  # the setting waits for the backend: in flight
    pair.server.send_heartbeats = False
    pair.advance(5, step=0.25)
    [result] = pair.event(WritesDone, call).results
    assert (result.facility_code, result.error_code) == (1, -1)
    assert result.message == "Session closed: DMQ server heartbeat lost"
    assert pair.client.sessions == {}


def test_one_shot_reads_ignore_the_server_heartbeat() -> None:
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP"])
    pair.pump()
    pair.server.send_heartbeats = False
    pair.advance(120, step=5)
    assert pair.events(ReadDone) == []
    assert len(pair.sent("client", "H")) == 24  # but still send H: the server keeps the job
    assert job in pair.client.jobs and len(pair.server.jobs) == 1


def test_server_disposes_job_without_client_heartbeat(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.subscribe(["M:OUTTMP@p,1000"])
    pair.pump()
    pair.drop = lambda message: message.routing_key == "H"
    pair.advance(30)
    assert len(pair.server.jobs) == 1
    pair.advance(1)
    assert pair.server.jobs == {}
    assert ("server", Close(1)) in pair.actions
    assert not fake._active()  # the backend subscription was stopped
    assert pair.events(StreamEnded, job) == []  # the client notices only by Q silence
    pair.advance(35)
    [ended] = pair.events(StreamEnded, job)
    assert "heartbeat lost" in str(ended.error)


# --- write sessions: expiry, limit, cancellation -----------------------------------------------


def test_idle_session_expires_and_a_new_one_follows(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake, session_ttl=600.0)
    assert pair.write_many([("Z:ACLTST", 1.0)])[0].ok
    pair.advance(599, step=10)
    assert "Z:ACLTST.SETTING@N" in pair.client.sessions
    assert pair.write_many([("Z:ACLTST", 2.0)])[0].ok  # reuse re-arms the TTL
    pair.advance(599, step=10)
    assert "Z:ACLTST.SETTING@N" in pair.client.sessions
    pair.advance(2, step=1)
    assert pair.client.sessions == {}
    assert pair.sent("client")[-1].routing_key == "D"
    assert pair.server.jobs == {}  # the DROP disposed the server job
    assert pair.write_many([("Z:ACLTST", 3.0)])[0].ok
    assert len(pair.sent("client", "I")) == 2


def test_busy_session_never_expires() -> None:
    pair = ProtocolPair(session_ttl=10.0)
    call = pair.write([("Z:ACLTST", 1.0)])
    pair.pump()
    pair.advance(60, step=5)  # the backend never answers: the setting stays in flight
    assert "Z:ACLTST.SETTING@N" in pair.client.sessions
    assert pair.events(WritesDone) == []
    pair.run("client", pair.client.cancel_writes(call))
    assert pair.event(WritesDone, call).results[0].error_code == -6
    assert pair.client.sessions == {}  # nothing else to do: closed at once


def test_session_limit_evicts_least_recently_used(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake, max_sessions=2)
    assert pair.write_many([("M:OUTTMP", 1.0)])[0].ok
    pair.advance(1)
    assert pair.write_many([("Z:ACLTST", 1.0)])[0].ok
    pair.advance(1)
    assert pair.write_many([("G:AMANDA", 1.0)])[0].ok
    assert set(pair.client.sessions) == {"Z:ACLTST.SETTING@N", "G:AMANDA.SETTING@N"}
    assert len(pair.server.jobs) == 2  # the evicted one was dropped


def test_session_limit_with_every_session_busy() -> None:
    pair = ProtocolPair(max_sessions=1)
    pair.write([("M:OUTTMP", 1.0)])
    pair.pump()  # in flight: busy
    call = pair.write([("Z:ACLTST", 1.0)])
    [result] = pair.event(WritesDone, call).results
    assert (result.error_code, result.message) == (-1, "Too many active write sessions")


def test_cancelled_writes_keep_fifo_aligned() -> None:
    """Settings sent before a timeout stay as placeholders, so later replies match."""
    pair = ProtocolPair()
    first = pair.write([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0)])
    pair.pump()
    pair.run("client", pair.client.cancel_writes(first))
    timed_out = pair.event(WritesDone, first).results
    assert [(r.error_code, r.message) for r in timed_out] == [(-6, "Request timeout")] * 2
    second = pair.write([("Z:ACLTST", 3.0)])
    pair.pump()
    applies = [e for e in pair.server_events if isinstance(e, ApplySetting)]
    assert [a.value for a in applies] == [1.0, 2.0, 3.0]
    for apply, code in zip(applies, (-11, -12, -13), strict=True):
        outcome = WriteResult(apply.drf, 16, code)
        pair.run("server", pair.server.setting_applied(apply.job, apply.seq, outcome, 0))
    pair.pump()
    [result] = pair.event(WritesDone, second).results
    assert result.error_code == -13  # the real server's replies carry no correlation id either


def test_new_session_holds_the_whole_call_until_signed(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    assert pair.write_many([("M:OUTTMP", 1.0)])[0].ok
    sent = len(pair.sent("client"))
    call = pair.write([("M:OUTTMP", 2.0), ("Z:ACLTST", 3.0)], sign=False)
    pair.pump()
    assert len(pair.sent("client")) == sent  # not even the open session's setting
    # signing failed (raised to the caller): cancel, then fail the unsigned session
    pair.run("client", pair.client.cancel_writes(call))
    pair.run("client", pair.client.sign_sessions(call, {"Z:ACLTST.SETTING@N": "no ticket"}, 0))
    pair.pump()
    assert len(pair.sent("client")) == sent and fake.writes == [("M:OUTTMP.SETTING@N", 1.0)]
    assert set(pair.client.sessions) == {"M:OUTTMP.SETTING@N"}


def test_signing_failure_fails_other_callers_waiting_on_the_session(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    first = pair.write([("Z:ACLTST", 1.0)], sign=False)
    second = pair.write([("Z:ACLTST", 2.0)])  # joins the session being set up
    pair.run(
        "client",
        pair.client.sign_sessions(first, {"Z:ACLTST.SETTING@N": "GSS context creation failed"}, 0),
    )
    for call in (first, second):
        [result] = pair.event(WritesDone, call).results
        assert result.message == "GSS context creation failed"


# --- timeouts, lost channels and connections ---------------------------------------------------


def test_cancelled_read_reports_what_came(fake: FakeBackend) -> None:
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP", "G:AMANDA"])
    pair.pump()
    body = encode_message(ErrorSample(16, -13, START_MS, ref_id=2))
    message = AmqpMessage(job, "R.G:AMANDA.READING@I", body)
    pair.run("client", pair.client.receive(job, message, pair.now))
    pair.run("client", pair.client.cancel_read(job))
    done = pair.event(ReadDone, job)
    assert done.readings[0] is None and done.readings[1].error_code == -13
    assert isinstance(done.error, TimeoutError)
    pair.pump()
    assert pair.server.jobs == {}  # DROP reached the server
    late = AmqpMessage(job, "R.M:OUTTMP.READING@I", body)
    assert pair.client.receive(job, late, pair.now) == []


def test_channel_lost_fails_each_kind_of_job(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    read = pair.read(["M:OUTTMP"])
    stream = pair.subscribe(["M:OUTTMP@p,1000"])
    pair.pump()
    call = pair.write([("Z:ACLTST", 1.0)])
    session = pair.sent("client", "I")[-1].reply_to
    for job in (read, stream, session):
        pair.run("client", pair.client.lost(job, "by the broker (406)"))
    assert "Channel closed" not in str(pair.events(ReadDone))  # the read had completed
    [ended] = pair.events(StreamEnded, stream)
    assert str(ended.error) == "Channel closed: by the broker (406)"
    [result] = pair.event(WritesDone, call).results
    assert result.message == "Channel closed: by the broker (406)"
    assert [a for s, a in pair.actions if s == "client" and a == Close(stream)]
    assert pair.sent("client")[-1].routing_key != "D"  # no DROP on a dead channel


def test_connection_lost_fails_everything() -> None:
    pair = ProtocolPair()
    read = pair.read(["M:OUTTMP"])
    stream = pair.subscribe(["M:OUTTMP@p,1000"])
    call = pair.write([("Z:ACLTST", 1.0)], sign=False)  # a session still unsigned
    pair.run("client", pair.client.connection_lost(OSError("reset")))
    assert str(pair.event(ReadDone, read).error) == "Connection closed: reset"
    [ended] = pair.events(StreamEnded, stream)
    assert str(ended.error) == "Connection closed: reset"
    assert pair.event(WritesDone, call).results[0].message == "Connection closed: reset"
    assert pair.client.jobs == {} and pair.client.sessions == {} and pair.client.calls == {}


def test_server_job_whose_client_vanished_is_disposed(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.subscribe(["M:OUTTMP@p,1000"])
    pair.pump()
    del pair.broker.exchanges[job]  # the client's exchange is gone (as after a crash)
    fake.emit_reading("M:OUTTMP@p,1000", 1.0)
    pair.pump()  # publishing to it: 404, the channel is lost
    assert pair.server.jobs == {} and not fake._active()
    assert [e for e in pair.server_events if isinstance(e, StopStream)] == []


# --- the server's own refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (WriteResult("Z:ACLTST", 16, -7, "nope"), (16, -7, "nope")),
        (NotImplementedError(), (72, -94, "Writes not supported")),
        (TypeError("bad type"), (72, -93, "bad type")),
        (RuntimeError("boom"), (72, -95, "boom")),
    ],
)
def test_write_outcomes_become_replies(outcome: Any, expected: tuple[int, int, str]) -> None:
    pair = ProtocolPair()
    call = pair.write([("Z:ACLTST", 1.0)])
    pair.pump()
    [apply] = pair.server_events
    assert isinstance(apply, ApplySetting)
    pair.run("server", pair.server.setting_applied(apply.job, apply.seq, outcome, 0))
    pair.pump()
    [result] = pair.event(WritesDone, call).results
    assert (result.facility_code, result.error_code, result.message) == expected


def test_read_only_server_refuses_settings() -> None:
    pair = ProtocolPair(FakeBackend(), read_only=True)
    results = pair.write_many([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0)])
    assert [(r.facility_code, r.error_code) for r in results] == [(72, -94)] * 2


def test_setting_for_another_drf_is_refused(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake, strict=False)
    pair.write_many([("Z:ACLTST", 1.0)])
    session = pair.sent("client", "I")[0].reply_to
    job = next(iter(pair.server.jobs))
    message = AmqpMessage(session, "S.M:OUTTMP.SETTING@N", b"", message_id="x")
    pair.run("server", pair.server.receive(job, message, 0, 0))
    reply = pair.sent("server")[-1]
    assert _error_of(reply) == (72, -98) and reply.correlation_id == "x"


def test_read_entries_the_server_cannot_parse(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)

    def read(entries: list[str]) -> ReadDone:
        init = pair.init(encode_message(ReadingRequest(tuple(entries))))
        pair.run("client", pair.client.start_read(init, entries, entries, pair.now))
        pair.pump()
        return pair.event(ReadDone, init.reply_to)

    done = read(["M:OUTTMP.READING@I", "M:OUTTMP@@"])
    assert done.readings[0].value == 72.5
    assert (done.readings[1].facility_code, done.readings[1].error_code) == (72, -98)
    failure = read(["M:OUTTMP@@"]).failure
    assert (failure.error_number, failure.ref_id) == (-98, None)  # the whole job failed


def test_backend_failures_reach_the_client() -> None:
    pair = ProtocolPair()
    read = pair.read(["M:OUTTMP"])
    stream = pair.subscribe(["M:OUTTMP@p,1000"])
    pair.pump()
    work = {type(e).__name__: e for e in pair.server_events}
    devices = work["ReadDevices"]
    pair.run(
        "server",
        pair.server.devices_read(devices.job, devices.indexes, OSError("backend down"), 0),
    )
    pair.run("server", pair.server.stream_failed(work["StartStream"].job, OSError("gone"), 0))
    pair.pump()
    [reading] = pair.event(ReadDone, read).readings
    assert (reading.facility_code, reading.error_code, reading.message) == (
        72,
        -95,
        "backend down",
    )
    [ended] = pair.events(StreamEnded, stream)
    assert isinstance(ended.error, DeviceError) and ended.error.error_code == -95
    assert "Backend subscription failed: gone" in str(ended.error)
    assert StopStream(work["StartStream"].job) in pair.server_events
    assert pair.events(StreamData) == []


def test_init_without_reply_to_is_dropped() -> None:
    pair = ProtocolPair(strict=False)
    assert pair.server.receive_init(AmqpMessage("amq.topic", "I", b""), 0, 0) == []


def test_entries_past_the_int16_range_are_told_by_routing_key() -> None:
    """ref_id is 16 bits: past 32767 entries the server leaves it off, the key tells."""
    pair = ProtocolPair()
    entries = [*["M:OUTTMP.READING@I"] * 32768, "M:BAD@@"]
    init = pair.init(encode_message(ReadingRequest(tuple(entries))))
    pair.run("client", pair.client.start_read(init, entries, entries, pair.now))
    pair.pump()
    [refusal] = pair.sent("server", "R.M:BAD@@")  # the entry the server cannot parse
    assert decode_reply(refusal.body).ref_id is None  # type: ignore[attr-defined]
    [work] = pair.server_events
    assert isinstance(work, ReadDevices) and len(work.indexes) == 32768
    job = pair.client.jobs[init.reply_to]
    assert getattr(job, "missing", None) == 32768  # the refusal found its index


def test_misused_inits_are_refused_loudly() -> None:
    pair = ProtocolPair()
    init = pair.init(encode_message(ReadingRequest(("M:OUTTMP.READING@I",))))
    pair.client.start_read(init, ["M:OUTTMP"], ["M:OUTTMP.READING@I"], 0)
    with pytest.raises(ValueError, match="exists already"):
        pair.client.start_stream(init, ["M:OUTTMP"], 0)
    nameless = AmqpMessage("amq.topic", "I", init.body)
    with pytest.raises(ValueError, match="reply_to"):
        pair.client.start_read(nameless, ["M:OUTTMP"], ["M:OUTTMP.READING@I"], 0)
    assert list(pair.client.jobs) == [init.reply_to]


@pytest.mark.parametrize(
    ("header", "value", "why"),
    [
        ("gss-token", {"a": 1}, "must be bytes, got dict"),
        ("gss-token", [1, 2], "must be bytes, got list"),
        ("gss-token", 1 << 20, "must be bytes, got int"),  # bytes(int) would allocate it
        ("gss-token", b"x" * (64 * 1024 + 1), "longer than 65536 bytes"),
        ("host-address", 1 << 20, "must be bytes, got int"),
        ("signature", 3.5, "must be bytes, got float"),
    ],
)
def test_hostile_init_headers_get_a_security_refusal(header: str, value: Any, why: str) -> None:
    import attrs

    pair = ProtocolPair()
    init = pair.init(encode_message(ReadingRequest(("M:OUTTMP.READING@I",))))
    hostile = attrs.evolve(init, headers={**(init.headers or {}), header: value})
    outputs = pair.server.receive_init(hostile, 0, 0)
    [refusal] = [out.message for out in outputs if isinstance(out, Publish)]
    assert _error_of(refusal) == (72, -99)  # DMQ security violation: the client is told
    assert why in decode_reply(refusal.body).message  # type: ignore[attr-defined]
    assert pair.server.jobs == {}
