"""Seed import paths and names whose code lives in a transport distribution."""

from __future__ import annotations

import importlib
from typing import Any


def distribution_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_distribution(what: str, distribution: str, cause: ImportError) -> ImportError:
    """The error for ``what`` (a module or name) that ``distribution`` could not provide."""
    if distribution_version(distribution) is None:
        reason = "which is not installed"
    else:
        reason = f"which is installed but could not provide it ({cause})"
    return ImportError(
        f"{what} is provided by {distribution}, {reason}: pip install {distribution}",
        name=what,
    )


def provided_module(target: str, distribution: str, what: str) -> Any:
    """Module ``target`` of ``distribution``, imported by name: core never imports a transport.

    ImportError naming ``what`` and the distribution to install when it cannot be imported.
    """
    try:
        return importlib.import_module(target)
    except ImportError as exc:
        raise missing_distribution(what, distribution, exc) from exc


def reexport(namespace: dict[str, Any], target: str, distribution: str) -> None:
    """Fill a core module's namespace from ``target``, or say which distribution to install."""
    module = provided_module(target, distribution, namespace["__name__"])
    names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    namespace.update({name: getattr(module, name) for name in names})
    namespace["__all__"] = list(names)
