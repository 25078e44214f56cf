"""Conformance with the public API of pacsys 0.3.0, item by item.

Every item of the 0.3.0 API reference is written down here as a fact: a signature (parameter
names, order, kinds and defaults, as its documentation line shows them), a constructor's
documented parameters, a dataclass with its fields, a property, a base class, an attribute of
an exception, or an exception raised for bad input. Each item is one test, named after it,
so a miss names itself; ``test_item_count`` keeps the list from shrinking unnoticed.

Our API may add: extra parameters after the documented ones (with defaults), extra methods,
extra fields. Items provided by a distribution that is not installed (``pacsys.ssh`` needs
pacsys-ssh, ``pacsys.devdb`` and ``pacsys.supervised`` pacsys-grpc) are skipped, naming it.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pytest

import pacsys

# --- the facts --------------------------------------------------------------------------------

#: Callables whose documentation line gives the full signature (``self`` left out).
SIGNATURES: dict[str, str] = {
    # simple API
    "pacsys.read": "(device, timeout=None)",
    "pacsys.get": "(device, timeout=None)",
    "pacsys.get_many": "(devices, timeout=None)",
    "pacsys.write": "(device, value, timeout=None)",
    "pacsys.write_many": "(settings, timeout=None)",
    "pacsys.subscribe": "(drfs, callback=None, on_error=None)",
    "pacsys.configure": (
        "(*, dpm_host=_UNSET, dpm_port=_UNSET, pool_size=_UNSET, default_timeout=_UNSET,"
        " devdb_host=_UNSET, devdb_port=_UNSET, backend=_UNSET, auth=_UNSET, role=_UNSET)"
    ),
    "pacsys.shutdown": "()",
    # backend factories
    "pacsys.dpm": (
        "(host=None, port=None, pool_size=None, timeout=None, auth=None, role=None,"
        " dispatch_mode=DispatchMode.WORKER)"
    ),
    "pacsys.grpc": (
        "(host=None, port=None, auth=None, timeout=None, dispatch_mode=DispatchMode.WORKER)"
    ),
    "pacsys.dmq": (
        "(host=None, port=None, timeout=None, auth=None, write_session_ttl=None,"
        " dispatch_mode=DispatchMode.WORKER)"
    ),
    "pacsys.acl": "(base_url=None, timeout=None)",
    "pacsys.dpm_http": (
        "(host=None, port=None, pool_size=None, timeout=None, auth=None, role=None,"
        " dispatch_mode=DispatchMode.WORKER)"
    ),
    # DevDB client
    "pacsys.devdb.DevDBClient.clear_cache": "(device=None)",
    "pacsys.devdb.DevDBClient.close": "()",
    "pacsys.devdb.DevDBClient.get_alarm_info": "(names)",
    "pacsys.devdb.DevDBClient.get_alarm_text": "(ids)",
    "pacsys.devdb.DevDBClient.get_device_info": "(names, timeout=None)",
    # supervised mode
    "pacsys.supervised.evaluate_policies": "(policies, ctx)",
    # types
    "pacsys.types.SubscriptionHandle.readings": "(timeout=None)",
    "pacsys.types.SubscriptionHandle.stop": "()",
    "pacsys.auth.JWTAuth.from_env": "(var='PACSYS_JWT_TOKEN')",
    # Device
    "pacsys.device.Device.read": "(*, field=None, timeout=None)",
    "pacsys.device.Device.get": "(*, prop=None, field=None, timeout=None)",
    "pacsys.device.Device.setting": "(*, field=None, timeout=None)",
    "pacsys.device.Device.status": "(*, field=None, timeout=None)",
    "pacsys.device.Device.analog_alarm": "(*, field=None, timeout=None)",
    "pacsys.device.Device.digital_alarm": "(*, field=None, timeout=None)",
    "pacsys.device.Device.description": "(*, field=None, timeout=None)",
    "pacsys.device.Device.digital_status": "(timeout=None)",
    "pacsys.device.Device.info": "(timeout=None)",
    "pacsys.device.Device.write": "(value, *, field=None, verify=None, timeout=None)",
    "pacsys.device.Device.control": "(command, *, verify=None, timeout=None)",
    "pacsys.device.Device.on": "(*, verify=None, timeout=None)",
    "pacsys.device.Device.off": "(*, verify=None, timeout=None)",
    "pacsys.device.Device.reset": "(*, verify=None, timeout=None)",
    "pacsys.device.Device.set_analog_alarm": "(settings, *, timeout=None)",
    "pacsys.device.Device.set_digital_alarm": "(settings, *, timeout=None)",
    "pacsys.device.Device.subscribe": (
        "(callback=None, on_error=None, *, prop=None, field=None, event=None)"
    ),
    "pacsys.device.Device.with_backend": "(backend)",
    # SSH
    "pacsys.ssh.SSHClient.exec": "(command, timeout=None, input=None)",
    "pacsys.ssh.SSHClient.exec_stream": "(command, timeout=None)",
    "pacsys.ssh.SSHClient.exec_many": "(commands, timeout=None)",
    "pacsys.ssh.SSHClient.forward": "(local_port, remote_host, remote_port)",
    "pacsys.ssh.SSHClient.sftp": "()",
    "pacsys.ssh.SSHClient.open_channel": "(command, timeout=None)",
    "pacsys.ssh.SSHClient.remote_process": "(command, *, timeout=30.0)",
    "pacsys.ssh.SSHClient.acl_session": "(*, timeout=30.0)",
    "pacsys.ssh.SSHClient.acl": "(command, timeout=None)",
    "pacsys.ssh.SSHClient.close": "()",
    "pacsys.ssh.RemoteProcess.send_line": "(line)",
    "pacsys.ssh.RemoteProcess.send_bytes": "(data)",
    "pacsys.ssh.RemoteProcess.read_until": "(marker, timeout=None)",
    "pacsys.ssh.RemoteProcess.read_for": "(seconds)",
    "pacsys.ssh.RemoteProcess.close": "()",
    "pacsys.acl_session.ACLSession.send": "(command, timeout=None)",
    "pacsys.acl_session.ACLSession.close": "()",
}

#: Constructors documented by a parameter table: names, order and defaults (kinds unstated).
CONSTRUCTORS: dict[str, str] = {
    "pacsys.devdb.DevDBClient": "(host=None, port=None, timeout=None, cache_ttl=3600.0)",
    "pacsys.supervised.AuditLog": "(path, proto_path=None, log_responses=False, flush_interval=1)",
    "pacsys.supervised.DeviceAccessPolicy": (
        "(patterns, mode='allow', action='all', syntax='glob')"
    ),
    "pacsys.supervised.RateLimitPolicy": "(max_requests, window_seconds=60.0)",
    "pacsys.supervised.SlewRatePolicy": "(limits)",
    "pacsys.supervised.SupervisedServer": (
        "(backend, port=50051, host='[::]', policies=None, token=None)"
    ),
    "pacsys.supervised.ValueRangePolicy": "(limits)",
    "pacsys.auth.KerberosAuth": "(name=None)",
    "pacsys.ssh.SSHClient": "(hops, auth=None, connect_timeout=10.0)",
    "pacsys.ssh.RemoteProcess": "(ssh, command, timeout=30.0)",
    "pacsys.ssh.SSHHop": (
        "(hostname, port=22, username=None, auth_method='gssapi', key_filename=None, password=None)"
    ),
    "pacsys.acl_session.ACLSession": "(ssh, timeout=30.0)",
}

#: Documented dataclasses (``dataclasses.fields``/``asdict``/``replace`` work on them).
DATACLASSES = [
    "pacsys.devdb.AlarmBlockInfo",
    "pacsys.devdb.AlarmInfo",
    "pacsys.devdb.AlarmText",
    "pacsys.devdb.ControlCommandDef",
    "pacsys.devdb.DeviceInfoResult",
    "pacsys.devdb.ExtStatusBitDef",
    "pacsys.devdb.PropertyInfo",
    "pacsys.devdb.StatusBitDef",
    "pacsys.supervised.PolicyDecision",
    "pacsys.supervised.RequestContext",
    "pacsys.supervised.SlewLimit",
    "pacsys.types.Reading",
    "pacsys.types.WriteResult",
    "pacsys.auth.KerberosAuth",
    "pacsys.auth.JWTAuth",
    "pacsys.ssh.SSHHop",
    "pacsys.ssh.CommandResult",
]

#: Dataclass fields and their defaults (``...``: required).
FIELDS: dict[str, object] = {
    "pacsys.types.Reading.value": None,
    "pacsys.types.Reading.value_type": None,
    "pacsys.types.Reading.drf": ...,
    "pacsys.types.Reading.timestamp": None,
    "pacsys.types.Reading.cycle": None,
    "pacsys.types.Reading.facility_code": 0,
    "pacsys.types.Reading.error_code": 0,
    "pacsys.types.Reading.message": None,
    "pacsys.supervised.SlewLimit.max_step": None,
    "pacsys.supervised.SlewLimit.max_rate": None,
}

#: Documented properties.
PROPERTIES = [
    "pacsys.types.Reading.name",
    "pacsys.types.Reading.units",
    "pacsys.types.Reading.is_success",
    "pacsys.types.Reading.is_error",
    "pacsys.types.Reading.is_warning",
    "pacsys.types.Reading.ok",
    "pacsys.types.SubscriptionHandle.stopped",
    "pacsys.supervised.Policy.allows_writes",
    "pacsys.auth.JWTAuth.principal",
    "pacsys.ssh.RemoteProcess.alive",
]

#: Documented bases ("Bases: X" lines, and the typed devices' kinship).
BASES: dict[str, str] = {
    "pacsys.supervised.DeviceAccessPolicy": "pacsys.supervised.Policy",
    "pacsys.supervised.Policy": "abc.ABC",
    "pacsys.supervised.RateLimitPolicy": "pacsys.supervised.Policy",
    "pacsys.supervised.SlewRatePolicy": "pacsys.supervised.Policy",
    "pacsys.supervised.ValueRangePolicy": "pacsys.supervised.Policy",
    "pacsys.types.ValueType": "enum.Enum",
    "pacsys.auth.KerberosAuth": "pacsys.auth.Auth",
    "pacsys.auth.JWTAuth": "pacsys.auth.Auth",
    "pacsys.errors.DeviceError": "builtins.Exception",
    "pacsys.errors.AuthenticationError": "builtins.Exception",
    "pacsys.errors.ReadError": "builtins.Exception",
    "pacsys.errors.ACLError": "builtins.Exception",
    "pacsys.device.Device": "pacsys._device_base._DeviceBase",
    "pacsys.device.ScalarDevice": "pacsys.device.Device",
    "pacsys.device.ArrayDevice": "pacsys.device.Device",
    "pacsys.device.TextDevice": "pacsys.device.Device",
    "pacsys.ssh.SSHError": "builtins.Exception",
}

#: Documented attributes of exceptions: (constructor arguments, attribute -> value).
EXCEPTION_ATTRIBUTES: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "pacsys.errors.DeviceError": (
        ("M:OUTTMP", 17, -64, "no such device"),
        {"drf": "M:OUTTMP", "facility_code": 17, "error_code": -64, "message": "no such device"},
    ),
    "pacsys.errors.ReadError": (([], "batch failed"), {"readings": [], "message": "batch failed"}),
}

#: Modules of the reference's layout.
MODULES = ["pacsys.devdb", "pacsys.supervised", "pacsys.ssh", "pacsys.acl_session"]

#: Exception classes the reference raises (its "Raises" tables), by where they are importable.
EXCEPTIONS = [
    "pacsys.errors.DeviceError",
    "pacsys.errors.AuthenticationError",
    "pacsys.errors.ReadError",
    "pacsys.errors.ACLError",
    "pacsys.ssh.SSHError",
    "pacsys.ssh.SSHTimeoutError",
    "pacsys.ssh.SSHConnectionError",
    "pacsys.ssh.SSHCommandError",
]

# --- the behaviours the "Raises" tables and notes promise (no I/O) ----------------------------

_JWT = "e30.eyJzdWIiOiAiYWxpY2UifQ.c2ln"  # {"sub": "alice"}


def _read_bad_drf() -> None:
    with pytest.raises(ValueError):
        pacsys.read("M:OUTTMP@@")


def _get_bad_drf() -> None:
    with pytest.raises(ValueError):
        pacsys.get("M:OUTTMP.READING@@")


def _get_many_bad_drf() -> None:
    with pytest.raises(ValueError):
        pacsys.get_many(["M:OUTTMP", "M:OUTTMP@@"])


def _read_failure_is_device_error() -> None:
    with pytest.raises(pacsys.DeviceError) as excinfo:
        pacsys.read("Z:NOSUCH")
    assert excinfo.value.error_code < 0


def _get_failure_is_a_reading() -> None:
    reading = pacsys.get("Z:NOSUCH")
    assert reading.is_error and not reading.ok


def _configure_bad_backend() -> None:
    with pytest.raises(ValueError):
        pacsys.configure(backend="no-such-backend")


def _write_without_auth() -> None:
    pytest.importorskip("pacsys_dpm", reason="the dpm backend needs pacsys-dpm")
    pacsys.configure(backend="dpm", dpm_host="127.0.0.1", dpm_port=1)
    with pytest.raises(pacsys.AuthenticationError):
        pacsys.write("Z:ACLTST", 45.0)


def _write_many_without_auth() -> None:
    pytest.importorskip("pacsys_dpm", reason="the dpm backend needs pacsys-dpm")
    pacsys.configure(backend="dpm", dpm_host="127.0.0.1", dpm_port=1)
    with pytest.raises(pacsys.AuthenticationError):
        pacsys.write_many([("Z:ACLTST", 45.0)])


def _dmq_needs_kerberos() -> None:
    pytest.importorskip("pacsys_dmq", reason="pacsys.dmq needs pacsys-dmq")
    with pytest.raises(pacsys.AuthenticationError):
        pacsys.dmq(auth=pacsys.JWTAuth(token=_JWT))


def _jwt_principal() -> None:
    assert pacsys.JWTAuth(token=_JWT).principal == "alice"
    with pytest.raises(ValueError):
        pacsys.JWTAuth(token="not-a-jwt").principal  # noqa: B018


def _jwt_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACSYS_JWT_TOKEN", raising=False)
    assert pacsys.JWTAuth.from_env() is None
    monkeypatch.setenv("PACSYS_JWT_TOKEN", _JWT)
    assert pacsys.JWTAuth.from_env().token == _JWT  # type: ignore[union-attr]


def _jwt_token_not_in_repr() -> None:
    assert _JWT not in repr(pacsys.JWTAuth(token=_JWT))


def _seed_types_are_immutable() -> None:
    reading = pacsys.Reading(drf="M:OUTTMP", value=1.0, value_type=pacsys.ValueType.SCALAR)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.value = 2.0  # type: ignore[misc]
    assert dataclasses.replace(reading, value=2.0).value == 2.0
    assert dataclasses.asdict(pacsys.WriteResult(drf="Z:ACLTST"))["drf"] == "Z:ACLTST"


def _device_subscribe_needs_event() -> None:
    with pytest.raises(ValueError):
        pacsys.Device("M:OUTTMP").subscribe()
    with pytest.raises(ValueError):
        pacsys.Device("M:OUTTMP@p,1000").subscribe(field="raw")


def _devices_are_immutable() -> None:
    device = pacsys.Device("M:OUTTMP")
    with pytest.raises(AttributeError):
        device.drf = "G:AMANDA"  # type: ignore[misc]
    assert device.with_backend(object()).drf == device.drf  # type: ignore[arg-type]


def _ssh_hop_password_not_in_repr() -> None:
    ssh = _provided("pacsys.ssh")
    hop = ssh.SSHHop("target.example", auth_method="password", password="s3cret-pw")
    assert "s3cret-pw" not in repr(hop)
    with pytest.raises(ValueError):
        ssh.SSHHop("")


def _subscribe_callback_mode() -> None:
    handle = pacsys.subscribe(["M:OUTTMP@p,1000"], callback=lambda reading, handle: None)
    try:
        assert not handle.stopped
    finally:
        handle.stop()
    assert handle.stopped


BEHAVIOURS: dict[str, Callable[..., None]] = {
    "pacsys.read raises ValueError for a bad DRF": _read_bad_drf,
    "pacsys.read raises DeviceError when the read fails": _read_failure_is_device_error,
    "pacsys.get raises ValueError for a bad DRF": _get_bad_drf,
    "pacsys.get returns an error Reading for a failed read": _get_failure_is_a_reading,
    "pacsys.get_many raises ValueError before I/O": _get_many_bad_drf,
    "pacsys.write raises AuthenticationError without auth": _write_without_auth,
    "pacsys.write_many raises AuthenticationError without auth": _write_many_without_auth,
    "pacsys.configure raises ValueError for an unknown backend": _configure_bad_backend,
    "pacsys.subscribe callback mode and handle.stop": _subscribe_callback_mode,
    "pacsys.dmq raises AuthenticationError without KerberosAuth": _dmq_needs_kerberos,
    "JWTAuth.principal decodes sub, ValueError when malformed": _jwt_principal,
    "JWTAuth.from_env reads PACSYS_JWT_TOKEN, None when unset": _jwt_from_env,
    "JWTAuth keeps its token out of repr": _jwt_token_not_in_repr,
    "Reading and WriteResult are frozen dataclasses": _seed_types_are_immutable,
    "Device.subscribe raises ValueError without event or with field alone": (
        _device_subscribe_needs_event
    ),
    "Device is immutable, with_backend returns a new Device": _devices_are_immutable,
    "SSHHop keeps its password out of repr, rejects an empty hostname": (
        _ssh_hop_password_not_in_repr
    ),
}

# --- checking ---------------------------------------------------------------------------------

_PROVIDERS = {
    "pacsys.devdb": "pacsys-grpc",
    "pacsys.supervised": "pacsys-grpc",
    "pacsys.ssh": "pacsys-ssh",
    "pacsys.acl_session": "pacsys-ssh",
}


def _provided(module: str) -> Any:
    """Import ``module``; skip (naming the distribution) when its provider is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if module in _PROVIDERS:
            pytest.skip(f"{module} needs {_PROVIDERS[module]}: {exc}")
        raise


def resolve(path: str) -> Any:
    """The object at a dotted path: the longest importable module prefix, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        if module_name in _PROVIDERS or cut == 1:
            target = _provided(module_name)
        else:
            try:
                target = importlib.import_module(module_name)
            except ModuleNotFoundError:
                continue
        for attribute in parts[cut:]:
            target = inspect.getattr_static(target, attribute, None) or getattr(target, attribute)
        return target
    raise AssertionError(f"{path} does not resolve")


def _unwrap(target: Any) -> Callable[..., Any]:
    if isinstance(target, (classmethod, staticmethod)):
        return target.__func__  # type: ignore[no-any-return]
    return target  # type: ignore[no-any-return]


def _documented(signature: str) -> list[tuple[str, Any, str]]:
    """(name, default source or ``...``, kind) per documented parameter."""
    arguments = ast.parse(f"def f{signature}: pass").body[0].args  # type: ignore[attr-defined]
    positional = arguments.posonlyargs + arguments.args
    defaults = [...] * (len(positional) - len(arguments.defaults)) + [
        ast.unparse(d) for d in arguments.defaults
    ]
    found = [(a.arg, d, "positional") for a, d in zip(positional, defaults, strict=True)]
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        found.append((argument.arg, ... if default is None else ast.unparse(default), "keyword"))
    return found


def _default_matches(ours: Any, documented: str) -> bool:
    if documented == "_UNSET":
        return "UNSET" in repr(ours).upper() or "unset" in type(ours).__name__.lower()
    if documented == "DispatchMode.WORKER":
        return ours is pacsys.DispatchMode.WORKER
    return bool(ours == ast.literal_eval(documented))


def check_signature(target: Any, signature: str, *, kinds: bool) -> None:
    """Documented parameters come first, in order, with the documented defaults (and kinds);
    any extra parameter after them has a default."""
    parameters = [
        p for p in inspect.signature(_unwrap(target)).parameters.values() if p.name != "self"
    ]
    if parameters and parameters[0].name == "cls":
        parameters = parameters[1:]
    documented = _documented(signature)
    names = [p.name for p in parameters[: len(documented)]]
    assert names == [d[0] for d in documented], f"parameters {names}, documented {documented}"
    for parameter, (name, default, kind) in zip(parameters, documented, strict=False):
        if default is ...:
            assert parameter.default is inspect.Parameter.empty, f"{name} must be required"
        else:
            assert parameter.default is not inspect.Parameter.empty, f"{name} needs a default"
            assert _default_matches(parameter.default, default), (
                f"{name} defaults to {parameter.default!r}, documented {default}"
            )
        if kinds:
            keyword = parameter.kind is inspect.Parameter.KEYWORD_ONLY
            assert keyword == (kind == "keyword"), f"{name} must be {kind}"
    for extra in parameters[len(documented) :]:
        assert extra.kind in (extra.VAR_POSITIONAL, extra.VAR_KEYWORD) or (
            extra.default is not inspect.Parameter.empty
        ), f"extra parameter {extra.name} must be optional"


ITEMS: dict[str, Callable[..., None]] = {}


def _item(name: str, check: Callable[..., None]) -> None:
    assert name not in ITEMS, name
    ITEMS[name] = check


for _path, _signature in SIGNATURES.items():
    _item(
        f"signature {_path}{_signature}",
        lambda p=_path, s=_signature: check_signature(resolve(p), s, kinds=True),
    )
for _path, _signature in CONSTRUCTORS.items():
    _item(
        f"constructor {_path}{_signature}",
        lambda p=_path, s=_signature: check_signature(resolve(p), s, kinds=False),
    )
for _path in DATACLASSES:
    _item(f"dataclass {_path}", lambda p=_path: _check_dataclass(resolve(p)))
for _path, _default in FIELDS.items():
    _item(f"field {_path}", lambda p=_path, d=_default: _check_field(p, d))
for _path in PROPERTIES:
    _item(f"property {_path}", lambda p=_path: _check_property(p))
for _path, _base in BASES.items():
    _item(f"{_path} is a {_base}", lambda p=_path, b=_base: _check_base(p, b))
for _path, (_args, _attributes) in EXCEPTION_ATTRIBUTES.items():
    _item(
        f"attributes of {_path}",
        lambda p=_path, a=_args, v=_attributes: _check_exception_attributes(p, a, v),
    )
for _path in MODULES:
    _item(f"module {_path}", lambda p=_path: _provided(p))
for _path in EXCEPTIONS:
    _item(f"exception {_path}", lambda p=_path: _check_exception(p))
for _name, _check in BEHAVIOURS.items():
    _item(_name, _check)


def _check_dataclass(cls: type) -> None:
    assert dataclasses.is_dataclass(cls), f"{cls.__qualname__} is not a dataclass"
    assert dataclasses.fields(cls)


def _check_field(path: str, default: object) -> None:
    owner, _, name = path.rpartition(".")
    fields = {f.name: f for f in dataclasses.fields(resolve(owner))}
    assert name in fields, f"no field {name}"
    field = fields[name]
    if default is ...:
        assert field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    else:
        assert field.default == default, f"{name} defaults to {field.default!r}"


def _check_property(path: str) -> None:
    owner, _, name = path.rpartition(".")
    attribute = inspect.getattr_static(resolve(owner), name)
    assert isinstance(attribute, property), f"{path} is {type(attribute).__name__}"


def _check_base(path: str, base: str) -> None:
    module, _, name = base.rpartition(".")
    expected = getattr(importlib.import_module(module), name)
    cls = resolve(path)
    assert issubclass(cls, expected), f"{cls.__mro__} has no {base}"
    if expected is enum.Enum:
        assert isinstance(cls, enum.EnumMeta)


def _check_exception_attributes(path: str, args: tuple[Any, ...], values: dict[str, Any]) -> None:
    error = resolve(path)(*args)
    for attribute, value in values.items():
        assert getattr(error, attribute) == value, attribute


def _check_exception(path: str) -> None:
    cls = resolve(path)
    assert isinstance(cls, type) and issubclass(cls, Exception)
    name = path.rpartition(".")[2]
    assert getattr(pacsys, name, cls) is cls or name.startswith("SSH"), f"pacsys.{name} differs"


# --- the tests --------------------------------------------------------------------------------


#: How many items the reference's API documents, as itemised above.
EXPECTED_ITEMS = 154


def test_item_count() -> None:
    assert len(ITEMS) == EXPECTED_ITEMS


@pytest.fixture
def sim_backend(clean_pacsys: None) -> None:
    pacsys.configure(backend="sim")


@pytest.mark.parametrize("name", list(ITEMS))
def test_seed_api_item(name: str, sim_backend: None, monkeypatch: pytest.MonkeyPatch) -> None:
    check = ITEMS[name]
    if "monkeypatch" in inspect.signature(check).parameters:
        check(monkeypatch=monkeypatch)
    else:
        check()
