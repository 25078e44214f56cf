"""Property tests of the protocol engines: any bytes from a peer end in the documented errors.

Random bytes, and the recorded conversations mutated or cut at random points, go into a
client engine (with a read or a stream running) and a server engine (answering its events
as an empty backend). Only DPMProtocolError or DPMConnectionError may come out; a stream
cut anywhere gives what the whole stream gives.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pacsys_dpm.codec import HANDSHAKE, FrameDecoder, OpenListReply, encode_message, frame
from pacsys_dpm.protocol import (
    ClientProtocol,
    DPMConnectionError,
    DPMProtocolError,
    ListAuth,
    ListStarted,
    ReadPlan,
    RolePolicy,
    ServerProtocol,
    SettingsRequested,
)

VECTORS = {
    v["name"]: bytes.fromhex(v["hex"])
    for v in json.loads(
        (Path(__file__).resolve().parents[1] / "vectors" / "dpm_vectors.json").read_text("utf-8")
    )
    if v["message"] == "FramedStream"
}
SERVER_STREAMS = [data for name, data in VECTORS.items() if name.endswith("_server")]
CLIENT_STREAMS = [data for name, data in VECTORS.items() if name.endswith("_client")]
PEER_ERRORS = (DPMProtocolError, DPMConnectionError)


def _mutated(streams: list[bytes]) -> st.SearchStrategy[bytes]:
    """A recorded stream with bytes flipped, dropped or inserted."""

    @st.composite
    def mutate(draw: Any) -> bytes:
        data = bytearray(draw(st.sampled_from(streams)))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["flip", "drop", "insert"]))
            if action == "flip":
                data[at] ^= draw(st.integers(1, 255))
            elif action == "drop":
                del data[at]
            else:
                data[at:at] = draw(st.binary(min_size=1, max_size=8))
        return bytes(data)

    return mutate()


def _cuts(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _feed_client(data: bytes, points: list[int], stream: bool) -> list[Any]:
    """Feed ``data`` in pieces to a client running a read or a stream; what it produced."""
    client = ClientProtocol()
    client.data_to_send()
    running: Any = None
    try:
        for piece in _cuts(data, points):
            client.receive_data(piece)
            if running is None and client.is_open:
                if stream:
                    running = client.stream(["M:OUTTMP@p,1000", "B:HS23T[0:3]@p,1000"], 10.0)
                else:
                    running = client.read(ReadPlan(["M:OUTTMP", "Z:NOTFND", "B:HS23T[0:3]"]))
        client.receive_data(b"")
    except PEER_ERRORS:
        pass
    if running is None:
        return []
    return running.take() if stream else list(running.readings)


@given(
    st.one_of(st.binary(max_size=600), _mutated(SERVER_STREAMS)),
    st.lists(st.integers(0, 2000), max_size=6),
    st.booleans(),
)
def test_client_takes_any_reply_bytes(data: bytes, points: list[int], stream: bool) -> None:
    opened = frame(encode_message(OpenListReply(4096)))
    _feed_client(opened + data, points, stream)
    _feed_client(data, points, stream)


@given(st.sampled_from(SERVER_STREAMS), st.lists(st.integers(0, 2000), max_size=8))
def test_client_results_do_not_depend_on_how_the_stream_is_cut(
    data: bytes, points: list[int]
) -> None:
    whole = _feed_client(data, [], stream=False)
    assert _feed_client(data, points, stream=False) == whole


class _Acceptor:
    complete = False
    initiator = "fuzz@FNAL.GOV"

    def step(self, token: bytes) -> bytes:
        self.complete = True
        return b""

    def verify_mic(self, message: bytes, mic: bytes) -> None:
        pass


def _feed_server(data: bytes, points: list[int]) -> bytes:
    """Feed ``data`` in pieces to a server answering as an empty backend; what it sent."""
    server = ServerProtocol(4096, ListAuth("svc@host", _Acceptor), RolePolicy({"x": ["*"]}),
                            lambda: 0)  # fmt: skip
    sent = bytearray()
    try:
        for piece in [*_cuts(data, points), b""]:
            server.receive_data(piece)
            while (event := server.next_event()) is not None:
                if isinstance(event, ListStarted):
                    server.answer_start({})
                elif isinstance(event, SettingsRequested):
                    server.answer_settings([0] * len(event.writes))
            while chunk := server.data_to_send():
                sent += chunk
    except DPMProtocolError:
        pass
    return bytes(sent)


@given(
    st.one_of(st.binary(max_size=600), _mutated(CLIENT_STREAMS)),
    st.lists(st.integers(0, 2000), max_size=6),
)
def test_server_takes_any_request_bytes(data: bytes, points: list[int]) -> None:
    sent = _feed_server(data, points)
    _feed_server(HANDSHAKE + data, points)
    decoder = FrameDecoder()
    if not sent.startswith(b"HTTP/1.1 "):
        decoder.feed(sent)
        list(decoder)  # whatever it sent is well framed


@given(st.sampled_from(CLIENT_STREAMS), st.lists(st.integers(0, 2000), max_size=8))
def test_server_answers_do_not_depend_on_how_the_stream_is_cut(
    data: bytes, points: list[int]
) -> None:
    assert _feed_server(data, points) == _feed_server(data, [])
