"""The reference conversations of dpm_vectors.json, byte for byte, between the two engines.

Client and server protocol engines talk in memory (no sockets, threads or clocks): the
client's whole byte stream and the server's must equal the recorded ones, and each side
must also accept the other side's recorded stream exactly as recorded.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.metadata import DeviceInfoResult, PropertyInfo
from pacsys.types import DeviceMeta, Reading, ValueType
from pacsys_dpm.codec import FrameDecoder, StatusReply, decode_reply, encode_message, frame
from pacsys_dpm.protocol import (
    ClientProtocol,
    ListOpened,
    ListStarted,
    ListStopped,
    ReadPlan,
    SettingsRequested,
    make_setting,
)

VECTORS = {
    v["name"]: v
    for v in json.loads(
        (Path(__file__).resolve().parents[1] / "vectors" / "dpm_vectors.json").read_text("utf-8")
    )
}
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
TS = 1704067200000


def _server_frames(stem: str) -> list[bytes]:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex(VECTORS[f"{stem}_server"]["hex"]))
    return [frame(body) for body in decoder]


def _client_hex(stem: str) -> str:
    return VECTORS[f"{stem}_client"]["hex"]


def _caller_drfs(stem: str) -> list[str]:
    frames = VECTORS[f"{stem}_client"]["fields"]["frames"]
    return [
        f["fields"]["drf_request"].replace(".READING@I", "")
        for f in frames
        if f["message"] == "AddToList"
    ]


OUTTMP = Reading(
    "M:OUTTMP.READING@I",
    ValueType.SCALAR,
    value=72.5,
    timestamp=T0,
    cycle=0,
    meta=DeviceMeta(27235, "M:OUTTMP", "Outdoor temperature", "DegF"),
)
BACKEND: dict[str, dict[str, Reading]] = {
    "stream_oneshot_single": {"M:OUTTMP.READING@I": OUTTMP},
    "stream_oneshot_batch_partial_failure": {
        "M:OUTTMP.READING@I": OUTTMP,
        "Z:NOTFND.READING@I": Reading("Z:NOTFND.READING@I", facility_code=17, error_code=-26),
        "B:HS23T.READING[0:3]@I": Reading(
            "B:HS23T.READING[0:3]@I",
            ValueType.SCALAR_ARRAY,
            value=np.array([1.0, 2, 3, 4]),
            timestamp=datetime.fromtimestamp(1704067200.001, timezone.utc),
            cycle=0,
            meta=DeviceMeta(140013, "B:HS23T", "Array device", "mm"),
        ),
    },
}


def _answer_reads(pair: Any, event: Any, stem: str) -> None:
    assert isinstance(event, ListStarted) and not event.streams and not event.never
    readings = {entry.ref_id: BACKEND[stem][entry.drf] for entry in event.reads}
    pair.server.answer_start(readings)


@pytest.mark.parametrize("stem", ["stream_oneshot_single", "stream_oneshot_batch_partial_failure"])
def test_oneshot_read_between_the_engines_is_byte_exact(protocol_pair: Any, stem: str) -> None:
    pair = protocol_pair(VECTORS[f"{stem}_server"]["fields"]["frames"][0]["fields"]["list_id"],
                        frames_per_write=1)  # fmt: skip
    pair.open()
    read = pair.client.read(ReadPlan(_caller_drfs(stem)))
    events = pair.to_server()
    assert len(events) == 1
    _answer_reads(pair, events[0], stem)
    chunks = pair.drain(pair.server)
    recorded = _server_frames(stem)[1:]
    if stem == "stream_oneshot_batch_partial_failure":  # an idle heartbeat after StartList
        assert decode_reply(recorded[4][4:]).NAME == "ListStatus"
        chunks.insert(4, pair.server.heartbeat())
    pair.to_client(chunks)
    assert read.done and read.clean and read.plan.reusable
    readings = read.result(5.0)
    pair.client.clear_list()
    assert [type(e) for e in pair.to_server()] == [ListStopped]
    assert pair.client_sent.hex() == _client_hex(stem)
    assert pair.server_sent.hex() == VECTORS[f"{stem}_server"]["hex"]
    assert readings[0].value == 72.5 and readings[0].units == "DegF"
    assert readings[0].meta == OUTTMP.meta and readings[0].drf == "M:OUTTMP"
    if stem.endswith("partial_failure"):
        assert readings[1].error_code == -26 and readings[1].value is None
        assert readings[2].value_type is ValueType.SCALAR_ARRAY
        assert readings[2].value.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_addtolist_replies_conversation_client_side(protocol_pair: Any) -> None:
    """A server that answers AddToList (optional; ours does not): the client takes it."""
    stem = "stream_oneshot_addtolist_replies"
    client = ClientProtocol()
    drain = protocol_pair.drain
    sent = b"".join(drain(client))
    opened, *rest = _server_frames(stem)
    client.receive_data(opened)
    read = client.read(ReadPlan(_caller_drfs(stem)))
    sent += b"".join(drain(client))
    client.receive_data(b"".join(rest))
    assert read.done
    client.clear_list()
    sent += b"".join(drain(client))
    assert sent.hex() == _client_hex(stem)
    text, bad = read.result(5.0)
    assert (text.value, text.value_type, text.units) == ("72.5", ValueType.TEXT, None)
    assert (bad.facility_code, bad.error_code, bad.value) == (17, -26, None)


def test_addtolist_replies_conversation_server_side(protocol_pair: Any) -> None:
    """The same client stream to our server: its entries, then our answer (no AddToList replies)."""
    pair = protocol_pair(4098)
    pair.server.receive_data(bytes.fromhex(_client_hex("stream_oneshot_addtolist_replies")))
    opened, started = pair.server_events()
    assert isinstance(opened, ListOpened) and opened.head.target == "/dpm"
    assert isinstance(started, ListStarted)
    assert [(e.ref_id, e.drf) for e in started.reads] == [
        (1, "M:OUTTMP.READING@I"),
        (2, "M:BADDEV.READING@I"),
    ]
    text = Reading("M:OUTTMP.READING@I", ValueType.TEXT, value="72.5", timestamp=T0,
                   meta=DeviceMeta(27235, "M:OUTTMP", "Outdoor temperature"))  # fmt: skip
    bad = Reading("M:BADDEV.READING@I", facility_code=17, error_code=-26)
    pair.server.answer_start({1: text, 2: bad})
    assert [type(e) for e in pair.server_events()] == [ListStopped]
    recorded = _server_frames("stream_oneshot_addtolist_replies")
    expected = [recorded[0], recorded[3], frame(_status(2, -6639)), recorded[4], recorded[5]]
    assert b"".join(pair.drain(pair.server)) == b"".join(expected)


def _status(ref: int, status: int) -> bytes:
    return encode_message(StatusReply(ref, TS, 0, status))


class _Initiator:
    """GSS initiator stand-in for the recorded tokens (placeholders, as in the vector)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.complete = False

    def step(self, token: bytes | None) -> bytes:
        assert token is None
        self.complete = True
        return bytes.fromhex("6082012a06092a864886f71201020201006e82")

    def get_mic(self, message: bytes) -> bytes:
        assert message == b"1234"
        return bytes.fromhex("040404ffffffffff00000000176d7c1a")


class _Acceptor:
    """GSS acceptor stand-in: takes the recorded token, checks the recorded MIC."""

    complete = False
    initiator = "user@FNAL.GOV"

    def step(self, token: bytes) -> bytes:
        assert token == bytes.fromhex("6082012a06092a864886f71201020201006e82")
        self.complete = True
        return b""

    def verify_mic(self, message: bytes, mic: bytes) -> None:
        assert (message, mic) == (b"1234", bytes.fromhex("040404ffffffffff00000000176d7c1a"))


def test_write_between_the_engines_is_byte_exact(protocol_pair: Any) -> None:
    pair = protocol_pair(
        4099,
        service_name="daeset/bd@dpm06.fnal.gov",
        acceptor=_Acceptor,
        roles={"testing": ["Z:ACLTST"]},
    )
    pair.open()
    contexts: list[_Initiator] = []
    auth = pair.client.authenticate(
        lambda target: contexts.append(_Initiator(target)) or contexts[-1]
    )
    for _ in range(3):  # service name, token, EnableSettings: one reply each
        assert pair.to_server() == []
        pair.to_client()
    assert auth.done and auth.result() == "daeset/bd/dpm06.fnal.gov@FNAL.GOV"
    assert contexts[0].target == auth.result()
    cycle = pair.client.write(
        ["Z:ACLTST.SETTING@N"], [make_setting(1, 72.5)], user_name="user@FNAL.GOV", role="testing"
    )
    stopped, started = pair.to_server()
    assert isinstance(stopped, ListStopped) and isinstance(started, ListStarted)
    assert [e.drf for e in started.never] == ["Z:ACLTST.SETTING@N"]
    assert pair.server.role == "testing"
    info = DeviceInfoResult(140013, "test device", setting=PropertyInfo(common_units="mm"))
    pair.server.answer_start({}, {1: info})
    pair.to_client()
    (requested,) = pair.to_server()
    assert requested == SettingsRequested("user@FNAL.GOV", "testing", (("Z:ACLTST.SETTING", 72.5),))
    pair.server.answer_settings([0])
    pair.to_client()
    assert cycle.done and cycle.outcomes == [(0, 0, None)] and cycle.reusable
    assert [type(e) for e in pair.to_server()] == [ListStopped]
    assert pair.client_sent.hex() == VECTORS["stream_write_client"]["hex"]
    assert pair.server_sent.hex() == VECTORS["stream_write_server"]["hex"]


def test_every_recorded_conversation_is_covered() -> None:
    """A conversation added to the vector file must get a test here."""
    covered = {
        "stream_oneshot_single",
        "stream_oneshot_batch_partial_failure",
        "stream_oneshot_addtolist_replies",
        "stream_write",
    }
    recorded = {
        name.rsplit("_", 1)[0] for name, v in VECTORS.items() if v["message"] == "FramedStream"
    }
    assert recorded == covered
