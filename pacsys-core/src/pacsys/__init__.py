"""pacsys: read, write and stream ACNET device data.

>>> import pacsys
>>> pacsys.read("M:OUTTMP")                      # doctest: +SKIP
>>> with pacsys.subscribe(["M:OUTTMP@p,1000"]) as sub:   # doctest: +SKIP
...     for reading, _ in sub.readings(timeout=5):
...         print(reading.value, reading.units)

Transports (DPM, gRPC, DMQ, ACL, SSH) are separate distributions that register
themselves as plugins; nothing is imported or connected until first use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

from pacsys._simple import (
    acl,
    configure,
    dmq,
    dpm,
    dpm_http,
    get,
    get_many,
    grpc,
    read,
    read_many,
    shutdown,
    subscribe,
    write,
    write_many,
)
from pacsys.auth import Auth, JWTAuth, KerberosAuth
from pacsys.backends import Backend
from pacsys.device import ArrayDevice, Device, ScalarDevice, TextDevice
from pacsys.digital_status import DigitalStatus, StatusBit
from pacsys.errors import (
    ACLError,
    AuthenticationError,
    DeviceError,
    PacsysError,
    ReadError,
    ScalingError,
)
from pacsys.hookspecs import hookimpl
from pacsys.types import (
    BackendCapability,
    BasicControl,
    DeviceMeta,
    DispatchMode,
    Reading,
    SubscriptionHandle,
    ValueType,
    WriteResult,
)
from pacsys.verify import Verify

try:
    __version__ = importlib.metadata.version("pacsys-core")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
    __version__ = "0+unknown"

# Submodules loaded on first attribute access, so ``import pacsys`` stays light and
# ``pacsys.ssh.SSHClient(...)`` / ``pacsys.devdb()`` work without a separate import.
_LAZY_SUBMODULES = frozenset(
    {
        "acl_session",
        "alarm_block",
        "devdb",
        "ramp",
        "scaling",
        "sim",
        "ssh",
        "supervised",
        "testing",
    }
)
# Names exported from submodules that are only imported when first used.
_LAZY_NAMES = {
    "Scaler": "scaling",
    **dict.fromkeys(
        (
            "AlarmBlock",
            "AlarmFlags",
            "AnalogAlarm",
            "DataLength",
            "DataType",
            "DigitalAlarm",
            "FTD",
            "LimitType",
        ),
        "alarm_block",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"pacsys.{name}")
    module = _LAZY_NAMES.get(name)
    if module is not None:
        return getattr(importlib.import_module(f"pacsys.{module}"), name)
    raise AttributeError(f"module 'pacsys' has no attribute {name!r}")


__all__ = [
    "FTD",
    "ACLError",
    "AlarmBlock",
    "AlarmFlags",
    "AnalogAlarm",
    "ArrayDevice",
    "Auth",
    "AuthenticationError",
    "Backend",
    "BackendCapability",
    "BasicControl",
    "DataLength",
    "DataType",
    "Device",
    "DeviceError",
    "DeviceMeta",
    "DigitalAlarm",
    "DigitalStatus",
    "DispatchMode",
    "JWTAuth",
    "KerberosAuth",
    "LimitType",
    "PacsysError",
    "ReadError",
    "Reading",
    "ScalarDevice",
    "Scaler",
    "ScalingError",
    "StatusBit",
    "SubscriptionHandle",
    "TextDevice",
    "ValueType",
    "Verify",
    "WriteResult",
    "__version__",
    "acl",
    "configure",
    "dmq",
    "dpm",
    "dpm_http",
    "get",
    "get_many",
    "grpc",
    "hookimpl",
    "read",
    "read_many",
    "shutdown",
    "subscribe",
    "write",
    "write_many",
]
