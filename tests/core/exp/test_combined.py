"""CombinedStream over simulator subscriptions (and a FakeBackend for failures)."""

from __future__ import annotations

import threading

import pytest

from pacsys.exp import CombinedStream
from pacsys.sim import ManualClock, SimBackend
from pacsys.testing import FakeBackend


def _feeders() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "pacsys-combined")


def test_drain_merges_in_time_order(sim: SimBackend, clock: ManualClock) -> None:
    fast = sim.subscribe(["M:OUTTMP@p,100"])
    slow = sim.subscribe(["G:AMANDA@p,300"])
    clock.advance(1.0)
    with CombinedStream([fast, slow]) as both:
        items = list(both.readings(timeout=0))
    assert len(items) == 11 + 4
    stamps = [r.timestamp for r, _ in items]
    assert stamps == sorted(stamps)
    assert {h for _, h in items} == {fast, slow}
    assert both.stopped and fast.stopped and slow.stopped


def test_streaming_with_count_stops_its_feeders(sim: SimBackend, clock: ManualClock) -> None:
    subs = [sim.subscribe(["M:OUTTMP@p,100"]), sim.subscribe(["G:AMANDA@p,200"])]
    clock.advance(1.0)
    stream = CombinedStream(subs)
    got = [r for r, _ in stream.readings(timeout=10, count=12)]
    assert len(got) == 12
    assert _feeders() == 0
    rest = list(stream.readings(timeout=0))  # at most once: prefetched readings may be gone
    assert len(got) + len(rest) <= 11 + 6
    stream.stop()


def test_stopped_streams_end_the_iteration(sim: SimBackend, clock: ManualClock) -> None:
    subs = [sim.subscribe(["M:OUTTMP@p,100"]), sim.subscribe(["G:AMANDA@p,500"])]
    clock.advance(0.5)
    stream = CombinedStream(subs)
    stream.stop()
    got = list(stream.readings())  # timeout=None: ends once every handle has drained
    assert len(got) == 6 + 2
    assert list(stream.readings()) == []


def test_errors_are_raised() -> None:
    with pytest.raises(ValueError, match="subscriptions cannot be empty"):
        CombinedStream([])
    fake = FakeBackend()
    plain = fake.subscribe(["M:OUTTMP@p,100"])
    pushed = fake.subscribe(["G:AMANDA@p,100"], callback=lambda r, h: None)
    with pytest.raises(RuntimeError, match="Cannot iterate subscription with callback"):
        list(CombinedStream([plain, pushed]).readings(timeout=5))
    stream = CombinedStream([fake.subscribe(["M:OUTTMP@p,100"])])
    fake.emit_error(ConnectionError("server went away"))
    assert isinstance(stream.exc, ConnectionError)
    with pytest.raises(ConnectionError, match="server went away"):
        list(stream.readings(timeout=5))
    with pytest.raises(ConnectionError):
        list(stream.readings(timeout=0))


def test_the_old_import_path_still_works() -> None:
    from pacsys.types import CombinedStream as Old

    assert Old is CombinedStream


def test_import_pacsys_loads_none_of_pacsys_exp() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pacsys, pacsys.types; "
        "print(sorted(m for m in sys.modules if m.startswith(('pacsys.exp', 'pandas', "
        "'pyarrow', 'matplotlib'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
