"""Property tests of the DMQ codec: round trips, and garbage only ever raises DMQProtocolError."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacsys_dmq.codec import (
    ALL_MESSAGE_TYPES,
    DMQProtocolError,
    Message,
    decode_message,
    encode_message,
)
from pacsys_dmq.codec.schema import (
    ArrayType,
    BinaryType,
    BoolType,
    DoubleType,
    EnumType,
    IntType,
    StringType,
    StructType,
    WireType,
    struct_fields,
)
from pacsys_dmq.codec.sdd import SDDWriter

HEADER = bytes.fromhex("53444402510314eeb90699")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def values_for(wire_type: WireType) -> st.SearchStrategy[Any]:
    """Every value the wire type can carry."""
    if isinstance(wire_type, IntType):
        return st.integers(*wire_type.bounds)
    if isinstance(wire_type, DoubleType):
        return st.floats(allow_nan=True, allow_infinity=True)
    if isinstance(wire_type, BoolType):
        return st.booleans()
    if isinstance(wire_type, StringType):
        return st.text(st.characters(max_codepoint=0xFF), max_size=40)
    if isinstance(wire_type, BinaryType):
        return st.binary(max_size=300)
    if isinstance(wire_type, EnumType):
        return st.sampled_from(sorted(wire_type.values))
    if isinstance(wire_type, ArrayType):
        return st.lists(values_for(wire_type.element), max_size=6).map(tuple)
    if isinstance(wire_type, StructType):
        return instances_of(wire_type.cls)
    raise AssertionError(f"no strategy for {wire_type!r}")


def instances_of(cls: type) -> st.SearchStrategy[Any]:
    """Instances of a message or struct class, optional fields present or not."""
    kwargs = {}
    for field in struct_fields(cls):
        strategy = values_for(field.kind)
        kwargs[field.attr] = strategy if field.required else st.none() | strategy
    return st.builds(cls, **kwargs)


messages: st.SearchStrategy[Message] = st.sampled_from(ALL_MESSAGE_TYPES).flatmap(instances_of)
kinds = st.sampled_from(["request", "reply"])


def _decode_or_protocol_error(body: bytes, kind: str) -> Message | None:
    try:
        message = decode_message(body, kind=kind)  # type: ignore[arg-type]
    except DMQProtocolError as exc:
        assert str(exc)
        return None
    assert isinstance(message, Message)
    return message


@FUZZ
@given(messages)
def test_round_trip(message: Message) -> None:
    body = encode_message(message)
    decoded = decode_message(body, kind=message.KIND)  # type: ignore[arg-type]
    assert type(decoded) is type(message)
    assert decoded == message
    assert encode_message(decoded) == body


@FUZZ
@given(messages, st.data())
def test_truncated_bodies_raise_protocol_error(message: Message, data: st.DataObject) -> None:
    body = encode_message(message)
    cut = data.draw(st.integers(0, len(body) - 1), label="cut")
    assert _decode_or_protocol_error(body[:cut], message.KIND) is None


@FUZZ
@given(messages, st.data())
def test_mutated_bodies_decode_or_raise_protocol_error(
    message: Message, data: st.DataObject
) -> None:
    body = bytearray(encode_message(message))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        index = data.draw(st.integers(0, len(body) - 1), label="index")
        body[index] = data.draw(st.integers(0, 255), label="byte")
    decoded = _decode_or_protocol_error(bytes(body), message.KIND)
    if decoded is not None:
        assert decode_message(encode_message(decoded), kind=message.KIND) == decoded  # type: ignore[arg-type]


@FUZZ
@given(st.binary(max_size=200), kinds)
def test_random_bytes_raise_only_protocol_error(body: bytes, kind: str) -> None:
    _decode_or_protocol_error(body, kind)


@FUZZ
@given(st.binary(max_size=200), kinds)
def test_random_bytes_after_valid_header_raise_only_protocol_error(body: bytes, kind: str) -> None:
    _decode_or_protocol_error(HEADER + body, kind)


@FUZZ
@given(
    st.sampled_from(ALL_MESSAGE_TYPES),
    st.lists(st.binary(min_size=1, max_size=12), max_size=12),
)
def test_random_struct_bodies_raise_only_protocol_error(
    cls: type[Message], chunks: list[bytes]
) -> None:
    """A valid header and type id followed by a plausible struct of random entries."""
    writer = SDDWriter()
    writer.integer(cls.TYPE_ID)
    writer.array_header(len(chunks))
    _decode_or_protocol_error(HEADER + writer.getvalue() + b"".join(chunks), cls.KIND)
