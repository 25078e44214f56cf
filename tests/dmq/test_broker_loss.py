"""The broker drops connections (``rabbitmqctl close_connection`` on a private vhost).

The server reconnects with backoff, binds a new INIT queue and serves again; the clients
of the jobs the loss ended are told on ``R`` (or find their own connection gone); no call
hangs, and what was acknowledged stays done.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pacsys.errors import DeviceError, ReadError
from pacsys.types import WriteResult
from pacsys_dmq.server import DMQServer

from .gated import GatedBackend

pytestmark = pytest.mark.rabbitmq

SERVER = "pacsys-dmq-server"
LOST = "DMQ server lost its broker connection"


def test_server_reconnects_and_tells_the_clients_of_ended_jobs(
    dmq_rig: Any,
) -> None:
    fake = dmq_rig.fake
    errors: queue.Queue[BaseException] = queue.Queue()
    with dmq_rig.server(heartbeat_interval=0.5) as server:
        first_queue = server.init_queue
        with dmq_rig.client() as backend:
            handle = backend.subscribe(["M:OUTTMP@p,1000"], on_error=lambda e, h: errors.put(e))
            assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
            assert backend.write("Z:ACLTST", 3.0).ok  # acknowledged
            assert dmq_rig.close_connections(SERVER) == 1
            assert server.wait_connected(2, timeout=15)
            error = errors.get(timeout=15)
            assert isinstance(error, DeviceError) and LOST in str(error)
            assert handle.stopped
            assert fake.wait_for_no_subscription("M:OUTTMP@p,1000", timeout=5)
            assert server.init_queue != first_queue and not server.wait(0)
            # serving again, on the client's untouched connection
            assert backend.read("Z:ACLTST.SETTING") == 3.0  # the acknowledged write stands
            assert backend.read("M:OUTTMP") == 72.5
            assert backend.write("Z:ACLTST", 4.0).ok
            with backend.subscribe(["M:OUTTMP@p,1000"]) as again:
                assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
                fake.emit_reading("M:OUTTMP@p,1000", 80.0)
                reading, _ = next(iter(again.readings(timeout=5)))
                assert reading.value == 80.0
        assert server.connections == 2
    assert fake.get_written_value("Z:ACLTST.SETTING") == 4.0


def test_every_connection_of_the_vhost_closed(
    dmq_rig: Any,
    broker_names: Callable[..., Any],
    wait_for: Callable[..., Any],
) -> None:
    fake = dmq_rig.fake
    errors: queue.Queue[BaseException] = queue.Queue()
    with dmq_rig.server(heartbeat_interval=0.5) as server:
        with dmq_rig.client() as backend:
            backend.subscribe(["M:OUTTMP@p,1000"], on_error=lambda e, h: errors.put(e))
            assert fake.wait_for_subscription("M:OUTTMP@p,1000", timeout=5)
            assert dmq_rig.close_connections() == 2
            error = errors.get(timeout=15)  # whichever came first: its loss, or the notice
            assert ("Connection closed" in str(error)) or (LOST in str(error)), error
            # the server's notice goes to a vanished exchange: it must not hurt the server
            assert server.wait_connected(2, timeout=15)
            assert fake.wait_for_no_subscription("M:OUTTMP@p,1000", timeout=5)
            assert backend.read("M:OUTTMP") == 72.5  # the client connects again
            assert backend.write("Z:ACLTST", 5.0).ok
        wait_for(lambda: server.job_count == 0)
        wait_for(lambda: broker_names("queues", dmq_rig.vhost) == [server.init_queue], 10, 0.2)
    assert fake.get_written_value("Z:ACLTST.SETTING") == 5.0


def test_calls_in_flight_fail_clearly(
    dmq_rig: Any,
) -> None:
    gated = GatedBackend()
    gated.set_reading("M:OUTTMP", 72.5)
    gated.set_reading("Z:ACLTST", 1.0)
    outcomes: queue.Queue[Any] = queue.Queue()
    try:
        with dmq_rig.server(gated) as server:
            with dmq_rig.client(timeout=30.0) as backend:

                def call(fn: Callable[[], Any]) -> None:
                    try:
                        outcomes.put(fn())
                    except Exception as exc:
                        outcomes.put(exc)

                for fn in (lambda: backend.read("M:OUTTMP"), lambda: backend.write("Z:ACLTST", 2)):
                    gated.entered.clear()
                    threading.Thread(target=call, args=(fn,), daemon=True).start()
                    assert gated.entered.wait(10)  # the server is working on it
                assert dmq_rig.close_connections(SERVER) == 1
                got = [outcomes.get(timeout=15), outcomes.get(timeout=15)]
                gated.gate.set()
                read_error = next(o for o in got if isinstance(o, ReadError))
                assert LOST in str(read_error)
                result = next(o for o in got if isinstance(o, WriteResult))
                assert not result.ok and "may or may not have been applied" in str(result.message)
                assert server.wait_connected(2, timeout=15)
                assert backend.read("M:OUTTMP") == 72.5
    finally:
        gated.gate.set()


def test_reconnection_backs_off_until_the_broker_lets_it_in(
    dmq_rig: Any,
    rabbitmqctl: Callable[..., str],
    wait_for: Callable[..., Any],
) -> None:
    server = dmq_rig.server(reconnect_delay=0.05, max_reconnect_delay=0.2)
    with server:
        rabbitmqctl("clear_permissions", "-p", dmq_rig.vhost, "guest")
        try:
            assert dmq_rig.close_connections(SERVER) == 1
            wait_for(lambda: server.failed_reconnections >= 3, timeout=15)
            assert server.connections == 1
        finally:
            rabbitmqctl("set_permissions", "-p", dmq_rig.vhost, "guest", ".*", ".*", ".*")
        assert server.wait_connected(2, timeout=15)
        with dmq_rig.client() as backend:
            assert backend.read("M:OUTTMP") == 72.5
    assert server.wait(0)


def test_without_reconnect_the_server_stops(
    rabbitmq_vhost: str,
    amqp_url: Callable[..., Any],
    close_connections: Callable[..., int],
    seeded_fake: Callable[..., Any],
) -> None:
    with DMQServer(seeded_fake(), amqp_url(rabbitmq_vhost), reconnect=False) as server:
        assert close_connections(rabbitmq_vhost, SERVER) == 1
        assert server.wait(15)
        assert server.connections == 1


def test_reconnect_settings_are_checked(seeded_fake: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="max_reconnect_delay"):
        DMQServer(seeded_fake(), max_reconnect_delay=0)
    with pytest.raises(ValueError, match="stream_buffer"):
        DMQServer(seeded_fake(), stream_buffer=0)
