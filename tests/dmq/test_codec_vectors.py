"""Conformance of the DMQ codec with every entry of tests/vectors/dmq_vectors.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from pacsys_dmq.codec import (
    ALL_MESSAGE_TYPES,
    DMQProtocolError,
    Message,
    decode_message,
    encode_message,
    message_class,
)
from pacsys_dmq.codec.schema import (
    ArrayType,
    BinaryType,
    DoubleType,
    StructType,
    WireType,
    struct_fields,
)

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTORS_PATH = VECTORS_DIR / "dmq_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())

MESSAGES = [v for v in VECTORS if v.get("message")]
ENCODABLE = [v for v in MESSAGES if not v.get("decode_only")]
INVALID = [v for v in VECTORS if v.get("expect_error")]


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_to_value(wire_type: WireType, value: Any) -> Any:
    """Vector field value -> the Python value the message class holds."""
    if isinstance(wire_type, DoubleType):
        return _SPECIAL_DOUBLES.get(value, value) if isinstance(value, str) else float(value)
    if isinstance(wire_type, BinaryType):
        return bytes.fromhex(value)
    if isinstance(wire_type, ArrayType):
        return tuple(json_to_value(wire_type.element, item) for item in value)
    if isinstance(wire_type, StructType):
        fields = {f.attr: f for f in struct_fields(wire_type.cls)}
        assert set(value) <= set(fields), f"unknown struct members {set(value) - set(fields)}"
        return wire_type.cls(**{k: json_to_value(fields[k].kind, v) for k, v in value.items()})
    return value


def expected_message(vector: dict[str, Any]) -> Message:
    sdd_name, kind = vector["message"].rsplit("_", 1)
    assert kind == vector["kind"]
    cls = message_class(kind, sdd_name)
    fields = {f.wire_name: f for f in struct_fields(cls)}
    assert set(vector["fields"]) <= set(fields), f"unknown fields {set(vector['fields'])}"
    kwargs = {
        fields[name].attr: json_to_value(fields[name].kind, value)
        for name, value in vector["fields"].items()
    }
    return cls(**kwargs)


def test_vector_file_is_complete() -> None:
    assert len(VECTORS) == len(MESSAGES) + len(INVALID)
    assert len({v["name"] for v in VECTORS}) == len(VECTORS)


def test_every_message_type_has_a_vector() -> None:
    covered = {type(expected_message(v)) for v in ENCODABLE}
    missing = [cls.__name__ for cls in ALL_MESSAGE_TYPES if cls not in covered]
    assert not missing


@pytest.mark.parametrize("vector", ENCODABLE, ids=_ids(ENCODABLE))
def test_encode_gives_exact_bytes(vector: dict[str, Any]) -> None:
    assert encode_message(expected_message(vector)).hex() == vector["hex"]


@pytest.mark.parametrize("vector", MESSAGES, ids=_ids(MESSAGES))
def test_decode_gives_equal_message(vector: dict[str, Any]) -> None:
    expected = expected_message(vector)
    decoded = decode_message(bytes.fromhex(vector["hex"]), kind=vector["kind"])
    assert type(decoded) is type(expected)
    assert decoded == expected


@pytest.mark.parametrize("vector", MESSAGES, ids=_ids(MESSAGES))
def test_decode_ignores_trailing_bytes(vector: dict[str, Any]) -> None:
    body = bytes.fromhex(vector["hex"]) + b"\x00\xff trailing"
    assert decode_message(body, kind=vector["kind"]) == expected_message(vector)


@pytest.mark.parametrize("vector", MESSAGES, ids=_ids(MESSAGES))
def test_decode_then_encode_is_canonical(vector: dict[str, Any]) -> None:
    """Even decode-only inputs re-encode to what the encoder makes for the same fields."""
    decoded = decode_message(bytes.fromhex(vector["hex"]), kind=vector["kind"])
    assert encode_message(decoded) == encode_message(expected_message(vector))


@pytest.mark.parametrize("vector", MESSAGES, ids=_ids(MESSAGES))
def test_other_table_rejects_or_differs(vector: dict[str, Any]) -> None:
    """Request and reply ids are separate tables: the wrong table never yields this type."""
    other = "request" if vector["kind"] == "reply" else "reply"
    try:
        decoded = decode_message(bytes.fromhex(vector["hex"]), kind=other)
    except DMQProtocolError:
        return
    assert type(decoded) is not type(expected_message(vector))


@pytest.mark.parametrize("vector", INVALID, ids=_ids(INVALID))
def test_invalid_input_is_rejected_with_named_problem(vector: dict[str, Any]) -> None:
    problem = vector["expect_error"].removeprefix("ProtocolError: ")
    with pytest.raises(DMQProtocolError) as info:
        decode_message(bytes.fromhex(vector["hex"]), kind=vector["kind"])
    assert str(info.value).startswith(problem), str(info.value)
