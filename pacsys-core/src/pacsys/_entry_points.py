"""The entry points of one group, read straight from the installed distributions' metadata.

Plugin discovery runs in every command-line call, and ``importlib.metadata`` takes tens of
milliseconds to import and to scan every distribution. The entry points of a group are
plain text, so this module reads them itself: each ``*.dist-info``/``*.egg-info``
directory of each ``sys.path`` directory, in path order (the first distribution of a
name wins, as in ``importlib.metadata``), its ``entry_points.txt`` section ``[group]``,
lines ``name = module:attribute [extras]``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["EntryPoint", "entry_points"]

_META_SUFFIXES = (".dist-info", ".egg-info")


_UNREAD = object()  # identity not read from the metadata file yet


class EntryPoint:
    """One ``name = module:attribute`` line and the distribution that declares it.

    Immutable, compared and hashed by its five values. Found on ``sys.path``, its
    distribution's name and version come from the ``METADATA`` headers, read only when
    asked: a command-line start needs neither for the backend it picks.
    """

    __slots__ = ("_distribution", "_meta_dir", "_version", "group", "name", "value")

    name: str
    value: str
    group: str
    _distribution: object
    _version: object
    _meta_dir: str | None

    def __init__(
        self,
        name: str,
        value: str,
        group: str,
        distribution: str = "",
        version: str | None = None,
        *,
        meta_dir: str | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "value", value)
        set_(self, "group", group)
        set_(self, "_meta_dir", meta_dir)
        set_(self, "_distribution", _UNREAD if meta_dir else distribution)
        set_(self, "_version", _UNREAD if meta_dir else version)

    def _read_identity(self) -> None:
        name, version = _identity(self._meta_dir or "")
        object.__setattr__(self, "_distribution", name)
        object.__setattr__(self, "_version", version)

    @property
    def distribution(self) -> str:
        """The distribution's name as published (``pacsys-dpm``)."""
        if self._distribution is _UNREAD:
            self._read_identity()
        return self._distribution  # type: ignore[return-value]

    @property
    def version(self) -> str | None:
        """The distribution's version (None when its metadata names none)."""
        if self._version is _UNREAD:
            self._read_identity()
        return self._version  # type: ignore[return-value]

    def _key(self) -> tuple[str, str, str, str, str | None]:
        return (self.name, self.value, self.group, self.distribution, self.version)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntryPoint):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        name, value, group, distribution, version = self._key()
        return (
            f"EntryPoint(name={name!r}, value={value!r}, group={group!r}, "
            f"distribution={distribution!r}, version={version!r})"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"EntryPoint is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"EntryPoint is immutable: cannot delete {name!r}")

    def load(self) -> Any:
        """Import the module and return the named attribute (or the module itself)."""
        module_name, _, attribute = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            target = getattr(target, part)
        return target


def entry_points(group: str, path: Iterable[str] | None = None) -> list[EntryPoint]:
    """Every entry point of ``group`` declared by a distribution found on ``path``."""
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for directory in sys.path if path is None else path:
        for meta_dir in _metadata_dirs(directory or "."):
            key = _normalize(os.path.basename(meta_dir).rpartition(".")[0].partition("-")[0])
            if key in seen:
                continue
            seen.add(key)
            lines = _section(os.path.join(meta_dir, "entry_points.txt"), group)
            found += [EntryPoint(ep, value, group, meta_dir=meta_dir) for ep, value in lines]
    return found


def _metadata_dirs(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:  # not a directory (a zip file, a missing entry)
        return []
    return [os.path.join(directory, n) for n in names if n.endswith(_META_SUFFIXES)]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _section(path: str, group: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of section ``[group]`` of an ``entry_points.txt``."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return []
    pairs: list[tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.partition("[")[0].strip()))
    return pairs


def _identity(meta_dir: str) -> tuple[str, str | None]:
    """The published name and version from the metadata file's headers."""
    headers: dict[str, str | None] = {"name": None, "version": None}
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(meta_dir, filename), encoding="utf-8") as file:
                for line in file:
                    if not line.strip():
                        break  # end of the headers
                    key, _, value = line.partition(":")
                    if key.lower() in headers and headers[key.lower()] is None:
                        headers[key.lower()] = value.strip()
            break
        except OSError:
            continue
    stem = os.path.basename(meta_dir).rpartition(".")[0]
    fallback_name, _, fallback_version = stem.partition("-")
    return headers["name"] or fallback_name, headers["version"] or fallback_version or None
