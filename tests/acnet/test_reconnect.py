"""The core stream-failure policy on the ``acnet`` backend: acnetd closed, then back on its port."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pacsys.acnet.errors import AcnetError
from pacsys.backends.reconnect import ReconnectPolicy
from pacsys.sim import SimBackend
from pacsys.testing.resources import leaves_nothing
from pacsys_acnet.backend import AcnetBackend
from pacsys_acnet.server import AcnetServer

DRF = "M:OUTTMP@p,100"
FAST = ReconnectPolicy(initial=0.05, maximum=0.2)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimBackend]:
    with SimBackend() as backend:
        yield backend


class _Recorder:
    def __init__(self) -> None:
        self.readings: queue.Queue[Any] = queue.Queue()
        self.errors: list[BaseException] = []
        self.error = threading.Event()
        self.ended = threading.Event()

    def on_reading(self, reading: Any, handle: Any) -> None:
        self.readings.put(reading)

    def on_error(self, exc: BaseException, handle: Any) -> None:
        self.errors.append(exc)
        self.error.set()
        if handle.stopped:
            self.ended.set()


def test_ended_list_is_reported_then_resubscribed(sim: SimBackend) -> None:
    server = AcnetServer(sim)
    port = server.port
    seen = _Recorder()
    backend = AcnetBackend("127.0.0.1", port, timeout=2.0, reconnect=FAST)
    try:
        handle = backend.subscribe([DRF], seen.on_reading, seen.on_error)
        assert seen.readings.get(timeout=5).ok
        server.close()
        assert seen.error.wait(10)
        assert isinstance(seen.errors[0], AcnetError)
        assert not handle.stopped and handle.exc is None
        server = AcnetServer(sim, port=port)  # acnetd back on the same port
        while not seen.readings.empty():
            seen.readings.get_nowait()
        assert seen.readings.get(timeout=10).ok  # a reading through the new list
        assert not handle.stopped
        handle.stop()
    finally:
        backend.close()
        server.close()


def test_attempts_run_out_then_the_subscription_fails(sim: SimBackend) -> None:
    server = AcnetServer(sim)
    seen = _Recorder()
    policy = ReconnectPolicy(initial=0.05, maximum=0.05, max_attempts=2)
    backend = AcnetBackend("127.0.0.1", server.port, timeout=2.0, reconnect=policy)
    try:
        handle = backend.subscribe([DRF], seen.on_reading, seen.on_error)
        assert seen.readings.get(timeout=5).ok
        server.close()  # and never back
        assert seen.ended.wait(20)
        assert len(seen.errors) == 3
        assert handle.stopped and handle.exc is seen.errors[-1]
    finally:
        backend.close()
        server.close()


def test_stopping_a_reconnecting_subscription_leaves_nothing(sim: SimBackend) -> None:
    with AcnetServer(sim) as server:
        warm = AcnetBackend("127.0.0.1", server.port, reconnect=FAST)
        warm.read("M:OUTTMP")  # the server's threads start on first use and stay
        warm.close()
        with leaves_nothing():
            backend = AcnetBackend("127.0.0.1", server.port, reconnect=FAST)
            with backend.subscribe([DRF]) as handle:
                next(iter(handle.readings(timeout=5)))
            backend.close()
