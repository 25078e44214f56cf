"""Alarm blocks: the 20-byte ANALOG/DIGITAL alarm data of a device, and editing it safely.

    >>> from pacsys.alarm_block import AnalogAlarm
    >>> with AnalogAlarm.modify("Z:ACLTST") as alarm:      # doctest: +SKIP
    ...     alarm.maximum = 80.0          # engineering units, scaled by DPM
    ...     alarm.bypass = True
    >>> AnalogAlarm.read("Z:ACLTST").bypass               # doctest: +SKIP
    True

``read`` gets the raw block and DPM's structured reading in one request; ``modify`` writes
once on a clean exit (nothing when the body raises); a refused write raises RuntimeError.
Decoding and encoding are byte-exact, so an untouched block always writes back unchanged.
"""

from pacsys.alarm_block.block import (
    AlarmBlock,
    AlarmFlags,
    AnalogAlarm,
    DataLength,
    DataType,
    DigitalAlarm,
    LimitType,
)
from pacsys.alarm_block.ftd import FTD

__all__ = [
    "FTD",
    "AlarmBlock",
    "AlarmFlags",
    "AnalogAlarm",
    "DataLength",
    "DataType",
    "DigitalAlarm",
    "LimitType",
]
