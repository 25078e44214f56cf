"""Signing-body layout and host-address selection."""

from __future__ import annotations

import pytest

from pacsys_dmq.codec import (
    FALLBACK_HOST_ADDRESS,
    DoubleSample,
    ReadingRequest,
    encode_message,
    init_signing_body,
    reply_drf,
    reply_key,
    select_host_address,
    setting_drf,
    setting_key,
    setting_signing_body,
    signing_body,
)

INIT_BODY = bytes.fromhex(
    "53444402510314eeb9069912a812510212627c510141124d3a4f5554544d502e52454144494e474049"
)
SETTING_BODY = bytes.fromhex(
    "53444402510314eeb906991281d1510612c16028404680000000000012694b16018cc251f400121eab1101"
)
HOST = bytes.fromhex("83e18e44")


def test_init_worked_example() -> None:
    assert encode_message(ReadingRequest(["M:OUTTMP.READING@I"])) == INIT_BODY
    signed = init_signing_body(
        INIT_BODY,
        message_id="6f1c3b0a-2d4e-4f5a-9b8c-7d6e5f4a3b2c",
        reply_to="0e9d8c7b-6a59-4837-a625-1403f2e1d0c9",
        host_address=HOST,
    )
    expected = (
        INIT_BODY.hex()
        + "00"
        + "36663163336230612d326434652d346635612d396238632d376436653566346133623263"
        + "00"
        + "00"
        + "30653964386337622d366135392d343833372d613632352d313430336632653164306339"
        + "00"
        + "706163737973"
        + "00"
        + "83e18e44"
        + "00"
    )
    assert len(signed) == 129
    assert signed.hex() == expected


def test_setting_worked_example() -> None:
    assert encode_message(DoubleSample(45.0, 1704067200000, ref_id=1)) == SETTING_BODY
    message_id = "11111111-2222-4333-8444-555555555555"
    signed = setting_signing_body(SETTING_BODY, message_id=message_id, host_address=HOST)
    # 43-byte body + 1 + 36 + 4 + 4 + 1: the byte layout is what the server verifies.
    assert len(signed) == 89
    assert signed == SETTING_BODY + b"\x00" + message_id.encode() + b"\x00" * 4 + HOST + b"\x00"


def test_generic_signing_body_places_every_property() -> None:
    signed = signing_body(
        b"B",
        message_id="m",
        correlation_id="c",
        reply_to="r",
        app_id="a",
        host_address=b"\x01\x02\x03\x04",
    )
    assert signed == b"B\x00m\x00c\x00r\x00a\x00\x01\x02\x03\x04\x00"


@pytest.mark.parametrize("bad", [b"", b"\x01\x02\x03", b"\x01\x02\x03\x04\x05", "1.2.3.4"])
def test_host_address_must_be_four_bytes(bad: object) -> None:
    with pytest.raises(ValueError, match="4 raw IPv4 bytes"):
        signing_body(b"", host_address=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("131.225.10.20", bytes([131, 225, 10, 20])),
        ("192.190.219.255", bytes([192, 190, 219, 255])),
        ("198.49.208.7", bytes([198, 49, 208, 7])),
        ("192.190.220.1", FALLBACK_HOST_ADDRESS),
        ("198.49.209.7", FALLBACK_HOST_ADDRESS),
        ("10.0.0.5", FALLBACK_HOST_ADDRESS),
        ("127.0.0.1", FALLBACK_HOST_ADDRESS),
        (None, FALLBACK_HOST_ADDRESS),
        ("", FALLBACK_HOST_ADDRESS),
        ("not an address", FALLBACK_HOST_ADDRESS),
        ("::1", FALLBACK_HOST_ADDRESS),
    ],
)
def test_select_host_address(local: str | None, expected: bytes) -> None:
    assert select_host_address(local) == expected


def test_fallback_is_131_225_142_68() -> None:
    assert FALLBACK_HOST_ADDRESS == HOST


def test_routing_keys() -> None:
    drf = "M:OUTTMP.READING@I"
    assert reply_key(drf) == "R.M:OUTTMP.READING@I"
    assert reply_drf(reply_key(drf)) == drf
    assert reply_drf("R") is None
    assert reply_drf("R.") == ""
    assert reply_drf("Q") is None
    assert setting_key("Z:ACLTST.SETTING@N") == "S.Z:ACLTST.SETTING@N"
    assert setting_drf("S.Z:ACLTST.SETTING@N") == "Z:ACLTST.SETTING@N"
    assert setting_drf("R.x") is None
