"""A small device catalogue (a MetadataSource) shared by the DevDB tests."""

from __future__ import annotations

from pacsys.metadata import (
    AlarmBlockInfo,
    AlarmInfo,
    AlarmText,
    ControlCommandDef,
    DeviceInfoResult,
    ExtStatusBitDef,
    PropertyInfo,
    StatusBitDef,
)

ACLTST = DeviceInfoResult(
    device_index=140013,
    description="ACL test device!",
    reading=PropertyInfo("V", "blip", -500.0, 500.0, 2, 2, (100.0, 1.0, 0.0), is_knobbable=True),
    setting=PropertyInfo("", None, 0.0, 10.0),
    control=(ControlCommandDef(0, "Reset", "Reset device"), ControlCommandDef(1, "On", "Turn on")),
    status_bits=(StatusBitDef(1, 1, False, "On", "On/Off", "On", "Off", 1, "", 2, ""),),
    ext_status_bits=(ExtStatusBitDef(7, "Power", "Off", "On", 2, 1),),
)
OUTTMP = DeviceInfoResult(27235, "Outdoor temperature", status_bits=(), ext_status_bits=())
ALARM = AlarmInfo("Z:ACLTST", AlarmBlockInfo(di=140013, pi=12, min_or_nom=-5), 1234)
TEXT = AlarmText(1234, 22, 5, text="Temperature too high!!", url="https://example.invalid/1")


class Catalogue:
    """A small in-test MetadataSource (case-insensitive names) that counts lookups."""

    def __init__(self) -> None:
        self.devices = {"Z:ACLTST": ACLTST, "M:OUTTMP": OUTTMP}
        self.lookups: list[str] = []

    def device_info(self, name: str) -> DeviceInfoResult | None:
        self.lookups.append(name)
        return self.devices.get(name.upper())

    def alarm_info(self, name: str) -> AlarmInfo | None:
        return ALARM if name.upper() == "Z:ACLTST" else None

    def alarm_text(self, alarm_text_id: int) -> AlarmText | None:
        return TEXT if alarm_text_id == 1234 else None
