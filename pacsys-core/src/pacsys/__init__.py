"""pacsys: read, write and stream ACNET device data.

>>> import pacsys
>>> pacsys.read("M:OUTTMP")                      # doctest: +SKIP
>>> with pacsys.subscribe(["M:OUTTMP@p,1000"]) as sub:   # doctest: +SKIP
...     for reading, _ in sub.readings(timeout=5):
...         print(reading.value, reading.units)

``import pacsys`` only reads the ``PACSYS_*`` settings from the environment (a malformed
number fails here); every public name below is imported on first use, so scripts and
command-line tools start fast. Transports (DPM, gRPC, DMQ, ACL, SSH) are separate
distributions that register themselves as plugins; a name one of them provides says
which distribution to install when it is missing.
"""

from __future__ import annotations

from pacsys import config as _config

_config.load_environment()

# Public name -> the core module that defines it.
_CORE_NAMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "acl",
            "configure",
            "dmq",
            "dpm",
            "dpm_http",
            "get",
            "get_many",
            "grpc",
            "read",
            "read_many",
            "shutdown",
            "subscribe",
            "write",
            "write_many",
        ),
        "pacsys._simple",
    ),
    **dict.fromkeys(("Auth", "JWTAuth", "KerberosAuth"), "pacsys.auth"),
    "Backend": "pacsys.backends",
    **dict.fromkeys(("ArrayDevice", "Device", "ScalarDevice", "TextDevice"), "pacsys.device"),
    **dict.fromkeys(("DigitalStatus", "StatusBit"), "pacsys.digital_status"),
    "DataRequest": "pacsys.drf3",
    **dict.fromkeys(
        (
            "ACLError",
            "AuthenticationError",
            "DeviceError",
            "PacsysError",
            "ReadError",
            "ScalingError",
        ),
        "pacsys.errors",
    ),
    "hookimpl": "pacsys.hookspecs",
    **dict.fromkeys(
        (
            "ControlCommandDef",
            "DeviceInfoResult",
            "ExtStatusBitDef",
            "PropertyInfo",
            "StatusBitDef",
        ),
        "pacsys.metadata",
    ),
    **dict.fromkeys(
        (
            "BackendCapability",
            "BasicControl",
            "DeviceMeta",
            "DeviceSpec",
            "DispatchMode",
            "ErrorCallback",
            "Reading",
            "ReadingCallback",
            "SubscriptionHandle",
            "Value",
            "ValueType",
            "WriteResult",
            "WriteSettings",
        ),
        "pacsys.types",
    ),
    "Verify": "pacsys.verify",
    "CombinedStream": "pacsys.exp.combined",
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
        "pacsys.alarm_block",
    ),
    "Scaler": "pacsys.scaling",
}

# Public name -> (module, distribution that provides it).
_PROVIDED_NAMES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "CommandResult",
            "RemoteProcess",
            "SFTPSession",
            "SSHClient",
            "SSHCommandError",
            "SSHConnectionError",
            "SSHError",
            "SSHHop",
            "SSHTimeoutError",
            "Tunnel",
        ),
        ("pacsys.ssh", "pacsys-ssh"),
    ),
    "ACLSession": ("pacsys.acl_session", "pacsys-ssh"),
    "DevDBClient": ("pacsys.devdb", "pacsys-grpc"),
    "SupervisedServer": ("pacsys.supervised", "pacsys-grpc"),
    "create_server": ("pacsys_mcp", "pacsys-mcp"),
}

# Submodules reachable as attributes without their own import (``pacsys.ssh.SSHClient``).
_SUBMODULES = frozenset(
    {
        "acl_session",
        "acnet",
        "alarm_block",
        "devdb",
        "exp",
        "ramp",
        "scaling",
        "sim",
        "ssh",
        "supervised",
        "testing",
    }
)

# Names ``from pacsys import *`` leaves out: pacsys 0.3.0 keeps ``create_server`` lazy-only.
_NOT_STARRED = frozenset({"create_server"})


def __getattr__(name: str) -> object:
    import importlib

    if name in _CORE_NAMES:
        value = getattr(importlib.import_module(_CORE_NAMES[name]), name)
    elif name in _PROVIDED_NAMES:
        module_name, distribution = _PROVIDED_NAMES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            from pacsys._provided import missing_distribution

            raise missing_distribution(f"pacsys.{name}", distribution, exc) from exc
        value = getattr(module, name)
    elif name in _SUBMODULES:
        return importlib.import_module(f"pacsys.{name}")
    elif name == "__version__":
        from pacsys._provided import distribution_version

        value = distribution_version("pacsys-core") or "0+unknown"
    elif name == "__all__":
        value = _public_names()
    else:
        raise AttributeError(f"module 'pacsys' has no attribute {name!r}")
    globals()[name] = value
    return value


def _public_names() -> list[str]:
    """What ``from pacsys import *`` brings: every name whose module is installed."""
    import os
    from importlib.util import find_spec

    here = os.path.dirname(__file__)

    def in_core(module: str) -> bool:  # without importing the module or its parents
        path = os.path.join(here, *module.split(".")[1:])
        return os.path.exists(path + ".py") or os.path.exists(os.path.join(path, "__init__.py"))

    names = [name for name, module in _CORE_NAMES.items() if in_core(module)]
    names += [
        name
        for name, (_, distribution) in _PROVIDED_NAMES.items()
        if name not in _NOT_STARRED and find_spec(distribution.replace("-", "_")) is not None
    ]
    return sorted([*names, "__version__", "acnet"])


def __dir__() -> list[str]:
    return sorted({*globals(), *_CORE_NAMES, *_PROVIDED_NAMES, *_SUBMODULES, "__version__"})
