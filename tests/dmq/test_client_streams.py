"""DMQBackend subscriptions through the broker: data, duplicates, stop and DROP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.rabbitmq


def test_stream_iterates_readings(dmq_backend: Any, fake: Any) -> None:
    drf = "M:OUTTMP@p,1000"
    with dmq_backend.subscribe([drf, "G:AMANDA@p,1000"]) as handle:
        assert fake.wait_for_subscription(drf, timeout=5)
        for value in (1.0, 2.0, 3.0):
            fake.emit_reading(drf, value)
        got = []
        for reading, h in handle.readings(timeout=5):
            assert h is handle
            got.append(reading)
            if len(got) == 3:
                break
    assert [r.value for r in got] == [1.0, 2.0, 3.0]
    assert all(r.drf == drf for r in got)
    assert handle.ref_ids == [1, 2]


def test_stream_callback_and_duplicates(dmq_backend: Any, fake: Any) -> None:
    drf = "M:OUTTMP@p,500"
    seen: list[Any] = []
    two = threading.Event()

    def on_reading(reading: Any, handle: Any) -> None:
        seen.append(reading)
        if len(seen) >= 2:
            two.set()

    handle = dmq_backend.subscribe([drf, drf], callback=on_reading)
    try:
        assert fake.wait_for_subscription(drf, timeout=5)
        fake.emit_reading(drf, 4.5)
        assert two.wait(5)
    finally:
        handle.stop()
    assert [r.value for r in seen[:2]] == [4.5, 4.5]


def test_stop_drops_server_job(
    dmq_backend: Any, dmq_server: Any, fake: Any, wait_for: Callable[..., Any]
) -> None:
    drf = "G:AMANDA@p,250"
    before = dmq_server.job_count
    handle = dmq_backend.subscribe([drf])
    assert fake.wait_for_subscription(drf, timeout=5)
    wait_for(lambda: dmq_server.job_count == before + 1)
    dmq_backend.stop_streaming()
    assert handle.stopped
    wait_for(lambda: dmq_server.job_count == before)
    # the server stopped its backend subscription too
    wait_for(lambda: not any(drf in h.drfs for h in fake._active()))


def test_subscribe_validates_arguments(dmq_backend: Any) -> None:
    with pytest.raises(ValueError, match="drfs cannot be empty"):
        dmq_backend.subscribe([])
    with pytest.raises(TypeError, match="callback must be callable"):
        dmq_backend.subscribe(["M:OUTTMP@p,1000"], callback=42)
