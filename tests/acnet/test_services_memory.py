"""The emulated tasks (RETDAT, GETS32, FTPMAN, DPMD) answering the protocol clients in
memory: MemoryDaemon's engine and services on a virtual clock, MemoryConnection clients.
Time passes only in ``daemon.advance``, so periods, plots and snapshots are exact."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from pacsys.acnet import status as st
from pacsys.acnet.errors import AcnetError
from pacsys.sim import SimBackend
from pacsys.testing import FakeBackend
from pacsys_acnet.dpm_acnet import DPMAcnet, DPMError
from pacsys_acnet.ftp import FTPClient, FTPDevice, SnapshotState
from pacsys_acnet.gets32 import Gets32Client
from pacsys_acnet.memory import MemoryConnection
from pacsys_acnet.retdat import ReadDevice, RetdatClient
from pacsys_acnet.server.memory import MemoryDaemon

SSDN = bytes(8)
OUTTMP, SIMFTP = 27235, 283940


@pytest.fixture(scope="module")
def sim() -> Iterator[SimBackend]:
    with SimBackend() as backend:
        yield backend


@pytest.fixture
def daemon(sim: SimBackend) -> MemoryDaemon:
    return MemoryDaemon(sim)


@pytest.fixture
def conn(daemon: MemoryDaemon) -> Iterator[MemoryConnection]:
    with daemon.connection("PYTEST") as connection:
        yield connection


def test_retdat_immediate_read(conn: MemoryConnection, sim: SimBackend) -> None:
    devices = [ReadDevice(OUTTMP, 12, SSDN, 2), ReadDevice(1, 12, SSDN, 2)]
    reply = RetdatClient(conn).read(0, devices)
    raw = sim.get("M:OUTTMP.READING.RAW").value
    assert reply.values[0].status == 0 and len(reply.values[0].data) == 2 == len(raw[:2])
    assert reply.values[1].status == st.DPM_NO_SUCH_DEVICE
    assert reply.acnet_status == st.ACNET_ENDMULT  # one answer ends the multiple-reply request


def test_retdat_periodic_stream(conn: MemoryConnection, daemon: MemoryDaemon) -> None:
    devices = [ReadDevice(OUTTMP, 12, SSDN, 2)]
    with RetdatClient(conn).stream(0, devices, ftd=30) as stream:  # every 0.5 s
        daemon.advance(1.0)
        batches = list(itertools.islice(stream.readings(timeout=0.1), 3))
    assert len(batches) == 3 and all(b.values[0].status == 0 for b in batches)


def test_gets32_periodic_and_immediate(conn: MemoryConnection, daemon: MemoryDaemon) -> None:
    devices = [ReadDevice(OUTTMP, 12, SSDN, 2)]
    client = Gets32Client(conn)
    one = client.read(0, devices)
    assert (one.header.type_code, one.header.sequence, one.values[0].status) == (1, 1, 0)
    assert one.header.reply_timestamp == int(daemon.now() * 1000)
    with client.stream(0, devices, event="P,250") as stream:
        daemon.advance(0.5)
        batches = list(itertools.islice(stream.readings(timeout=0.1), 3))
    assert [b.header.sequence for b in batches] == [1, 2, 3]


def test_continuous_plot_delivers_every_sample(
    conn: MemoryConnection, daemon: MemoryDaemon
) -> None:
    client = FTPClient(conn)
    device = FTPDevice(SIMFTP, 12, SSDN)
    assert client.get_class_codes(0, device) == (19, 12, 0)
    with client.start_continuous(0, [device, FTPDevice(1, 12, SSDN)], 1440) as stream:
        assert stream.setup_statuses == [0, st.DPM_NO_SUCH_DEVICE]
        daemon.advance(1.01)  # a data reply every 3/15 s: 5 replies
        batches = [b[0] for b in itertools.islice(stream.samples(timeout=0.01), 5)]
    stamps = np.concatenate([b.timestamps_us for b in batches])
    values = np.concatenate([b.values for b in batches])
    assert len(values) >= 1440
    steps = np.diff(stamps) % 6_553_600  # 100 us ticks wrap at 16 bits
    assert set(steps.tolist()) <= {600, 700}  # 1/1440 s in 100 us ticks
    assert values.std() > 1000  # a sine, not a constant


def test_snapshot_fills_and_pages(conn: MemoryConnection, daemon: MemoryDaemon) -> None:
    client = FTPClient(conn)
    device = FTPDevice(SIMFTP, 12, SSDN)
    with client.start_snapshot(0, [device], 1440, num_points=4096, snap_class_code=12) as snap:
        assert snap.state == SnapshotState.COLLECTING
        assert not snap.wait(0)
        daemon.advance(4096 / 1440)
        assert snap.wait(0)
        first = snap.retrieve(0)
        assert len(first) == 511  # 512 per page, the metadata point dropped
        rest = snap.retrieve_all(0)
        assert len(first) + len(rest.values) == 4096
        snap.reset_pointers()
        assert len(snap.retrieve_all(0).values) == 4096
        snap.restart()
        assert snap.state == SnapshotState.PENDING
        daemon.advance(0.05)
        assert snap.state == SnapshotState.COLLECTING
        daemon.advance(4096 / 1440)
        assert snap.wait(0)


def test_cancelled_plot_stops_the_task(conn: MemoryConnection, daemon: MemoryDaemon) -> None:
    stream = FTPClient(conn).start_continuous(0, [FTPDevice(SIMFTP, 12, SSDN)], 100)
    stream.stop()
    timers = len(daemon._timers)
    daemon.advance(1.0)
    assert len(daemon._timers) <= timers  # no tick rescheduled itself


def test_dpm_lists_over_acnet() -> None:
    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5, units="DegF", description="Outdoor temp")
    daemon = MemoryDaemon(fake)
    with DPMAcnet(connection=daemon.connection()) as dpm:
        assert dpm.list_id == 0x1000
        reading = dpm.read("M:OUTTMP")
        assert (reading.data, reading.status) == (72.5, 0)
        assert reading.meta["units"] == "DegF" and reading.meta["name"] == "M:OUTTMP"
        dpm.add_entry(1, "M:OUTTMP@p,1000")
        dpm.add_entry(2, "#ROLE:testing")
        dpm.start()
        assert fake.wait_for_subscription("M:OUTTMP@p,1000")
        fake.emit_reading("M:OUTTMP@p,1000", 73.0)
        fake.emit_reading("M:OUTTMP@p,1000", 74.0)
        got = list(itertools.islice(dpm.readings(timeout=0.1), 2))
        assert [(r.ref_id, r.data) for r in got] == [(1, 73.0), (1, 74.0)]
        dpm.stop()
        fake.emit_reading("M:OUTTMP@p,1000", 75.0)  # stopped: nothing more
        assert list(dpm.readings(timeout=0.01)) == []
        with pytest.raises(DPMError) as info:
            dpm.add_entry(3, "M:OUTTMP@@@")
        assert info.value.status == st.DPM_BAD_REQUEST
        dpm.remove_entry(1)
        dpm.clear_list()


def test_dpm_error_reading_is_a_status() -> None:
    fake = FakeBackend()
    fake.set_error("Z:NOPE", st.DPM_NO_SUCH_DEVICE >> 8, "no such device")
    with DPMAcnet(connection=MemoryDaemon(fake).connection()) as dpm:
        with pytest.raises(DPMError) as info:
            dpm.read("Z:NOPE")
        assert info.value.status < 0


def test_retdat_task_refuses_a_malformed_request(conn: MemoryConnection) -> None:
    replies = []
    conn.request_single(0, "RETDAT", b"\x01", replies.append)
    assert [r.status for r in replies] == [st.ACNET_IVM]
    with pytest.raises(AcnetError) as info:
        RetdatClient(conn).read(0x0A06, [ReadDevice(OUTTMP, 12, SSDN, 2)])  # not at DPM06
    assert info.value.status == st.ACNET_NO_TASK
