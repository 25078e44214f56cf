"""The sync TCP and UDP clients against the acnetd emulator over loopback, backed by the
simulator: lookups, RETDAT, GETS32, a 1440 Hz continuous plot, a 4,096-point snapshot,
DPM over ACNET, and requests between two client tasks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from pacsys.acnet import status as st
from pacsys.acnet.errors import AcnetError
from pacsys.sim import SimBackend
from pacsys_acnet.connection import AcnetConnectionTCP, AcnetConnectionUDP
from pacsys_acnet.dpm_acnet import DPMAcnet
from pacsys_acnet.ftp import FTPClient, FTPDevice
from pacsys_acnet.gets32 import Gets32Client
from pacsys_acnet.retdat import ReadDevice, RetdatClient
from pacsys_acnet.server import AcnetServer

SSDN = bytes(8)
OUTTMP, SIMFTP = 27235, 283940


@pytest.fixture(scope="module")
def server() -> Iterator[AcnetServer]:
    with SimBackend() as sim, AcnetServer(sim) as acnetd:
        yield acnetd


@pytest.fixture
def conn(server: AcnetServer) -> Iterator[AcnetConnectionTCP]:
    with AcnetConnectionTCP("127.0.0.1", server.port, "PYTEST") as connection:
        yield connection


def test_lookups_and_names(conn: AcnetConnectionTCP) -> None:
    assert conn.handle == "PYTEST"
    assert conn.get_node("DPM06") == 0x0A06
    assert conn.get_name(0x0A06) == "DPM06"
    with pytest.raises(AcnetError) as info:
        conn.get_node("NOSUCH")
    assert info.value.status == -7679


def test_retdat_and_gets32_return_raw_bytes(conn: AcnetConnectionTCP) -> None:
    devices = [
        ReadDevice(OUTTMP, 12, SSDN, 2),
        ReadDevice(3000001, 12, SSDN, 2),
        ReadDevice(1, 12, SSDN, 2),
    ]
    reply = RetdatClient(conn).read(0, devices, timeout=3.0)
    outtmp = int.from_bytes(reply.values[0].data, "little", signed=True) / 20.0 * 0.0003125
    assert reply.values[0].status == 0 and len(reply.values[0].data) == 2
    assert outtmp != 0
    assert reply.values[2].status < 0  # no device 1
    g = Gets32Client(conn).read(0, devices[:1], timeout=3.0)
    assert g.header.type_code == 1 and g.values[0].status == 0


def test_continuous_plot_at_1440_hz(conn: AcnetConnectionTCP) -> None:
    device = FTPDevice(SIMFTP, 12, SSDN)
    client = FTPClient(conn)
    assert client.get_class_codes(0, device).ftp == 19
    got = 0
    with client.start_continuous(0, [device], 1440) as stream:
        for batch in stream.samples(timeout=1.0):
            samples = batch[0]
            steps = np.diff(samples.timestamps_us) % 6_553_600  # 100 us ticks wrap at 16 bits
            assert set(steps.tolist()) <= {600, 700}  # 1/1440 s
            got += len(samples.values)
            if got >= 720:
                break
    assert got >= 720


def test_snapshot_of_4096_points(conn: AcnetConnectionTCP) -> None:
    client = FTPClient(conn)
    device = FTPDevice(SIMFTP, 12, SSDN)
    with client.start_snapshot(0, [device], 1440, num_points=4096, snap_class_code=12) as snap:
        assert snap.wait(10.0)
        samples = snap.retrieve_all(0)
    assert len(samples.values) == 4096
    assert samples.values.std() > 1000  # a sine, not a constant


def test_udp_client(server: AcnetServer) -> None:
    with AcnetConnectionUDP("127.0.0.1", server.port) as udp:
        assert udp.handle.startswith("%")
        assert udp.get_node("DPM06") == 0x0A06
        reply = RetdatClient(udp).read(0, [ReadDevice(OUTTMP, 12, SSDN, 2)], timeout=3.0)
        assert reply.values[0].status == 0


def test_requests_between_client_tasks(server: AcnetServer, conn: AcnetConnectionTCP) -> None:
    with AcnetConnectionUDP("127.0.0.1", server.port, "ECHO") as echo:
        echo.handle_requests(lambda request: echo.send_reply(request, request.data[::-1]))
        done = threading.Event()
        replies: list[Any] = []

        def on_reply(reply: Any) -> None:
            replies.append(reply)
            done.set()

        conn.request_single(0, "ECHO", b"dcba", on_reply, timeout=2000)
        assert done.wait(5.0)
        assert [(r.status, r.data) for r in replies] == [(0, b"abcd")]
        done.clear()
        echo.handle_requests(lambda request: None)  # now it never answers: acnetd times out
        conn.request_single(0, "ECHO", b"", on_reply, timeout=200)
        assert done.wait(5.0)
        assert replies[-1].status == st.ACNET_REQTMO


def test_dpm_over_acnet(server: AcnetServer) -> None:
    with DPMAcnet("127.0.0.1", server.port) as dpm:
        reading = dpm.read("M:OUTTMP")
        assert reading.status == 0 and isinstance(reading.data, float)
        assert reading.meta["name"] == "M:OUTTMP"
        dpm.add_entry(1, "M:OUTTMP@p,100")
        dpm.start()
        got = [r for _, r in zip(range(3), dpm.readings(timeout=3.0), strict=False)]
        assert [r.ref_id for r in got] == [1, 1, 1]
        dpm.stop()
