"""SimBackend streaming on a manual clock: periodic, clock, immediate and never events."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from pacsys.sim import ManualClock, SimBackend
from pacsys.sim.scheduler import Scheduler
from pacsys.types import DispatchMode, Reading, SubscriptionHandle


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimBackend]:
    with SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT) as backend:
        yield backend


def drain(handle: SubscriptionHandle) -> list[Reading]:
    return [reading for reading, _ in handle.readings(timeout=0)]


def test_periodic_fires_at_its_rate(sim: SimBackend, clock: ManualClock) -> None:
    with sim.subscribe(["M:OUTTMP@p,200"]) as sub:
        clock.advance(1.0)
        readings = drain(sub)
    assert len(readings) == 6  # one immediately (p,N implies ",true"), then every 200 ms
    times = [r.timestamp.timestamp() for r in readings]
    assert all(abs(b - a - 0.2) < 1e-6 for a, b in itertools.pairwise(times))
    assert all(r.drf == "M:OUTTMP@p,200" and r.units == "DegF" for r in readings)
    assert len({r.value for r in readings}) > 1  # it moves


def test_immediate_once_and_never_never(sim: SimBackend, clock: ManualClock) -> None:
    with sim.subscribe(["M:OUTTMP@I", "Z:ACLTST@N"]) as sub:
        clock.advance(0)
        first = drain(sub)
        clock.advance(10.0)
        assert drain(sub) == []
    assert [r.drf for r in first] == ["M:OUTTMP@I"]
    assert sim.active_timers == 0


def test_clock_event_15hz_consistent_across_devices(sim: SimBackend, clock: ManualClock) -> None:
    a = sim.subscribe(["M:OUTTMP@e,0F", "Z:ACLTST@e,0F"])
    b = sim.subscribe(["S:SIM00001@E,0F"])
    assert sim.active_timers == 1  # one job for the event, however many subscribers
    clock.advance(1.0)
    ra, rb = drain(a), drain(b)
    assert len(ra) == 30 and len(rb) == 15
    for i, reading in enumerate(rb):
        pair = ra[2 * i : 2 * i + 2]
        assert {r.timestamp for r in pair} == {reading.timestamp}
        assert {r.cycle for r in pair} == {reading.cycle}
    cycles = [r.cycle for r in rb]
    assert cycles == list(range(cycles[0], cycles[0] + 15))
    a.stop()
    b.stop()
    assert sim.active_timers == 0


def test_clock_event_with_delay_and_unknown_event(sim: SimBackend, clock: ManualClock) -> None:
    with sim.subscribe(["M:OUTTMP@E,8F,H,100", "M:OUTTMP@e,77"]) as sub:
        clock.advance(2.0)
        readings = drain(sub)
    ok = [r for r in readings if r.ok]
    errors = [r for r in readings if not r.ok]
    assert len(ok) == 2
    assert all(round(r.timestamp.timestamp() % 1.0, 6) == 0.1 for r in ok)
    assert len(errors) == 1 and errors[0].drf == "M:OUTTMP@e,77"
    assert "0x77 is not simulated" in errors[0].message


def test_default_event_comes_from_catalogue(sim: SimBackend, clock: ManualClock) -> None:
    with sim.subscribe(["M:OUTTMP", "Z:SIMWAV"]) as sub:
        clock.advance(1.0)
        readings = drain(sub)
    assert sum(r.drf == "M:OUTTMP" for r in readings) == 2  # p,1000: now and after 1 s
    assert sum(r.drf == "Z:SIMWAV" for r in readings) == 15  # e,0F


def test_q_delivers_only_changes(sim: SimBackend, clock: ManualClock) -> None:
    with sim.subscribe(["Z:ACLTST@q,100", "Z:ACLTST@p,100"]) as sub:
        clock.advance(0.5)
        assert sim.write("Z:ACLTST", 12.0).ok
        clock.advance(0.5)
        readings = drain(sub)
    q = [r.value for r in readings if r.drf.startswith("Z:ACLTST@q")]
    p = [r.value for r in readings if r.drf.startswith("Z:ACLTST@p")]
    assert q == [40.0, 12.0]
    assert len(p) == 11 and p[-1] == 12.0


def test_unknown_device_streams_one_error(sim: SimBackend, clock: ManualClock) -> None:
    with sim.subscribe(["M:NOSUCH@p,100", "M:OUTTMP.SETTING@p,100"]) as sub:
        clock.advance(0.3)
        readings = drain(sub)
    unknown = [r for r in readings if r.drf == "M:NOSUCH@p,100"]
    assert len(unknown) == 1 and unknown[0].error_code == -26
    noprop = [r for r in readings if r.drf == "M:OUTTMP.SETTING@p,100"]
    assert len(noprop) == 3 and all(r.error_code == -27 for r in noprop)


def test_callbacks_stop_remove_and_close(clock: ManualClock) -> None:
    got: list[tuple[str, float]] = []
    sim = SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT)
    handle = sim.subscribe(["G:AMANDA@p,500"], callback=lambda r, h: got.append((r.drf, r.value)))
    clock.advance(1.0)
    assert len(got) == 3
    with pytest.raises(RuntimeError, match="callback"):
        next(iter(handle.readings(timeout=0)))
    sim.remove(handle)
    assert handle.stopped
    clock.advance(1.0)
    assert len(got) == 3
    other = sim.subscribe(["G:AMANDA@p,500"])
    sim.close()
    assert other.stopped and sim.active_timers == 0
    with pytest.raises(RuntimeError, match="closed"):
        sim.subscribe(["G:AMANDA@p,500"])


def test_subscribe_validates_input(sim: SimBackend) -> None:
    with pytest.raises(ValueError, match="empty"):
        sim.subscribe([])
    with pytest.raises(ValueError):
        sim.subscribe(["M:OUTTMP@@"])
    with pytest.raises(TypeError, match="callback must be callable"):
        sim.subscribe(["M:OUTTMP@p,100"], callback=5)  # type: ignore[arg-type]


def test_real_clock_scheduler_thread_delivers_and_stops() -> None:
    """The wall-clock path: one named scheduler thread, gone after close()."""
    got = threading.Event()
    with SimBackend() as sim:
        sub = sim.subscribe(["Z:SIMWAV@e,0F"], callback=lambda r, h: got.set())
        assert got.wait(5.0)
        names = {t.name for t in threading.enumerate()}
        assert "pacsys-sim-scheduler" in names
        sub.stop()
    assert not any(t.name == "pacsys-sim-scheduler" and t.is_alive() for t in threading.enumerate())


def test_scheduler_runs_in_due_order_and_catches_up(clock: ManualClock) -> None:
    scheduler = Scheduler(clock)
    seen: list[tuple[str, float]] = []

    def every(name: str, step: float, times: int):  # type: ignore[no-untyped-def]
        count = [0]

        def fn(due: float) -> float | None:
            seen.append((name, due - clock.DEFAULT_START))
            assert clock.now() == due
            count[0] += 1
            return due + step if count[0] < times else None

        return fn

    scheduler.schedule(clock.now() + 0.3, every("a", 0.3, 3))
    job = scheduler.schedule(clock.now() + 0.25, every("b", 0.5, 10))
    clock.advance(0.8)
    assert [n for n, _ in seen] == ["b", "a", "a", "b"]
    job.cancel()
    clock.advance(5.0)
    assert [n for n, _ in seen] == ["b", "a", "a", "b", "a"]
    assert clock.now() == clock.DEFAULT_START + 5.8
    scheduler.close()
    with pytest.raises(RuntimeError, match="closed"):
        scheduler.schedule(clock.now(), lambda due: None)
    with pytest.raises(ValueError):
        clock.advance(-1)
