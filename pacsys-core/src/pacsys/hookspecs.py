"""The plugin contract: every hook a pacsys plugin may implement, and what it returns.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named after the
hooks below. Distributions announce one in the ``pacsys`` entry-point group::

    [project.entry-points.pacsys]
    myplugin = "my_package.plugin"

Each hook returns *declarations* (specs), never does work: a spec names its factory by
import path (``"my_package.backend:MyBackend"``) or as a callable, so discovery stays cheap
and heavy dependencies load only when the thing is used.  Core registers its own
built-ins through these very hooks.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from pacsys._markers import hookimpl_marker, hookspec_marker
from pacsys.types import BackendCapability

PROJECT_NAME = "pacsys"
ENTRY_POINT_GROUP = "pacsys"

# pluggy-compatible markers that do not import pluggy (plugin modules import them on start-up)
hookspec = hookspec_marker(PROJECT_NAME)
hookimpl = hookimpl_marker(PROJECT_NAME)

Factory = Callable[..., Any] | str


def resolve_factory(factory: Factory) -> Callable[..., Any]:
    """Return the callable a spec names, importing ``"module:attribute"`` on demand."""
    if callable(factory):
        return factory
    module_name, sep, attribute = factory.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"factory {factory!r} must be a callable or 'module:attribute'")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def _factory_name(factory: Factory) -> str:
    if isinstance(factory, str):
        return factory.rpartition(":")[2].rpartition(".")[2]
    return getattr(factory, "__name__", repr(factory))


def _check_name(spec: Any) -> None:
    name = spec.name
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError("name must be a non-empty string without spaces at the ends")


def _convert(spec: Any, field: str, converter: Callable[[Any], Any]) -> None:
    """Store ``converter(value)`` in a frozen spec (``aliases=["x"]`` becomes a tuple)."""
    object.__setattr__(spec, field, converter(getattr(spec, field)))


class _DeclaredCapabilities:
    """``BackendSpec.capabilities``: as given, else the backend class's ``CAPABILITIES``.

    Capabilities are declared once, on the backend class; a spec that names its factory by
    import path reads them from there only when asked, so discovery imports nothing heavy.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    def __get__(self, spec: Any, owner: type | None = None) -> Any:
        if spec is None:
            return None  # the dataclass default: "read it from the backend class"
        value = spec.__dict__.get(self._slot)
        if value is None:
            value = getattr(spec.load(), "CAPABILITIES", BackendCapability.READ)
            spec.__dict__[self._slot] = value
        return value

    def __set__(self, spec: Any, value: BackendCapability | _DeclaredCapabilities | None) -> None:
        if value is self:  # the field default, passed through __init__
            value = None
        if value is not None and not isinstance(value, BackendCapability):
            raise TypeError(f"capabilities must be BackendCapability flags, got {value!r}")
        spec.__dict__[self._slot] = value


@dataclasses.dataclass(frozen=True)
class BackendSpec:
    """A backend a plugin offers, e.g. ``BackendSpec("dpm_http", "pacsys_dpm:DPMHTTPBackend")``.

    ``settings`` maps factory keyword arguments to the global settings of
    :func:`pacsys.configure` (``{"host": "dpm_host", "timeout": "default_timeout"}``); the
    global backend is created with those, skipping unset ones.  ``auth_kinds`` lists the
    :class:`AuthSpec` names the backend accepts; ``auth_required`` makes one mandatory.
    ``capabilities`` defaults to the backend class's ``CAPABILITIES`` (read on first use).
    """

    name: str
    factory: Factory
    description: str = ""
    capabilities: _DeclaredCapabilities = dataclasses.field(
        default=_DeclaredCapabilities(), repr=False, compare=False
    )
    aliases: tuple[str, ...] = ()
    settings: Mapping[str, str] = dataclasses.field(default_factory=dict)
    auth_kinds: tuple[str, ...] = ()
    auth_required: bool = False
    uses_role: bool = False
    label: str | None = None
    distribution: str | None = None

    def __post_init__(self) -> None:
        _check_name(self)
        _convert(self, "aliases", tuple)
        _convert(self, "settings", dict)
        _convert(self, "auth_kinds", tuple)

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @property
    def declared_capabilities(self) -> BackendCapability | None:
        """The capabilities given to the spec itself; None: read from the backend class."""
        return self.__dict__.get("_capabilities")

    def load(self) -> Callable[..., Any]:
        return resolve_factory(self.factory)


def with_distribution(spec: Any, distribution: str) -> Any:
    """A copy of ``spec`` naming its distribution, without loading the factory."""
    extra = {}
    if isinstance(spec, BackendSpec):
        extra["capabilities"] = spec.declared_capabilities
    return dataclasses.replace(spec, distribution=distribution, **extra)


@dataclasses.dataclass(frozen=True)
class AuthSpec:
    """An authentication method, e.g. ``AuthSpec("kerberos", "pacsys.auth:KerberosAuth")``.

    ``name`` is matched against the ``kind`` attribute of auth objects and against
    :attr:`BackendSpec.auth_kinds`; the factory is called without arguments.
    """

    name: str
    factory: Factory
    description: str = ""
    aliases: tuple[str, ...] = ()
    auth_class: str | None = None
    distribution: str | None = None

    def __post_init__(self) -> None:
        _check_name(self)
        _convert(self, "aliases", tuple)

    @property
    def class_name(self) -> str:
        """The auth class users pass instead (for messages); defaults to the factory's name."""
        return self.auth_class or _factory_name(self.factory)

    def load(self) -> Callable[..., Any]:
        return resolve_factory(self.factory)


@dataclasses.dataclass(frozen=True)
class PolicySpec:
    """A write/read policy a site can name in configuration, built as ``factory(**options)``."""

    name: str
    factory: Factory
    description: str = ""
    distribution: str | None = None

    def __post_init__(self) -> None:
        _check_name(self)

    def load(self) -> Callable[..., Any]:
        return resolve_factory(self.factory)


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    """A server adapter exposing any Backend over a wire protocol (used by ``pacsys serve``).

    The factory is called as ``factory(backend, **{option_kwarg: value})`` (value from the
    command line, or ``default``) and returns a :class:`ServedEndpoint`.  ``option`` is the
    ``pacsys serve`` flag (``"--dpm-port"``); ``option_kwarg`` the factory keyword it sets.
    """

    name: str
    factory: Factory
    description: str = ""
    option: str = ""
    option_kwarg: str = "port"
    option_type: type = int
    default: Any = None
    distribution: str | None = None

    def __post_init__(self) -> None:
        _check_name(self)

    def load(self) -> Callable[..., Any]:
        return resolve_factory(self.factory)


@dataclasses.dataclass(frozen=True)
class MetadataSourceSpec:
    """A source of device metadata (DevDB records) for ``Device.info()`` and ``acinfo``.

    Two kinds.  A *backend* source (``per_backend=True``) is called as ``factory(backend)`` for
    the backend in use and returns a :class:`pacsys.metadata.MetadataSource` that answers for
    it, or None when it has nothing for that backend (how the simulator answers for itself).
    A *shared* source is one client per process, built as ``factory(**kwargs)`` with
    ``settings`` mapping keyword arguments to global settings as in :class:`BackendSpec`; it
    offers ``get_device_info(names, timeout=None)`` and ``close()`` (pacsys-grpc's DevDB client)
    and ``pacsys.shutdown()`` closes it.  Backend sources are asked first; of the shared ones,
    the highest ``priority`` is used.
    """

    name: str
    factory: Factory
    description: str = ""
    per_backend: bool = False
    settings: Mapping[str, str] = dataclasses.field(default_factory=dict)
    priority: int = 0
    distribution: str | None = None

    def __post_init__(self) -> None:
        _check_name(self)
        _convert(self, "settings", dict)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ValueError(f"priority must be an int, got {self.priority!r}")

    def load(self) -> Callable[..., Any]:
        return resolve_factory(self.factory)


@runtime_checkable
class ServedEndpoint(Protocol):
    """What a server factory returns: a context manager that serves until exited."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc_info: object) -> Any: ...

    @property
    def address(self) -> str:
        """Where clients reach it, e.g. ``"127.0.0.1:6802"`` or an AMQP URL."""
        ...

    def client_env(self) -> dict[str, str]:
        """Environment variables that point pacsys clients at this server."""
        ...


class PacsysHookSpecs:
    """Hook specifications; plugins implement any subset of them."""

    @hookspec
    def pacsys_backends(self) -> list[BackendSpec]:  # type: ignore[empty-body]
        """Return the backends this plugin provides."""

    @hookspec
    def pacsys_auth_methods(self) -> list[AuthSpec]:  # type: ignore[empty-body]
        """Return the authentication methods this plugin provides."""

    @hookspec
    def pacsys_policies(self) -> list[PolicySpec]:  # type: ignore[empty-body]
        """Return the policies this plugin provides."""

    @hookspec
    def pacsys_servers(self) -> list[ServerSpec]:  # type: ignore[empty-body]
        """Return the server adapters this plugin provides (for ``pacsys serve``)."""

    @hookspec
    def pacsys_metadata_sources(self) -> list[MetadataSourceSpec]:  # type: ignore[empty-body]
        """Return the device-metadata sources this plugin provides (DevDB, a catalogue)."""


__all__ = [
    "ENTRY_POINT_GROUP",
    "AuthSpec",
    "BackendSpec",
    "MetadataSourceSpec",
    "PacsysHookSpecs",
    "PolicySpec",
    "ServedEndpoint",
    "ServerSpec",
    "hookimpl",
    "hookspec",
    "resolve_factory",
]
