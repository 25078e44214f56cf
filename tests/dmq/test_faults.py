"""Faults on a real broker: connection closed by RabbitMQ, dead server jobs, cleanup."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.rabbitmq


def test_broker_closes_client_connection(dmq_rig: Any) -> None:
    errors: queue.Queue[BaseException] = queue.Queue()
    with dmq_rig.server(heartbeat_interval=0.5):
        with dmq_rig.client() as backend:
            handle = backend.subscribe(["M:OUTTMP@p,1000"], on_error=lambda e, h: errors.put(e))
            assert backend.write("Z:ACLTST", 3.0).ok
            dmq_rig.drop(backend)
            error = errors.get(timeout=10)
            assert isinstance(error, ConnectionError)
            assert "Connection closed" in str(error)
            assert handle.stopped and handle.exc is error
            assert backend._sessions == {}
            # the next call opens a new connection
            assert backend.read("M:OUTTMP") == 72.5
            assert backend.write("Z:ACLTST", 4.0).ok


def test_server_heartbeat_loss_fails_subscription(dmq_rig: Any) -> None:
    errors: queue.Queue[BaseException] = queue.Queue()
    with dmq_rig.server(heartbeat_interval=0.1) as server:
        with dmq_rig.client(heartbeat_interval=0.1, server_timeout=0.5) as backend:
            handle = backend.subscribe(["M:OUTTMP@p,1000"], on_error=lambda e, h: errors.put(e))
            server.pause_heartbeats()
            error = errors.get(timeout=5)
    assert isinstance(error, ConnectionError)
    assert "DMQ server heartbeat lost" in str(error)
    assert handle.stopped


def test_server_disposes_jobs_without_client_heartbeat(
    dmq_rig: Any, wait_for: Callable[..., Any]
) -> None:
    fake = dmq_rig.fake
    with dmq_rig.server(job_timeout=0.5) as server:
        # the client's H period (5 s) is far above the server's patience
        with dmq_rig.client() as backend:
            backend.subscribe(["M:OUTTMP@p,1000"])
            wait_for(lambda: server.job_count == 1)
            wait_for(lambda: server.job_count == 0, timeout=5)
            wait_for(lambda: not fake._active())


def test_close_leaves_nothing_on_the_broker(
    dmq_rig: Any, broker_names: Callable[..., Any], wait_for: Callable[..., Any]
) -> None:
    import threading

    with dmq_rig.server() as server:
        backend = dmq_rig.client()
        backend.subscribe(["M:OUTTMP@p,1000"])
        backend.subscribe(["G:AMANDA@p,1000"])
        assert backend.write_many([("Z:ACLTST", 1.0), ("M:OUTTMP", 2.0)])[0].ok
        assert backend.get("M:OUTTMP").ok
        backend.close()
        assert not [t for t in threading.enumerate() if t.name.startswith(backend.connection_name)]
        wait_for(lambda: server.job_count == 0)
        wait_for(lambda: broker_names("queues", dmq_rig.vhost) == [server.init_queue], 10, 0.2)
        exchanges = broker_names("exchanges", dmq_rig.vhost)
        assert [e for e in exchanges if not e.startswith("amq.") and e] == []
