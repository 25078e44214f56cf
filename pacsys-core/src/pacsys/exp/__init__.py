"""Experiment helpers for scripts and notebooks: monitors, scans, watches and data logging.

``import pacsys.exp`` explicitly (``import pacsys`` does not load it). Everything is
synchronous and works with any Backend (the global one unless ``backend=`` is given);
against a simulator on a :class:`~pacsys.sim.ManualClock`, waits advance simulated time.
pandas (``pacsys-core[dataframe]``), pyarrow (``[parquet]``) and matplotlib (``[plot]``)
are optional; only the methods that need them ask for them. See docs/exp.md.
"""

from pacsys.exp.combined import CombinedStream
from pacsys.exp.fresh import FreshResult, read_fresh, watch
from pacsys.exp.logger import DataLogger, DataLoggerError
from pacsys.exp.monitor import ChannelHealth, Monitor
from pacsys.exp.result import ChannelData, MonitorResult
from pacsys.exp.scan import scan
from pacsys.exp.scan_result import ScanRestoreError, ScanResult
from pacsys.exp.writers import CsvWriter, LogWriter, ParquetWriter

__all__ = [
    "ChannelData",
    "ChannelHealth",
    "CombinedStream",
    "CsvWriter",
    "DataLogger",
    "DataLoggerError",
    "FreshResult",
    "LogWriter",
    "Monitor",
    "MonitorResult",
    "ParquetWriter",
    "ScanRestoreError",
    "ScanResult",
    "read_fresh",
    "scan",
    "watch",
]
