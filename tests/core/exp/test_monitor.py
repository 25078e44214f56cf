"""Monitor and MonitorResult against the simulator on a ManualClock."""

from __future__ import annotations

import threading
from datetime import timedelta

import numpy as np
import pytest

from pacsys import Device
from pacsys.exp import ChannelData, Monitor, MonitorResult
from pacsys.sim import ManualClock, SimBackend
from pacsys.testing import FakeBackend

OUTTMP = "M:OUTTMP@p,100"
WAVE = "Z:SIMWAV@p,200"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"devices": []}, "devices cannot be empty"),
        ({"devices": [OUTTMP], "buffer_size": 0}, "buffer_size must be >= 1, got 0"),
        ({"devices": [OUTTMP], "stale_after": 0}, "stale_after must be positive"),
    ],
)
def test_construction_errors(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        Monitor(**kwargs)


def test_device_arguments_resolve_and_deduplicate() -> None:
    mon = Monitor([OUTTMP, Device("Z:SIMWAV@p,200"), OUTTMP])
    assert mon.drfs == [OUTTMP, "Z:SIMWAV.READING@p,200"]
    with pytest.raises(TypeError, match="Expected str or Device, got int"):
        Monitor([OUTTMP, 3])


def test_collect_duration_is_measured_in_simulated_time(sim: SimBackend) -> None:
    result = Monitor([OUTTMP, WAVE], backend=sim).collect(duration=1.0)
    # one reading at once, then one per period up to and including t = 1 s
    assert result.counts == {OUTTMP: 11, WAVE: 6}
    assert result.elapsed == timedelta(seconds=1)
    assert result.started is not None and result.started.timestamp() == ManualClock.DEFAULT_START
    assert result.rate(OUTTMP) == 11.0
    assert sim.active_timers == 0  # the subscription was stopped


def test_collect_count_waits_for_every_channel(sim: SimBackend, clock: ManualClock) -> None:
    result = Monitor([OUTTMP, "G:AMANDA@p,500"], backend=sim).collect(count=3, timeout=5)
    assert result.counts["G:AMANDA@p,500"] == 3
    assert result.counts[OUTTMP] >= 3  # the faster channel may hold more
    assert clock.now() - ManualClock.DEFAULT_START == pytest.approx(1.0, abs=0.02)


def test_collect_argument_errors(sim: SimBackend) -> None:
    mon = Monitor([OUTTMP], buffer_size=5, backend=sim)
    with pytest.raises(ValueError, match="Exactly one of duration or count"):
        mon.collect()
    with pytest.raises(ValueError, match="Exactly one of duration or count"):
        mon.collect(duration=1, count=1)
    with pytest.raises(ValueError, match="count must be >= 1, got 0"):
        mon.collect(count=0)
    with pytest.raises(ValueError, match=r"count \(6\) cannot exceed buffer_size \(5\)"):
        mon.collect(count=6)


def test_collect_count_times_out_in_simulated_time(sim: SimBackend, clock: ManualClock) -> None:
    mon = Monitor(["M:OUTTMP@p,1000"], backend=sim)
    with pytest.raises(TimeoutError, match=r"Timed out after 2.5s waiting for 5 readings"):
        mon.collect(count=5, timeout=2.5)
    assert clock.now() - ManualClock.DEFAULT_START == pytest.approx(2.5)
    assert not mon.running


def test_ring_buffer_keeps_the_newest_readings(sim: SimBackend) -> None:
    mon = Monitor([OUTTMP], buffer_size=5, backend=sim)
    result = mon.collect(duration=2.0)
    assert mon.tags == {OUTTMP: 21}
    assert len(result[OUTTMP]) == 5 and len(mon) == 5
    stamps = [r.timestamp.timestamp() - ManualClock.DEFAULT_START for r in result[OUTTMP]]
    assert stamps == pytest.approx([1.6, 1.7, 1.8, 1.9, 2.0])


def test_statistics_match_numpy(sim: SimBackend) -> None:
    result = Monitor([OUTTMP, WAVE], backend=sim).collect(duration=1.0)
    values = np.array(result.values(OUTTMP))
    assert result.mean(OUTTMP) == pytest.approx(values.mean())
    assert result.std(OUTTMP) == pytest.approx(values.std())  # population std
    assert result.median(OUTTMP) == pytest.approx(np.median(values))
    assert (result.min(OUTTMP), result.max(OUTTMP)) == (values.min(), values.max())
    assert result.last(2, OUTTMP) == list(values[-2:])
    waves = result.mean(WAVE)
    assert isinstance(waves, np.ndarray) and waves.shape == (1024,)
    assert set(result.mean()) == {OUTTMP, WAVE}


def test_statistics_errors(sim: SimBackend) -> None:
    result = Monitor(["Z:SIMTXT@p,500", "Z:NOSUCH@p,500"], backend=sim).collect(duration=0.5)
    with pytest.raises(TypeError, match="non-numeric value str in Z:SIMTXT"):
        result.mean("Z:SIMTXT@p,500")
    with pytest.raises(ValueError, match="No readings for Z:NOSUCH@p,500"):
        result.mean("Z:NOSUCH@p,500")
    assert result.counts["Z:NOSUCH@p,500"] == 1  # the error reading is kept
    with pytest.raises(KeyError, match="No channel 'X:Y'"):
        result["X:Y"]
    assert "X:Y" not in result and 3 not in result
    with pytest.raises(ValueError, match="n must be >= 1"):
        result.last(0)


def test_slice_is_inclusive_and_takes_seconds_after_start(sim: SimBackend) -> None:
    result = Monitor([OUTTMP], backend=sim).collect(duration=1.0)
    part = result.slice(OUTTMP, 0.2, 0.4)
    assert isinstance(part, ChannelData) and len(part) == 3
    assert result.slice(OUTTMP, part[0].timestamp, part[-1].timestamp).readings == part.readings
    assert len(result.slice(OUTTMP, end=0.25)) == 3


def test_to_numpy_shapes(sim: SimBackend) -> None:
    result = Monitor([OUTTMP, WAVE, "Z:SIMTXT@p,500"], backend=sim).collect(duration=1.0)
    times, values = result.to_numpy(OUTTMP)
    assert times.shape == values.shape == (11,) and values.dtype == np.float64
    assert times[0] == ManualClock.DEFAULT_START
    times, waves = result.to_numpy(WAVE)
    assert waves.shape == (6, 1024)
    with pytest.raises(TypeError, match=r"requires numeric channels .* got text"):
        result.to_numpy("Z:SIMTXT@p,500")


def test_to_dataframe_forms(sim: SimBackend) -> None:
    pytest.importorskip("pandas")
    result = Monitor([OUTTMP, WAVE], backend=sim).collect(duration=0.4)
    one = result.to_dataframe(OUTTMP)
    assert list(one.columns) == ["value", "units"] and one.index.name == "timestamp"
    assert len(one) == 5 and set(one["units"]) == {"DegF"}
    rel = result.to_dataframe(OUTTMP, relative=True)
    assert rel.index.name == "elapsed_s"
    assert list(rel.index) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    long = result.to_dataframe()
    assert list(long.columns) == ["drf", "value", "units", "timestamp"]
    assert list(long["drf"]) == [OUTTMP] * 5 + [WAVE] * 3
    assert isinstance(long["value"].iloc[-1], np.ndarray)
    assert list(result.to_dataframe(relative=True).columns)[-1] == "elapsed_s"
    with pytest.raises(ValueError, match="started timestamp is None"):
        MonitorResult(result.channels).to_dataframe(relative=True)


def test_plot_draws_each_channel(sim: SimBackend) -> None:
    matplotlib = pytest.importorskip("matplotlib")

    matplotlib.use("Agg")
    result = Monitor([OUTTMP, WAVE], backend=sim).collect(duration=0.5)
    ax = result.plot(relative=True)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {f"{OUTTMP} [DegF]", f"{WAVE} [mV] (last)"}
    assert list(lines[f"{OUTTMP} [DegF]"].get_xdata()) == pytest.approx(
        [0, 0.1, 0.2, 0.3, 0.4, 0.5]
    )
    assert len(lines[f"{WAVE} [mV] (last)"].get_ydata()) == 1024


def test_optional_libraries_are_named_when_missing(sim: SimBackend, no_module) -> None:
    result = Monitor([OUTTMP], backend=sim).collect(duration=0.2)
    no_module("pandas")
    no_module("matplotlib")
    with pytest.raises(ImportError, match=r"pandas is required for to_dataframe.*\[dataframe\]"):
        result.to_dataframe()
    with pytest.raises(ImportError, match=r"matplotlib is required for plot\(\).*\[plot\]"):
        result.plot()
    assert result.mean(OUTTMP) > 0  # the rest still works


def test_running_monitor_snapshot_flush_and_tags(sim: SimBackend, clock: ManualClock) -> None:
    with Monitor([OUTTMP], backend=sim) as mon:
        assert mon.running
        with pytest.raises(RuntimeError, match="Monitor is already running"):
            mon.start()
        clock.advance(0.5)
        tags = mon.tags
        assert tags == {OUTTMP: 6} and not mon.has_new(tags)
        first = mon.flush()
        assert len(first[OUTTMP]) == 6 and len(mon) == 0
        clock.advance(0.2)
        assert mon.has_new(tags) and len(mon.snapshot()[OUTTMP]) == 2
        assert mon.snapshot().started == first.stopped
    assert not mon.running
    assert len(mon.snapshot()[OUTTMP]) == 2  # kept after stop


def test_await_next_returns_a_new_reading(sim: SimBackend, clock: ManualClock) -> None:
    with Monitor([OUTTMP], backend=sim) as mon:
        clock.advance(0.3)
        current = mon.health(OUTTMP).last_reading
        nxt = mon.await_next(OUTTMP, timeout=1.0)
        assert nxt is not current
        assert (nxt.timestamp - current.timestamp).total_seconds() == pytest.approx(0.1)
        with pytest.raises(KeyError):
            mon.await_next("X:Y")
    with pytest.raises(RuntimeError, match="Monitor is not running"):
        mon.await_next(OUTTMP)


def test_await_next_times_out(sim: SimBackend, clock: ManualClock) -> None:
    with Monitor(["M:OUTTMP@p,5000"], backend=sim) as mon:
        clock.advance(0)  # the reading every new subscription gets at once
        with pytest.raises(TimeoutError, match=r"No new reading on 'M:OUTTMP@p,5000' within 1.0s"):
            mon.await_next("M:OUTTMP@p,5000", timeout=1.0)


def test_wait_until_returns_the_satisfying_snapshot(sim: SimBackend) -> None:
    with Monitor([OUTTMP], backend=sim) as mon:
        snap = mon.wait_until(lambda s: len(s[OUTTMP]) >= 4, timeout=5)
        assert len(snap[OUTTMP]) == 4
        with pytest.raises(TimeoutError, match=r"Predicate not satisfied within 0.5s"):
            mon.wait_until(lambda s: False, timeout=0.5)


def test_terminal_stream_error_is_raised() -> None:
    fake = FakeBackend()
    mon = Monitor(["M:OUTTMP@p,100"], backend=fake)
    mon.start()
    fake.emit_error(ConnectionError("server went away"))
    assert not mon.running
    with pytest.raises(RuntimeError, match="Monitor is not running"):
        mon.await_next("M:OUTTMP@p,100")
    failed = Monitor(["M:OUTTMP@p,100"], backend=fake)
    done = threading.Event()

    def fail_soon() -> None:
        assert fake.wait_for_subscription("M:OUTTMP@p,100", timeout=5)
        fake.emit_error(ConnectionError("server went away"))
        done.set()

    threading.Thread(target=fail_soon).start()
    with pytest.raises(ConnectionError, match="server went away"):
        failed.collect(count=3, timeout=5)
    assert done.wait(5)


def test_stale_and_recover_callbacks(sim: SimBackend, clock: ManualClock) -> None:
    stale, recovered = threading.Event(), threading.Event()
    seen: list[tuple[str, str, float]] = []

    def on_stale(drf, health) -> None:
        seen.append(("stale", drf, health.gap))
        stale.set()

    def on_recover(drf, health) -> None:
        seen.append(("recover", drf, health.gap))
        recovered.set()

    drf = "M:OUTTMP@p,1000"
    with Monitor([drf], backend=sim, stale_after=0.3, on_stale=on_stale, on_recover=on_recover):
        clock.advance(0)  # the immediate reading at t = 0
        clock.advance(0.5)  # the next one comes at t = 1 s
        assert stale.wait(5)
        clock.advance(0.5)
        assert recovered.wait(5)
    assert [(kind, d) for kind, d, _ in seen] == [("stale", drf), ("recover", drf)]
    assert seen[0][2] == pytest.approx(0.5)  # gaps are measured in simulated time
    assert seen[1][2] == 0.0
