"""The core stream-failure policy on DPM: a real DPMServer stopped and restarted on its port."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pacsys.backends.reconnect import ReconnectPolicy
from pacsys.testing import FakeBackend
from pacsys.types import DispatchMode
from pacsys_dpm.client import DPMConnectionError, DPMHTTPBackend
from pacsys_dpm.server import DPMServer

DRF = "M:OUTTMP@p,1000"
FAST = ReconnectPolicy(initial=0.05, maximum=0.2)


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend(dispatch_mode=DispatchMode.DIRECT)
    backend.set_reading("M:OUTTMP", 72.5)
    yield backend
    backend.close()


class _Recorder:
    """Readings and errors of one subscription, as queues and an event per error."""

    def __init__(self) -> None:
        self.values: queue.Queue[Any] = queue.Queue()
        self.errors: list[BaseException] = []
        self.error = threading.Event()

    def on_reading(self, reading: Any, handle: Any) -> None:
        self.values.put(reading.value)

    def on_error(self, exc: BaseException, handle: Any) -> None:
        self.errors.append(exc)
        self.error.set()


def test_lost_connection_is_reported_then_resubscribed(fake: FakeBackend) -> None:
    srv = DPMServer(fake, port=0).start()
    seen = _Recorder()
    try:
        with DPMHTTPBackend("127.0.0.1", srv.port, auth=None, reconnect=FAST) as backend:
            handle = backend.subscribe([DRF], seen.on_reading, seen.on_error)
            assert fake.wait_for_subscription(DRF, timeout=5)
            fake.emit_reading(DRF, 1.0)
            assert seen.values.get(timeout=5) == 1.0
            srv.stop()
            assert seen.error.wait(10)
            assert isinstance(seen.errors[0], DPMConnectionError)
            assert not handle.stopped and handle.exc is None
            assert backend.active_subscriptions == 1
            assert fake.wait_for_no_subscription(DRF, timeout=10)
            srv.start()  # same port
            assert fake.wait_for_subscription(DRF, timeout=10)
            fake.emit_reading(DRF, 2.0)
            assert seen.values.get(timeout=5) == 2.0
            handle.stop()
            assert fake.wait_for_no_subscription(DRF, timeout=10)
    finally:
        srv.stop()


def test_attempts_run_out_then_the_subscription_fails(fake: FakeBackend) -> None:
    srv = DPMServer(fake, port=0).start()
    seen = _Recorder()
    policy = ReconnectPolicy(initial=0.05, maximum=0.05, max_attempts=2)
    ended = threading.Event()
    try:
        with DPMHTTPBackend("127.0.0.1", srv.port, auth=None, reconnect=policy) as backend:
            handle = backend.subscribe(
                [DRF],
                seen.on_reading,
                lambda e, h: (seen.on_error(e, h), h.stopped and ended.set()),
            )
            assert fake.wait_for_subscription(DRF, timeout=5)
            srv.stop()  # and never back: the lost connection plus two refused attempts
            assert ended.wait(20)
            assert len(seen.errors) == 3
            assert handle.stopped and handle.exc is seen.errors[-1]
            assert backend.active_subscriptions == 0
    finally:
        srv.stop()


def test_without_a_policy_a_lost_connection_ends_the_subscription(fake: FakeBackend) -> None:
    srv = DPMServer(fake, port=0).start()
    seen = _Recorder()
    try:
        with DPMHTTPBackend("127.0.0.1", srv.port, auth=None) as backend:
            handle = backend.subscribe([DRF], seen.on_reading, seen.on_error)
            assert fake.wait_for_subscription(DRF, timeout=5)
            srv.stop()
            assert seen.error.wait(10)
            assert handle.stopped and handle.exc is seen.errors[0]
    finally:
        srv.stop()


def test_reconnect_must_be_a_policy() -> None:
    with pytest.raises(TypeError, match="reconnect must be a ReconnectPolicy or None, got bool"):
        DPMHTTPBackend("127.0.0.1", 6802, auth=None, reconnect=True)  # type: ignore[arg-type]
