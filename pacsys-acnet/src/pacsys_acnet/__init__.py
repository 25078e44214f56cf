"""pacsys-acnet: raw ACNET through the ACNET daemon ``acnetd``.

Tasks with RAD50 names exchange requests, replies and unsolicited messages through
acnetd (over the TCP bridge of acsys-proxy or UDP to a local daemon). On top of it:
RETDAT and GETS32 (raw property reads), FTPMAN (fast time plots and snapshots) and DPM
over ACNET. Protocol notes: ``docs/protocols/acnet.md``.

Layers: :mod:`pacsys_acnet.codec` (pure bytes <-> objects), :mod:`pacsys_acnet.protocol`
(socket-free connection engines), the sync drivers (:mod:`pacsys_acnet.connection`), the
protocol clients (:mod:`pacsys_acnet.retdat`, :mod:`~pacsys_acnet.gets32`,
:mod:`~pacsys_acnet.ftp`, :mod:`~pacsys_acnet.dpm_acnet`), the ``acnet`` backend and the
acnetd emulator (:mod:`pacsys_acnet.server`). Public names load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module that defines it (loaded on first access so the plugin import stays cheap)
_NAMES: dict[str, str] = {
    **dict.fromkeys(
        [
            "ACNET_CLIENT_PORT",
            "ACNET_HEADER_SIZE",
            "ACNET_PORT",
            "ACNET_TCP_PORT",
            "ACSYS_PROXY_HOST",
            "DEFAULT_TIMEOUT",
        ],
        "pacsys_acnet.constants",
    ),
    **dict.fromkeys(["decode", "decode_stripped", "encode"], "pacsys_acnet.codec.rad50"),
    **dict.fromkeys(
        [
            "AcnetCancel",
            "AcnetMessage",
            "AcnetPacket",
            "AcnetReply",
            "AcnetRequest",
            "ReplyId",
            "RequestId",
            "node_parts",
            "node_value",
        ],
        "pacsys_acnet.codec.packet",
    ),
    **dict.fromkeys(["NodeStats"], "pacsys_acnet.codec.commands"),
    **dict.fromkeys(
        ["AcnetConnectionTCP", "AcnetConnectionUDP", "AcnetRequestContext"],
        "pacsys_acnet.connection",
    ),
    **dict.fromkeys(["ReadDevice", "ReadValue"], "pacsys_acnet.codec.reads"),
    **dict.fromkeys(["ReadStream"], "pacsys_acnet.stream"),
    **dict.fromkeys(["RetdatClient", "RetdatReply"], "pacsys_acnet.retdat"),
    **dict.fromkeys(
        ["Gets32Client", "Gets32Event", "Gets32Header", "Gets32Reply"], "pacsys_acnet.gets32"
    ),
    **dict.fromkeys(
        [
            "FTPClassCode",
            "FTPClassInfo",
            "FTPClient",
            "FTPDataPoint",
            "FTPDevice",
            "FTPStream",
            "SnapClassInfo",
            "SnapshotHandle",
            "SnapshotState",
            "get_ftp_class_info",
            "get_snap_class_info",
        ],
        "pacsys_acnet.ftp",
    ),
    **dict.fromkeys(
        [
            "ClockSample",
            "ClockTrigger",
            "DeviceTrigger",
            "ExternalSample",
            "ExternalTrigger",
            "FTPSpec",
            "PeriodicSample",
            "ReArmSpec",
            "SnapshotSpec",
            "StateTrigger",
            "parse_ftp_event",
        ],
        "pacsys_acnet.codec.ftp_spec",
    ),
    **dict.fromkeys(["DPMAcnet", "DPMError", "DPMReading"], "pacsys_acnet.dpm_acnet"),
    **dict.fromkeys(["AcnetBackend"], "pacsys_acnet.backend"),
    **dict.fromkeys(["AcnetServer"], "pacsys_acnet.server"),
}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES})
