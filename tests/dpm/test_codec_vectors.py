"""Conformance of the DPM codec with every entry of tests/vectors/dpm_vectors.json."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys_dpm.codec import (
    HANDSHAKE,
    REPLY_TYPES,
    REQUEST_TYPES,
    DPMProtocolError,
    FrameDecoder,
    ScalarArrayReply,
    ScalarReply,
    TimedScalarArrayReply,
    decode_message,
    decode_reply,
    decode_request,
    encode_message,
    frame_many,
    message_from_json,
    message_to_json,
    struct_to_json,
)

VECTOR_FILE = Path(__file__).resolve().parents[1] / "vectors" / "dpm_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTOR_FILE.read_text(encoding="utf-8"))
BY_NAME = {v["name"]: v for v in VECTORS}
MESSAGE_VECTORS = [v for v in VECTORS if v["message"] != "FramedStream"]
STREAM_VECTORS = [v for v in VECTORS if v["message"] == "FramedStream"]
OTHER = {"request": "reply", "reply": "request"}


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def _decoder_for(direction: str):
    return decode_request if direction == "request" else decode_reply


def test_vector_file_is_complete() -> None:
    """Known kinds only; every message type of docs/protocols/dpm.md §3.1 has a vector."""
    assert len(VECTORS) == len(BY_NAME), "duplicate vector names"
    assert {v["message"] for v in MESSAGE_VECTORS if v["direction"] == "request"} == set(
        REQUEST_TYPES
    )
    assert {v["message"] for v in MESSAGE_VECTORS if v["direction"] == "reply"} == set(REPLY_TYPES)
    assert len(STREAM_VECTORS) == 8
    assert len(MESSAGE_VECTORS) + len(STREAM_VECTORS) == len(VECTORS)


@pytest.mark.parametrize("vector", MESSAGE_VECTORS, ids=_ids(MESSAGE_VECTORS))
def test_encode_gives_vector_bytes(vector: dict[str, Any]) -> None:
    message = message_from_json(vector["direction"], vector["message"], vector["fields"])
    assert encode_message(message).hex() == vector["hex"]


@pytest.mark.parametrize("vector", MESSAGE_VECTORS, ids=_ids(MESSAGE_VECTORS))
def test_decode_gives_vector_fields(vector: dict[str, Any]) -> None:
    body = bytes.fromhex(vector["hex"])
    message = _decoder_for(vector["direction"])(body)
    assert (vector["message"], vector["direction"]) == (message.NAME, message.DIRECTION)
    assert struct_to_json(message) == vector["fields"]
    # Bit-exact (NaN payloads, -0.0) and equal to the message built from the fields.
    assert encode_message(message) == body
    expected = message_from_json(vector["direction"], vector["message"], vector["fields"])
    assert type(message) is type(expected)
    if "NaN" not in json.dumps(vector["fields"]):
        assert message == expected
    # Direction-agnostic decoding and bytearray/memoryview input give the same message.
    assert struct_to_json(decode_message(bytearray(body))) == vector["fields"]
    assert (
        struct_to_json(decode_message(memoryview(body), vector["direction"])) == (vector["fields"])
    )


@pytest.mark.parametrize("vector", MESSAGE_VECTORS, ids=_ids(MESSAGE_VECTORS))
def test_decode_rejects_other_direction(vector: dict[str, Any]) -> None:
    other = OTHER[vector["direction"]]
    with pytest.raises(DPMProtocolError, match=f"unknown {other} type"):
        _decoder_for(other)(bytes.fromhex(vector["hex"]))


@pytest.mark.parametrize("vector", STREAM_VECTORS, ids=_ids(STREAM_VECTORS))
def test_framed_stream_splits_into_expected_frames(vector: dict[str, Any]) -> None:
    stream = bytes.fromhex(vector["hex"])
    fields = vector["fields"]
    if fields["handshake"]:
        assert stream.startswith(HANDSHAKE)
        stream = stream[len(HANDSHAKE) :]
    else:
        assert not stream.startswith(b"GET ")
    decoder = FrameDecoder(detect_http_rejection=vector["direction"] == "reply")
    decoder.feed(stream)
    bodies = list(decoder)
    assert decoder.buffered == 0
    decode = _decoder_for(vector["direction"])
    assert [message_to_json(decode(body)) for body in bodies] == fields["frames"]


@pytest.mark.parametrize("vector", STREAM_VECTORS, ids=_ids(STREAM_VECTORS))
def test_framed_stream_is_reproduced_by_encoding(vector: dict[str, Any]) -> None:
    fields = vector["fields"]
    messages = [
        message_from_json(vector["direction"], f["message"], f["fields"]) for f in fields["frames"]
    ]
    stream = frame_many(encode_message(m) for m in messages)
    if fields["handshake"]:
        stream = HANDSHAKE + stream
    assert stream.hex() == vector["hex"]


@pytest.mark.parametrize(
    "name",
    ["stream_oneshot_single_server", "stream_oneshot_batch_partial_failure_server"],
)
def test_server_stream_starts_with_open_list(name: str) -> None:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex(BY_NAME[name]["hex"]))
    first = decode_reply(next(iter(decoder)))
    assert first.NAME == "OpenList"


def test_scalar_vector_decodes_to_plain_float() -> None:
    message = decode_reply(bytes.fromhex(BY_NAME["rpy_scalar"]["hex"]))
    assert message == ScalarReply(ref_id=1, timestamp=1704067200000, cycle=0, status=0, data=72.5)
    assert type(message.data) is float


@pytest.mark.parametrize(
    ("name", "expected_bits"),
    [
        ("rpy_scalar_nan", "7ff8000000000000"),
        ("rpy_scalar_neg_zero", "8000000000000000"),
        ("rpy_scalar_pos_inf", "7ff0000000000000"),
        ("rpy_scalar_neg_inf", "fff0000000000000"),
    ],
)
def test_special_doubles_are_bit_exact(name: str, expected_bits: str) -> None:
    message = decode_reply(bytes.fromhex(BY_NAME[name]["hex"]))
    assert isinstance(message, ScalarReply)
    assert struct.pack(">d", message.data).hex() == expected_bits


def test_double_array_is_read_only_native_float64() -> None:
    message = decode_reply(bytes.fromhex(BY_NAME["rpy_scalar_array_special"]["hex"]))
    assert isinstance(message, ScalarArrayReply)
    data = message.data
    assert isinstance(data, np.ndarray)
    assert data.dtype == np.float64 and data.dtype.isnative and data.ndim == 1
    assert not data.flags.writeable
    assert np.isnan(data[0]) and data[1] == -np.inf
    assert np.signbit(data[2]) and data[2] == 0.0
    assert data[3] == 5e-324


def test_timed_scalar_array_micros_are_int64() -> None:
    message = decode_reply(bytes.fromhex(BY_NAME["rpy_timed_scalar_array"]["hex"]))
    assert isinstance(message, TimedScalarArrayReply)
    assert message.micros.dtype == np.int64
    assert message.micros.tolist() == [1704067200000000, 1704067200015000]
    assert message.data.tolist() == [1.5, 2.5]


def test_absent_and_empty_optional_arrays_differ() -> None:
    absent = decode_request(bytes.fromhex(BY_NAME["req_apply_settings_no_arrays"]["hex"]))
    empty = decode_request(bytes.fromhex(BY_NAME["req_apply_settings_empty_arrays"]["hex"]))
    assert (absent.raw_array, absent.scaled_array, absent.text_array) == (None, None, None)
    assert (empty.raw_array, empty.scaled_array, empty.text_array) == ((), (), ())
