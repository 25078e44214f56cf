"""The core stream-failure policy on DMQ, against a real broker that drops the connection."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pacsys.backends.reconnect import ReconnectPolicy
from pacsys.deadline import Deadline
from pacsys_dmq.server import DMQServer

pytestmark = pytest.mark.rabbitmq

DRF = "M:OUTTMP@p,1000"
FAST = ReconnectPolicy(initial=0.05, maximum=0.2)


def _connection_of(backend: Any, rabbitmqctl: Callable[..., str]) -> str:
    out = rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties")
    for line in out.splitlines():
        if backend.connection_name in line:
            return line.split("\t", 1)[0]
    raise AssertionError(f"no broker connection named {backend.connection_name}")


def _next_value(fake: Any, values: queue.Queue[Any], value: float, within: float) -> bool:
    """Emit ``value`` on the fake until the subscription delivers it (each wait is bounded)."""
    deadline = Deadline.after(within)
    while not deadline.expired:
        fake.emit_reading(DRF, value)
        try:
            if values.get(timeout=min(0.2, deadline.remaining())) == value:
                return True
        except queue.Empty:
            continue
    return False


def test_dropped_connection_is_reported_then_resubscribed(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
    rabbitmqctl: Callable[..., Any],
    seeded_fake: Callable[..., Any],
) -> None:
    fake = seeded_fake()
    values: queue.Queue[Any] = queue.Queue()
    errors: queue.Queue[BaseException] = queue.Queue()
    with DMQServer(fake, amqp_url(rabbitmq_vhost), heartbeat_interval=0.5):
        with make_backend(rabbitmq_vhost, reconnect=FAST) as backend:
            handle = backend.subscribe(
                [DRF], lambda r, h: values.put(r.value), lambda e, h: errors.put(e)
            )
            assert fake.wait_for_subscription(DRF, timeout=10)
            assert _next_value(fake, values, 1.0, within=10)
            rabbitmqctl("close_connection", _connection_of(backend, rabbitmqctl), "test drops it")
            error = errors.get(timeout=10)
            assert isinstance(error, ConnectionError)
            assert "Connection closed" in str(error)
            assert not handle.stopped and handle.exc is None
            assert _next_value(fake, values, 2.0, within=20)  # through a new job and connection
            assert not handle.stopped
            handle.stop()
            assert handle.stopped and handle.exc is None


def test_without_a_policy_the_drop_ends_the_subscription(
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
            handle = backend.subscribe([DRF], on_error=lambda e, h: errors.put(e))
            assert fake.wait_for_subscription(DRF, timeout=10)
            rabbitmqctl("close_connection", _connection_of(backend, rabbitmqctl), "test drops it")
            error = errors.get(timeout=10)
            assert isinstance(error, ConnectionError)
            assert handle.stopped and handle.exc is error


def test_close_ends_a_reconnecting_subscription(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
    seeded_fake: Callable[..., Any],
) -> None:
    fake = seeded_fake()
    with DMQServer(fake, amqp_url(rabbitmq_vhost), heartbeat_interval=0.5):
        backend = make_backend(rabbitmq_vhost, reconnect=FAST)
        handle = backend.subscribe([DRF])
        assert fake.wait_for_subscription(DRF, timeout=10)
        backend.close()
        assert handle.stopped and handle.exc is None
        assert not [t for t in threading.enumerate() if t.name.startswith("pacsys-dmq-stream")]
