"""``import pacsys`` stays cheap, and every name pacsys 0.3.0 exports resolves here, lazily."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import pacsys

#: Everything ``import pacsys`` may load (besides what the interpreter loaded before it).
#: A new entry here is a start-up cost every script and command-line tool pays: import
#: the new dependency where it is used instead.
IMPORT_PACSYS_LOADS = frozenset({"__future__", "math", "pacsys", "pacsys.config"})

#: ``pacsys.__all__`` of pacsys 0.3.0, plus its lazy-only ``create_server``.
REFERENCE_NAMES = [
    "ACLError",
    "ACLSession",
    "AlarmBlock",
    "AlarmFlags",
    "AnalogAlarm",
    "ArrayDevice",
    "Auth",
    "AuthenticationError",
    "BackendCapability",
    "BasicControl",
    "CombinedStream",
    "CommandResult",
    "ControlCommandDef",
    "DataLength",
    "DataRequest",
    "DataType",
    "DevDBClient",
    "Device",
    "DeviceError",
    "DeviceInfoResult",
    "DeviceMeta",
    "DeviceSpec",
    "DigitalAlarm",
    "DigitalStatus",
    "DispatchMode",
    "ErrorCallback",
    "ExtStatusBitDef",
    "FTD",
    "JWTAuth",
    "KerberosAuth",
    "LimitType",
    "PacsysError",
    "PropertyInfo",
    "ReadError",
    "Reading",
    "ReadingCallback",
    "RemoteProcess",
    "SFTPSession",
    "SSHClient",
    "SSHCommandError",
    "SSHConnectionError",
    "SSHError",
    "SSHHop",
    "SSHTimeoutError",
    "ScalarDevice",
    "Scaler",
    "ScalingError",
    "StatusBit",
    "StatusBitDef",
    "SubscriptionHandle",
    "SupervisedServer",
    "TextDevice",
    "Tunnel",
    "Value",
    "ValueType",
    "Verify",
    "WriteResult",
    "WriteSettings",
    "__version__",
    "acl",
    "acnet",
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
    "create_server",
]

#: Names of core modules that other work adds (operator tools, experiment helpers); until
#: then they name their missing module.
NOT_YET_IN_CORE = {"pacsys.alarm_block", "pacsys.scaling", "pacsys.exp.combined"}

#: Reference names whose code lives in a transport distribution (or pacsys-mcp).
PROVIDED_NAMES = [name for name in REFERENCE_NAMES if name in pacsys._PROVIDED_NAMES]
CORE_NAMES = [name for name in REFERENCE_NAMES if name not in pacsys._PROVIDED_NAMES]


def run_python(code: str, *, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _installed(distribution: str) -> bool:
    """Whether ``distribution``'s import package is importable here (without importing it)."""
    return importlib.util.find_spec(distribution.replace("-", "_")) is not None


def test_import_pacsys_loads_only_the_pinned_modules() -> None:
    code = (
        "import sys, json; before = set(sys.modules); import pacsys; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    loaded = set(json.loads(run_python(code)))
    new = sorted(loaded - IMPORT_PACSYS_LOADS)
    assert not new, f"import pacsys now also loads: {', '.join(new)}"


def test_names_load_their_module_on_first_use() -> None:
    code = (
        "import sys, pacsys; r = pacsys.Reading; print('numpy' in sys.modules, "
        "'pacsys.device' in sys.modules); pacsys.Device; print('pacsys.device' in sys.modules)"
    )
    assert run_python(code).split() == ["False", "False", "True"]


def _core_module_present(module: str) -> bool:
    path = Path(pacsys.__file__).parent.joinpath(*module.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_reference_names_are_core_or_provided() -> None:
    known = {*pacsys._CORE_NAMES, *pacsys._PROVIDED_NAMES, *pacsys._SUBMODULES, "__version__"}
    assert [name for name in REFERENCE_NAMES if name not in known] == []


@pytest.mark.parametrize("name", CORE_NAMES)
def test_every_core_reference_name_resolves(name: str) -> None:
    module = pacsys._CORE_NAMES.get(name)
    if module in NOT_YET_IN_CORE and not _core_module_present(module):
        with pytest.raises(ModuleNotFoundError):
            getattr(pacsys, name)
        pytest.skip(f"{module} is not in this tree yet")
    assert getattr(pacsys, name) is not None
    assert name in dir(pacsys)


@pytest.mark.parametrize("name", PROVIDED_NAMES)
def test_a_provided_name_resolves_when_its_distribution_is_installed(name: str) -> None:
    _, distribution = pacsys._PROVIDED_NAMES[name]
    pytest.importorskip(distribution.replace("-", "_"), reason=f"{distribution} is not installed")
    assert getattr(pacsys, name) is not None
    assert name in dir(pacsys)


@pytest.mark.parametrize("name", PROVIDED_NAMES)
def test_a_provided_name_names_its_missing_distribution(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Really absent (an isolated venv, pacsys-mcp) or made absent: the error names it."""
    module, distribution = pacsys._PROVIDED_NAMES[name]
    if _installed(distribution):  # the import fails as if it were not installed
        monkeypatch.setitem(sys.modules, module, None)
        monkeypatch.setitem(sys.modules, distribution.replace("-", "_"), None)
        monkeypatch.setattr("pacsys._provided.distribution_version", lambda dist: None)
    monkeypatch.delitem(vars(pacsys), name, raising=False)
    with pytest.raises(ImportError) as excinfo:
        getattr(pacsys, name)
    assert str(excinfo.value) == (
        f"pacsys.{name} is provided by {distribution}, which is not installed: "
        f"pip install {distribution}"
    )
    assert name not in vars(pacsys)


def test_star_import_brings_the_installed_names() -> None:
    namespace: dict[str, object] = {}
    exec("from pacsys import *", namespace)
    for name in ("Reading", "Device", "read", "DataRequest"):
        assert name in namespace
    for name in ("SSHClient", "Tunnel", "ACLSession", "DevDBClient", "SupervisedServer"):
        distribution = pacsys._PROVIDED_NAMES[name][1]
        assert (name in namespace) == _installed(distribution), (name, distribution)
    assert "create_server" not in namespace


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        pacsys.nope  # noqa: B018
    assert not hasattr(pacsys, "nope")


class SiteAuth(pacsys.Auth):
    """An Auth written for pacsys 0.3.0: ``auth_type``, no ``kind``."""

    def __init__(self, auth_type: str) -> None:
        self._type = auth_type

    @property
    def auth_type(self) -> str:
        return self._type

    @property
    def principal(self) -> str:
        return "someone"


def test_auth_type_beside_kind(clean_pacsys: None) -> None:
    token = "e30.eyJzdWIiOiAiYSJ9.c2ln"
    assert pacsys.JWTAuth(token=token).auth_type == pacsys.JWTAuth.kind == "jwt"
    assert pacsys.KerberosAuth.kind == "kerberos"
    pacsys.configure(backend="sim", auth=SiteAuth("jwt"))
    with pytest.raises(ValueError, match="auth must be KerberosAuth or JWTAuth"):
        pacsys.configure(backend="sim", auth=SiteAuth("other"))
