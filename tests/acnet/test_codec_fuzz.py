"""Fuzzing the raw-ACNET codec: bad bytes give ValueError/AcnetError only; round trips hold.

``max_examples`` comes from the hypothesis profile (``--fuzz`` runs 10,000 per target).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacsys.acnet.errors import AcnetError
from pacsys_acnet.codec import ftp, ftp_frontend, ftp_spec, gets32, rad50, retdat
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.codec.packet import AcnetPacket, encode_packet, walk
from pacsys_acnet.codec.reads import ReadDevice

u16 = st.integers(0, 0xFFFF)
names = st.text(alphabet=rad50.ALPHABET[1:], min_size=1, max_size=6)
devices = st.builds(
    ReadDevice,
    st.integers(0, 0xFFFFFF),
    st.integers(0, 0xFF),
    st.binary(min_size=8, max_size=8),
    st.integers(0, 64),
    st.integers(0, 0xFFFF),
)
ftp_devices = st.builds(
    ftp.FTPDevice,
    st.integers(0, 0xFFFFFF),
    st.integers(0, 0xFF),
    st.binary(min_size=8, max_size=8),
    st.integers(0, 0xFFFF),
    st.sampled_from([2, 4]),
)


@given(names)
def test_rad50_round_trip(name: str) -> None:
    assert rad50.decode_stripped(rad50.encode(name)) == name.rstrip(" ")
    if not name.endswith(" "):
        assert rad50.check_name(name, "Task name") == rad50.encode(name)


@given(st.binary(max_size=200))
def test_packet_parse_and_walk_never_crash(data: bytes) -> None:
    try:
        AcnetPacket.parse(data)
    except ValueError:
        pass
    result = walk(data)
    assert sum(p.length + (p.length & 1) for p in result.packets) <= len(data) + 1


@given(u16, st.integers(-0x8000, 0x7FFF), u16, u16, st.integers(0, 0xFFFFFFFF), u16, u16,
       st.binary(max_size=64))  # fmt: skip
def test_packet_round_trip(flags, status, server, client, task, task_id, msg_id, data) -> None:
    raw = encode_packet(flags, status, server, client, task, task_id, msg_id, data, pad=True)
    (packet,) = walk(raw).packets
    assert (packet.flags, packet.status, packet.server, packet.client, packet.server_task) == (
        flags, status, server, client, task,
    )  # fmt: skip
    assert (packet.id, packet.data[: len(data)]) == (msg_id, data)


@given(
    st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=40)), max_size=5), st.integers(1, 7)
)
def test_frames_survive_any_cut(items: list[tuple[int, bytes]], cut: int) -> None:
    stream = b"".join(frame(k, p) for k, p in items)
    decoder = FrameDecoder()
    got = []
    for i in range(0, len(stream), cut):
        got.extend(decoder.feed(stream[i : i + cut]))
    assert got == items and decoder.error is None


@given(st.binary(max_size=64))
def test_frame_decoder_never_crashes(data: bytes) -> None:
    decoder = FrameDecoder()
    decoder.feed(data)
    assert decoder.error is None or decoder.feed(b"more") == []


@given(st.lists(devices, min_size=1, max_size=20), u16)
def test_retdat_round_trip(items: list[ReadDevice], ftd: int) -> None:
    payload = retdat.build_request(items, ftd)
    request = retdat.parse_request(payload)
    assert request.devices == items and request.ftd == ftd
    values = [(i, bytes([i % 256]) * d.length) for i, d in enumerate(items)]
    reply = retdat.parse_reply(retdat.build_reply(values, items), items)
    assert [
        (v.status, v.data[: d.length]) for v, d in zip(reply.values, items, strict=True)
    ] == values


@given(st.binary(max_size=120), st.lists(devices, min_size=1, max_size=4))
def test_read_replies_fail_cleanly(data: bytes, items: list[ReadDevice]) -> None:
    for parse in (retdat.parse_reply, gets32.parse_reply):
        try:
            parse(data, items)
        except ValueError:
            pass


@given(st.binary(max_size=200), st.lists(ftp_devices, max_size=4))
def test_ftp_replies_fail_cleanly(data: bytes, items: list[ftp.FTPDevice]) -> None:
    calls = [
        lambda: ftp.parse_class_info_reply(data, len(items)),
        lambda: ftp.parse_continuous_first_reply(data, len(items)),
        lambda: ftp.parse_continuous_data_reply(data, items),
        lambda: ftp.parse_snapshot_setup_reply(data, len(items)),
        lambda: ftp_frontend.parse_request(data),
    ]
    if items:
        calls.append(lambda: ftp.parse_snapshot_data_reply(data, items[0]))
    for call in calls:
        try:
            call()
        except (ValueError, AcnetError):
            pass


@given(st.text(max_size=80))
def test_ftp_event_strings_fail_cleanly(text: str) -> None:
    try:
        ftp_spec.parse_ftp_event(text)
    except ValueError:
        pass


@given(st.sampled_from(["f,type=ftp,", "f,type=snp,"]), st.text(max_size=60))
def test_ftp_event_strings_with_a_valid_prefix(prefix: str, rest: str) -> None:
    try:
        ftp_spec.parse_ftp_event(prefix + rest)
    except ValueError:
        pass


@given(st.text(max_size=30))
def test_gets32_events_fail_cleanly(text: str) -> None:
    try:
        event = gets32.Gets32Event.from_string(text)
    except ValueError:
        return
    assert event.text.isascii()


@pytest.mark.parametrize("rate", [1.53, 15, 1440, 100000])
def test_sample_period_inside_the_range(rate: float) -> None:
    assert 1 <= ftp.sample_period(rate) <= 0xFFFF
