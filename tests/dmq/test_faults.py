"""Faults on a real broker: connection closed by RabbitMQ, dead server jobs, cleanup."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest

from pacsys_dmq.server import DMQServer

pytestmark = pytest.mark.rabbitmq


def _connection_of(backend: Any, rabbitmqctl: Callable[..., str]) -> str:
    out = rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties")
    for line in out.splitlines():
        if backend.connection_name in line:
            return line.split("\t", 1)[0]
    raise AssertionError(f"no broker connection named {backend.connection_name}")


def test_broker_closes_client_connection(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
    rabbitmqctl: Callable[..., Any],
    seeded_fake: Callable[..., Any],
) -> None:
    fake = seeded_fake()
    errors: queue.Queue[BaseException] = queue.Queue()
    with DMQServer(fake, amqp_url(rabbitmq_vhost), heartbeat_interval=0.5):
        with make_backend(rabbitmq_vhost) as backend:
            handle = backend.subscribe(["M:OUTTMP@p,1000"], on_error=lambda e, h: errors.put(e))
            assert backend.write("Z:ACLTST", 3.0).ok
            rabbitmqctl("close_connection", _connection_of(backend, rabbitmqctl), "test closes it")
            error = errors.get(timeout=10)
            assert isinstance(error, ConnectionError)
            assert "Connection closed" in str(error)
            assert handle.stopped and handle.exc is error
            assert backend._sessions == {}
            # the next call opens a new connection
            assert backend.read("M:OUTTMP") == 72.5
            assert backend.write("Z:ACLTST", 4.0).ok


def test_server_heartbeat_loss_fails_subscription(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
    seeded_fake: Callable[..., Any],
) -> None:
    fake = seeded_fake()
    errors: queue.Queue[BaseException] = queue.Queue()
    with DMQServer(fake, amqp_url(rabbitmq_vhost), heartbeat_interval=0.1) as server:
        with make_backend(rabbitmq_vhost, heartbeat_interval=0.1, server_timeout=0.5) as backend:
            handle = backend.subscribe(["M:OUTTMP@p,1000"], on_error=lambda e, h: errors.put(e))
            server.pause_heartbeats()
            error = errors.get(timeout=5)
    assert isinstance(error, ConnectionError)
    assert "DMQ server heartbeat lost" in str(error)
    assert handle.stopped


def test_server_disposes_jobs_without_client_heartbeat(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
    seeded_fake: Callable[..., Any],
    wait_for: Callable[..., Any],
) -> None:
    fake = seeded_fake()
    with DMQServer(fake, amqp_url(rabbitmq_vhost), job_timeout=0.5) as server:
        # the client's H period (5 s) is far above the server's patience
        with make_backend(rabbitmq_vhost) as backend:
            backend.subscribe(["M:OUTTMP@p,1000"])
            wait_for(lambda: server.job_count == 1)
            wait_for(lambda: server.job_count == 0, timeout=5)
            wait_for(lambda: not fake._active())


def test_close_leaves_nothing_on_the_broker(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    broker_names: Callable[..., Any],
    make_backend: Callable[..., Any],
    seeded_fake: Callable[..., Any],
    wait_for: Callable[..., Any],
) -> None:
    import threading

    fake = seeded_fake()
    with DMQServer(fake, amqp_url(rabbitmq_vhost)) as server:
        backend = make_backend(rabbitmq_vhost)
        backend.subscribe(["M:OUTTMP@p,1000"])
        backend.subscribe(["G:AMANDA@p,1000"])
        assert backend.write_many([("Z:ACLTST", 1.0), ("M:OUTTMP", 2.0)])[0].ok
        assert backend.get("M:OUTTMP").ok
        backend.close()
        assert not [t for t in threading.enumerate() if t.name.startswith(backend.connection_name)]
        wait_for(lambda: server.job_count == 0)
        wait_for(lambda: broker_names("queues", rabbitmq_vhost) == [server.init_queue], 10, 0.2)
        exchanges = broker_names("exchanges", rabbitmq_vhost)
        assert [e for e in exchanges if not e.startswith("amq.") and e] == []
