"""The core stream-failure policy on DMQ, against a real broker that drops the connection."""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from pacsys.backends.reconnect import ReconnectPolicy
from pacsys.deadline import Deadline

pytestmark = pytest.mark.rabbitmq

DRF = "M:OUTTMP@p,1000"
FAST = ReconnectPolicy(initial=0.05, maximum=0.2)


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


def test_dropped_connection_is_reported_then_resubscribed(dmq_rig: Any) -> None:
    fake = dmq_rig.fake
    values: queue.Queue[Any] = queue.Queue()
    errors: queue.Queue[BaseException] = queue.Queue()
    with dmq_rig.server(heartbeat_interval=0.5):
        with dmq_rig.client(reconnect=FAST) as backend:
            handle = backend.subscribe(
                [DRF], lambda r, h: values.put(r.value), lambda e, h: errors.put(e)
            )
            assert fake.wait_for_subscription(DRF, timeout=10)
            assert _next_value(fake, values, 1.0, within=10)
            dmq_rig.drop(backend)
            error = errors.get(timeout=10)
            assert isinstance(error, ConnectionError)
            assert "Connection closed" in str(error)
            assert not handle.stopped and handle.exc is None
            assert _next_value(fake, values, 2.0, within=20)  # through a new job and connection
            assert not handle.stopped
            handle.stop()
            assert handle.stopped and handle.exc is None


def test_without_a_policy_the_drop_ends_the_subscription(dmq_rig: Any) -> None:
    fake = dmq_rig.fake
    errors: queue.Queue[BaseException] = queue.Queue()
    with dmq_rig.server(heartbeat_interval=0.5):
        with dmq_rig.client() as backend:
            handle = backend.subscribe([DRF], on_error=lambda e, h: errors.put(e))
            assert fake.wait_for_subscription(DRF, timeout=10)
            dmq_rig.drop(backend)
            error = errors.get(timeout=10)
            assert isinstance(error, ConnectionError)
            assert handle.stopped and handle.exc is error


def test_close_ends_a_reconnecting_subscription(dmq_rig: Any) -> None:
    fake = dmq_rig.fake
    with dmq_rig.server(heartbeat_interval=0.5):
        backend = dmq_rig.client(reconnect=FAST)
        handle = backend.subscribe([DRF])
        assert fake.wait_for_subscription(DRF, timeout=10)
        backend.close()
        assert handle.stopped and handle.exc is None
        assert not [t for t in threading.enumerate() if t.name.startswith("pacsys-dmq-stream")]
