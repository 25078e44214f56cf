"""Which plugin answers device-metadata questions: the ``pacsys_metadata_sources`` hook.

Core names no metadata provider.  The simulator answers for itself through core's built-in
backend source (:func:`own_metadata`); DevDB is pacsys-grpc's shared source.  See
``docs/plugins.md`` (Metadata sources).
"""

from __future__ import annotations

from typing import Any

from pacsys.config import Settings
from pacsys.hookspecs import MetadataSourceSpec
from pacsys.metadata import MetadataSource
from pacsys.registry import get_registry

__all__ = ["backend_source", "create_shared_source", "own_metadata"]


def own_metadata(backend: object) -> MetadataSource | None:
    """``backend`` itself when it carries its own metadata (the simulator), else None."""
    return backend if isinstance(backend, MetadataSource) else None


def _ordered(per_backend: bool) -> list[MetadataSourceSpec]:
    """Sources of one kind, highest priority first (registration order breaks ties)."""
    specs = [s for s in get_registry().metadata_sources().values() if s.per_backend == per_backend]
    return sorted(specs, key=lambda spec: -spec.priority)


def backend_source(backend: object) -> MetadataSource | None:
    """The first backend source that answers for ``backend``, or None."""
    for spec in _ordered(per_backend=True):
        source = spec.load()(backend)
        if source is not None:
            return source
    return None


def create_shared_source(settings: Settings) -> Any | None:
    """A new client of the highest-priority shared source (DevDB), or None when none is installed.

    Keyword arguments come from the global settings the spec maps; unset ones are left out.
    """
    shared = _ordered(per_backend=False)
    if not shared:
        return None
    spec = shared[0]
    kwargs = {}
    for keyword, setting in spec.settings.items():
        value = settings.value(setting)
        if value is not None and value != "":
            kwargs[keyword] = value
    return spec.load()(**kwargs)
