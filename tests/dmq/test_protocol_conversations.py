"""Client and server engines against each other in memory: whole conversations, on the wire.

No broker, sockets, threads or clocks: ProtocolPair routes what each engine publishes and
moves time by hand. What goes on the wire is compared with the conformance vectors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pacsys.testing import FakeBackend
from pacsys.types import BasicControl, ValueType
from pacsys_dmq.codec import (
    DoubleSample,
    ErrorSample,
    decode_reply,
    encode_message,
    init_signing_body,
    setting_signing_body,
)
from pacsys_dmq.protocol import (
    AmqpMessage,
    ApplySetting,
    Close,
    Open,
    ReadDone,
    StartStream,
    StreamData,
    StreamEnded,
    StreamReady,
    WritesDone,
)
from pacsys_dmq.testing import START_MS, ProtocolPair

VECTORS = {
    v["name"]: v
    for v in json.loads(
        (Path(__file__).resolve().parents[1] / "vectors" / "dmq_vectors.json").read_text()
    )
}


def vector_bytes(name: str) -> bytes:
    return bytes.fromhex(VECTORS[name]["hex"])


@pytest.fixture
def fake() -> FakeBackend:
    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5, units="DegF")
    fake.set_reading("G:AMANDA", [1.0, 2.0, 3.0], value_type=ValueType.SCALAR_ARRAY)
    fake.set_reading("Z:ACLTST", 1.25)
    return fake


def test_read_conversation_on_the_wire(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.read(["M:OUTTMP"])
    pair.pump()
    [init, pending, data, drop] = [m for _, m in pair.published]
    # INIT: the exact body the reference sends, signed over the documented signing body
    assert (init.exchange, init.routing_key, init.reply_to, init.app_id) == (
        "amq.topic",
        "I",
        job,
        "pacsys",
    )
    assert init.body == vector_bytes("reading_request_single")
    assert init.correlation_id is None
    headers = dict(init.headers or {})
    assert list(headers) == ["gss-token", "signature", "host-address"]
    assert headers["host-address"] == bytes.fromhex("83e18e44")
    signing = init_signing_body(
        init.body, message_id=init.message_id, reply_to=job, host_address=pair.host_address
    )
    assert headers["signature"] == pair.gss.signer().sign(signing)
    # PENDING on R, correlated to the INIT; then the reading on R.<drf as sent>
    assert (pending.exchange, pending.routing_key) == (job, "R")
    assert pending.correlation_id == init.message_id
    assert pending.body == vector_bytes("error_sample_pending_with_time")
    assert data.routing_key == "R.M:OUTTMP.READING@I"
    reply = decode_reply(data.body)
    assert isinstance(reply, DoubleSample) and (reply.value, reply.ref_id) == (72.5, 1)
    assert (drop.exchange, drop.routing_key, drop.body) == (job, "D", b"")
    done = pair.event(ReadDone, job)
    assert [r.value for r in done.readings] == [72.5]
    assert (done.failure, done.error) == (None, None)
    # broker actions: each side opened and closed its own queue; nothing is left behind
    client_open = next(a for s, a in pair.actions if s == "client" and isinstance(a, Open))
    assert client_open == Open(job, job, ("R.#", "Q"), declare_exchange=True, ack=True)
    server_open = next(a for s, a in pair.actions if s == "server" and isinstance(a, Open))
    assert (server_open.exchange, server_open.bindings) == (job, ("H", "D"))
    assert not server_open.declare_exchange and not server_open.ack
    closes = [s for s, a in pair.actions if isinstance(a, Close)]
    assert sorted(closes) == ["client", "server"]
    assert list(pair.broker.exchanges) == ["amq.topic"]
    assert list(pair.broker.queues) == [pair.init_queue.name]
    assert pair.client.jobs == {} and pair.server.jobs == {}


def test_read_of_two_devices_and_duplicates(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.read(["M:OUTTMP", "G:AMANDA"])
    pair.pump()
    assert pair.sent("client", "I")[0].body == vector_bytes("reading_request_two_devices")
    assert [r.drf for r in pair.event(ReadDone, job).readings] == ["M:OUTTMP", "G:AMANDA"]

    done = pair.get_many(["M:OUTTMP", "G:AMANDA", "M:OUTTMP", "M:NOSUCH"])
    readings = done.readings
    assert [r.drf for r in readings] == ["M:OUTTMP", "G:AMANDA", "M:OUTTMP", "M:NOSUCH"]
    assert readings[0].value == readings[2].value == 72.5
    assert list(readings[1].value) == [1.0, 2.0, 3.0]
    assert not readings[3].ok and "M:NOSUCH" in (readings[3].message or "")


def test_one_reply_fills_every_copy_of_a_drf() -> None:
    """The server may answer identical requests once; every copy gets the reading."""
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP", "M:OUTTMP"])
    pair.pump()
    [read] = [e for e in pair.server_events if not isinstance(e, StartStream)]
    assert read.indexes == (0, 1)
    reading = FakeBackend().get("M:NOSUCH")  # any reading will do
    pair.run("server", pair.server.devices_read(read.job, (0,), [reading], pair.time_ms))
    pair.pump()
    done = pair.event(ReadDone, job)
    assert [r.error_code for r in done.readings] == [reading.error_code] * 2


def test_reply_found_by_routing_key_without_ref_id() -> None:
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP", "G:AMANDA"])
    pair.pump()
    body = encode_message(DoubleSample(1.5, START_MS))  # no ref_id
    for key in ("R.G:AMANDA.READING@I", "R.M:OUTTMP.READING@I"):
        pair.run("client", pair.client.receive(job, AmqpMessage(job, key, body), pair.now))
    assert [(r.drf, r.value) for r in pair.event(ReadDone, job).readings] == [
        ("M:OUTTMP", 1.5),
        ("G:AMANDA", 1.5),
    ]


def test_subscription_conversation(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    drfs = ["M:OUTTMP@p,1000", "G:AMANDA@e,02"]
    job = pair.subscribe(drfs)
    pair.pump()
    init = pair.sent("client", "I")[0]
    assert init.body == vector_bytes("reading_request_streaming")
    assert pair.events(StreamReady, job) == [StreamReady(job)]
    for value in (1.0, 2.0):
        fake.emit_reading("M:OUTTMP@p,1000", value)
    pair.pump()
    data = pair.events(StreamData, job)
    assert [(d.reading.drf, d.reading.value) for d in data] == [
        ("M:OUTTMP@p,1000", 1.0),
        ("M:OUTTMP@p,1000", 2.0),
    ]
    assert [m.routing_key for m in pair.sent("server")][1:] == ["R.M:OUTTMP@p,1000"] * 2
    # stop: DROP, the server stops its backend subscription and both queues go
    pair.run("client", pair.client.stop_stream(job))
    pair.pump()
    assert pair.events(StreamEnded, job) == [StreamEnded(job, None, True)]
    assert pair.sent("client")[-1].routing_key == "D"
    assert not fake._active()
    assert pair.server.jobs == {} and list(pair.broker.exchanges) == ["amq.topic"]


def test_subscription_delivers_to_every_copy(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.subscribe(["M:OUTTMP@p,500", "M:OUTTMP@p,500"])
    pair.pump()
    fake.emit_reading("M:OUTTMP@p,500", 4.5)
    pair.pump()
    assert [d.reading.value for d in pair.events(StreamData, job)] == [4.5, 4.5]


def test_write_conversation_on_the_wire(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    call = pair.write([("Z:ACLTST", 45.0)])
    # INIT of the session, and nothing else until the server's PENDING
    [init] = pair.sent("client")
    assert init.body == vector_bytes("setting_request_write_init")
    pair.pump()
    [setting] = pair.sent("client", "S.Z:ACLTST.SETTING@N")
    session = init.reply_to
    assert setting.exchange == session
    assert setting.body == encode_message(DoubleSample(45.0, START_MS, ref_id=1))
    assert (setting.reply_to, setting.app_id, setting.correlation_id) == (None, None, None)
    headers = dict(setting.headers or {})
    assert list(headers) == ["signature", "host-address"]
    signing = setting_signing_body(
        setting.body, message_id=setting.message_id, host_address=pair.host_address
    )
    assert headers["signature"] == pair.gss.signer().sign(signing)
    [reply] = pair.sent("server", "R.Z:ACLTST.SETTING@N")
    assert reply.correlation_id == setting.message_id
    assert pair.event(WritesDone, call).results[0].ok
    assert fake.writes == [("Z:ACLTST.SETTING@N", 45.0)]


def test_writes_reuse_sessions_and_keep_order(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    results = pair.write_many(
        [
            ("Z:ACLTST", 1.0),
            ("M:OUTTMP", 2),
            ("Z:ACLTST", 3.0),
            ("Z:ACLTST.STATUS", BasicControl.ON),
        ]
    )
    assert [r.ok for r in results] == [True] * 4
    assert [r.drf for r in results] == ["Z:ACLTST", "M:OUTTMP", "Z:ACLTST", "Z:ACLTST.STATUS"]
    assert set(pair.client.sessions) == {
        "Z:ACLTST.SETTING@N",
        "M:OUTTMP.SETTING@N",
        "Z:ACLTST.CONTROL@N",
    }
    control_init = next(m for m in pair.sent("client", "I") if b"CONTROL" in m.body)
    assert control_init.body == vector_bytes("setting_request_control_init")
    written: dict[str, list[Any]] = {}
    for drf, value in fake.writes:
        written.setdefault(drf, []).append(value)
    assert written == {
        "Z:ACLTST.SETTING@N": [1.0, 3.0],  # in order within a session
        "M:OUTTMP.SETTING@N": [2],
        "Z:ACLTST.CONTROL@N": [BasicControl.ON],
    }
    inits = len(pair.sent("client", "I"))
    session = pair.client.sessions["Z:ACLTST.SETTING@N"]
    assert pair.write_many([("Z:ACLTST", 5.0)])[0].ok
    assert len(pair.sent("client", "I")) == inits  # reused: no new INIT, no new GSS context
    assert pair.client.sessions["Z:ACLTST.SETTING@N"] is session


def test_server_answers_settings_in_arrival_order() -> None:
    """Backend work may finish out of order; the replies keep the arrival order."""
    pair = ProtocolPair()
    call = pair.write([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0), ("Z:ACLTST", 3.0)])
    pair.pump()
    applies = [e for e in pair.server_events if isinstance(e, ApplySetting)]
    assert [a.value for a in applies] == [1.0, 2.0, 3.0]
    job = applies[0].job
    for apply in reversed(applies):
        pair.run("server", pair.server.setting_applied(job, apply.seq, _ok(apply), pair.time_ms))
    pair.pump()
    replies = [decode_reply(m.body) for m in pair.sent("server", "R.Z:ACLTST.SETTING@N")]
    assert [getattr(r, "value", None) for r in replies] == [1.0, 2.0, 3.0]
    assert all(r.ok for r in pair.event(WritesDone, call).results)


def _ok(apply: ApplySetting) -> Any:
    from pacsys.types import WriteResult

    return WriteResult(apply.drf)


def test_client_matches_replies_by_correlation_then_fifo() -> None:
    pair = ProtocolPair()
    call = pair.write([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0), ("Z:ACLTST", 3.0)])
    pair.pump()
    settings = pair.sent("client", "S.Z:ACLTST.SETTING@N")
    session = settings[0].exchange
    key = "R.Z:ACLTST.SETTING@N"

    def reply(error: int, correlation: str | None) -> None:
        body = encode_message(ErrorSample(72, error, START_MS))
        message = AmqpMessage(session, key, body, correlation_id=correlation)
        pair.run("client", pair.client.receive(session, message, pair.now))

    reply(-1, settings[2].message_id)  # the third, by its id
    reply(-2, None)  # no id (as the real server sends): the oldest, the first
    reply(-3, "not-a-pending-id")  # an unknown id: the oldest left, the second
    results = pair.event(WritesDone, call).results
    assert [r.error_code for r in results] == [-2, -3, -1]


def test_server_heartbeats_and_client_heartbeats_flow(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    job = pair.subscribe(["M:OUTTMP@p,1000"])
    pair.pump()
    pair.advance(60)
    assert len(pair.sent("client", "H")) == 12  # every 5 s
    assert len(pair.sent("server", "Q")) == 12
    assert pair.events(StreamEnded, job) == []
    assert len(pair.server.jobs) == 1


def test_close_drops_every_job(fake: FakeBackend) -> None:
    pair = ProtocolPair(fake)
    stream = pair.subscribe(["M:OUTTMP@p,1000"])
    assert pair.write_many([("Z:ACLTST", 1.0)])[0].ok
    read = pair.read(["M:OUTTMP"])  # still waiting: the server is not pumped
    pair.run("client", pair.client.close())
    pair.pump()
    assert pair.events(StreamEnded, stream) == [StreamEnded(stream, None, True)]
    done = pair.event(ReadDone, read)
    assert str(done.error) == "Connection closed: backend closed"
    assert pair.client.jobs == {} and pair.client.sessions == {}
    assert pair.server.jobs == {}  # every job got its DROP
    assert not fake._active()
