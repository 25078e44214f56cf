"""Front-end classes of FTPMAN: what rates and sizes each plot/snapshot class supports.

``docs/protocols/acnet.md`` §8.2. The class code comes from the class query (typecode 1).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["FTPClassInfo", "SnapClassInfo", "get_ftp_class_info", "get_snap_class_info"]


class FTPClassInfo(NamedTuple):
    code: int
    description: str
    max_rate: int
    from_pool: bool


class SnapClassInfo(NamedTuple):
    code: int
    description: str
    max_rate: int
    max_points: int
    has_timestamps: bool
    supports_triggers: bool
    skip_first_point: bool
    retrieval_max: int


_FTP = {
    1: FTPClassInfo(1, "C190 MADC channel (old)", 720, False),
    2: FTPClassInfo(2, "Internet Rack Monitor (old)", 1000, False),
    3: FTPClassInfo(3, "MRRF MAC MADC channel (old)", 100, False),
    4: FTPClassInfo(4, "Booster MAC MADC channel (old)", 15, True),
    5: FTPClassInfo(5, "15 Hz Linac/DA (old)", 15, False),
    6: FTPClassInfo(6, "1 Hz from data pool FRIG (old)", 1, True),
    7: FTPClassInfo(7, "15 Hz from data pool (old)", 15, True),
    8: FTPClassInfo(8, "60 Hz internal (old)", 60, False),
    9: FTPClassInfo(9, "68K MECAR (old)", 1440, False),
    10: FTPClassInfo(10, "Tev Collimators (old)", 240, False),
    11: FTPClassInfo(11, "C190 MADC channel", 720, False),
    12: FTPClassInfo(12, "Internet Rack Monitor", 1000, False),
    13: FTPClassInfo(13, "MRRF MAC MADC channel", 100, False),
    14: FTPClassInfo(14, "Booster MAC MADC channel", 15, True),
    15: FTPClassInfo(15, "15 Hz (Linac, D/A's etc.)", 15, False),
    16: FTPClassInfo(16, "C290 MADC channel", 1440, False),
    17: FTPClassInfo(17, "15 Hz from data pool", 15, True),
    18: FTPClassInfo(18, "60 Hz internal", 60, False),
    19: FTPClassInfo(19, "68K (MECAR)", 1440, False),
    20: FTPClassInfo(20, "Tev Collimators", 240, False),
    21: FTPClassInfo(21, "IRM 1KHz Digitizer", 1000, False),
    22: FTPClassInfo(22, "DAE 1 Hz", 1, True),
    23: FTPClassInfo(23, "DAE 15 Hz", 15, True),
}

_SNAP = {
    1: SnapClassInfo(1, "C190 MADC channel (old)", 66666, 2048, True, False, True, 512),
    2: SnapClassInfo(2, "1440 Hz internal (old)", 1440, 2048, True, False, True, 512),
    4: SnapClassInfo(4, "15 Hz internal (old)", 15, 2048, True, False, True, 512),
    5: SnapClassInfo(5, "60 Hz internal (old)", 60, 2048, True, False, True, 512),
    6: SnapClassInfo(6, "Quick Digitizer Linac (old)", 10000000, 4096, False, False, True, 512),
    7: SnapClassInfo(7, "720 Hz internal (old)", 720, 2048, True, False, True, 512),
    8: SnapClassInfo(8, "New FRIG Trigger device", 0, 0, False, False, False, 0),
    9: SnapClassInfo(9, "New FRIG circ buffer (old)", 1000, 16384, True, True, True, 512),
    11: SnapClassInfo(11, "C190 MADC channel", 66666, 2048, True, False, True, 512),
    12: SnapClassInfo(12, "1440 Hz internal", 1440, 2048, True, False, True, 512),
    13: SnapClassInfo(13, "C290 MADC channel", 90000, 2048, True, False, True, 512),
    14: SnapClassInfo(14, "15 Hz internal", 15, 2048, True, False, True, 512),
    15: SnapClassInfo(15, "60 Hz internal", 60, 2048, True, False, True, 512),
    16: SnapClassInfo(16, "Quick Digitizer (Linac)", 10000000, 4096, False, False, True, 512),
    17: SnapClassInfo(17, "720 Hz internal", 720, 2048, True, False, True, 512),
    18: SnapClassInfo(18, "New FRIG circ buffer", 1000, 16384, True, True, True, 512),
    19: SnapClassInfo(19, "Swift Digitizer", 800000, 4096, False, False, True, 512),
    20: SnapClassInfo(20, "IRM 20 MHz Quick Digitizer", 20000000, 4096, False, False, True, 512),
    21: SnapClassInfo(21, "IRM 1KHz Digitizer", 1000, 4096, False, False, True, 512),
    22: SnapClassInfo(22, "DAE 1 Hz", 1, 4096, True, True, True, 4096),
    23: SnapClassInfo(23, "DAE 15 Hz", 15, 4096, True, True, True, 4096),
    24: SnapClassInfo(24, "IRM 12.5KHz Digitizer", 12500, 4096, False, False, True, 512),
    25: SnapClassInfo(25, "IRM 10KHz Digitizer", 10000, 4096, False, False, True, 512),
    26: SnapClassInfo(26, "IRM 10MHz Digitizer", 10000000, 4096, False, False, True, 512),
    28: SnapClassInfo(28, "New Booster BLM", 12500, 4096, False, False, True, 512),
}


def get_ftp_class_info(code: int) -> FTPClassInfo | None:
    return _FTP.get(code)


def get_snap_class_info(code: int) -> SnapClassInfo | None:
    return _SNAP.get(code)
