"""DataLogger and its writers: formats, rotation, errors, no silent loss (SIGKILL, full disk)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from pacsys.exp import CsvWriter, DataLogger, DataLoggerError, LogWriter, ParquetWriter
from pacsys.sim import ManualClock, SimBackend
from pacsys.types import DeviceMeta, Reading, ValueType

CHILD = Path(__file__).with_name("logger_child.py")
T0 = datetime(2026, 12, 7, 18, 57, 37, 569000, tzinfo=timezone.utc)
META = DeviceMeta(1, "M:OUTTMP", "Outdoor temperature", units="DegF")

SAMPLES = [
    Reading("M:OUTTMP@p,100", ValueType.SCALAR, value=70.79448964950994, timestamp=T0, meta=META),
    Reading("Z:SIMTBL@p,500", ValueType.SCALAR_ARRAY, value=np.array([1.0, 2.5]), timestamp=T0),
    Reading(
        "Z:SIMTXT@p,500", ValueType.TEXT, value='say "hi"', timestamp=T0.replace(microsecond=0)
    ),
    Reading("Z:SIMRAW@p,500", ValueType.RAW, value=b"\x00\x01", timestamp=T0),
    Reading("Z:SIMPS.STATUS@p,500", ValueType.BASIC_STATUS, value={"on": False}, timestamp=T0),
    Reading("Z:NOSUCH@p,500", facility_code=17, error_code=-26, message="no such device"),
    Reading("Z:INT", ValueType.SCALAR, value=3, timestamp=T0),
]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_csv_rows(tmp_path: Path) -> None:
    writer = CsvWriter(tmp_path / "log.csv")
    assert isinstance(writer, LogWriter)
    writer.write_readings(SAMPLES)
    writer.close()
    raw = (tmp_path / "log.csv").read_bytes()
    assert raw.startswith(b"timestamp,drf,value,units,facility_code,error_code,message\r\n")
    rows = read_csv(tmp_path / "log.csv")[1:]
    assert rows[0] == [
        "2026-12-07T18:57:37.569000+00:00", "M:OUTTMP@p,100", "70.79448964950994", "DegF",
        "0", "0", "",
    ]  # fmt: skip
    assert rows[1][2] == "[1.0, 2.5]"
    assert rows[2][:3] == ["2026-12-07T18:57:37+00:00", "Z:SIMTXT@p,500", 'say "hi"']
    assert rows[3][2] == "AAE="
    assert rows[4][2] == '{"on": false}'
    assert rows[5] == ["", "Z:NOSUCH@p,500", "", "", "17", "-26", "no such device"]
    assert rows[6][2] == "3"


def test_parquet_columns(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "log.parquet"
    writer = ParquetWriter(path)
    writer.write_readings(SAMPLES[:4])
    writer.write_readings(SAMPLES[4:])
    writer.close()
    assert not ParquetWriter.parts_dir(path).exists()
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 2
    table = pq.read_table(path).to_pylist()
    assert list(table[0]) == [
        "timestamp", "drf", "value_type", "value", "int_value", "value_array", "value_text",
        "error_code", "units", "cycle", "facility_code", "message",
    ]  # fmt: skip
    assert table[0]["value"] == 70.79448964950994 and table[0]["units"] == "DegF"
    assert table[0]["timestamp"] == T0
    assert table[1]["value_array"] == [1.0, 2.5] and table[1]["value"] is None
    assert table[2]["value_text"] == 'say "hi"' and table[3]["value_text"] == "AAE="
    assert table[5]["error_code"] == -26 and table[5]["value_type"] is None
    assert table[6]["int_value"] == 3


def test_parquet_without_readings_leaves_no_file(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    writer = ParquetWriter(tmp_path / "empty.parquet")
    writer.close()
    assert list(tmp_path.iterdir()) == []


def test_missing_pyarrow_is_named(tmp_path: Path, no_module) -> None:
    no_module("pyarrow")
    with pytest.raises(ImportError, match=r"pyarrow is required for ParquetWriter.*\[parquet\]"):
        ParquetWriter(tmp_path / "x.parquet")


def test_unwritable_paths_fail_at_construction(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NotADirectoryError):
        CsvWriter(blocker / "log.csv")


def test_parquet_into_a_missing_folder_fails_at_construction(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow.parquet")
    with pytest.raises(FileNotFoundError):
        ParquetWriter(tmp_path / "missing" / "log.parquet")


def test_rotation_by_size_and_by_reading_time(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")

    def batch(second: int) -> list[Reading]:
        ts = T0.replace(second=second)
        return [Reading("X@p,1", ValueType.SCALAR, value=float(second), timestamp=ts)]

    by_size = CsvWriter(tmp_path / "s.csv", max_bytes=150)
    for second in range(4):
        by_size.write_readings(batch(second))
    by_size.close()
    sizes = sorted(p.name for p in tmp_path.glob("s.*.csv"))
    assert sizes == ["s.0000.csv", "s.0001.csv"]  # header + 2 rows pass 150 bytes
    assert [r[2] for r in read_csv(tmp_path / "s.0001.csv")[1:]] == ["2.0", "3.0"]

    by_time = ParquetWriter(tmp_path / "t.parquet", rotate_every=2.0)
    for second in range(5):
        by_time.write_readings(batch(second))
    by_time.close()
    files = sorted(p.name for p in tmp_path.glob("t.*.parquet"))
    assert files == ["t.0000.parquet", "t.0001.parquet", "t.0002.parquet"]
    assert pq.read_table(tmp_path / "t.0001.parquet").column("value").to_pylist() == [2.0, 3.0]


def test_leftover_parquet_parts_are_never_clobbered(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "log.parquet"
    first = ParquetWriter(path)
    first.write_readings(SAMPLES[:2])  # ... and the process dies here
    with pytest.raises(FileExistsError, match=r"ParquetWriter.recover"):
        ParquetWriter(path)
    assert ParquetWriter.recover(path) == path
    assert pq.read_table(path).num_rows == 2


# --- DataLogger -----------------------------------------------------------------------------


def test_logger_writes_every_reading(sim: SimBackend, clock: ManualClock, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flush_interval must be > 0"):
        DataLogger(["M:OUTTMP@p,100"], CsvWriter(tmp_path / "x.csv"), flush_interval=0)
    path = tmp_path / "log.csv"
    with DataLogger(["M:OUTTMP@p,100", "G:AMANDA@p,500"], CsvWriter(path), backend=sim) as dl:
        clock.advance(1.0)
        assert dl.flush() == 14 and dl.pending == 0
        clock.advance(1.0)
    rows = read_csv(path)[1:]
    assert len(rows) == 14 + 12 and dl.written_count == 26 and not dl.failed
    assert not dl.running
    with pytest.raises(RuntimeError, match="create a new instance"):
        dl.start()
    dl.stop()  # a second stop returns at once


class Flaky:
    """A writer that fails ``fail`` times with ``error``, then works."""

    def __init__(self, fail: int, error: Exception) -> None:
        self.fail = fail
        self.error = error
        self.written: list[Reading] = []

    def write_readings(self, readings: list[Reading]) -> None:
        if self.fail:
            self.fail -= 1
            raise self.error
        self.written.extend(readings)

    def close(self) -> None:
        pass


def test_io_errors_keep_readings_until_they_clear(sim: SimBackend, clock: ManualClock) -> None:
    writer = Flaky(5, OSError(28, "No space left on device"))
    errors: list[BaseException] = []
    dl = DataLogger(["M:OUTTMP@p,100"], writer, backend=sim, on_error=errors.append)
    dl.start()
    for _ in range(5):
        clock.advance(0.5)
        with pytest.raises(DataLoggerError, match="No space left on device"):
            dl.flush()
        with pytest.raises(DataLoggerError, match="readings waiting in memory"):
            dl.check()
    assert dl.dropped_count == 0 and len(errors) == 5
    dl.stop()
    stamps = [r.timestamp for r in writer.written]
    assert len(stamps) == 26 and stamps == sorted(stamps)  # everything, in order, once


def test_a_failing_writer_drops_after_three_attempts(sim: SimBackend, clock: ManualClock) -> None:
    writer = Flaky(3, ValueError("cannot encode"))
    dl = DataLogger(["M:OUTTMP@p,100"], writer, backend=sim)
    dl.start()
    clock.advance(0.5)
    for _ in range(3):
        with pytest.raises(ValueError):
            dl.flush()
    assert dl.dropped_count == 6 and dl.failed
    clock.advance(0.5)
    with pytest.raises(DataLoggerError, match=r"Dropped 6 readings during DataLogger run"):
        dl.stop()
    assert len(writer.written) == 5


def test_stop_hands_back_what_it_could_not_write(sim: SimBackend, clock: ManualClock) -> None:
    writer = Flaky(99, OSError(13, "Permission denied"))
    dl = DataLogger(["M:OUTTMP@p,100"], writer, backend=sim)
    dl.start()
    clock.advance(0.5)
    with pytest.raises(DataLoggerError, match="Permission denied") as info:
        dl.stop()
    assert len(info.value.unwritten) == 6


def test_bounded_memory_counts_what_it_drops(sim: SimBackend, clock: ManualClock) -> None:
    writer = Flaky(1, OSError(28, "No space left on device"))
    dl = DataLogger(["M:OUTTMP@p,100"], writer, backend=sim, max_pending=4)
    dl.start()
    clock.advance(0.5)
    assert dl.pending == 4 and dl.dropped_count == 2
    with pytest.raises(DataLoggerError, match="No space left on device"):
        dl.flush()
    with pytest.raises(DataLoggerError, match=r"Dropped 2 readings"):
        dl.stop()
    assert len(writer.written) == 4


def test_flush_worker_writes_on_its_own(sim: SimBackend, clock: ManualClock) -> None:
    import threading

    written = threading.Event()

    class Signalling(Flaky):
        def write_readings(self, readings: list[Reading]) -> None:
            super().write_readings(readings)
            written.set()

    writer = Signalling(0, OSError())
    with DataLogger(["M:OUTTMP@p,100"], writer, backend=sim, flush_interval=0.05):
        clock.advance(0.35)
        assert written.wait(5)
    assert len(writer.written) == 4
    assert "pacsys-datalogger" not in {t.name for t in threading.enumerate()}


# --- a real process: SIGKILL and a full disk --------------------------------------------------


def _expected_stamps(n: int) -> list[float]:
    return [round(ManualClock.DEFAULT_START + k / 10, 3) for k in range(n)]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_sigkill_loses_nothing_that_was_flushed(tmp_path: Path, kind: str) -> None:
    if kind == "parquet":
        pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / f"log.{kind}"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "stream", kind, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        reports = [int(child.stdout.readline()) for _ in range(5)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()  # type: ignore[union-attr]
    flushed = reports[-1]
    assert flushed > 0
    if kind == "csv":
        text = path.read_bytes().decode("utf-8")
        if not text.endswith("\r\n"):  # a kill mid-write leaves at most a partial last line
            text = text[: text.rfind("\r\n") + 2]
        rows = list(csv.reader(text.splitlines()))[1:]
        stamps = [round(datetime.fromisoformat(r[0]).timestamp(), 3) for r in rows]
    else:
        assert not path.exists()  # the run never closed: its parts are all there is
        parts = ParquetWriter.parts_dir(path)
        direct = pq.read_table(parts).num_rows  # readable as a dataset as they are
        ParquetWriter.recover(path)
        column = pq.read_table(path).column("timestamp").to_pylist()
        stamps = [round(ts.timestamp(), 3) for ts in column]
        assert direct == len(stamps)
    assert len(stamps) >= flushed
    assert stamps == _expected_stamps(len(stamps))  # in order, no gap, no duplicate


def test_full_disk_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    done = subprocess.run(
        [sys.executable, str(CHILD), "full", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["first"] == 11
    assert report["errno"] == 27  # EFBIG: the kernel refused to grow the file
    assert f"CsvWriter cannot write {path}: File too large" in report["flush_error"]
    assert "10 readings waiting in memory" in report["flush_error"]
    assert report["size_unchanged"] and report["pending"] == 10 and report["running"]
    assert "File too large" in report["check_error"] and report["on_error"]
    assert report["second"] == 10  # space again: the waiting readings went out
    assert "File too large" in report["stop_error"] and len(report["unwritten"]) == 5
    rows = read_csv(path)[1:]
    stamps = [round(datetime.fromisoformat(r[0]).timestamp(), 3) for r in rows]
    assert stamps == _expected_stamps(21)
