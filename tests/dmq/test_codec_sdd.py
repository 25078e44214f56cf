"""SDD primitives and decoder strictness beyond the conformance vectors."""

from __future__ import annotations

import pytest

from pacsys_dmq.codec import (
    BasicControlSample,
    BasicStatus,
    DMQProtocolError,
    DoubleSample,
    ReadingRequest,
    ShortSample,
    StringSample,
    decode_message,
    decode_reply,
    decode_request,
    encode_message,
)
from pacsys_dmq.codec.sdd import SDDReader, SDDWriter, int_width

HEADER = bytes.fromhex("53444402510314eeb9069912")
DOUBLE_SAMPLE_ID = bytes.fromhex("81d1")
SHORT_SAMPLE_ID = bytes.fromhex("73fe")
VALUE_ID = bytes.fromhex("12c160")
TIME_ID = bytes.fromhex("12694b")


@pytest.mark.parametrize(
    ("value", "hex_bytes"),
    [
        (0, "1100"),
        (127, "117f"),
        (128, "120080"),
        (-128, "1180"),
        (-129, "12ff7f"),
        (32768, "13008000"),
        (8388608, "1400800000"),
        (-(1 << 63), "188000000000000000"),
        ((1 << 63) - 1, "187fffffffffffffff"),
    ],
)
def test_integer_uses_minimal_width_and_reads_back(value: int, hex_bytes: str) -> None:
    writer = SDDWriter()
    writer.integer(value)
    assert writer.getvalue().hex() == hex_bytes
    reader = SDDReader(bytes.fromhex(hex_bytes))
    assert reader.integer() == value
    assert reader.remaining == 0


def test_int_width_rejects_more_than_64_bits() -> None:
    with pytest.raises(ValueError, match="64 bits"):
        int_width(1 << 63)


@pytest.mark.parametrize(("count", "hex_bytes"), [(0, "5100"), (3, "5103"), (130, "520082")])
def test_array_count_width(count: int, hex_bytes: str) -> None:
    writer = SDDWriter()
    writer.array_header(count)
    assert writer.getvalue().hex() == hex_bytes


def test_string_length_200_takes_two_bytes() -> None:
    writer = SDDWriter()
    writer.string("x" * 200)
    assert writer.getvalue()[:3].hex() == "4200c8"


def test_nonminimal_integer_accepted() -> None:
    assert SDDReader(bytes.fromhex("180000000000000005")).integer() == 5


@pytest.mark.parametrize("tag", ["10", "19", "1f", "20", "41"])
def test_bad_integer_tag_rejected(tag: str) -> None:
    with pytest.raises(DMQProtocolError, match=r"^bad tag or length"):
        SDDReader(bytes.fromhex(tag + "0000000000000000")).integer()


def test_double_only_accepts_tag_28() -> None:
    with pytest.raises(DMQProtocolError, match=r"^bad tag or length"):
        SDDReader(bytes.fromhex("270000000000000000")).double()


def test_boolean_tags() -> None:
    assert SDDReader(b"\x71").boolean() is True
    assert SDDReader(b"\x70").boolean() is False
    with pytest.raises(DMQProtocolError, match=r"^bad tag or length"):
        SDDReader(b"\x72").boolean()


def _double_sample_body(struct_bytes: bytes) -> bytes:
    return HEADER + DOUBLE_SAMPLE_ID + struct_bytes


def test_unknown_field_rejected() -> None:
    unknown = b"\x12\x12\x34\x11\x00"  # field id 0x1234 = 0
    body = _double_sample_body(b"\x51\x04" + VALUE_ID + b"\x28" + bytes(8) + unknown)
    with pytest.raises(DMQProtocolError, match=r"^unknown field found"):
        decode_reply(body)


def test_duplicate_field_rejected() -> None:
    time = TIME_ID + b"\x11\x00"
    body = _double_sample_body(b"\x51\x06" + VALUE_ID + b"\x28" + bytes(8) + time + time)
    with pytest.raises(DMQProtocolError, match=r"^duplicate field: DoubleSample.time"):
        decode_reply(body)


def test_missing_required_field_rejected() -> None:
    """Count 4 is in range, but ``time`` is replaced by the optional ``ref_id``."""
    ref_id = bytes.fromhex("121eab1101")
    body = _double_sample_body(b"\x51\x04" + VALUE_ID + b"\x28" + bytes(8) + ref_id)
    with pytest.raises(DMQProtocolError, match=r"^missing required field: DoubleSample lacks time"):
        decode_reply(body)


def test_int16_range_checked_after_decoding() -> None:
    value = b"\x13\x00\x80\x00"  # 32768 in three bytes
    body = HEADER + SHORT_SAMPLE_ID + b"\x51\x04" + VALUE_ID + value + TIME_ID + b"\x11\x00"
    with pytest.raises(DMQProtocolError, match=r"^value out of range"):
        decode_reply(body)


def test_wrong_value_type_for_field_rejected() -> None:
    body = _double_sample_body(b"\x51\x04" + VALUE_ID + b"\x11\x05" + TIME_ID + b"\x11\x00")
    with pytest.raises(DMQProtocolError, match=r"^bad tag or length"):
        decode_reply(body)


def test_unknown_enum_value_rejected() -> None:
    control_id = bytes.fromhex("6245")
    body = HEADER + control_id + b"\x51\x04" + VALUE_ID + b"\x81\x05" + TIME_ID + b"\x11\x00"
    with pytest.raises(DMQProtocolError, match=r"^unknown enum value"):
        decode_reply(body)


@pytest.mark.parametrize(
    "hex_body",
    [
        "",
        "5344",
        "534444025103",
        "53444402510314eeb906",
        "5344440258ffffffffffffffff",
        "53444402587fffffffffffffff14eeb90699",
        "53444402510314eeb906991281d1587fffffffffffffff",
        "53444402510314eeb9069912400b510412c160587fffffffffffffff",
        "53444402510314eeb90699128dca510412c160487fffffffffffffff41",
    ],
)
def test_hostile_sizes_fail_fast(hex_body: str) -> None:
    with pytest.raises(DMQProtocolError):
        decode_reply(bytes.fromhex(hex_body))


def test_header_must_be_three_element_array() -> None:
    with pytest.raises(DMQProtocolError, match=r"^invalid header"):
        decode_reply(bytes.fromhex("53444402510214eeb90699"))
    with pytest.raises(DMQProtocolError, match=r"^invalid header"):
        decode_reply(bytes.fromhex("534444021103"))


def test_request_and_reply_helpers_pick_their_table() -> None:
    body = encode_message(ReadingRequest(["M:OUTTMP@I"]))
    assert decode_request(body) == ReadingRequest(("M:OUTTMP@I",))
    with pytest.raises(DMQProtocolError, match=r"^unknown reply type"):
        decode_reply(body)
    with pytest.raises(ValueError, match="kind"):
        decode_message(body, kind="bogus")  # type: ignore[arg-type]


def test_decode_accepts_bytearray_and_memoryview() -> None:
    body = encode_message(DoubleSample(1.5, 7))
    assert decode_reply(bytearray(body)) == decode_reply(memoryview(body)) == DoubleSample(1.5, 7)


@pytest.mark.parametrize(
    ("message", "error", "text"),
    [
        (ShortSample(value=40000, time=0), ValueError, "ShortSample.value"),
        (ShortSample(value=1, time=0, ref_id=1 << 15), ValueError, "ShortSample.ref_id"),
        (StringSample(value="\u20ac", time=0), ValueError, "above U\\+00FF"),
        (BasicControlSample(value=5, time=0), ValueError, "BasicControl wire value"),
        (ReadingRequest(["ok", "caf\u00e9", "\u0100"]), ValueError, "dataRequest\\[2\\]"),
        (ShortSample(value=1.5, time=0), TypeError, "expected an integer"),  # type: ignore[arg-type]
    ],
)
def test_encode_rejects_unencodable_fields(message: object, error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        encode_message(message)  # type: ignore[arg-type]


def test_encode_rejects_non_messages() -> None:
    with pytest.raises(TypeError, match="not a DMQ message"):
        encode_message(BasicStatus(on=True))  # type: ignore[arg-type]


def test_message_equality_is_wire_equality() -> None:
    nan = float("nan")
    assert DoubleSample(nan, 0) == DoubleSample(nan, 0)
    assert DoubleSample(0.0, 0) != DoubleSample(-0.0, 0)
    decoded = decode_reply(encode_message(DoubleSample(1, 0, ref_id=1)))
    assert hash(DoubleSample(1.0, 0, ref_id=1)) == hash(decoded)
    assert ReadingRequest(["A", "B"]).data_request == ("A", "B")
