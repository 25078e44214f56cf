"""Plugin discovery and the registry of backends, auth methods and policies.

Discovery runs once, on first need (never at ``import pacsys``): core's built-in plugin is
registered first, then every entry point of the ``pacsys`` group.  A plugin that fails to
import is recorded and skipped.  ``PACSYS_PLUGINS`` restricts which entry points load
(comma-separated names; empty loads none).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pacsys import _entry_points
from pacsys._markers import IMPL_DEFAULTS, impl_options
from pacsys._provided import distribution_version
from pacsys.hookspecs import (
    ENTRY_POINT_GROUP,
    PROJECT_NAME,
    AuthSpec,
    BackendSpec,
    MetadataSourceSpec,
    PacsysHookSpecs,
    PolicySpec,
    ServerSpec,
    with_distribution,
)

__all__ = [
    "KNOWN_TRANSPORTS",
    "PLUGINS_ENV",
    "PluginInfo",
    "Registry",
    "TransportNotInstalledError",
    "get_registry",
]

if TYPE_CHECKING:
    import pluggy

_HOOK_NAMES = frozenset(name for name in vars(PacsysHookSpecs) if name.startswith("pacsys_"))

log = logging.getLogger("pacsys.registry")

PLUGINS_ENV = "PACSYS_PLUGINS"

#: Names that pacsys' own transport distributions provide, for a helpful "install X" error.
KNOWN_TRANSPORTS: dict[str, str] = {
    "dpm": "pacsys-dpm",
    "dpm_http": "pacsys-dpm",
    "grpc": "pacsys-grpc",
    "dmq": "pacsys-dmq",
    "acl": "pacsys-acl",
}

BUILTIN_PLUGIN_NAME = "pacsys.builtins"


class TransportNotInstalledError(ImportError):
    """A known transport was asked for, but the distribution providing it is missing."""

    def __init__(self, name: str, distribution: str, reason: str) -> None:
        self.backend = name
        self.distribution = distribution
        super().__init__(
            f"backend {name!r} is provided by {distribution}, which {reason}: "
            f"pip install {distribution}",
            name=distribution,
        )


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """What ``pacsys plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...] = ()
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.error is None


SpecT = TypeVar("SpecT", BackendSpec, AuthSpec, PolicySpec, ServerSpec, MetadataSourceSpec)


class Registry:
    """The plugin manager plus typed lookups over what the plugins declare."""

    def __init__(self, *, load_entry_points: bool = True) -> None:
        self._load_entry_points = load_entry_points
        self._pm: pluggy.PluginManager | None = None
        self._infos: dict[str, PluginInfo] = {}
        self._direct: list[tuple[str, object, str | None]] | None = None
        self._lock = threading.RLock()

    # --- discovery ------------------------------------------------------------------

    @property
    def pm(self) -> pluggy.PluginManager:
        """The plugin manager, created and populated on first use."""
        if self._pm is None:
            with self._lock:
                if self._pm is None:
                    self._pm = self._discover()
        return self._pm

    def _discover(self) -> pluggy.PluginManager:
        import pluggy

        pm = pluggy.PluginManager(PROJECT_NAME)
        pm.add_hookspecs(PacsysHookSpecs)
        from pacsys import builtins

        pm.register(builtins, name=BUILTIN_PLUGIN_NAME)
        self._infos[BUILTIN_PLUGIN_NAME] = PluginInfo(
            BUILTIN_PLUGIN_NAME, "pacsys-core", None, _hooks_of(pm, builtins)
        )
        if self._load_entry_points:
            for entry_point in self._selected_entry_points():
                self._load(pm, entry_point)
        return pm

    def _selected_entry_points(self) -> list[_entry_points.EntryPoint]:
        entry_points = sorted(_entry_points.entry_points(ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        allowed = os.environ.get(PLUGINS_ENV)
        if allowed is None:
            return entry_points
        wanted = {name.strip() for name in allowed.split(",") if name.strip()}
        return [ep for ep in entry_points if ep.name in wanted]

    def _load(self, pm: pluggy.PluginManager, entry_point: _entry_points.EntryPoint) -> None:
        dist_name, dist_version = entry_point.distribution, entry_point.version
        if pm.has_plugin(entry_point.name):
            return
        try:
            plugin = entry_point.load()
            pm.register(plugin, name=entry_point.name)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "pacsys plugin %r from %s failed to load and is skipped: %s",
                entry_point.name,
                dist_name or "unknown distribution",
                error,
            )
            self._infos[entry_point.name] = PluginInfo(
                entry_point.name, dist_name, dist_version, error=error
            )
            return
        self._infos[entry_point.name] = PluginInfo(
            entry_point.name, dist_name, dist_version, _hooks_of(pm, plugin)
        )

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, loaded or failed, built-ins first."""
        self.pm  # noqa: B018  (discover)
        return [
            dataclasses.replace(info, version=distribution_version(info.distribution))
            if info.version is None and info.distribution
            else info
            for info in self._infos.values()
        ]

    def failed_plugins(self) -> list[PluginInfo]:
        self.pm  # noqa: B018  (discover)
        return [info for info in self._infos.values() if not info.loaded]

    # --- in-process registration (tests, applications) -----------------------------

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object directly, without an entry point."""
        pm = self.pm
        registered = pm.register(plugin, name=name)
        if registered is None:
            raise ValueError(f"plugin {name or plugin!r} is already registered")
        self._infos[registered] = PluginInfo(registered, None, None, _hooks_of(pm, plugin))
        return registered

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._infos.pop(name, None)

    @contextmanager
    def plugin(self, plugin: object, name: str | None = None) -> Iterator[str]:
        """Register ``plugin`` for the duration of a ``with`` block."""
        registered = self.register(plugin, name)
        try:
            yield registered
        finally:
            self.unregister(registered)

    # --- lookups -----------------------------------------------------------------------

    def _direct_plugins(self) -> list[tuple[str, object, str | None]] | None:
        """Every plugin imported without pluggy: ``(name, module, distribution)``.

        The command-line tools look backends and auth methods up on every start, and
        pluggy costs more to import than all of pacsys' plugins together. Plain plugin
        modules whose hooks carry default options answer the same as pluggy would (in
        registration order); None when anything needs pluggy (a plugin fails to import,
        or marks a hook ``tryfirst``, ``specname`` ...), so the plugin manager decides.
        """
        if self._direct is not None:
            return self._direct
        from pacsys import builtins

        found: list[tuple[str, object, str | None]] = [(BUILTIN_PLUGIN_NAME, builtins, None)]
        if self._load_entry_points:
            seen = {BUILTIN_PLUGIN_NAME}
            for entry_point in self._selected_entry_points():
                if entry_point.name in seen:
                    continue
                seen.add(entry_point.name)
                try:
                    plugin = entry_point.load()
                except Exception:  # the plugin manager reports it
                    return None
                found.append((entry_point.name, plugin, entry_point.distribution))
        for _, plugin, _ in found:
            if not isinstance(plugin, types.ModuleType):
                return None
            for attribute, value in vars(plugin).items():
                opts = impl_options(value, f"{PROJECT_NAME}_impl")
                if opts is None:
                    continue
                code = getattr(value, "__code__", None)
                if (
                    opts != IMPL_DEFAULTS
                    or attribute not in _HOOK_NAMES
                    or code is None
                    or code.co_argcount
                ):
                    return None  # pluggy validates or orders these
        self._direct = found
        return found

    def _implementations(self, hook_name: str) -> list[tuple[str, Callable[[], Any]]]:
        """``(plugin name, hook function)`` in registration order."""
        with self._lock:
            direct = self._direct_plugins() if self._pm is None else None
        if direct is None:
            hook = getattr(self.pm.hook, hook_name)
            return [(impl.plugin_name, impl.function) for impl in reversed(hook.get_hookimpls())]
        attribute = f"{PROJECT_NAME}_impl"
        found: list[tuple[str, Callable[[], Any]]] = []
        for name, plugin, _ in direct:
            function = getattr(plugin, hook_name, None)
            if function is not None and impl_options(function, attribute) is not None:
                found.append((name, function))
        return found

    def _distribution_of(self, plugin_name: str) -> str | None:
        info = self._infos.get(plugin_name)
        if info is not None:
            return info.distribution
        if self._pm is None and self._direct is not None:
            for name, _, distribution in self._direct:
                if name == plugin_name:
                    return "pacsys-core" if name == BUILTIN_PLUGIN_NAME else distribution
        return None

    def _collect(self, hook_name: str, spec_type: type[SpecT]) -> dict[str, list[SpecT]]:
        by_name: dict[str, list[SpecT]] = {}
        for plugin_name, function in self._implementations(hook_name):
            specs = function() or []
            distribution = self._distribution_of(plugin_name)
            for declared in specs:
                if not isinstance(declared, spec_type):
                    raise TypeError(
                        f"plugin {plugin_name!r} returned {type(declared).__name__} from "
                        f"{hook_name}, "
                        f"expected {spec_type.__name__}"
                    )
                spec: SpecT = declared
                if spec.distribution is None and distribution:
                    spec = with_distribution(spec, distribution)
                names = (spec.name, *getattr(spec, "aliases", ()))
                for key in names:
                    by_name.setdefault(key, []).append(spec)
        return by_name

    @staticmethod
    def _unique(kind: str, name: str, candidates: list[SpecT]) -> SpecT:
        if len(candidates) > 1:
            sources = ", ".join(sorted({c.distribution or "in-process" for c in candidates}))
            raise ValueError(f"{kind} name {name!r} is claimed by more than one plugin ({sources})")
        return candidates[0]

    def _by_primary_name(
        self, kind: str, hook_name: str, spec_type: type[SpecT]
    ) -> dict[str, SpecT]:
        """Specs keyed by their own name (aliases left out), duplicates reported."""
        found = self._collect(hook_name, spec_type)
        return {
            name: self._unique(kind, name, specs)
            for name, specs in found.items()
            if specs[0].name == name
        }

    def backends(self) -> dict[str, BackendSpec]:
        """Backends by primary name."""
        return self._by_primary_name("backend", "pacsys_backends", BackendSpec)

    def backend_names(self) -> list[str]:
        """Every name (aliases included) a backend can be asked for, sorted."""
        return sorted(self._collect("pacsys_backends", BackendSpec))

    def backend(self, name: str) -> BackendSpec:
        """Look a backend up by name or alias; clear errors for unknown or uninstalled ones."""
        if not isinstance(name, str):
            raise TypeError(f"backend name must be a string, got {type(name).__name__}")
        found = self._collect("pacsys_backends", BackendSpec)
        key = self.backend_key(name, found)
        if key in found:
            return self._unique("backend", key, found[key])
        distribution = KNOWN_TRANSPORTS.get(key)
        if distribution is not None:
            raise TransportNotInstalledError(key, distribution, self._why_missing(distribution))
        close = difflib.get_close_matches(key.lower(), sorted(found), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"Invalid backend {name!r}, must be one of {sorted(found)}{hint}")

    def backend_key(self, name: str, found: Mapping[str, object] | None = None) -> str:
        """``name`` as declared: backend names are matched case-insensitively (``"GRPC"``)."""
        if found is None:
            found = self._collect("pacsys_backends", BackendSpec)
        if name in found:
            return name
        folded = name.lower()
        matches = [k for k in found if k.lower() == folded]
        if len(matches) == 1:
            return matches[0]
        return folded if folded in KNOWN_TRANSPORTS else name

    def _why_missing(self, distribution: str) -> str:
        if distribution_version(distribution) is None:
            return "is not installed"
        if os.environ.get(PLUGINS_ENV) is not None:
            return f"is installed but not enabled in {PLUGINS_ENV}"
        failed = [i for i in self._infos.values() if i.distribution == distribution and i.error]
        if failed:
            return f"failed to load ({failed[0].error})"
        return "is installed but does not provide it in this version"

    def create_backend(self, name: str, **kwargs: Any) -> Any:
        """Build the named backend with ``kwargs`` passed to its factory."""
        return self.backend(name).load()(**kwargs)

    def auth_methods(self) -> dict[str, AuthSpec]:
        """Auth methods by primary name."""
        return self._by_primary_name("auth method", "pacsys_auth_methods", AuthSpec)

    def auth_method_names(self) -> list[str]:
        """Every name (aliases included) an auth method can be asked for, sorted."""
        return sorted(self._collect("pacsys_auth_methods", AuthSpec))

    def auth_method(self, name: str) -> AuthSpec:
        found = self._collect("pacsys_auth_methods", AuthSpec)
        if name in found:
            return self._unique("auth method", name, found[name])
        raise ValueError(f"Unknown auth method {name!r}, must be one of {sorted(found)}")

    def policies(self) -> dict[str, PolicySpec]:
        return self._by_primary_name("policy", "pacsys_policies", PolicySpec)

    def policy(self, name: str) -> PolicySpec:
        found = self._collect("pacsys_policies", PolicySpec)
        if name in found:
            return self._unique("policy", name, found[name])
        raise ValueError(f"Unknown policy {name!r}, must be one of {sorted(found)}")

    def create_policy(self, name: str, **options: Any) -> Any:
        return self.policy(name).load()(**options)

    def servers(self) -> dict[str, ServerSpec]:
        """Server adapters by name, for ``pacsys serve``."""
        return self._by_primary_name("server", "pacsys_servers", ServerSpec)

    def metadata_sources(self) -> dict[str, MetadataSourceSpec]:
        """Device-metadata sources by name, in registration order (built-ins first)."""
        return self._by_primary_name(
            "metadata source", "pacsys_metadata_sources", MetadataSourceSpec
        )


def _hooks_of(pm: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    callers = pm.get_hookcallers(plugin) or []
    return tuple(sorted(caller.name for caller in callers))


_registry: Registry | None = None
_registry_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry (discovery happens on its first real use)."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = Registry()
    return _registry


def reset_registry(factory: Callable[[], Registry] = Registry) -> Registry:
    """Replace the process-wide registry (tests: re-run discovery under a new environment)."""
    global _registry
    with _registry_lock:
        _registry = factory()
    return _registry
