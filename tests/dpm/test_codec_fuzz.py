"""Property tests of the DPM codec: round trips, hostile input, stream splitting."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacsys_dpm.codec import (
    FIELD_IDS,
    REPLY_IDS,
    REPLY_TYPES,
    REQUEST_IDS,
    REQUEST_TYPES,
    DPMProtocolError,
    FrameDecoder,
    Message,
    decode_message,
    encode_message,
    frame,
    struct_to_json,
    wire,
)
from pacsys_dpm.codec.schema import Kind, encode_struct, read_struct_any_order, spec_of

from .strategies import INT_RANGES, int64s, struct_strategy, value_strategy

VECTOR_FILE = Path(__file__).resolve().parents[1] / "vectors" / "dpm_vectors.json"
VECTOR_BODIES = [
    bytes.fromhex(v["hex"])
    for v in json.loads(VECTOR_FILE.read_text(encoding="utf-8"))
    if v["message"] != "FramedStream"
]
MESSAGE_TYPES: list[type[Message]] = [*REQUEST_TYPES.values(), *REPLY_TYPES.values()]
ENVELOPE = bytes.fromhex("53444402510314b13a703a")

FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- message strategies

any_message = st.one_of([struct_strategy(cls) for cls in MESSAGE_TYPES])


# --------------------------------------------------------------------------- raw SDD strategies


def _sized(base: int, payload: bytes) -> bytes:
    return wire.encode_size(base, len(payload)) + payload


def _int_of_width(value: int, width: int) -> bytes:
    """``value`` as a (possibly non-minimal or truncated-range) integer of ``width`` bytes."""
    value &= (1 << (8 * width)) - 1
    return bytes((wire.INT_BASE | width,)) + value.to_bytes(width, "big")


sdd_scalar = st.one_of(
    int64s.map(wire.encode_int),
    st.builds(_int_of_width, int64s, st.integers(1, 8)),
    st.floats().map(wire.encode_double),
    st.booleans().map(wire.encode_bool),
    st.binary(max_size=20).map(lambda b: _sized(wire.STRING_BASE, b)),
    st.binary(max_size=20).map(lambda b: _sized(wire.BLOB_BASE, b)),
    st.binary(min_size=1, max_size=9),  # arbitrary junk where a value belongs
)
sdd_value = st.recursive(
    sdd_scalar,
    lambda inner: st.lists(inner, max_size=6).map(
        lambda items: wire.encode_array_header(len(items)) + b"".join(items)
    ),
    max_leaves=20,
)
field_id = st.sampled_from(sorted(FIELD_IDS.values())) | st.integers(-40000, 40000)
sdd_struct = st.lists(st.tuples(field_id.map(wire.encode_int), sdd_value), max_size=12).map(
    lambda pairs: wire.encode_array_header(2 * len(pairs)) + b"".join(a + b for a, b in pairs)
)
message_id = st.sampled_from(sorted({*REQUEST_IDS.values(), *REPLY_IDS.values()}))


def decodes_or_protocol_error(body: bytes) -> Message | None:
    """Decode ``body``; the only acceptable failure is DPMProtocolError."""
    try:
        message = decode_message(body)
    except DPMProtocolError:
        return None
    assert isinstance(message, Message)
    return message


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
@FEW
@given(data=st.data())
def test_round_trip_of_every_message_type(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(struct_strategy(cls))
    body = encode_message(message)
    decoded = decode_message(body, message.DIRECTION)
    assert type(decoded) is cls
    assert encode_message(decoded) == body  # bit-exact, NaN payloads and -0.0 included
    assert struct_to_json(decoded) == struct_to_json(message)


@MANY
@given(message=any_message)
def test_every_truncation_of_a_generated_message_fails_cleanly(message: Message) -> None:
    body = encode_message(message)
    for end in range(len(body)):
        with pytest.raises(DPMProtocolError):
            decode_message(body[:end])


# --------------------------------------------------------------------------- fast path


def _outcome(read: Any, buf: bytes, pos: int) -> Any:
    """("ok", json form, end) of a struct reader, "error" for rejected input, or None."""
    try:
        result = read(buf, pos)
    except (DPMProtocolError, IndexError, struct.error):
        return "error"
    if result is None:
        return None
    value, end = result
    return ("ok", struct_to_json(value), encode_struct(value), end)


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
@FEW
@given(data=st.data())
def test_fast_path_takes_canonical_structs(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(struct_strategy(cls))
    struct_bytes = encode_struct(message)
    spec = spec_of(cls)
    assert spec.fast is not None
    fast = _outcome(spec.fast, struct_bytes, 0)
    assert fast is not None and fast != "error"
    assert fast == _outcome(lambda b, p: read_struct_any_order(b, p, spec), struct_bytes, 0)


def _sized_raw(base: int, width: int, size: int, payload: bytes) -> bytes:
    """A length-prefixed value whose length may be non-minimal, negative or wrong."""
    return bytes((base | width,)) + _int_of_width(size, width)[1:] + payload


def edge_value(kind: Kind) -> st.SearchStrategy[bytes]:
    """Encodings at or past the edge of what ``kind`` allows."""
    sized = st.integers(1, 3), st.integers(-300, 300), st.binary(max_size=40)
    if kind.name in INT_RANGES:
        return st.builds(_int_of_width, int64s, st.integers(1, 8))
    if kind.name in ("string", "binary"):
        base = wire.STRING_BASE if kind.name == "string" else wire.BLOB_BASE
        return st.builds(_sized_raw, st.just(base), *sized)
    if kind.name == "double":
        return st.binary(max_size=9).map(lambda b: b"\x28" + b) | st.just(b"\x24\0\0\0\0")
    if kind.name == "bool":
        return st.integers(0x6E, 0x73).map(lambda b: bytes((b,)))
    return st.builds(_sized_raw, st.just(wire.ARRAY_BASE), *sized)


TYPICAL = {
    "int16": 1,
    "int32": 300,
    "int64": 1704067200000,
    "double": 1.5,
    "bool": True,
    "string": "ab",
    "binary": b"ab",
    "array<double>": [1.0, 2.0],
    "array<int64>": [5, 6],
    "array<string>": ["a", ""],
}


def typical_value(kind: Kind) -> Any:
    if kind.element is not None:
        return [typical_struct(kind.element)]
    return TYPICAL[kind.name]


def typical_struct(cls: type) -> Any:
    return cls(*(typical_value(f.kind) for f in spec_of(cls).fields))


def edge_encodings(kind: Kind) -> list[bytes]:
    """Deterministic encodings at and past the edges of what ``kind`` allows."""
    if kind.name in INT_RANGES:
        edges = [0, 1, -1]
        for width in range(1, 9):
            edges += [-(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1]
        return [_int_of_width(v, w) for v in edges for w in range(1, 9)] + [b"\x10", b"\x19"]
    sizes = [-1, 0, 1, 2, 3, 127, 128]
    if kind.name in ("string", "binary"):
        base = wire.STRING_BASE if kind.name == "string" else wire.BLOB_BASE
        return [_sized_raw(base, w, n, b"ab") for w in (1, 2, 3) for n in sizes]
    if kind.name == "double":
        return [b"\x28" + bytes(8), b"\x28" + bytes(3), b"\x24" + bytes(4), b"\x11\x01"]
    if kind.name == "bool":
        return [b"\x70", b"\x71", b"\x72", b"\x11\x01"]
    return [_sized_raw(wire.ARRAY_BASE, w, n, b"\x28" + bytes(8)) for w in (1, 2) for n in sizes]


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_fast_path_on_edge_encodings(cls: type[Message]) -> None:
    """One field at a time replaced by edge encodings: both readers agree."""
    spec = spec_of(cls)
    message = typical_struct(cls)
    values = [f.id_bytes + f.kind.encode(getattr(message, f.attr)) for f in spec.fields]
    header = wire.encode_array_header(2 * len(values))
    assert _outcome(spec.fast, header + b"".join(values), 0)[0] == "ok"
    for index, f in enumerate(spec.fields):
        for edge in edge_encodings(f.kind):
            pairs = [*values[:index], f.id_bytes + edge, *values[index + 1 :]]
            buf = header + b"".join(pairs)
            for data in (buf, buf + b"\x11\x00\x11\x00", buf + bytes(300)):
                fast = _outcome(spec.fast, data, 0)
                if fast is not None:
                    assert fast == _outcome(
                        lambda b, p: read_struct_any_order(b, p, spec), data, 0
                    ), (f.attr, edge.hex())


@st.composite
def near_canonical_struct(draw: st.DrawFn, cls: type) -> bytes:
    """Fields in wire order (optional ones shuffled); values valid, edge cases or junk."""
    spec = spec_of(cls)
    required, optional = [], []
    for f in spec.fields:
        if f.optional and draw(st.booleans()):
            continue
        choice = draw(st.integers(0, 7))
        if choice < 5:
            value = draw(value_strategy(f.kind).map(f.kind.encode))
        elif choice < 7:
            value = draw(edge_value(f.kind))
        else:
            value = draw(sdd_value)
        (optional if f.optional else required).append(f.id_bytes + value)
    pairs = required + draw(st.permutations(optional))
    count = 2 * len(pairs) if draw(st.integers(0, 7)) else draw(st.integers(0, 24))
    return wire.encode_array_header(count) + b"".join(pairs)


@MANY
@given(data=st.data(), cls=st.sampled_from(MESSAGE_TYPES), tail=st.binary(max_size=3))
def test_fast_path_agrees_with_general_decoder(
    data: st.DataObject, cls: type[Message], tail: bytes
) -> None:
    """Wherever the generated reader gives an answer, the general loop gives the same one."""
    spec = spec_of(cls)
    buf = data.draw(near_canonical_struct(cls) | sdd_struct) + tail
    if data.draw(st.booleans()):
        buf = buf[: data.draw(st.integers(0, len(buf)))]
    fast = _outcome(spec.fast, buf, 0)
    if fast is not None:
        assert fast == _outcome(lambda b, p: read_struct_any_order(b, p, spec), buf, 0)


# --------------------------------------------------------------------------- hostile input


@MANY
@given(body=st.binary(max_size=300))
def test_random_bytes_only_raise_protocol_error(body: bytes) -> None:
    decodes_or_protocol_error(body)
    decodes_or_protocol_error(ENVELOPE + body)


@MANY
@given(mid=message_id, struct=sdd_struct, tail=st.binary(max_size=4))
def test_random_structs_only_raise_protocol_error(mid: int, struct: bytes, tail: bytes) -> None:
    body = ENVELOPE + wire.encode_int(mid) + struct
    decodes_or_protocol_error(body)
    decodes_or_protocol_error(body + tail)


@MANY
@given(
    body=st.sampled_from(VECTOR_BODIES),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_vectors_only_raise_protocol_error(
    body: bytes, edits: list[tuple[int, int]]
) -> None:
    mutated = bytearray(body)
    for position, value in edits:
        mutated[position % len(mutated)] = value
    message = decodes_or_protocol_error(bytes(mutated))
    if message is not None:  # whatever decodes must be re-encodable or refused cleanly
        try:
            encode_message(message)
        except ValueError:
            pass


@pytest.mark.parametrize("body", VECTOR_BODIES, ids=range(len(VECTOR_BODIES)))
def test_every_truncation_of_every_vector_fails_cleanly(body: bytes) -> None:
    for end in range(len(body)):
        with pytest.raises(DPMProtocolError):
            decode_message(body[:end])


# --------------------------------------------------------------------------- frame splitting

bodies_strategy = st.lists(st.binary(min_size=1, max_size=600), min_size=1, max_size=12)


@MANY
@given(bodies=bodies_strategy, cuts=st.lists(st.integers(1, 700), max_size=60))
def test_frame_decoder_random_chunks(bodies: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(b) for b in bodies)
    decoder = FrameDecoder()
    out: list[bytes] = []
    pos = 0
    for size in cuts:
        decoder.feed(stream[pos : pos + size])
        pos += size
        out.extend(decoder)
    decoder.feed(stream[pos:])
    out.extend(decoder)
    assert out == bodies
    assert decoder.buffered == 0


@settings(max_examples=50, deadline=None)
@given(bodies=bodies_strategy)
def test_frame_decoder_byte_by_byte(bodies: list[bytes]) -> None:
    stream = b"".join(frame(b) for b in bodies)
    decoder = FrameDecoder()
    out: list[bytes] = []
    for index in range(len(stream)):
        decoder.feed(stream[index : index + 1])
        body = decoder.next_frame()
        if body is not None:
            out.append(body)
            assert decoder.next_frame() is None  # one byte completes at most one frame
    assert out == bodies


@MANY
@given(stream=st.binary(max_size=400), cuts=st.lists(st.integers(1, 50), max_size=20))
def test_frame_decoder_on_random_streams(stream: bytes, cuts: list[int]) -> None:
    """Random input either yields bodies within limits or fails with DPMProtocolError."""
    decoder = FrameDecoder(max_frame_size=300, detect_http_rejection=True)
    pos = 0
    try:
        for size in [*cuts, len(stream)]:
            decoder.feed(stream[pos : pos + size])
            pos += size
            for body in decoder:
                assert 1 <= len(body) <= 300
    except DPMProtocolError:
        assert decoder.failed
