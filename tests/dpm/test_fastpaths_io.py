"""The I/O fast paths over loopback: per-connection caches, the coalescing outbox, bulk receive.

Each cache must be invisible: a list read again sees new values and new metadata, a
changed list is answered for what it now holds, and stream data keeps its order.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pacsys.testing import FakeBackend
from pacsys.types import DispatchMode
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.client import connection as client_connection
from pacsys_dpm.codec import (
    AddToListRequest,
    ClearListRequest,
    DeviceInfoReply,
    ScalarReply,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
)
from pacsys_dpm.server import DPMServer
from pacsys_dpm.server.outbox import Outbox

from .raw_client import WAIT, RawClient


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend(dispatch_mode=DispatchMode.DIRECT)
    for i in range(3):
        backend.set_reading(f"Z:D{i}", float(i), units="mm", description=f"device {i}")
    yield backend
    backend.close()


@pytest.fixture
def server(fake: FakeBackend) -> Iterator[DPMServer]:
    with DPMServer(fake, port=0) as srv:
        yield srv
    assert not [t for t in threading.enumerate() if t.name.startswith("pacsys-dpm-send")]


# --------------------------------------------------------------------------- server


def test_server_answers_a_repeated_list_with_fresh_values_and_metadata(
    server: DPMServer, fake: FakeBackend
) -> None:
    raw = RawClient(server.port).open()
    try:
        drfs = ["Z:D0@I", "Z:D1@I", "Z:D2@I"]
        first = raw.read_list(drfs)
        assert DeviceInfoReply(1, 0, "Z:D0", "device 0", "mm") in first
        assert [r.data for r in first if isinstance(r, ScalarReply)] == [0.0, 1.0, 2.0]
        fake.set_reading("Z:D1", 10.5, units="V", description="changed")
        second = raw.read_list(drfs)  # the same AddToList bodies again
        assert DeviceInfoReply(2, 0, "Z:D1", "changed", "V") in second
        assert DeviceInfoReply(1, 0, "Z:D0", "device 0", "mm") in second
        assert [r.data for r in second if isinstance(r, ScalarReply)] == [0.0, 10.5, 2.0]
        third = raw.read_list(["Z:D2@I", "Z:D0@I"])  # refs now name other devices
        assert [(r.ref_id, r.data) for r in third if isinstance(r, ScalarReply)] == [
            (1, 2.0),
            (2, 0.0),
        ]
        assert DeviceInfoReply(1, 0, "Z:D2", "device 2", "mm") in third
        fake.set_error("Z:D0", -13, "gone")
        fourth = raw.read_list(["Z:D2@I", "Z:D0@I"], failing=1)
        assert [type(r) for r in fourth] == [
            DeviceInfoReply,
            StatusReply,
            StartListReply,
            ScalarReply,
        ]
        assert fourth[1].ref_id == 2 and fourth[1].status != 0  # type: ignore[attr-defined]
    finally:
        raw.close()


def test_stream_data_keeps_its_order_through_the_outbox(
    server: DPMServer, fake: FakeBackend
) -> None:
    raw = RawClient(server.port).open()
    try:
        drf = "Z:D0@p,1000"
        raw.send(AddToListRequest(raw.list_id, 1, drf), StartListRequest(raw.list_id))
        assert raw.recv() == StartListReply(raw.list_id, 0)
        assert fake.wait_for_subscription(drf, WAIT)
        count = 3000
        for i in range(count):  # as fast as the backend thread can: writes coalesce
            fake.emit_reading(drf, float(i))
        info = raw.recv()
        assert isinstance(info, DeviceInfoReply)
        values = [raw.recv().data for _ in range(count)]  # type: ignore[attr-defined]
        assert values == [float(i) for i in range(count)]
        raw.send(StopListRequest(raw.list_id), ClearListRequest(raw.list_id))
        raw.send(AddToListRequest(raw.list_id, 2, "Z:D1@I"), StartListRequest(raw.list_id))
        # direct writes after the queued ones: the one-shot answer, nothing of the stream
        info, started, data = (raw.recv() for _ in range(3))
        assert info == DeviceInfoReply(2, 0, "Z:D1", "device 1", "mm")
        assert started == StartListReply(raw.list_id, 0)
        assert isinstance(data, ScalarReply) and (data.ref_id, data.data) == (2, 1.0)
    finally:
        raw.close()


# --------------------------------------------------------------------------- outbox


def _drain(sock: socket.socket, size: int) -> bytes:
    got = bytearray()
    sock.settimeout(WAIT)
    while len(got) < size:
        data = sock.recv(65536)
        assert data, "peer closed early"
        got += data
    return bytes(got)


def test_outbox_keeps_the_order_of_direct_and_queued_writes() -> None:
    a, b = socket.socketpair()
    outbox = Outbox(a, "pacsys-dpm-send-test", timeout=WAIT)
    try:
        expected = bytearray()
        senders = []
        for n in range(4):
            chunk = [bytes([n]) * 100 for _ in range(200)]
            senders.append(
                threading.Thread(
                    target=lambda c=chunk: [outbox.send(x, direct=False) for x in c],
                    name="pacsys-test-producer",
                )
            )
            expected += b"".join(chunk)
        for sender in senders:  # one producer at a time, each one queued behind the last
            sender.start()
            sender.join(WAIT)
        outbox.send(b"direct", direct=True)
        got = _drain(b, len(expected) + 6)
        assert got == bytes(expected) + b"direct"
    finally:
        outbox.close()
        a.close()
        b.close()
    assert not [t for t in threading.enumerate() if t.name == "pacsys-dpm-send-test"]


def test_outbox_blocks_a_producer_when_the_client_stops_reading() -> None:
    a, b = socket.socketpair()
    a.settimeout(0.5)
    outbox = Outbox(a, "pacsys-dpm-send-full", timeout=0.5, max_pending=64 * 1024)
    try:
        started = time.monotonic()
        with pytest.raises(OSError):  # TimeoutError: nobody reads b
            for _ in range(10_000):
                outbox.send(b"x" * 65536, direct=False)
        assert time.monotonic() - started < WAIT
        with pytest.raises(OSError):  # and the writer, blocked in sendall, fails too
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                outbox.send(b"late", direct=True)
    finally:
        outbox.close()
        a.close()
        b.close()


def test_outbox_reports_a_closed_peer_and_refuses_after_close() -> None:
    a, b = socket.socketpair()
    outbox = Outbox(a, "pacsys-dpm-send-gone", timeout=WAIT)
    b.close()
    with pytest.raises(OSError):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # the writer thread sees EPIPE, then we do
            outbox.send(b"y" * 1024, direct=False)
    outbox.close()
    with pytest.raises(OSError, match=r"closed|failed"):
        outbox.send(b"z", direct=True)
    a.close()


# --------------------------------------------------------------------------- client


def test_client_repeated_reads_see_new_values_metadata_and_lists(
    server: DPMServer, fake: FakeBackend
) -> None:
    with DPMHTTPBackend("127.0.0.1", server.port, auth=None, timeout=WAIT, pool_size=1) as backend:
        first = backend.get_many(["Z:D0", "Z:D1"])
        assert [r.value for r in first] == [0.0, 1.0] and first[1].units == "mm"
        fake.set_reading("Z:D1", 5.0, units="V", description="changed")
        second = backend.get_many(["Z:D0", "Z:D1"])  # same list, same pooled connection
        assert [r.value for r in second] == [0.0, 5.0]
        assert second[1].meta is not None and second[1].meta.description == "changed"
        assert second[1].units == "V" and second[0].units == "mm"
        swapped = backend.get_many(["Z:D1", "Z:D2", "Z:D0"])
        assert [(r.drf, r.value, r.units) for r in swapped] == [
            ("Z:D1", 5.0, "V"),
            ("Z:D2", 2.0, "mm"),
            ("Z:D0", 0.0, "mm"),
        ]
        assert backend.pool_size == 1 and backend._pool.size == 1  # one connection did it all


def test_client_traced_reads_take_the_general_path(
    server: DPMServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(client_connection, "_TRACE", True)
    caplog.set_level(logging.DEBUG, logger="pacsys_dpm.connection")
    with DPMHTTPBackend("127.0.0.1", server.port, auth=None, timeout=WAIT) as backend:
        for _ in range(2):
            readings = backend.get_many(["Z:D0", "Z:D2"])
            assert [r.value for r in readings] == [0.0, 2.0]
            assert readings[1].units == "mm"
    traced = caplog.text
    assert "-> AddToListRequest" in traced and "<- ScalarReply" in traced
    assert "<- DeviceInfoReply" in traced
