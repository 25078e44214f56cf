"""Slow and vanishing peers: readings dropped only visibly, nobody stalls anybody else."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pacsys.acnet.status import ERR_QUEFULL, FACILITY_ACNET
from pacsys.testing import FakeBackend
from pacsys.types import Reading, ValueType
from pacsys_dmq.protocol import StreamData
from pacsys_dmq.server import DMQServer
from pacsys_dmq.server.backlog import StreamBacklog
from pacsys_dmq.testing import ProtocolPair

from .gated import GatedBackend

ARRAY = "G:AMANDA@p,1000"
DROPPED = (FACILITY_ACNET, ERR_QUEFULL)


def test_the_engine_announces_a_loss_once_per_entry() -> None:
    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5)
    pair = ProtocolPair(fake)
    job = pair.subscribe(["M:OUTTMP@p,1000", "M:OUTTMP@p,1000", "M:OUTTMP@e,02"])
    pair.pump()
    [server_job] = pair.server.jobs
    pair.run("server", pair.server.stream_lost(server_job, 7, pair.time_ms))
    pair.pump()
    notices = [e.reading for e in pair.events(StreamData, job)]
    # one message per distinct entry; the client hands each to every copy of its DRF
    assert sorted(r.drf for r in notices) == ["M:OUTTMP@e,02", "M:OUTTMP@p,1000", "M:OUTTMP@p,1000"]
    for reading in notices:
        assert (reading.facility_code, reading.error_code) == DROPPED
        assert reading.message == "7 readings dropped: client or broker too slow"
    assert pair.server.stream_lost(server_job + 100, 1, pair.time_ms) == []  # unknown job


def test_backlog_bounds_waiting_readings_and_counts_losses() -> None:
    backlog = StreamBacklog(max_waiting=2)
    assert backlog.admit("a") and backlog.admit("a")
    assert not backlog.admit("a")  # a third one would wait: dropped
    assert backlog.admit("b")  # per job
    backlog.taken("a")
    assert backlog.admit("a")
    backlog.drop("b", 3)
    backlog.drop("b", 0)
    assert backlog.dropped == 4
    assert (backlog.take_lost("a"), backlog.take_lost("a")) == (1, 0)  # announced once
    assert backlog.take_lost("b") == 3
    backlog.drop("a")
    backlog.reset()
    assert backlog.take_lost("a") == 0 and backlog.dropped == 5
    assert backlog.admit("a") and backlog.admit("a")


@pytest.mark.rabbitmq
def test_server_drops_visibly_when_the_broker_stops_taking_data(
    dmq_rig: Any,
    stall_proxy: Any,
    wait_for: Callable[..., Any],
) -> None:
    fake = FakeBackend()
    fake.set_reading("G:AMANDA", [0.0] * 2000, value_type=ValueType.SCALAR_ARRAY)
    block = [float(i) for i in range(2000)]  # 16 kB a reading
    notices: queue.Queue[Reading] = queue.Queue()
    markers: queue.Queue[Reading] = queue.Queue()

    def on_reading(reading: Reading, _handle: Any) -> None:
        if (reading.facility_code, reading.error_code) == DROPPED:
            notices.put(reading)
        elif reading.ok and reading.value[0] == -1.0:
            markers.put(reading)

    with DMQServer(fake, stall_proxy.url(dmq_rig.vhost), stream_buffer=65536) as server:
        with dmq_rig.client() as backend:
            handle = backend.subscribe([ARRAY], callback=on_reading)
            assert fake.wait_for_subscription(ARRAY, timeout=5)
            fake.emit_reading(ARRAY, [-1.0, *block[1:]], ValueType.SCALAR_ARRAY)
            markers.get(timeout=10)  # flowing end to end
            stall_proxy.stall()
            for i in range(600):  # up to 10 MB: more than the socket buffers hold (4 MB)
                fake.emit_reading(ARRAY, block, ValueType.SCALAR_ARRAY)
                if i % 50 == 0 and server.dropped_readings:
                    break
            wait_for(lambda: server.dropped_readings > 0, timeout=30)
            assert notices.empty()
            stall_proxy.resume()
            # the next reading the server can send goes behind the loss notice
            for _ in range(100):
                fake.emit_reading(ARRAY, [-1.0, *block[1:]], ValueType.SCALAR_ARRAY)
                try:
                    notice = notices.get(timeout=0.5)
                    break
                except queue.Empty:
                    continue
            else:
                pytest.fail("no loss notice reached the client")
            assert "readings dropped" in str(notice.message)
            dropped = server.dropped_readings
            assert int(str(notice.message).split()[0]) <= dropped
            wait_for(lambda: handle.dropped >= 1)
            assert not handle.stopped
            assert backend.read("G:AMANDA")[0] == 0.0  # still serving


@pytest.mark.rabbitmq
def test_client_vanishing_mid_request_leaves_the_server_serving(
    dmq_rig: Any,
    wait_for: Callable[..., Any],
) -> None:
    gated = GatedBackend(only="M:SLOW")
    gated.set_reading("M:SLOW", 1.0)
    gated.set_reading("M:OUTTMP", 72.5)
    outcome: queue.Queue[Any] = queue.Queue()
    try:
        with dmq_rig.server(gated, job_timeout=1.0) as server:
            leaving = dmq_rig.client(timeout=20.0)
            staying = dmq_rig.client()
            try:

                def read() -> None:
                    try:
                        outcome.put(leaving.read("M:SLOW"))
                    except Exception as exc:
                        outcome.put(exc)

                threading.Thread(target=read, daemon=True).start()
                assert gated.entered.wait(10)
                assert dmq_rig.close_connections(leaving.connection_name) == 1
                assert isinstance(outcome.get(timeout=10), Exception)  # told, not hanging
                assert staying.read("M:OUTTMP") == 72.5  # while the job is stuck
                gated.gate.set()  # its answer now goes nowhere
                wait_for(lambda: server.job_count == 0, timeout=10)
                assert staying.read("M:OUTTMP") == 72.5
                assert server.connections == 1 and not server.wait(0)
            finally:
                leaving.close()
                staying.close()
    finally:
        gated.gate.set()


@pytest.mark.rabbitmq
def test_a_slow_subscriber_does_not_stall_other_clients(
    dmq_rig: Any,
) -> None:
    fake = dmq_rig.fake
    release = threading.Event()
    first = threading.Event()

    def slow(_reading: Reading, _handle: Any) -> None:
        first.set()
        release.wait(30)  # a consumer that stops taking readings

    with (
        dmq_rig.server() as server,
        dmq_rig.client() as slow_client,
        dmq_rig.client() as other,
    ):
        try:
            slow_client.subscribe(["M:OUTTMP@p,1000"], callback=slow)
            assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
            fake.emit_reading("M:OUTTMP@p,1000", 1.0)
            assert first.wait(10)
            for i in range(2000):
                fake.emit_reading("M:OUTTMP@p,1000", float(i))
            assert other.read("M:OUTTMP") == 72.5
            assert other.write("Z:ACLTST", 6.0).ok
            with other.subscribe(["M:OUTTMP@p,1000"]) as handle:
                assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5, count=2)
                fake.emit_reading("M:OUTTMP@p,1000", 99.0)
                reading, _ = next(iter(handle.readings(timeout=10)))
                assert reading.value == 99.0
            assert server.dropped_readings == 0  # the broker held the backlog
        finally:
            release.set()


@pytest.mark.rabbitmq
def test_a_subscriber_that_never_reads_loses_only_counted_readings(
    dmq_rig: Any,
    wait_for: Callable[..., Any],
) -> None:
    from pacsys.backends.subscription import MAX_BUFFERED

    fake = dmq_rig.fake
    emitted = 0
    with (
        dmq_rig.server() as server,
        dmq_rig.client() as client,
    ):
        handle = client.subscribe(["M:OUTTMP@p,1000"])  # buffered, and nobody iterates it
        assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
        while emitted < 3 * MAX_BUFFERED and not handle.dropped:
            for _ in range(500):
                fake.emit_reading("M:OUTTMP@p,1000", float(emitted))
                emitted += 1
        # every reading is either in the buffer or counted as dropped (here or by the server)
        wait_for(
            lambda: handle.dropped + server.dropped_readings >= emitted - MAX_BUFFERED, timeout=60
        )
        assert not handle.stopped
        kept = [reading for reading, _ in handle.readings(timeout=0)]
        if server.dropped_readings == 0:  # the usual case: the client's buffer is the limit
            assert handle.dropped == emitted - MAX_BUFFERED
            assert [r.value for r in kept] == [float(i) for i in range(MAX_BUFFERED)]
        else:
            assert 0 < len(kept) <= MAX_BUFFERED
