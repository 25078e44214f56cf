"""Every conformance vector through the engines: as INIT, as reply, as SETTING body.

Each message of ``dmq_vectors.json`` meets the engine that would receive it on the wire:
requests are INIT bodies for the server, replies go to a client read job, and every reply
is offered to a server write job as a SETTING body; invalid inputs go everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pacsys.drf3.parser import parse_request
from pacsys.types import WriteResult
from pacsys_dmq.codec import (
    BinarySample,
    DoubleSample,
    ErrorSample,
    ReadingRequest,
    SettingRequest,
    decode_reply,
    decode_request,
    encode_message,
    is_pending,
    reply_to_reading,
    setting_to_value,
)
from pacsys_dmq.protocol import (
    AmqpMessage,
    ApplySetting,
    Open,
    ReadDevices,
    ReadDone,
    StartStream,
    WritesDone,
)
from pacsys_dmq.testing import ProtocolPair

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "dmq_vectors.json").read_text()
)
REQUESTS = [v for v in VECTORS if v["kind"] == "request" and v.get("message")]
REPLIES = [v for v in VECTORS if v["kind"] == "reply" and v.get("message")]
INVALID = [v for v in VECTORS if v.get("expect_error")]


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def _body(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["hex"])


def test_every_vector_is_used() -> None:
    assert len(REQUESTS) + len(REPLIES) + len(INVALID) == len(VECTORS)


def _send_init(pair: ProtocolPair, body: bytes) -> AmqpMessage:
    """A client job whose INIT carries ``body`` (signed, whatever it holds); all delivered."""
    init = pair.init(body)
    pair.run("client", pair.client.start_read(init, ["M:OUTTMP"], ["M:OUTTMP"], pair.now))
    pair.pump()
    return init


def _job_survives(entries: list[str], write: bool) -> bool:
    return write or any(_parses(e) for e in entries)


def _parses(drf: str) -> bool:
    try:
        parse_request(drf)
    except (ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("vector", REQUESTS, ids=_ids(REQUESTS))
def test_request_as_init(vector: dict[str, Any]) -> None:
    """Reading/SettingRequest INITs become jobs; any other request is refused with -98."""
    pair = ProtocolPair()
    request = decode_request(_body(vector))
    init = _send_init(pair, _body(vector))
    [first, *_] = pair.sent("server")
    assert (first.exchange, first.routing_key) == (init.reply_to, "R")
    assert first.correlation_id == init.message_id
    status = decode_reply(first.body)
    entries = list(getattr(request, "data_request", ()))
    if not isinstance(request, ReadingRequest | SettingRequest) or not entries:
        assert isinstance(status, ErrorSample)
        assert (status.facility_code, status.error_number) == (72, -98)
        assert pair.server.jobs == {}
        return
    assert is_pending(status)
    if not _job_survives(entries, isinstance(request, SettingRequest)):
        [failure] = pair.sent("server")[1:]  # no entry can be read: the job fails at once
        assert failure.routing_key == "R" and failure.correlation_id == init.message_id
        assert pair.event(ReadDone, init.reply_to).failure.error_number == -98
        assert pair.server.jobs == {}
        return
    [job] = pair.server.jobs.values()
    assert job.entries == entries and job.write == isinstance(request, SettingRequest)
    opened = next(a for s, a in pair.actions if s == "server" and isinstance(a, Open))
    bindings = ("H", "D", "S.#") if job.write else ("H", "D")
    assert (opened.exchange, opened.bindings) == (init.reply_to, bindings)
    work = [e for e in pair.server_events if isinstance(e, ReadDevices | StartStream)]
    asked = sorted(drf for e in work for drf in e.drfs)
    assert asked == ([] if job.write else sorted(e for e in entries if _parses(e)))


@pytest.mark.parametrize("vector", INVALID, ids=_ids(INVALID))
def test_invalid_body_as_init_is_refused(vector: dict[str, Any]) -> None:
    pair = ProtocolPair()
    init = _send_init(pair, _body(vector))
    [reply] = pair.sent("server")
    assert (reply.routing_key, reply.correlation_id) == ("R", init.message_id)
    done = pair.event(ReadDone, init.reply_to)
    assert done.failure is not None and done.failure.error_number == -98
    assert (done.failure.message or "").startswith(("Bad INIT: ", "Unsupported INIT"))


@pytest.mark.parametrize("vector", REPLIES, ids=_ids(REPLIES))
def test_reply_to_a_read(vector: dict[str, Any]) -> None:
    """A reply on ``R.<drf>`` becomes the reading the codec maps it to; PENDING never does."""
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP"])
    key = "R.M:OUTTMP.READING@I"
    message = AmqpMessage(job, key, _body(vector))
    pair.run("client", pair.client.receive(job, message, pair.now))
    reply = decode_reply(_body(vector))
    if is_pending(reply):
        assert pair.events(ReadDone) == []
        return
    [done] = pair.events(ReadDone)
    assert done.readings == (reply_to_reading(reply, "M:OUTTMP"),)


@pytest.mark.parametrize("vector", INVALID, ids=_ids(INVALID))
def test_undecodable_reply_to_a_read(vector: dict[str, Any]) -> None:
    """Resolved by its routing key, an undecodable reply is an error reading (1, -1)."""
    pair = ProtocolPair()
    job = pair.read(["M:OUTTMP", "G:AMANDA"])
    for key, body in (
        ("R.G:AMANDA.READING@I", _body(vector)),
        ("R.M:OUTTMP.READING@I", encode_message(DoubleSample(1.0, 0))),
    ):
        pair.run("client", pair.client.receive(job, AmqpMessage(job, key, body), pair.now))
    readings = pair.event(ReadDone, job).readings
    assert readings[0].value == 1.0
    assert (readings[1].facility_code, readings[1].error_code) == (1, -1)


def _write_job(pair: ProtocolPair) -> tuple[int, str]:
    """A confirmed server write job for Z:ACLTST.SETTING@N: (job id, client exchange)."""
    call = pair.write([("Z:ACLTST", 1.0)])
    pair.pump()
    [apply] = [e for e in pair.server_events if isinstance(e, ApplySetting)]
    done = WriteResult("Z:ACLTST")
    pair.run("server", pair.server.setting_applied(apply.job, apply.seq, done, pair.time_ms))
    pair.pump()
    assert pair.event(WritesDone, call).results == (done,)
    pair.server_events.clear()
    return apply.job, pair.server.jobs[apply.job].exchange


def _offer_setting(pair: ProtocolPair, body: bytes) -> ApplySetting | Any:
    """Offer ``body`` as the next SETTING: the ApplySetting it causes, or the refusal sent."""
    job, exchange = _write_job(pair)
    message = AmqpMessage(exchange, "S.Z:ACLTST.SETTING@N", body, message_id="m-1")
    before = len(pair.sent("server"))
    pair.run("server", pair.server.receive(job, message, pair.now, pair.time_ms))
    if pair.server_events:
        [apply] = pair.server_events
        return apply
    [reply] = pair.sent("server")[before:]
    assert reply.correlation_id == "m-1"
    return decode_reply(reply.body)


@pytest.mark.parametrize("vector", REPLIES, ids=_ids(REPLIES))
def test_reply_as_setting_body(vector: dict[str, Any]) -> None:
    """Writable samples are applied with their value; the rest are refused with -93."""
    pair = ProtocolPair(strict=False)  # the hand-made SETTING carries no MIC
    body = _body(vector)
    outcome = _offer_setting(pair, body)
    sample = decode_reply(body)
    try:
        value = setting_to_value(sample)
    except TypeError:
        value = None
    if value is not None and not isinstance(sample, BinarySample):
        assert isinstance(outcome, ApplySetting) and outcome.drf == "Z:ACLTST.SETTING@N"
        assert type(outcome.value) is type(value)
        assert repr(outcome.value) == repr(value)  # repr: NaN equals NaN, arrays compare
    else:
        assert isinstance(outcome, ErrorSample) and outcome.error_number == -93


@pytest.mark.parametrize("vector", INVALID, ids=_ids(INVALID))
def test_invalid_setting_body_is_refused(vector: dict[str, Any]) -> None:
    pair = ProtocolPair(strict=False)
    refusal = _offer_setting(pair, _body(vector))
    assert isinstance(refusal, ErrorSample) and refusal.error_number == -98
    assert (refusal.message or "").startswith("Undecodable setting: ")
