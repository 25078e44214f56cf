"""scan against the simulator on a ManualClock: steps, aborts, averaging, and the restore."""

from __future__ import annotations

import numpy as np
import pytest

from pacsys import DispatchMode, Verify
from pacsys.exp import ScanRestoreError, ScanResult, scan
from pacsys.sim import ManualClock, SimBackend
from pacsys.types import Value, WriteResult

READS = ["Z:ACLTST", "M:OUTTMP"]


@pytest.fixture
def sim(sim: SimBackend) -> SimBackend:
    sim.write("Z:ACLTST", 7.0)
    sim.write("G:AMANDA", -3.0)
    return sim


def settings(sim: SimBackend) -> tuple[float, float]:
    return sim.read("Z:ACLTST.SETTING"), sim.read("G:AMANDA.SETTING")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [1], "readings_per_step": 0}, "readings_per_step must be >= 1"),
        ({"values": [1], "start": 0}, "Provide either 'values' or 'start/stop/steps', not both"),
        ({}, r"Provide either 'values' or 'start/stop/steps'$"),
        ({"start": 0, "stop": 1}, "All of start, stop, steps must be provided for linear range"),
        ({"start": 0, "stop": 1, "steps": 1}, "steps must be >= 2"),
        ({"values": []}, "values cannot be empty"),
    ],
)
def test_validation_before_any_io(sim: SimBackend, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        scan("Z:ACLTST", READS, backend=sim, **kwargs)
    assert settings(sim) == (7.0, -3.0)


def test_write_device_must_be_reading_or_setting(sim: SimBackend) -> None:
    with pytest.raises(ValueError, match="scan requires an ACNET READING/SETTING device"):
        scan("Z:SIMPS.STATUS", READS, values=[1], backend=sim)


def test_linear_scan_reads_each_step_and_restores(sim: SimBackend, clock: ManualClock) -> None:
    res = scan("Z:ACLTST", READS, start=10, stop=20, steps=3, settle=0.2, backend=sim)
    assert res.set_values == [10.0, 15.0, 20.0]
    assert [step["Z:ACLTST"].value for step in res.readings] == [10.0, 15.0, 20.0]
    assert len(res.write_results) == 3 and all(w.ok for w in res.write_results)
    assert res.restored and not res.aborted and res.error is None
    assert res.restore_results["Z:ACLTST"].ok
    assert settings(sim) == (7.0, -3.0)
    assert clock.now() - ManualClock.DEFAULT_START == pytest.approx(0.6)  # three settles


def test_numpy_values_are_recorded_as_python_numbers(sim: SimBackend) -> None:
    res = scan("Z:ACLTST", ["Z:ACLTST"], values=np.linspace(0, 1, 3), settle=0, backend=sim)
    assert res.set_values == [0.0, 0.5, 1.0]
    assert all(type(v) is float for v in res.set_values)


def test_failed_write_aborts_and_restores(sim: SimBackend) -> None:
    res = scan("Z:ACLTST", READS, values=[1, 200, 3], settle=0, backend=sim)
    assert res.aborted and res.restored
    assert res.set_values == [1, 200] and len(res.readings) == 1
    assert [w.ok for w in res.write_results] == [True, False]
    assert settings(sim) == (7.0, -3.0)


def test_abort_if_stops_the_scan(sim: SimBackend) -> None:
    res = scan(
        "Z:ACLTST",
        READS,
        values=[1, 2, 3, 4],
        settle=0,
        abort_if=lambda step: step["Z:ACLTST"].value >= 2,
        backend=sim,
    )
    assert res.aborted and res.restored and res.set_values == [1, 2]
    assert settings(sim) == (7.0, -3.0)


def test_an_exception_restores_and_carries_the_data(sim: SimBackend) -> None:
    def explode(step) -> bool:
        if step["Z:ACLTST"].value == 2:
            raise ValueError("beam lost")
        return False

    with pytest.raises(ValueError, match="beam lost") as info:
        scan("Z:ACLTST", READS, values=[1, 2, 3], settle=0, abort_if=explode, backend=sim)
    partial: ScanResult = info.value.scan_result
    assert partial.restored and partial.error == "ValueError('beam lost')"
    assert partial.set_values == [1, 2] and len(partial.readings) == 2
    assert settings(sim) == (7.0, -3.0)


def test_restore_false_leaves_the_last_value(sim: SimBackend) -> None:
    res = scan("Z:ACLTST", READS, values=[1, 2], settle=0, restore=False, backend=sim)
    assert not res.restored and settings(sim) == (2.0, -3.0)


class RefusingRestore(SimBackend):
    """Refuses to write ``refused`` back (as a real front end can refuse a setting)."""

    refused: Value = 7.0

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        if value == self.refused:
            return WriteResult(drf, facility_code=14, error_code=-60, message="read-only now")
        return super().write(drf, value, timeout)


def test_a_failed_restore_raises_with_the_result(clock: ManualClock) -> None:
    with RefusingRestore(clock=clock, dispatch_mode=DispatchMode.DIRECT) as sim:
        sim.write("Z:ACLTST", 5.0)
        sim.refused = 5.0
        with pytest.raises(ScanRestoreError) as info:
            scan("Z:ACLTST", READS, values=[1, 2], settle=0, backend=sim)
        assert str(info.value) == (
            "Scan completed but failed to restore Z:ACLTST to 5.0: read-only now"
        )
        assert not info.value.result.restored and len(info.value.result.readings) == 2
        assert isinstance(info.value, RuntimeError)


def test_readings_per_step_averages(sim: SimBackend) -> None:
    res = scan(
        "Z:ACLTST",
        ["Z:ACLTST", "Z:SIMWAV"],
        values=[4.0],
        settle=0,
        readings_per_step=3,
        backend=sim,
    )
    step = res.readings[0]
    assert step["Z:ACLTST"].value == 4.0
    assert isinstance(step["Z:SIMWAV"].value, np.ndarray) and step["Z:SIMWAV"].value.shape == (
        1024,
    )
    with pytest.raises(TypeError, match="Cannot average non-numeric readings for Z:SIMTXT"):
        scan("Z:ACLTST", ["Z:SIMTXT"], values=[1], readings_per_step=2, backend=sim, settle=0)
    assert settings(sim) == (7.0, -3.0)


def test_verified_writes(sim: SimBackend) -> None:
    verify = Verify(initial_delay=0, retry_delay=0, tolerance=1e-9)
    res = scan("Z:ACLTST", ["M:OUTTMP"], values=[1, 2], settle=0, verify=verify, backend=sim)
    assert [w.verified for w in res.write_results] == [True, True]
    assert res.restore_results["Z:ACLTST"].verified is True


def test_grid_scan_writes_only_what_changes(sim: SimBackend) -> None:
    res = scan(
        ["Z:ACLTST", "G:AMANDA"],
        ["Z:ACLTST", "G:AMANDA"],
        values=[[1, 2], [10, 20, 30]],
        settle=0.1,
        backend=sim,
    )
    assert res.write_device == ("Z:ACLTST", "G:AMANDA")
    assert res.set_values == [(1, 10), (1, 20), (1, 30), (2, 10), (2, 20), (2, 30)]
    assert [w.drf.split(".")[0] for w in res.write_results] == [
        "Z:ACLTST", "G:AMANDA", "G:AMANDA", "G:AMANDA", "Z:ACLTST", "G:AMANDA",
        "G:AMANDA", "G:AMANDA",
    ]  # fmt: skip
    assert res.restored and settings(sim) == (7.0, -3.0)


def test_grid_ranges_need_one_entry_per_device(sim: SimBackend) -> None:
    res = scan(["Z:ACLTST", "G:AMANDA"], READS, start=[0, 0], stop=[1, 2], steps=[2, 3],
               settle=0, backend=sim)  # fmt: skip
    assert res.set_values == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    with pytest.raises(ValueError, match=r"steps needs one entry per write device \(2\)"):
        scan(["Z:ACLTST", "G:AMANDA"], READS, start=[0, 0], stop=[1, 2], steps=3, backend=sim)


def test_scan_tables_have_a_row_per_step(sim: SimBackend) -> None:
    pytest.importorskip("pandas")
    linear = scan("Z:ACLTST", READS, start=10, stop=20, steps=3, settle=0.2, backend=sim)
    frame = linear.to_dataframe()
    assert list(frame.columns) == ["set_value", "Z:ACLTST", "M:OUTTMP"]
    assert list(frame["Z:ACLTST"]) == [10.0, 15.0, 20.0]
    failed = scan("Z:ACLTST", READS, values=[1, 200, 3], settle=0, backend=sim)
    frame = failed.to_dataframe()
    assert len(frame) == 2 and np.isnan(frame["Z:ACLTST"].iloc[1])
    grid = scan(["Z:ACLTST", "G:AMANDA"], ["Z:ACLTST", "G:AMANDA"], values=[[1, 2], [10, 20, 30]],
                settle=0.1, backend=sim)  # fmt: skip
    frame = grid.to_dataframe()
    assert list(frame.columns)[:2] == ["set_value[Z:ACLTST]", "set_value[G:AMANDA]"]
    assert list(frame["Z:ACLTST"]) == [1, 1, 1, 2, 2, 2]


def test_plot_draws_readbacks_against_settings(sim: SimBackend) -> None:
    matplotlib = pytest.importorskip("matplotlib")

    matplotlib.use("Agg")
    res = scan(["Z:ACLTST", "G:AMANDA"], ["G:AMANDA"], values=[[1, 2], [10, 20, 30]],
               settle=0, backend=sim)  # fmt: skip
    ax = res.plot()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["G:AMANDA [V] @ Z:ACLTST=1", "G:AMANDA [V] @ Z:ACLTST=2"]
    assert list(ax.get_lines()[0].get_xdata()) == [10, 20, 30]


def test_progress_bar_on_request(sim: SimBackend, capsys: pytest.CaptureFixture[str]) -> None:
    scan("Z:ACLTST", READS, values=[1, 2, 3], settle=0, backend=sim, progress=True)
    err = capsys.readouterr().err
    assert err.endswith("\n") and "scan Z:ACLTST [" in err
    assert "3/3" in err.rsplit("\r", 1)[-1] and "done" in err.rsplit("\r", 1)[-1]
    scan("Z:ACLTST", READS, values=[1], settle=0, backend=sim)  # not a terminal: no bar
    assert capsys.readouterr().err == ""


# --- Ctrl-C at every step -------------------------------------------------------------------


class Tripwire:
    """Counts operations; raises KeyboardInterrupt at operation number ``at`` (once)."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.count = 0
        self.where: str | None = None

    def tick(self, what: str) -> None:
        self.count += 1
        if self.count == self.at:
            self.where = what
            raise KeyboardInterrupt(f"Ctrl-C during {what}")


class TripClock(ManualClock):
    trip: Tripwire | None = None

    def advance(self, seconds: float = 0.0) -> None:
        if self.trip is not None:
            self.trip.tick("settle")
        super().advance(seconds)


class TripSim(SimBackend):
    trip: Tripwire | None = None

    def get_many(self, drfs, timeout=None):
        if self.trip is not None:
            self.trip.tick("read")
        return super().get_many(drfs, timeout)

    def write(self, drf, value, timeout=None):
        if self.trip is not None:
            self.trip.tick(f"write {value}")
        return super().write(drf, value, timeout)


@pytest.mark.parametrize("grid", [False, True], ids=["1-D", "2-D"])
def test_ctrl_c_at_every_step_restores_every_changed_device(grid: bool) -> None:
    if grid:
        write, values = ["Z:ACLTST", "G:AMANDA"], [[1, 2], [10, 20]]
    else:
        write, values = "Z:ACLTST", [1, 2, 3]
    originals = 2 if grid else 1
    interrupted_at: list[str] = []
    at = 0
    while True:
        at += 1
        clock = TripClock()
        with TripSim(clock=clock, dispatch_mode=DispatchMode.DIRECT) as sim:
            sim.write("Z:ACLTST", 7.0)
            sim.write("G:AMANDA", -3.0)
            trip = Tripwire(at)
            sim.trip = clock.trip = trip
            try:
                res = scan(
                    write,
                    READS,
                    values=values,
                    settle=0.1,
                    abort_if=lambda step, trip=trip: trip.tick("abort_if") or False,
                    backend=sim,
                )
            except KeyboardInterrupt as exc:
                interrupted_at.append(trip.where or "?")
                if at > originals:  # the first operations read starting values: no writes yet
                    assert exc.scan_result.restored, trip.where
            else:
                assert trip.where is None and res.restored
            sim.trip = clock.trip = None
            assert settings(sim) == (7.0, -3.0), f"not restored after Ctrl-C during {trip.where}"
            if trip.where is None:
                break
    kinds = {w.split(" ")[0] for w in interrupted_at}
    assert kinds == {"read", "write", "settle", "abort_if"}
    # a Ctrl-C during the restore write itself is retried: the last interrupts hit restores
    assert interrupted_at[-1] in ("write 7.0", "write -3.0")


# --- the progress bar itself --------------------------------------------------------------


class Terminal:
    """A stream that says it is a terminal and keeps what is written."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.text = ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_draws_on_a_terminal_only() -> None:
    from pacsys.exp.progress import Progress

    tty = Terminal(True)
    bar = Progress(4, "scan X", stream=tty)
    assert bar.mode == "text"
    bar.update(1, "X=1", force=True)
    bar.close(4, "done")
    lines = tty.text.split("\r")
    assert lines[1].startswith("scan X [#######.......................] 1/4") and "X=1" in lines[1]
    assert lines[2].startswith("scan X [##############################] 4/4") and "done" in lines[2]
    assert tty.text.endswith("\n")
    pipe = Terminal(False)
    quiet = Progress(4, "scan X", stream=pipe)
    quiet.update(1, force=True)
    quiet.close(4)
    assert quiet.mode == "off" and pipe.text == ""
