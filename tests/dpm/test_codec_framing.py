"""Framing and handshake of the DPM codec (docs/protocols/dpm.md §1.4, §1.2)."""

from __future__ import annotations

import pytest

from pacsys_dpm.codec import (
    HANDSHAKE,
    MAX_FRAME_SIZE,
    DPMHTTPRejected,
    DPMProtocolError,
    FrameDecoder,
    HeadReader,
    OpenListReply,
    decode_reply,
    encode_message,
    frame,
    frame_many,
    http_error_response,
    is_http_response,
    parse_request_head,
)

SPEC_HANDSHAKE_HEX = (
    "474554202f64706d20485454502f312e310d0a436f6e74656e742d547970653a"
    "206170706c69636174696f6e2f70630d0a0d0a"
)


# --------------------------------------------------------------------------- frame()


def test_frame_prefixes_big_endian_length() -> None:
    body = encode_message(OpenListReply(list_id=4096))
    assert frame(body).hex() == "00000016" + body.hex()
    assert frame_many([b"ab", b"c"]) == bytes.fromhex("00000002616200000001") + b"c"


@pytest.mark.parametrize("size", [0, MAX_FRAME_SIZE + 1])
def test_frame_refuses_empty_or_oversized_body(size: int) -> None:
    with pytest.raises(ValueError):
        frame(bytes(size))


def test_frame_accepts_the_limit_and_a_custom_one() -> None:
    assert len(frame(bytes(MAX_FRAME_SIZE))) == MAX_FRAME_SIZE + 4
    with pytest.raises(ValueError):
        frame(b"12345", max_size=4)


# --------------------------------------------------------------------------- FrameDecoder


def test_decoder_waits_for_complete_frames() -> None:
    decoder = FrameDecoder()
    data = frame(b"hello") + frame(b"world!")
    decoder.feed(data[:3])
    assert decoder.next_frame() is None
    decoder.feed(data[3:7])
    assert decoder.next_frame() is None
    assert decoder.buffered == 7
    decoder.feed(data[7:12])
    assert decoder.next_frame() == b"hello"
    assert decoder.next_frame() is None
    decoder.feed(data[12:])
    assert list(decoder) == [b"world!"]
    assert decoder.buffered == 0
    assert decoder.frames_decoded == 2


def test_decoder_returns_bytes_not_views() -> None:
    decoder = FrameDecoder()
    decoder.feed(bytearray(frame(b"abc")))
    body = decoder.next_frame()
    assert type(body) is bytes
    decoder.feed(frame(b"more"))  # the buffer can still grow after a body was taken
    assert decoder.next_frame() == b"more"


@pytest.mark.parametrize("header", ["00000000", "00100001", "ffffffff"])
def test_decoder_rejects_bad_lengths_and_stays_failed(header: str) -> None:
    decoder = FrameDecoder()
    decoder.feed(frame(b"ok") + bytes.fromhex(header) + b"xx")
    assert decoder.next_frame() == b"ok"
    with pytest.raises(DPMProtocolError, match="invalid frame length"):
        decoder.next_frame()
    assert decoder.failed
    with pytest.raises(DPMProtocolError):
        decoder.next_frame()
    with pytest.raises(DPMProtocolError):
        decoder.feed(b"more")


def test_decoder_accepts_exactly_the_limit() -> None:
    decoder = FrameDecoder(max_frame_size=10)
    decoder.feed(frame(bytes(10)))
    assert decoder.next_frame() == bytes(10)
    decoder.feed(bytes.fromhex("0000000b"))
    with pytest.raises(DPMProtocolError):
        decoder.next_frame()


def test_decoder_rejects_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        FrameDecoder(max_frame_size=0)


def test_large_frame_fed_in_small_chunks() -> None:
    body = bytes(range(256)) * 4096  # exactly 1 MiB
    data = frame(body)
    decoder = FrameDecoder()
    frames = []
    for start in range(0, len(data), 4099):
        decoder.feed(data[start : start + 4099])
        frames.extend(decoder)
    assert frames == [body]


def test_http_rejection_is_reported_with_status_line() -> None:
    decoder = FrameDecoder(detect_http_rejection=True)
    decoder.feed(b"HTTP/1.1 404 Not")
    assert decoder.next_frame() is None  # status line not complete yet
    decoder.feed(b" Found\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(DPMHTTPRejected) as info:
        decoder.next_frame()
    assert info.value.status_line == "HTTP/1.1 404 Not Found"
    assert isinstance(info.value, DPMProtocolError)
    assert "404 Not Found" in str(info.value)
    assert decoder.failed


def test_http_rejection_without_line_end_is_bounded() -> None:
    decoder = FrameDecoder(detect_http_rejection=True)
    decoder.feed(b"HTTP" + b"x" * 2000)
    with pytest.raises(DPMHTTPRejected):
        decoder.next_frame()


def test_http_detection_only_before_the_first_frame() -> None:
    decoder = FrameDecoder(detect_http_rejection=True)
    decoder.feed(frame(b"x") + b"HTTP/1.1 200 OK\r\n")
    assert decoder.next_frame() == b"x"
    with pytest.raises(DPMProtocolError) as info:
        decoder.next_frame()
    assert not isinstance(info.value, DPMHTTPRejected)


def test_http_detection_is_off_by_default() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"HTTP/1.1 404 Not Found\r\n")
    with pytest.raises(DPMProtocolError) as info:
        decoder.next_frame()
    assert not isinstance(info.value, DPMHTTPRejected)


def test_pending_returns_unconsumed_bytes() -> None:
    decoder = FrameDecoder()
    decoder.feed(frame(b"a") + b"\x00\x00")
    assert decoder.next_frame() == b"a"
    assert decoder.pending() == b"\x00\x00"


# --------------------------------------------------------------------------- handshake


def test_handshake_bytes_match_spec() -> None:
    assert HANDSHAKE.hex() == SPEC_HANDSHAKE_HEX
    assert len(HANDSHAKE) == 51


def test_http_response_detection() -> None:
    assert is_http_response(b"HTTP/1.1 404")
    assert not is_http_response(bytes.fromhex("00000016"))
    assert int.from_bytes(b"HTTP", "big") > MAX_FRAME_SIZE


def test_http_error_response_is_a_complete_head() -> None:
    response = http_error_response(404, "Not Found")
    assert response.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert response.endswith(b"\r\n\r\n")
    assert response.count(b"\r\n\r\n") == 1


def test_head_reader_parses_handshake_and_keeps_pipelined_bytes() -> None:
    reader = HeadReader()
    pipelined = frame(b"abc")
    data = HANDSHAKE + pipelined
    head = None
    for index in range(len(data)):  # byte by byte, including the \r\n\r\n split
        if reader.head is None:
            head = reader.feed(data[index : index + 1])
    assert head is not None
    assert head.method == "GET" and head.target == "/dpm" and head.version == "HTTP/1.1"
    assert head.header("CONTENT-TYPE") == "application/pc"
    assert head.wants_pc and head.is_dpm
    # Bytes after the head stay available; here they arrived after completion.
    assert reader.remainder == b""
    whole = HeadReader()
    assert whole.feed(data) == head
    assert whole.remainder == pipelined
    with pytest.raises(RuntimeError):
        whole.feed(b"x")


def test_head_defaults_to_pc_and_detects_other_protocols() -> None:
    plain = parse_request_head(b"GET /dpm HTTP/1.1\r\nUpgrade: x")
    assert plain.wants_pc and plain.is_dpm and plain.header("upgrade") == "x"
    json_head = parse_request_head(b"GET /dpm HTTP/1.1\r\ncontent-type: application/json")
    assert not json_head.wants_pc and not json_head.is_dpm
    other = parse_request_head(b"GET /other HTTP/1.1\r\nContent-Type: Application/PC; x=1")
    assert other.wants_pc and not other.is_dpm
    assert other.header("missing") is None


@pytest.mark.parametrize("head", [b"GET /dpm", b"RAW", b"GET /dpm HTTP/1.1\r\nno-colon"])
def test_malformed_heads_are_protocol_errors(head: bytes) -> None:
    with pytest.raises(DPMProtocolError):
        HeadReader().feed(head + b"\r\n\r\n")


def test_head_reader_limits_the_head_size() -> None:
    reader = HeadReader()
    with pytest.raises(DPMProtocolError, match="longer"):
        reader.feed(b"GET /dpm HTTP/1.1\r\nX: " + b"a" * 9000)


def test_head_then_frames_then_reply() -> None:
    """A server-side pass over a client stream: head, then frames, then decode."""
    reader = HeadReader()
    body = encode_message(OpenListReply(list_id=5))
    assert reader.feed(HANDSHAKE + frame(body)) is not None
    decoder = FrameDecoder()
    decoder.feed(reader.remainder)
    assert decode_reply(decoder.next_frame()) == OpenListReply(list_id=5)
