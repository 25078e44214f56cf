"""The simple API: module-level read/get/write/subscribe over a lazily created global backend.

Nothing connects at import.  The first call that needs a backend creates it (once, under
a lock) from the settings of :mod:`pacsys.config`; ``configure()`` closes it so the next
call re-creates it with the new settings; ``shutdown()`` closes it and keeps the settings.
Every backend made here is closed at interpreter exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pacsys.backends import Backend
from pacsys.config import UNSET, VALIDATORS, Settings
from pacsys.registry import TransportNotInstalledError, get_registry
from pacsys.types import (
    BasicControl,
    DeviceSpec,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    WriteResult,
    WriteSettings,
)

if TYPE_CHECKING:
    from pacsys.auth import Auth
    from pacsys.hookspecs import BackendSpec
    from pacsys.types import Value

__all__ = [
    "acl",
    "configure",
    "dmq",
    "dpm",
    "dpm_http",
    "get",
    "get_devdb",
    "get_global_backend",
    "get_many",
    "grpc",
    "read",
    "read_many",
    "shutdown",
    "subscribe",
    "write",
    "write_many",
]

log = logging.getLogger("pacsys")

_lock = threading.RLock()
_settings = Settings()
_global_backend: Backend | None = None
_global_devdb: Any | None = None
_open_backends: weakref.WeakSet[Backend] = weakref.WeakSet()


# --- lifecycle -------------------------------------------------------------------------


def track(backend: Backend) -> Backend:
    """Remember ``backend`` so it is closed at interpreter exit."""
    _open_backends.add(backend)
    return backend


@atexit.register
def _close_all_at_exit() -> None:
    for backend in list(_open_backends):
        try:
            backend.close()
        except Exception:
            log.debug("Error closing %r at exit (ignored)", backend, exc_info=True)


def get_global_backend() -> Backend:
    """The global backend, created on first use from the current settings."""
    global _global_backend
    backend = _global_backend
    if backend is not None:
        return backend
    with _lock:
        if _global_backend is None:
            _global_backend = track(_create_global_backend(_settings))
        return _global_backend


def set_global_backend(backend: Backend | None) -> Backend | None:
    """Install ``backend`` as the global backend (tests, notebooks); returns the previous one."""
    global _global_backend
    with _lock:
        previous, _global_backend = _global_backend, backend
    return previous


def _create_global_backend(settings: Settings) -> Backend:
    spec = get_registry().backend(settings.value("backend"))
    kwargs = {
        keyword: settings.value(setting)
        for keyword, setting in spec.settings.items()
        if settings.value(setting) is not None
    }
    return spec.load()(**kwargs)


def get_devdb() -> Any | None:
    """The global DevDB client, or None when no plugin provides one (pacsys-grpc does)."""
    global _global_devdb
    with _lock:
        if _global_devdb is None:
            _global_devdb = _create_devdb(_settings)
        return _global_devdb


def _create_devdb(settings: Settings) -> Any | None:
    from pacsys.metadata_sources import create_shared_source  # hook: pacsys_metadata_sources

    return create_shared_source(settings)


def shutdown() -> None:
    """Close the global backend and DevDB client; the settings are kept."""
    global _global_backend, _global_devdb
    with _lock:
        backend, _global_backend = _global_backend, None
        devdb, _global_devdb = _global_devdb, None
    for resource in (backend, devdb):
        if resource is not None:
            try:
                resource.close()
            except Exception:
                log.warning("Error while closing %r", resource, exc_info=True)


def configure(
    *,
    dpm_host: str | Any | None = UNSET,
    dpm_port: int | Any | None = UNSET,
    pool_size: int | Any | None = UNSET,
    default_timeout: float | Any | None = UNSET,
    devdb_host: str | Any | None = UNSET,
    devdb_port: int | Any | None = UNSET,
    backend: str | Any | None = UNSET,
    auth: Auth | str | Any | None = UNSET,
    role: str | Any | None = UNSET,
) -> None:
    """Change global settings; ``None`` clears one back to its environment/default value.

    Everything is validated before anything changes.  An existing global backend is
    closed, and the next call creates a new one with the new settings.
    """
    global _settings
    passed: dict[str, Any] = {  # heterogeneous settings, checked by VALIDATORS below
        name: value
        for name, value in {
            "dpm_host": dpm_host,
            "dpm_port": dpm_port,
            "pool_size": pool_size,
            "default_timeout": default_timeout,
            "devdb_host": devdb_host,
            "devdb_port": devdb_port,
            "backend": backend,
            "auth": auth,
            "role": role,
        }.items()
        if value is not UNSET
    }
    for name, value in passed.items():
        if name in VALIDATORS:
            VALIDATORS[name](name, value)
    with _lock:
        if "backend" in passed and passed["backend"] is not None:
            _backend_spec(passed["backend"])  # unknown / not installed -> clear error
            passed["backend"] = get_registry().backend_key(passed["backend"])  # "GRPC" -> grpc
        if isinstance(passed.get("auth"), str):
            passed["auth"] = _auth_from_name(passed["auth"])
        elif "auth" in passed:
            _check_auth_object(passed["auth"])
        candidate = _settings.merged(passed)
        _check_combination(candidate, explicit_backend="backend" in candidate.configured)
        shutdown()
        _settings = candidate


def current_settings() -> Settings:
    """The settings in force (a snapshot)."""
    return _settings


def _backend_spec(name: str) -> BackendSpec:
    if not isinstance(name, str):
        raise ValueError(f"Invalid backend {name!r}: backend must be a string or None")
    return get_registry().backend(name)


def _auth_from_name(name: str) -> Auth:
    registry = get_registry()
    names = registry.auth_method_names()
    if name not in names:
        raise ValueError(f"auth string must be one of {names}, got {name!r}")
    return registry.auth_method(name).load()()


def _check_auth_object(auth: Any) -> None:
    from pacsys.auth import Auth

    if auth is not None and not isinstance(auth, Auth):
        raise ValueError(
            f"auth must be an Auth object (KerberosAuth, JWTAuth), an auth method name, or None; "
            f"got {type(auth).__name__}"
        )


def _check_combination(settings: Settings, *, explicit_backend: bool) -> None:
    """Cross-check auth and role against what the effective backend accepts."""
    name = settings.value("backend")
    try:
        spec = _backend_spec(name)
    except TransportNotInstalledError:
        if explicit_backend:
            raise
        return  # the default backend is missing; the first real call will say so
    label = spec.display_name
    auth = settings.value("auth")
    registry = get_registry()
    accepted = [registry.auth_method(kind).class_name for kind in spec.auth_kinds]
    if auth is not None:
        if not spec.auth_kinds:
            raise ValueError(f"{label} backend does not use auth")
        if auth.auth_type not in spec.auth_kinds:
            raise ValueError(f"{label} backend auth must be {' or '.join(accepted)} or None")
    elif spec.auth_required:
        raise ValueError(f"{label} backend requires {' or '.join(accepted)}")
    if settings.value("role") is not None and not spec.uses_role:
        users = [s.display_name for s in registry.backends().values() if s.uses_role]
        plural = "s" if len(users) > 1 else ""
        where = f"the {' and '.join(users)} backend{plural}" if users else "no installed backend"
        raise ValueError(f"role is only used by {where}, not {name!r}")


# --- per-call resolution -----------------------------------------------------------------


def to_drf(device: DeviceSpec) -> str:
    """A DRF string for a str (checked, unchanged) or a Device (its canonical DRF).

    A malformed DRF is a ValueError naming it, before any backend is created.
    """
    if isinstance(device, str):
        from pacsys.drf_utils import parse_named

        parse_named(device)
        return device
    from pacsys.device import Device

    if isinstance(device, Device):
        return device.drf
    raise TypeError(f"Expected str or Device, got {type(device).__name__}")


def _bound_backend(device: DeviceSpec) -> Backend | None:
    return None if isinstance(device, str) else getattr(device, "backend", None)


def _backend_for(devices: Iterable[DeviceSpec]) -> Backend:
    """The one backend all devices are bound to, or the global one when none is bound."""
    bound = [_bound_backend(d) for d in devices]
    distinct = {id(b): b for b in bound if b is not None}
    if not distinct:
        return get_global_backend()
    if len(distinct) > 1 or None in bound:
        raise ValueError("All devices in one call must be bound to the same backend (or none)")
    return next(iter(distinct.values()))


def _prepare(devices: Iterable[DeviceSpec], name: str) -> tuple[list[DeviceSpec], list[str]]:
    """The devices of a list parameter (``name``) and their DRFs; one bare device refused."""
    from pacsys.device import Device

    if isinstance(devices, str | bytes | Device):
        kind, one = (
            ("Device", "device") if isinstance(devices, Device) else ("string", repr(devices))
        )
        raise TypeError(
            f"{name} must be a list of devices (DRF strings or Devices), not a single "
            f"{kind}: pass [{one}]"
        )
    items = list(devices)
    return items, [to_drf(d) for d in items]


# --- the simple API ----------------------------------------------------------------------


def read(device: DeviceSpec, timeout: float | None = None) -> Value:
    """The value of one device (the first reading, even for periodic DRFs).

    Raises ValueError for an invalid DRF, DeviceError when the device has no usable value,
    ReadError on transport failure.
    """
    drf = to_drf(device)
    return _backend_for([device]).read(drf, timeout=timeout)


def get(device: DeviceSpec, timeout: float | None = None) -> Reading:
    """One Reading with status, timestamp and metadata; device errors are inside it."""
    drf = to_drf(device)
    return _backend_for([device]).get(drf, timeout=timeout)


def get_many(devices: Iterable[DeviceSpec], timeout: float | None = None) -> list[Reading]:
    """Readings in input order; ``timeout`` bounds the whole batch."""
    items, drfs = _prepare(devices, "devices")
    return _backend_for(items).get_many(drfs, timeout=timeout)


def read_many(devices: Iterable[DeviceSpec], timeout: float | None = None) -> list[Value]:
    """Values in input order; ReadError if any device has no usable value."""
    items, drfs = _prepare(devices, "devices")
    return _backend_for(items).read_many(drfs, timeout=timeout)


def _write_drf(device: DeviceSpec, value: Value) -> str:
    drf = to_drf(device)
    if isinstance(value, BasicControl):
        from pacsys.drf_utils import prepare_for_control

        return prepare_for_control(drf)
    return drf


def write(device: DeviceSpec, value: Value, timeout: float | None = None) -> WriteResult:
    """Write one value (BasicControl values go to the CONTROL property)."""
    drf = _write_drf(device, value)
    return _backend_for([device]).write(drf, value, timeout=timeout)


def write_many(settings: WriteSettings, timeout: float | None = None) -> list[WriteResult]:
    """Write several values; a list of (device, value) pairs or a dict, results in order."""
    if isinstance(settings, str | bytes):
        raise TypeError(
            f"settings must be a list of (device, value) pairs or a dict, not a single string: "
            f"pass [({settings!r}, value)]"
        )
    pairs = list(settings.items()) if isinstance(settings, Mapping) else list(settings)
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"write_many expects (device, value) pairs, got {pair!r}")
    backend = _backend_for([device for device, _ in pairs])
    prepared = [(_write_drf(device, value), value) for device, value in pairs]
    return backend.write_many(prepared, timeout=timeout)


def subscribe(
    drfs: Iterable[DeviceSpec],
    callback: ReadingCallback | None = None,
    on_error: ErrorCallback | None = None,
) -> SubscriptionHandle:
    """Start streaming; iterate ``handle.readings()`` or pass a callback."""
    items, strings = _prepare(drfs, "drfs")
    return _backend_for(items).subscribe(strings, callback=callback, on_error=on_error)


# --- factories -------------------------------------------------------------------------


def _factory(name: str, **kwargs: Any) -> Any:
    return track(get_registry().create_backend(name, **kwargs))


def dpm_http(
    host: str | None = None,
    port: int | None = None,
    pool_size: int | None = None,
    timeout: float | None = None,
    auth: Auth | None = None,
    role: str | None = None,
    dispatch_mode: DispatchMode = DispatchMode.WORKER,
) -> Any:
    """A DPM-over-TCP backend with its own connection pool (needs pacsys-dpm)."""
    return _factory(
        "dpm_http",
        host=host,
        port=port,
        pool_size=pool_size,
        timeout=timeout,
        auth=auth,
        role=role,
        dispatch_mode=dispatch_mode,
    )


#: ``pacsys.dpm()`` is ``pacsys.dpm_http()``: the DPM backend is registered under both names.
dpm = dpm_http


def grpc(
    host: str | None = None,
    port: int | None = None,
    auth: Auth | None = None,
    timeout: float | None = None,
    dispatch_mode: DispatchMode = DispatchMode.WORKER,
) -> Any:
    """A DAQ gRPC backend (needs pacsys-grpc); JWT auth for writes."""
    return _factory(
        "grpc", host=host, port=port, auth=auth, timeout=timeout, dispatch_mode=dispatch_mode
    )


def dmq(
    host: str | None = None,
    port: int | None = None,
    timeout: float | None = None,
    auth: Auth | None = None,
    write_session_ttl: float | None = None,
    dispatch_mode: DispatchMode = DispatchMode.WORKER,
) -> Any:
    """A DMQ backend over RabbitMQ (needs pacsys-dmq); Kerberos auth for everything."""
    return _factory(
        "dmq",
        host=host,
        port=port,
        timeout=timeout,
        auth=auth,
        write_session_ttl=write_session_ttl,
        dispatch_mode=dispatch_mode,
    )


def acl(base_url: str | None = None, timeout: float | None = None) -> Any:
    """A read-only ACL CGI backend (needs pacsys-acl)."""
    return _factory("acl", base_url=base_url, timeout=timeout)
