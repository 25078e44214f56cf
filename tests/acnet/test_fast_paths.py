"""The shortcuts that make raw ACNET fast keep its meaning: requests sent before their ACK,
lazy read values, the emulator's per-cycle data pool, plot replies sized to the client's
buffer, bulk sampling. In memory (MemoryDaemon), no sockets."""

from __future__ import annotations

import itertools
import struct
from typing import Any

import numpy as np
import pytest

from pacsys.acnet import status as st
from pacsys.acnet.errors import AcnetError
from pacsys.testing import FakeBackend
from pacsys.types import ValueType
from pacsys_acnet import ftp as ftp_module
from pacsys_acnet.codec import ftp as ftp_codec
from pacsys_acnet.codec import retdat
from pacsys_acnet.codec.reads import ReadDevice, ReadValue, ReadValues, ReplyLayout
from pacsys_acnet.ftp import FTPClient, FTPDevice
from pacsys_acnet.protocol import ClientEngine
from pacsys_acnet.retdat import RetdatClient
from pacsys_acnet.server.memory import MemoryDaemon

SSDN = bytes(8)


def test_cancel_before_the_ack_is_sent_after_it() -> None:
    engine = ClientEngine("PYTEST")
    engine.connected = True
    pending = engine.send_request(0x0A2B, "ECHO", b"", lambda r: None, True)
    assert engine.next_command() is not None
    assert engine.cancel(pending.subject) is None  # no id yet: only marked
    engine.receive_ack(struct.pack(">HhH", 2, 0, 0x0777))
    cancel = engine.next_command()
    assert cancel is not None and cancel[:2] == b"\x00\x08" and cancel[-2:] == b"\x07\x77"
    assert engine.open_requests == {}


def test_read_values_behave_as_a_list() -> None:
    devices = [ReadDevice(1, 12, SSDN, 1), ReadDevice(2, 12, SSDN, 4), ReadDevice(3, 12, SSDN, 0)]
    body = struct.pack("<h", -5) + b"a\0" + struct.pack("<h", 7) + b"wxyz" + struct.pack("<h", 0)
    values = ReadValues(body, ReplyLayout(devices))
    expected = [ReadValue(-5, b"a\0"), ReadValue(7, b"wxyz"), ReadValue(0, b"")]
    assert len(values) == 3 and values == expected and list(values) == expected
    assert values[1] == expected[1] and values[-1] == expected[-1] and values[1:] == expected[1:]
    assert values.statuses.tolist() == [-5, 7, 0]
    with pytest.raises(IndexError):
        values[3]
    reply = retdat.parse_reply(body, devices)
    assert reply.values == expected


def test_refused_read_raises_from_read(daemon: MemoryDaemon) -> None:
    with daemon.connection("PYTEST") as conn:
        with pytest.raises(AcnetError) as info:  # the ACK refuses the request
            RetdatClient(conn).read(0x0B00, [ReadDevice(1, 12, SSDN, 2)])
        assert info.value.status == st.ACNET_NO_NODE
        with pytest.raises(AcnetError):  # a stream refuses at once, as the reference's
            RetdatClient(conn).stream(0x0B00, [ReadDevice(1, 12, SSDN, 2)], ftd=0)


@pytest.fixture
def fake() -> FakeBackend:
    backend = FakeBackend()
    backend.set_reading("Z:RAW.READING.RAW", b"\x01\x02", ValueType.RAW)
    return backend


@pytest.fixture
def daemon(fake: FakeBackend) -> MemoryDaemon:
    return MemoryDaemon(fake, devices={7: "Z:RAW"})


def test_reads_share_data_within_a_15_hz_cycle(daemon: MemoryDaemon, fake: FakeBackend) -> None:
    devices = [ReadDevice(7, 12, SSDN, 2), ReadDevice(7, 12, SSDN, 1, 1)]
    with daemon.connection("PYTEST") as conn:
        client = RetdatClient(conn)
        assert [v.data for v in client.read(0, devices).values] == [b"\x01\x02", b"\x02\0"]
        fake.set_reading("Z:RAW.READING.RAW", b"\x03\x04", ValueType.RAW)
        assert client.read(0, devices).values[0].data == b"\x01\x02"  # the same cycle
        daemon.advance(0.1)  # the next 15 Hz cycle
        assert [v.data for v in client.read(0, devices).values] == [b"\x03\x04", b"\x04\0"]
    assert fake.reads.count("Z:RAW.READING.RAW") == 2  # one backend read per cycle


class _Sine(FakeBackend):
    """Samples in bulk: a 10 Hz sine of amplitude 1000."""

    def sample_raw(self, drf: str, times: np.ndarray, width: int) -> np.ndarray:
        return (1000 * np.sin(2 * np.pi * 10 * times)).astype(np.int64)


def test_plot_replies_fit_the_clients_buffer_and_lose_nothing() -> None:
    daemon = MemoryDaemon(_Sine(), devices={i: f"Z:S{i:05d}" for i in range(8)}, speed=10)
    devices = [FTPDevice(i, 12, SSDN) for i in range(8)]
    payload = ftp_codec.build_continuous_setup(
        devices, 1440, 3, 0, 0, ftp_codec.pool_name("FTP", 1)
    )
    msg_size = struct.unpack_from("<H", payload, 10)[0]
    with daemon.connection("PYTEST") as conn:
        replies: list[Any] = []
        conn.request_multiple(0, "FTPMAN", payload, replies.append, timeout=10000)
        daemon.advance(1.01)  # 10 emulated seconds: 14,400 samples per device
        assert len(replies) > 10
        assert max(len(r.data) for r in replies) <= 2 * msg_size
        batches = [ftp_codec.parse_continuous_data_reply(r.data, devices) for r in replies[1:]]
    counts = [sum(len(b[i].values) for b in batches) for i in range(8)]
    assert counts == [counts[0]] * 8 and counts[0] >= 14400
    stamps = np.concatenate([b[0].timestamps_us for b in batches])
    assert set((np.diff(stamps) % 6_553_600).tolist()) <= {600, 700}  # none missing
    values = np.concatenate([b[0].values for b in batches])
    assert values.max() > 990 and values.min() < -990


def test_snapshot_pages_are_fetched_together_and_complete() -> None:
    daemon = MemoryDaemon(_Sine(), devices={1: "Z:S00001"})
    with daemon.connection("PYTEST") as conn:
        client = FTPClient(conn)
        with client.start_snapshot(
            0, [FTPDevice(1, 12, SSDN)], 1000, num_points=1500, snap_class_code=12
        ) as snap:
            daemon.advance(1.5)
            assert snap.wait(0)
            sent = daemon.engine.stats[4]
            samples = snap.retrieve_all(0)
            assert daemon.engine.stats[4] - sent == 3  # 1501 points: 3 pages, no more
            assert len(samples.values) == 1500  # the metadata point dropped
            assert set(np.diff(samples.timestamps_us).tolist()) <= {1000, 1000 - 6_553_600}
            assert samples.values.max() > 990 and samples.values.min() < -990
            assert len(snap.retrieve_all(0).values) == 0  # nothing left


def test_snapshot_pools_belong_to_their_requester(monkeypatch: pytest.MonkeyPatch) -> None:
    daemon = MemoryDaemon(_Sine(), devices={1: "Z:S00001"})
    with daemon.connection("ONE") as one, daemon.connection("TWO") as two:
        snaps = []
        for conn, points in ((one, 100), (two, 200)):
            monkeypatch.setattr(ftp_module, "_snap_counter", itertools.count(1))  # both SNP002
            snaps.append(FTPClient(conn).start_snapshot(0, [FTPDevice(1, 12, SSDN)], 1000, points))
        daemon.advance(0.2)
        # no class given: nothing is dropped, the metadata point comes first
        assert [len(snap.retrieve_all(0).values) for snap in snaps] == [101, 201]
