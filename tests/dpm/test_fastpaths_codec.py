"""The codec's fast lanes agree with the general encoder/decoder, byte for byte and error for error.

Covered: generated struct writers (``encode_message``), ``encode_fields``, the field-tuple
readers (``decode_reply_fields`` / ``decode_request_fields``) and ``FrameDecoder.drain``.
"""

from __future__ import annotations

import itertools
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacsys_dpm.codec import (
    REPLY_TYPES,
    REQUEST_TYPES,
    AddToListRequest,
    DeviceInfoReply,
    DPMEncodeError,
    DPMHTTPRejected,
    DPMProtocolError,
    FrameDecoder,
    Message,
    ScalarReply,
    StartListRequest,
    StatusReply,
    TextReply,
    decode_message,
    decode_reply,
    decode_reply_fields,
    decode_request_fields,
    encode_fields,
    encode_message,
    frame,
    struct_to_json,
    wire,
)
from pacsys_dpm.codec.schema import encode_struct, encode_struct_in_order, spec_of

from .strategies import struct_strategy

MESSAGE_TYPES: list[type[Message]] = [*REQUEST_TYPES.values(), *REPLY_TYPES.values()]
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _field_values(message: Any) -> list[Any]:
    return [getattr(message, f.attr) for f in spec_of(type(message)).fields]


def _error(call: Any) -> tuple[type, str] | None:
    try:
        call()
    except (ValueError, TypeError) as exc:
        return type(exc), str(exc)
    return None


# --------------------------------------------------------------------------- writers


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
@FEW
@given(data=st.data())
def test_generated_writer_matches_general_encoder(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(struct_strategy(cls))
    spec = spec_of(cls)
    general = encode_struct_in_order(message)
    fast = spec.write(message)
    assert fast is None or fast == general
    assert encode_struct(message) == general
    if spec.pack is not None:  # classes without converters: raw values give the same bytes
        assert encode_fields(cls, *_field_values(message)) == encode_message(message)


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (ScalarReply, (1, 2**63, 0, 0, 1.0)),  # int64 overflow
        (ScalarReply, (1, 2, 3, 40000, 1.0)),  # int16 overflow
        (ScalarReply, (1, 2, 3, 0, "1.0")),  # a str where a double belongs
        (ScalarReply, (None, 2, 3, 0, 1.0)),  # a required field missing
        (DeviceInfoReply, (1, 2**31, "M:X", "d", None, None)),  # int32 overflow
        (DeviceInfoReply, (1, 2, "M:\u20ac", "d", None, None)),  # not Latin-1
        (DeviceInfoReply, (1, 2, "M:X", "d", "mm", 1 << 15)),  # optional int16 overflow
        (TextReply, (1, 2, 3, 0, b"bytes")),
    ],
)
def test_fast_writers_raise_what_the_general_encoder_raises(
    cls: type[Message], values: tuple[Any, ...]
) -> None:
    expected = _error(lambda: encode_struct_in_order(cls(*values)))
    assert expected is not None and expected[0] is DPMEncodeError
    assert _error(lambda: encode_message(cls(*values))) == expected
    assert _error(lambda: encode_fields(cls, *values)) == expected


@pytest.mark.parametrize(
    "values",
    [
        (True, 2, 3, 0, 1.0),  # bool as an int
        (np.int64(-5), np.int32(70000), 0, np.int16(-3), np.float64(2.5)),
        (1, -(2**63), 2**63 - 1, -32768, float("-0.0")),
        (-129, 128, -128, 127, float("nan")),
        (1, 2, 3, 0, 7),  # an int where a double belongs: packed as a double
    ],
)
def test_fast_writer_edge_values(values: tuple[Any, ...]) -> None:
    message = ScalarReply(*values)
    assert (
        encode_message(message)
        == b"SDD\x02Q\x03\x14\xb1:p:" + encode_fields(ScalarReply, *values)[11:]
    )
    assert encode_struct(message) == encode_struct_in_order(message)
    decoded = decode_reply(encode_message(message))
    assert struct.pack(">d", decoded.data) == struct.pack(">d", float(values[4]))  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300])
def test_fast_writer_string_lengths(size: int) -> None:
    text = "é" * size
    message = DeviceInfoReply(1, 2, text, "x" * size, None if size % 2 else text, None)
    assert encode_struct(message) == encode_struct_in_order(message)
    assert decode_reply(encode_message(message)) == message


# --------------------------------------------------------------------------- readers


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
@FEW
@given(data=st.data())
def test_field_readers_match_the_decoder(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(struct_strategy(cls))
    body = encode_message(message)
    read = decode_request_fields if message.DIRECTION == "request" else decode_reply_fields
    other = decode_reply_fields if message.DIRECTION == "request" else decode_request_fields
    fields = read(body)
    assert fields is not None  # every canonical body takes the fast lane
    kind, values = fields
    assert kind is cls
    assert struct_to_json(cls(*values)) == struct_to_json(decode_message(body))
    assert other(body) is None  # the other direction's ids are not in its table


@FEW
@given(message=st.one_of([struct_strategy(cls) for cls in MESSAGE_TYPES]), data=st.data())
def test_field_readers_never_raise_and_never_disagree(
    message: Message, data: st.DataObject
) -> None:
    body = bytearray(encode_message(message))
    for _ in range(data.draw(st.integers(1, 3))):  # corrupt a few bytes
        if body:
            body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    body = body[: data.draw(st.integers(0, len(body)))]
    for read in (decode_reply_fields, decode_request_fields):
        fields = read(bytes(body))
        if fields is not None:  # then the general decoder agrees
            assert struct_to_json(fields[0](*fields[1])) == struct_to_json(
                decode_message(bytes(body))
            )


def test_field_readers_leave_unusual_forms_to_the_decoder() -> None:
    body = encode_message(StatusReply(3, 4, 5, -1))
    assert decode_reply_fields(body) == (StatusReply, (3, 4, 5, -1))
    assert decode_reply_fields(b"") is None
    assert decode_reply_fields(body[:11]) is None  # envelope only
    assert decode_reply_fields(body[:-1]) is None  # truncated: decode_reply reports it
    with pytest.raises(DPMProtocolError):
        decode_reply(body[:-1])
    # fields out of schema order are valid, only not fast
    pairs = [
        f.id_bytes + wire.encode_int(v)
        for f, v in zip(spec_of(StatusReply).fields, (3, 4, 5, -1), strict=True)
    ]
    slow = body[:14] + wire.encode_array_header(8) + b"".join(reversed(pairs))
    assert decode_reply_fields(slow) is None
    assert decode_reply(slow) == StatusReply(3, 4, 5, -1)
    add = encode_message(AddToListRequest(4096, 7, "M:OUTTMP@I"))
    assert decode_request_fields(add) == (AddToListRequest, (4096, 7, "M:OUTTMP@I"))
    assert decode_request_fields(encode_message(StartListRequest(4096))) == (
        StartListRequest,
        (4096, None),
    )


# --------------------------------------------------------------------------- drain


@FEW
@given(
    bodies=st.lists(st.binary(min_size=1, max_size=300), max_size=30),
    cuts=st.lists(st.integers(0, 4000), max_size=6),
)
def test_drain_yields_what_iteration_yields(bodies: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(b) for b in bodies)
    edges = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    by_drain, by_iteration = FrameDecoder(), FrameDecoder()
    drained: list[bytes] = []
    iterated: list[bytes] = []
    for start, end in itertools.pairwise(edges):
        by_drain.feed(stream[start:end])
        by_iteration.feed(stream[start:end])
        drained += by_drain.drain()
        iterated += list(by_iteration)
    assert drained == iterated == bodies
    assert by_drain.frames_decoded == len(bodies) and by_drain.buffered == 0


def test_drain_returns_good_frames_before_a_bad_length() -> None:
    decoder = FrameDecoder(max_frame_size=100)
    decoder.feed(frame(b"one") + frame(b"two") + struct.pack(">I", 0) + b"junk")
    assert decoder.drain() == [b"one", b"two"]
    with pytest.raises(DPMProtocolError, match="invalid frame length 0"):
        decoder.drain()
    assert decoder.failed


def test_drain_detects_an_http_rejection_first() -> None:
    decoder = FrameDecoder(detect_http_rejection=True)
    decoder.feed(b"HTTP/1.1 404 Not Found")
    assert decoder.drain() == []  # waits for the end of the status line
    decoder.feed(b"\r\n\r\n")
    with pytest.raises(DPMHTTPRejected, match="404"):
        decoder.drain()
    ok = FrameDecoder(detect_http_rejection=True)
    ok.feed(frame(b"a") + frame(b"b") + frame(b"c")[:3])
    assert ok.drain() == [b"a", b"b"] and ok.buffered == 3
