"""Where a DataLogger puts readings: CSV and Parquet files, with optional rotation.

Both writers leave complete, readable files behind after every ``write_readings`` call, so
a process killed at any moment (SIGKILL included) loses nothing it had written:

* CSV appends each batch with one unbuffered write; a kill can at most leave a partial
  last line.
* Parquet writes each batch as its own small file in ``<path>.parts/`` (written under a
  hidden name, then renamed); ``close()`` (and rotation) merges the parts into ``<path>``.
  After a crash, ``ParquetWriter.recover(path)`` does that merge; until then pandas and
  pyarrow read the parts directory directly.

Rotation (``max_bytes``, ``rotate_every`` seconds of reading time) writes numbered files
``<stem>.0000<suffix>``, ``<stem>.0001<suffix>``, ... instead of ``path``.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pacsys.exp._common import require
from pacsys.types import Reading, ValueType

__all__ = ["CsvWriter", "LogWriter", "ParquetWriter"]

CSV_HEADER = ["timestamp", "drf", "value", "units", "facility_code", "error_code", "message"]


@runtime_checkable
class LogWriter(Protocol):
    """Anything a DataLogger can hand batches of readings to."""

    def write_readings(self, readings: list[Reading]) -> None: ...

    def close(self) -> None: ...


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default)


def _text(reading: Reading) -> str:
    """A reading's value as one text cell (the CSV ``value`` column)."""
    value = reading.value
    if value is None:
        return ""
    kind = reading.value_type
    if kind is ValueType.SCALAR:
        return str(value.item() if isinstance(value, np.generic) else value)
    if kind is ValueType.TEXT and isinstance(value, str):
        return value
    if kind is ValueType.RAW and isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind is ValueType.TIMED_SCALAR_ARRAY and not isinstance(value, dict):
        value = {"data": value}
    return _json(value)


class _Segments:
    """The file(s) a writer fills: ``path`` alone, or numbered segments when rotating."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int | None, every: float | None):
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
        if every is not None and not every > 0:
            raise ValueError(f"rotate_every must be > 0 seconds, got {every}")
        self.base = Path(path)
        self.max_bytes = max_bytes
        self.every = every
        self.index = 0
        self.since: float | None = None  # first reading time in the current segment

    @property
    def rotating(self) -> bool:
        return self.max_bytes is not None or self.every is not None

    def path(self) -> Path:
        if not self.rotating:
            return self.base
        return self.base.with_name(f"{self.base.stem}.{self.index:04d}{self.base.suffix}")

    def due(self, size: int, readings: list[Reading]) -> bool:
        """Should the batch ``readings`` start a new segment (current one has ``size`` bytes)?"""
        first = next((r.timestamp for r in readings if r.timestamp is not None), None)
        when = first.timestamp() if first is not None else None
        if self.since is None:
            self.since = when
            return False
        if self.max_bytes is not None and size >= self.max_bytes:
            return True
        return self.every is not None and when is not None and when - self.since >= self.every

    def next(self) -> None:
        self.index += 1
        self.since = None


class CsvWriter:
    """Readings as CSV rows: ``timestamp,drf,value,units,facility_code,error_code,message``.

    The file is created (truncated) at construction with its header; each batch is one
    direct write (``fsync=True`` also forces it to disk, for power loss). A failed write is
    cut back so a retry never duplicates rows, and the error names the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int | None = None,
        rotate_every: float | None = None,
        fsync: bool = False,
    ) -> None:
        self._segments = _Segments(path, max_bytes, rotate_every)
        self._fsync = fsync
        self._fd: int | None = None
        self._disabled: str | None = None
        self._open()

    @property
    def path(self) -> Path:
        """The file being written now."""
        return self._segments.path()

    def _open(self) -> None:
        path = self._segments.path()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._size = 0
        self._write(self._rows([]), header=True)

    def _rows(self, readings: list[Reading]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        for r in readings:
            writer.writerow(
                [
                    r.timestamp.isoformat() if r.timestamp is not None else "",
                    r.drf,
                    _text(r),
                    r.units or "",
                    r.facility_code,
                    r.error_code,
                    r.message or "",
                ]
            )
        return out.getvalue().encode("utf-8")

    def _write(self, data: bytes, *, header: bool = False) -> None:
        if header:
            out = io.StringIO()
            csv.writer(out).writerow(CSV_HEADER)
            data = out.getvalue().encode("utf-8")
        assert self._fd is not None
        view = memoryview(data)
        written = 0
        try:
            while written < len(view):
                written += os.write(self._fd, view[written:])
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            self._undo(exc)
            raise OSError(exc.errno, f"CsvWriter cannot write {self.path}: {exc.strerror}") from exc
        self._size += written

    def _undo(self, exc: OSError) -> None:
        """Cut a partly written batch off again (or refuse all further writes)."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._size)
            os.lseek(self._fd, self._size, os.SEEK_SET)
        except OSError:
            self._disabled = f"CsvWriter disabled: partial batch left in {self.path}"

    def write_readings(self, readings: list[Reading]) -> None:
        if self._disabled is not None:
            raise RuntimeError(self._disabled)
        if self._fd is None:
            raise RuntimeError(f"CsvWriter for {self.path} is closed")
        if not readings:
            return
        if self._segments.rotating and self._segments.due(self._size, readings):
            os.close(self._fd)
            self._segments.next()
            self._open()
            self._segments.due(self._size, readings)
        self._write(self._rows(readings))

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __repr__(self) -> str:
        return f"CsvWriter({str(self.path)!r})"


class ParquetWriter:
    """Readings as Parquet (zstd), one row group per batch; see the module notes on parts.

    Columns: ``timestamp`` (us, UTC), ``drf``, ``value_type``, ``value`` (float64),
    ``int_value`` (int64), ``value_array`` (list<float64>), ``value_text``, ``error_code``,
    ``units``, ``cycle``, ``facility_code``, ``message``; exactly one value column is set
    for a reading with a value.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int | None = None,
        rotate_every: float | None = None,
        compression: str = "zstd",
    ) -> None:
        try:
            require("pyarrow.parquet", "parquet", "ParquetWriter")
        except ImportError as exc:
            raise ImportError(
                "pyarrow is required for ParquetWriter. Install with: pip install pyarrow"
                " (or 'pacsys-core[parquet]')"
            ) from exc
        self._segments = _Segments(path, max_bytes, rotate_every)
        self._compression = compression
        self._closed = False
        self._size = 0
        self._part = 0
        self._start_segment()

    @property
    def path(self) -> Path:
        """The file the current segment becomes at close/rotation."""
        return self._segments.path()

    @staticmethod
    def parts_dir(path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        return path.with_name(path.name + ".parts")

    def _start_segment(self) -> None:
        parts = self.parts_dir(self.path)
        if parts.exists():
            raise FileExistsError(
                f"{parts} holds parts of an interrupted run; merge them with "
                f"ParquetWriter.recover({str(self.path)!r}) or remove them"
            )
        parts.mkdir()  # fails at once for an unwritable or missing directory
        self._size = 0
        self._part = 0

    def write_readings(self, readings: list[Reading]) -> None:
        if self._closed:
            raise RuntimeError(f"ParquetWriter for {self.path} is closed")
        if not readings:
            return
        pq = require("pyarrow.parquet", "parquet", "ParquetWriter")
        if self._segments.rotating and self._segments.due(self._size, readings):
            self._finish_segment()
            self._segments.next()
            self._start_segment()
            self._segments.due(self._size, readings)
        table = _table(readings)
        parts = self.parts_dir(self.path)
        final = parts / f"part-{self._part:06d}.parquet"
        temporary = parts / f".part-{self._part:06d}.parquet.tmp"
        try:
            pq.write_table(table, temporary, compression=self._compression)
            os.replace(temporary, final)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise OSError(exc.errno, f"ParquetWriter cannot write {final}: {exc.strerror}") from exc
        self._part += 1
        self._size += final.stat().st_size

    def _finish_segment(self) -> None:
        self.recover(self.path)

    @classmethod
    def recover(cls, path: str | os.PathLike[str]) -> Path | None:
        """Merge ``<path>.parts/`` into ``path`` (one row group per part); None if no parts.

        Used by close() and rotation, and after a crash. An existing ``path`` is replaced.
        """
        pq = require("pyarrow.parquet", "parquet", "ParquetWriter.recover()")
        path = Path(path)
        parts_dir = cls.parts_dir(path)
        if not parts_dir.is_dir():
            return None
        parts = sorted(parts_dir.glob("part-*.parquet"))
        if not parts:
            shutil.rmtree(parts_dir)
            return None
        temporary = path.with_name(f".{path.name}.tmp")
        with pq.ParquetWriter(temporary, _schema(), compression="zstd") as out:
            for part in parts:
                out.write_table(pq.read_table(part, schema=_schema()))
        os.replace(temporary, path)
        shutil.rmtree(parts_dir)
        return path

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._finish_segment()

    def __repr__(self) -> str:
        return f"ParquetWriter({str(self.path)!r})"


@functools.cache
def _schema() -> Any:
    """The Parquet schema (built on first use: pyarrow is optional)."""
    pa = require("pyarrow", "parquet", "ParquetWriter")
    return pa.schema(
        [
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("drf", pa.string()),
            ("value_type", pa.string()),
            ("value", pa.float64()),
            ("int_value", pa.int64()),
            ("value_array", pa.list_(pa.float64())),
            ("value_text", pa.string()),
            ("error_code", pa.int16()),
            ("units", pa.string()),
            ("cycle", pa.int64()),
            ("facility_code", pa.int16()),
            ("message", pa.string()),
        ]
    )


def _table(readings: list[Reading]) -> Any:
    pa = require("pyarrow", "parquet", "ParquetWriter")
    columns: dict[str, list[Any]] = {name: [] for name in _schema().names}
    for r in readings:
        value, kind = r.value, r.value_type
        number = integer = array = text = None
        if value is not None:
            if kind is ValueType.SCALAR and isinstance(value, bool | int | np.integer | np.bool_):
                integer = int(value)
            elif kind is ValueType.SCALAR and isinstance(value, float | np.floating):
                number = float(value)
            elif (
                kind is ValueType.SCALAR_ARRAY
                and isinstance(value, np.ndarray | list)
                and np.ndim(value) == 1
            ):
                array = np.asarray(value, dtype=np.float64).tolist()
            else:
                text = _text(r)
        columns["timestamp"].append(r.timestamp)
        columns["drf"].append(r.drf)
        columns["value_type"].append(kind.value if kind is not None else None)
        columns["value"].append(number)
        columns["int_value"].append(integer)
        columns["value_array"].append(array)
        columns["value_text"].append(text)
        columns["error_code"].append(r.error_code)
        columns["units"].append(r.units)
        columns["cycle"].append(r.cycle)
        columns["facility_code"].append(r.facility_code)
        columns["message"].append(r.message)
    return pa.table(columns, schema=_schema())
