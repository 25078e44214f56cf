"""Seed import paths whose code lives in a transport distribution."""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any


def reexport(namespace: dict[str, Any], target: str, distribution: str) -> None:
    """Fill a core module's namespace from ``target``, or say which distribution to install."""
    try:
        module = importlib.import_module(target)
    except ImportError as exc:
        try:
            importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            reason = "which is not installed"
        else:
            reason = f"which is installed but could not provide it ({exc})"
        raise ImportError(
            f"{namespace['__name__']} is provided by {distribution}, {reason}: "
            f"pip install {distribution}",
            name=namespace["__name__"],
        ) from exc
    names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    namespace.update({name: getattr(module, name) for name in names})
    namespace["__all__"] = list(names)
