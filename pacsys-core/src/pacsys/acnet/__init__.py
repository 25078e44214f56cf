"""ACNET status codes, their messages, and the protocol-level exceptions.

Every named status code (``ACNET_REQTMO``, ``DPM_NO_SUCH_DEVICE``, ...) is a module constant
holding its composite value; see :mod:`pacsys.acnet.status`.

The raw-ACNET client names (``AcnetConnectionTCP``, ``RetdatClient``, ``FTPClient``,
``DPMAcnet``, ...) and the submodules ``constants``, ``rad50``, ``packet``, ``connection_sync``,
``retdat``, ``gets32``, ``ftp``, ``ftp_spec`` and ``dpm_acnet`` come from the pacsys-acnet
distribution, loaded on first use; without it they raise ImportError naming the install.
"""

from typing import Any

from pacsys._provided import provided_module
from pacsys.acnet import status
from pacsys.acnet.errors import (
    AcnetError,
    AcnetNodeError,
    AcnetRequestRejectedError,
    AcnetTaskError,
    AcnetTimeoutError,
    AcnetUnavailableError,
)
from pacsys.acnet.status import *  # noqa: F403  (facilities, helpers and the named codes)

__all__ = [
    "AcnetError",
    "AcnetNodeError",
    "AcnetRequestRejectedError",
    "AcnetTaskError",
    "AcnetTimeoutError",
    "AcnetUnavailableError",
    "status",
]
__all__.extend(status.__all__)


# Public names of the raw-ACNET client, provided by pacsys-acnet (its ``pacsys_acnet`` package).
_PROVIDED = frozenset(
    {
        "ACNET_CLIENT_PORT",
        "ACNET_HEADER_SIZE",
        "ACNET_PORT",
        "ACNET_TCP_PORT",
        "ACSYS_PROXY_HOST",
        "DEFAULT_TIMEOUT",
        "AcnetCancel",
        "AcnetConnectionTCP",
        "AcnetConnectionUDP",
        "AcnetMessage",
        "AcnetPacket",
        "AcnetReply",
        "AcnetRequest",
        "AcnetRequestContext",
        "ClockSample",
        "ClockTrigger",
        "DPMAcnet",
        "DPMError",
        "DPMReading",
        "DeviceTrigger",
        "ExternalSample",
        "ExternalTrigger",
        "FTPClassCode",
        "FTPClassInfo",
        "FTPClient",
        "FTPDataPoint",
        "FTPDevice",
        "FTPSpec",
        "FTPStream",
        "Gets32Client",
        "Gets32Event",
        "Gets32Header",
        "Gets32Reply",
        "NodeStats",
        "PeriodicSample",
        "ReArmSpec",
        "ReadDevice",
        "ReadStream",
        "ReadValue",
        "ReplyId",
        "RequestId",
        "RetdatClient",
        "RetdatReply",
        "SnapClassInfo",
        "SnapshotHandle",
        "SnapshotSpec",
        "SnapshotState",
        "StateTrigger",
        "decode",
        "decode_stripped",
        "encode",
        "get_ftp_class_info",
        "get_snap_class_info",
        "node_parts",
        "node_value",
        "parse_ftp_event",
    }
)


def _transport() -> Any:
    """The pacsys_acnet package (by name), or ImportError saying which distribution to install."""
    return provided_module("pacsys_acnet", "pacsys-acnet", f"{__name__} client names")


def __getattr__(name: str) -> Any:
    """Raw-ACNET client names, resolved from pacsys-acnet on first use (and the status
    table ``CODES``, built on first use)."""
    if name == "CODES":
        return status.CODES
    if name not in _PROVIDED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_transport(), name)
    globals()[name] = value
    return value
