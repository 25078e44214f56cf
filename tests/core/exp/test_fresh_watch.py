"""read_fresh and watch against the simulator on a ManualClock."""

from __future__ import annotations

import pytest

from pacsys import Device
from pacsys.exp import FreshResult, read_fresh, watch
from pacsys.sim import ManualClock, SimBackend
from pacsys.testing import FakeBackend
from pacsys.types import Reading, ValueType


def _elapsed(clock: ManualClock) -> float:
    return clock.now() - ManualClock.DEFAULT_START


def test_read_fresh_waits_for_new_usable_readings(sim: SimBackend, clock: ManualClock) -> None:
    (fresh,) = read_fresh(["G:AMANDA"], count=3, default_event="p,100", backend=sim)
    assert fresh.drf == "G:AMANDA.READING@p,100"  # canonicalised when the event is added
    assert len(fresh) == 3 and fresh.length == 3 and fresh.requested_count == 3
    assert fresh.value == fresh.reading.value == fresh.values[-1]
    assert fresh.timestamp == fresh.timestamps[-1]
    assert _elapsed(clock) == pytest.approx(0.2, abs=0.011)  # at once, 0.1 s, 0.2 s
    assert sim.active_timers == 0


def test_read_fresh_one_result_per_input_in_order(sim: SimBackend) -> None:
    results = read_fresh(
        ["M:OUTTMP@p,200", Device("G:AMANDA@p,100"), "M:OUTTMP@p,200"], count=2, backend=sim
    )
    assert [r.drf for r in results] == [
        "M:OUTTMP@p,200",
        "G:AMANDA.READING@p,100",
        "M:OUTTMP@p,200",
    ]
    assert results[0] == results[2] and results[0] is not results[2]


def test_read_fresh_errors(sim: SimBackend, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="devices cannot be empty"):
        read_fresh([], backend=sim)
    with pytest.raises(ValueError, match="count must be >= 1"):
        read_fresh(["M:OUTTMP"], count=0, backend=sim)
    with pytest.raises(
        TimeoutError, match=r"Timed out waiting for 1 readings: \['Z:NOSUCH@p,100'\]"
    ):
        read_fresh(["M:OUTTMP@p,100", "Z:NOSUCH@p,100"], timeout=2.0, backend=sim)
    assert _elapsed(clock) == pytest.approx(2.0)  # simulated time: the test did not wait


def test_fresh_result_statistics() -> None:
    values = [Reading("X@p,1", ValueType.SCALAR, value=float(v)) for v in (1, 2, 3, 4)]
    readings = (*values, Reading("X@p,1", error_code=-1))
    fresh = FreshResult("X@p,1", readings, requested_count=2)
    assert fresh.mean() == 3.5  # the last requested_count values
    assert fresh.mean(-1) == 2.5 and fresh.mean(3) == 3.0
    assert fresh.std(-1) == pytest.approx(1.118033988)  # population
    assert (fresh.min(-1), fresh.max(-1), fresh.median(-1)) == (1.0, 4.0, 2.5)
    assert fresh.value is None and fresh.length == 4  # the last reading is the error
    with pytest.raises(ValueError, match="Only 4 values available, fewer than 5"):
        fresh.mean(5)
    with pytest.raises(ValueError, match="n must be >= 1 or -1 for all, got 0"):
        fresh.mean(0)
    with pytest.raises(ValueError, match="No values for E"):
        FreshResult("E", (Reading("E", error_code=-1),), 1).mean()
    text = FreshResult("T", (Reading("T", ValueType.TEXT, value="abc"),), 1)
    with pytest.raises(TypeError, match="Cannot compute stats on str"):
        text.mean()


def test_watch_returns_the_first_reading_that_holds(sim: SimBackend) -> None:
    seen: list[Reading] = []

    def hot(r: Reading) -> bool:
        seen.append(r)
        return r.ok and r.value > 72.53

    found = watch("M:OUTTMP@p,100", hot, timeout=10, backend=sim)
    assert found is seen[-1] and found.value > 72.53
    assert all(r.value <= 72.53 for r in seen[:-1])
    assert sim.active_timers == 0  # stopped before returning


def test_watch_errors(sim: SimBackend, clock: ManualClock) -> None:
    with pytest.raises(TimeoutError, match=r"Condition not met within 1.5s for M:OUTTMP@p,100"):
        watch("M:OUTTMP@p,100", lambda r: False, timeout=1.5, backend=sim)
    assert _elapsed(clock) == pytest.approx(1.5)
    with pytest.raises(ZeroDivisionError):
        watch("M:OUTTMP@p,100", lambda r: 1 / 0 > 0, backend=sim)
    errors: list[Reading] = []
    with pytest.raises(TimeoutError):
        watch("Z:NOSUCH@p,100", lambda r: errors.append(r) or False, timeout=0.5, backend=sim)
    assert errors and not errors[0].ok  # error readings reach the condition


def test_watch_many_devices_any_or_joint(sim: SimBackend) -> None:
    drfs = ["Z:ACLTST@p,100", "M:OUTTMP@p,100"]
    sim.write("Z:ACLTST", 5.0)
    first = watch(drfs, lambda r: r.ok and r.value > 50, timeout=5, backend=sim)
    assert first.drf == "M:OUTTMP@p,100"

    calls: list[set[str]] = []

    def both(latest) -> bool:
        calls.append(set(latest))
        return latest["Z:ACLTST@p,100"].value < latest["M:OUTTMP@p,100"].value / 10

    hit = watch(drfs, both, timeout=5, backend=sim, joint=True)
    assert hit.drf == "M:OUTTMP@p,100"  # the second channel to deliver completes the pair
    assert calls == [set(drfs)]  # only called once every channel had a reading


def test_watch_raises_a_terminal_stream_error() -> None:
    import threading

    fake = FakeBackend()

    def fail_soon() -> None:
        assert fake.wait_for_subscription("M:OUTTMP@p,100", timeout=5)
        fake.emit_error(ConnectionError("server went away"))

    thread = threading.Thread(target=fail_soon)
    thread.start()
    with pytest.raises(ConnectionError, match="server went away"):
        watch("M:OUTTMP@p,100", lambda r: False, timeout=10, backend=fake)
    thread.join(5)
