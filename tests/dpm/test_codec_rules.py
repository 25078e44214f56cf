"""Encoding rules of docs/protocols/dpm.md §2, §3 and §5 that the vector file does not spell out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pacsys_dpm.codec import (
    FIELD_IDS,
    PROTOCOL_ID,
    REPLY_IDS,
    REPLY_TYPES,
    REQUEST_IDS,
    REQUEST_TYPES,
    SIGNATURE,
    AddToListRequest,
    ApplySettingsRequest,
    AuthenticateReply,
    BasicStatusReply,
    DeviceInfoReply,
    DPMEncodeError,
    DPMProtocolError,
    OpenListReply,
    RawSetting,
    ScalarArrayReply,
    ScalarReply,
    ScaledSetting,
    ServiceDiscoveryReply,
    StatusReply,
    TextArrayReply,
    TextReply,
    TextSetting,
    TimedScalarArrayReply,
    decode_message,
    decode_reply,
    decode_request,
    encode_message,
    message_type,
    wire,
)
from pacsys_dpm.codec.frozen import FrozenInstanceError

ENVELOPE = "53444402" + "5103" + "14b13a703a"

# docs/protocols/dpm.md §2.2 table: value -> minimal encoding.
INTEGER_TABLE = [
    (0, "1100"),
    (1, "1101"),
    (-1, "11ff"),
    (127, "117f"),
    (128, "120080"),
    (-128, "1180"),
    (-129, "12ff7f"),
    (255, "1200ff"),
    (32767, "127fff"),
    (32768, "13008000"),
    (-32768, "128000"),
    (-32769, "13ff7fff"),
    (8388607, "137fffff"),
    (2147483647, "147fffffff"),
    (-2147483648, "1480000000"),
    (2147483648, "150080000000"),
    (1704067200000, "16018cc251f400"),
    (9223372036854775807, "187fffffffffffffff"),
    (-9223372036854775808, "188000000000000000"),
]

# docs/protocols/dpm.md §5.2 table: status -> wire form.
STATUS_TABLE = [
    (0, "1100"),
    (273, "120111"),
    (529, "120211"),
    (-4335, "12ef11"),
    (-6639, "12e611"),
    (-6895, "12e511"),
    (-8431, "12df11"),
    (-255, "12ff01"),
    (-1535, "12fa01"),
    (-3570, "12f20e"),
    (-15090, "12c50e"),
    (-16318, "12c042"),
]


def body(message_id_hex: str, struct_hex: str) -> bytes:
    return bytes.fromhex(ENVELOPE + message_id_hex + struct_hex)


def int_hex(value: int) -> str:
    return wire.encode_int(value).hex()


def field(name: str) -> str:
    return int_hex(FIELD_IDS[name])


# --------------------------------------------------------------------------- integers


@pytest.mark.parametrize(("value", "encoded"), INTEGER_TABLE)
def test_integer_minimal_form(value: int, encoded: str) -> None:
    assert wire.encode_int(value).hex() == encoded
    assert wire.read_int(bytes.fromhex(encoded), 0) == (value, len(encoded) // 2)


@pytest.mark.parametrize(("status", "encoded"), STATUS_TABLE)
def test_status_codes_are_minimal_int16(status: int, encoded: str) -> None:
    message = StatusReply(ref_id=2, timestamp=0, cycle=0, status=status)
    data = encode_message(message)
    assert data.endswith(bytes.fromhex(field("status") + encoded))
    assert decode_reply(data) == message


@pytest.mark.parametrize(
    ("size", "header"), [(0, "4100"), (127, "417f"), (128, "420080"), (130, "420082")]
)
def test_string_length_uses_signed_minimal_form(size: int, header: str) -> None:
    assert wire.encode_string("x" * size).hex().startswith(header)


def test_blob_and_array_lengths() -> None:
    assert wire.encode_binary(bytes(300)).hex().startswith("32012c")
    assert wire.encode_binary(b"").hex() == "3100"
    assert wire.encode_string_array([]).hex() == "5100"
    assert wire.encode_double_array([]).hex() == "5100"
    assert wire.encode_int64_array([]).hex() == "5100"


def test_latin1_string_example() -> None:
    assert wire.encode_string("µA").hex() == "4102b541"
    assert wire.read_string(bytes.fromhex("4102b541"), 0) == ("µA", 4)


@pytest.mark.parametrize(
    ("value", "bits"),
    [
        (math.nan, "7ff8000000000000"),
        (math.inf, "7ff0000000000000"),
        (-math.inf, "fff0000000000000"),
        (-0.0, "8000000000000000"),
        (72.5, "4052200000000000"),
    ],
)
def test_double_encoding(value: float, bits: str) -> None:
    assert wire.encode_double(value).hex() == "28" + bits
    assert wire.encode_double_array([value]).hex() == "5101" + "28" + bits


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(("name", "message_id"), sorted(REQUEST_IDS.items()))
def test_request_ids(name: str, message_id: int) -> None:
    cls = message_type("request", name)
    assert cls is REQUEST_TYPES[name]
    assert (message_id, "request", name) == (cls.MESSAGE_ID, cls.DIRECTION, cls.NAME)
    assert cls.__name__ == f"{name}Request"


@pytest.mark.parametrize(("name", "message_id"), sorted(REPLY_IDS.items()))
def test_reply_ids(name: str, message_id: int) -> None:
    cls = message_type("reply", name)
    assert cls is REPLY_TYPES[name]
    assert (message_id, "reply", name) == (cls.MESSAGE_ID, cls.DIRECTION, cls.NAME)
    assert cls.__name__ == f"{name}Reply"


def test_request_and_reply_ids_do_not_overlap() -> None:
    assert not set(REQUEST_IDS.values()) & set(REPLY_IDS.values())


def test_unknown_message_type_name() -> None:
    with pytest.raises(KeyError):
        message_type("reply", "Nope")


def test_add_to_list_request_id_is_one_byte() -> None:
    data = encode_message(AddToListRequest(list_id=4096, ref_id=1, drf_request="M:OUTTMP"))
    assert data.hex().startswith(ENVELOPE + "1161" + "5106")
    assert data.startswith(SIGNATURE)
    assert wire.read_int(data, 6)[0] == PROTOCOL_ID


# --------------------------------------------------------------------------- decoder leniency


def test_non_minimal_integers_are_accepted() -> None:
    # OpenList reply, list_id 4096 as a 4-byte integer and the id as 8 bytes.
    data = body("12349e", "5102" + "18ffffffffffffe820" + "1400001000")
    assert decode_reply(data) == OpenListReply(list_id=4096)


def test_non_minimal_envelope_is_accepted() -> None:
    data = bytes.fromhex("53444402" + "520003" + "18ffffffffb13a703a" + "140000349e")
    data += bytes.fromhex("520002" + field("list_id") + "111f")
    assert decode_reply(data) == OpenListReply(list_id=31)


def test_fields_in_any_order() -> None:
    data = body(
        "12d6ad",
        "5108"
        + field("status")
        + "12e611"
        + field("cycle")
        + "1100"
        + field("ref_id")
        + "1102"
        + field("timestamp")
        + "1105",
    )
    assert decode_reply(data) == StatusReply(ref_id=2, timestamp=5, cycle=0, status=-6639)


def test_trailing_bytes_are_ignored() -> None:
    data = encode_message(OpenListReply(list_id=7)) + b"\x00\xff"
    assert decode_reply(data) == OpenListReply(list_id=7)


def test_duplicate_field_last_one_wins() -> None:
    data = body(
        "126fed",
        "510a"
        + field("ref_id")
        + "1101"
        + field("di")
        + "1105"
        + field("name")
        + "4101"
        + "41"
        + field("description")
        + "4100"
        + field("name")
        + "4101"
        + "42",
    )
    assert decode_reply(data) == DeviceInfoReply(ref_id=1, di=5, name="B", description="")


def test_duplicate_that_hides_a_required_field_is_rejected() -> None:
    data = body("12349e", "5102" + field("list_id") + "1101")
    status = body("12d6ad", "5108" + (field("ref_id") + "1101") * 4)
    assert decode_reply(data) == OpenListReply(list_id=1)
    with pytest.raises(DPMProtocolError, match="required"):
        decode_reply(status)


def test_optional_fields_absent_are_none() -> None:
    assert decode_reply(body("121c76", "5100")) == AuthenticateReply(service_name=None, token=None)
    status = body(
        "12f2f9", "5106" + field("ref_id") + "1101" + field("timestamp") + "1100" + field("cycle")
    )
    with pytest.raises(DPMProtocolError, match="truncated"):
        decode_reply(status)
    status += bytes.fromhex("1100")
    assert decode_reply(status) == BasicStatusReply(ref_id=1, timestamp=0, cycle=0)


# --------------------------------------------------------------------------- decoder strictness

BAD_BODIES = {
    "empty": "",
    "bad signature": "53444403" + "5103" + "14b13a703a" + "12349e5102" + "12e8201101",
    "envelope of 2": "53444402" + "5102" + "14b13a703a" + "12349e",
    "wrong protocol id": "53444402" + "5103" + "14b13a703b" + "12349e5102" + "12e8201101",
    "unknown message id": ENVELOPE + "1201" + "5100",
    "message id not an int": ENVELOPE + "4100" + "5100",
    "struct is not an array": ENVELOPE + "12349e" + "4102" + "12e8201101",
    "odd count": ENVELOPE + "12349e" + "5103" + "12e8201101" + "1100",
    "count too large": ENVELOPE + "12349e" + "5104" + "12e8201101" + "12e8201101",
    "count too small": ENVELOPE + "12d6ad" + "5106" + "121eab1101" + "12d55b1100" + "1207401100",
    "unknown field": ENVELOPE + "12349e" + "5102" + "121eab1101",
    "int32 out of range": ENVELOPE + "12349e" + "5102" + "12e820" + "150080000000",
    "int16 out of range": ENVELOPE + "129600" + "5104" + "12e8201101" + "124454" + "13008000",
    "length nibble 0": ENVELOPE + "12349e" + "5102" + "12e820" + "1000",
    "length nibble 9": ENVELOPE + "12349e" + "5102" + "12e820" + "19000000000000000001",
    "int where string expected": ENVELOPE + "12ddb5" + "5104" + "12e8201101" + "125e63" + "1101",
    "float32 tag": ENVELOPE
    + "12d6ab"
    + "510a"
    + "121eab1101"
    + "12d55b1100"
    + "1207401100"
    + "1244541100"
    + "127f38"
    + "2442910000",
    "bad bool byte": ENVELOPE
    + "12f2f9"
    + "5108"
    + "121eab1101"
    + "12d55b1100"
    + "1207401100"
    + "125c01"
    + "72",
    "negative string length": ENVELOPE + "12ddb5" + "5104" + "12e8201101" + "125e63" + "41ff",
    "negative array count": ENVELOPE + "12349e" + "51ff",
    "huge double array": ENVELOPE
    + "1259fc"
    + "510a"
    + "121eab1101"
    + "12d55b1100"
    + "1207401100"
    + "1244541100"
    + "127f38"
    + "587fffffffffffffff"
    + "2800",
    "huge string array": ENVELOPE
    + "12327b"
    + "510a"
    + "121eab1101"
    + "12d55b1100"
    + "1207401100"
    + "1244541100"
    + "127f38"
    + "583fffffffffffffff",
    "huge string": ENVELOPE + "12ddb5" + "5104" + "12e8201101" + "125e63" + "487fffffffffffffff41",
    "non-double in double array": ENVELOPE
    + "1259fc"
    + "510a"
    + "121eab1101"
    + "12d55b1100"
    + "1207401100"
    + "1244541100"
    + "127f38"
    + "5102"
    + "280000000000000000"
    + "110000000000000000",
    "setting struct with wrong field": ENVELOPE
    + "1243c0"
    + "5102"
    + "124454"
    + "5101"
    + "5104"
    + "121eab1101"
    + "127f381100",
}


@pytest.mark.parametrize("hex_body", BAD_BODIES.values(), ids=list(BAD_BODIES))
def test_bad_bodies_raise_protocol_error(hex_body: str) -> None:
    with pytest.raises(DPMProtocolError):
        decode_message(bytes.fromhex(hex_body))


def test_error_messages_name_the_problem() -> None:
    with pytest.raises(DPMProtocolError, match="invalid header"):
        decode_message(bytes.fromhex(BAD_BODIES["bad signature"]))
    with pytest.raises(DPMProtocolError, match="incorrect protocol"):
        decode_message(bytes.fromhex(BAD_BODIES["wrong protocol id"]))
    with pytest.raises(DPMProtocolError, match="unknown message type"):
        decode_message(bytes.fromhex(BAD_BODIES["unknown message id"]))
    with pytest.raises(DPMProtocolError, match="unknown request type"):
        decode_request(bytes.fromhex(BAD_BODIES["unknown message id"]))
    with pytest.raises(DPMProtocolError, match="unknown field"):
        decode_message(bytes.fromhex(BAD_BODIES["unknown field"]))
    with pytest.raises(DPMProtocolError, match="out of range for int16"):
        decode_message(bytes.fromhex(BAD_BODIES["int16 out of range"]))
    with pytest.raises(DPMProtocolError, match="out of range for int32"):
        decode_message(bytes.fromhex(BAD_BODIES["int32 out of range"]))
    with pytest.raises(DPMProtocolError, match="bad tag or length 0x24"):
        decode_message(bytes.fromhex(BAD_BODIES["float32 tag"]))
    with pytest.raises(DPMProtocolError, match="truncated"):
        decode_message(bytes.fromhex(BAD_BODIES["huge double array"]))


def test_int64_array_of_mixed_widths() -> None:
    micros = [0, -1, 300, 1 << 40, -(1 << 63), (1 << 63) - 1]
    message = TimedScalarArrayReply(1, 2, 3, 0, [1.0] * 6, micros)
    decoded = decode_reply(encode_message(message))
    assert isinstance(decoded, TimedScalarArrayReply)
    assert decoded.micros.tolist() == micros


@pytest.mark.parametrize("width", range(1, 9))
def test_int64_array_bulk_path_sign_extends(width: int) -> None:
    low, high = -(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1
    values = [low, high, low + 1, high - 1]
    values = [v for v in values if wire.encode_int(v)[0] == 0x10 | width]
    encoded = wire.encode_int64_array(values)
    array, end = wire.read_int64_array(encoded, 0)
    assert end == len(encoded)
    assert array.tolist() == values


# --------------------------------------------------------------------------- encoder errors


@pytest.mark.parametrize(
    "message",
    [
        lambda: StatusReply(ref_id=1, timestamp=0, cycle=0, status=32768),
        lambda: StatusReply(ref_id=1 << 63, timestamp=0, cycle=0, status=0),
        lambda: OpenListReply(list_id=-(1 << 31) - 1),
        lambda: OpenListReply(list_id=1.5),
        lambda: OpenListReply(list_id="1"),
        lambda: TextReply(ref_id=1, timestamp=0, cycle=0, status=0, data="€"),
        lambda: TextReply(ref_id=1, timestamp=0, cycle=0, status=0, data=b"x"),
        lambda: ScalarReply(ref_id=1, timestamp=0, cycle=0, status=0, data="1.0"),
        lambda: ScalarReply(ref_id=1, timestamp=0, cycle=0, status=0, data=None),
        lambda: BasicStatusReply(ref_id=1, timestamp=0, cycle=0, on=1),
        lambda: ServiceDiscoveryReply(load=1 << 15, service_location="x"),
        lambda: ApplySettingsRequest("u", 1, scaled_array=[RawSetting(1, b"")]),
        lambda: ApplySettingsRequest("u", 1, text_array=[TextSetting(1, ["€"])]),
        lambda: TimedScalarArrayReply(1, 0, 0, 0, [1.0], [1 << 70]),
        lambda: ScalarArrayReply(1, 0, 0, 0, [[1.0, 2.0]]),
        lambda: TextArrayReply(1, 0, 0, 0, "abc"),
        lambda: ScaledSetting(1, ["x"]),
    ],
)
def test_unencodable_values_raise_encode_error(message) -> None:
    with pytest.raises(DPMEncodeError) as info:
        encode_message(message())
    assert isinstance(info.value, ValueError)


def test_encode_rejects_non_messages() -> None:
    with pytest.raises(TypeError):
        encode_message(RawSetting(1, b""))  # type: ignore[arg-type]


def test_required_field_set_to_none_is_rejected() -> None:
    message = OpenListReply(list_id=None)  # type: ignore[arg-type]
    with pytest.raises(DPMEncodeError, match="required"):
        encode_message(message)


# --------------------------------------------------------------------------- value objects


def test_messages_are_frozen_and_arrays_read_only() -> None:
    message = ScalarArrayReply(1, 0, 0, 0, [1.0, 2.0])
    with pytest.raises(FrozenInstanceError):
        message.ref_id = 2  # type: ignore[misc]
    assert isinstance(message.data, np.ndarray) and message.data.dtype == np.float64
    with pytest.raises(ValueError):
        message.data[0] = 5.0


def test_array_equality_treats_nan_as_equal() -> None:
    assert ScalarArrayReply(1, 0, 0, 0, [math.nan, 1.0]) == ScalarArrayReply(
        1, 0, 0, 0, np.array([math.nan, 1.0])
    )
    assert ScalarArrayReply(1, 0, 0, 0, [1.0]) != ScalarArrayReply(1, 0, 0, 0, [1.0, 1.0])
    assert ScaledSetting(1, [2.0]) != ScaledSetting(1, [3.0])


def test_sequences_are_stored_as_tuples() -> None:
    message = ApplySettingsRequest("u", 1, text_array=[TextSetting(2, ["a", "b"])])
    assert message.text_array == (TextSetting(2, ("a", "b")),)
    assert message.raw_array is None
    same = ApplySettingsRequest("u", 1, text_array=(TextSetting(2, ("a", "b")),))
    assert hash(message) == hash(same)
