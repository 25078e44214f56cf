"""Message tables: which class a message name or wire type id stands for.

Each direction of a protocol (DPM requests and replies, docs/protocols/dpm.md §3; DMQ
request and reply tables, docs/protocols/dmq.md §12.2) has one :class:`MessageTable`. A class
is registered once with its protocol name and type id; the table then answers both
lookups, and refuses a second class under the same name or id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["MessageTable"]

_C = TypeVar("_C", bound=type)


class MessageTable(Generic[_C]):
    """Name -> class and type id -> class of one direction of a protocol."""

    def __init__(self, label: str) -> None:
        self.label = label
        """What the table holds, for error messages (e.g. ``"DPM reply"``)."""
        self.by_name: dict[str, _C] = {}
        self.by_id: dict[int, _C] = {}

    def add(self, cls: _C, name: str, type_id: int) -> _C:
        """Register ``cls`` as message ``name`` with wire id ``type_id``."""
        if name in self.by_name:
            raise ValueError(f"{self.label} name {name!r} is already {self.by_name[name].__name__}")
        if type_id in self.by_id:
            raise ValueError(f"{self.label} id {type_id} is already {self.by_id[type_id].__name__}")
        self.by_name[name] = cls
        self.by_id[type_id] = cls
        return cls

    def register(self, name: str, type_id: int) -> Callable[[_C], _C]:
        """Class decorator form of :meth:`add`."""

        def register(cls: _C) -> _C:
            return self.add(cls, name, type_id)

        return register

    def named(self, name: str) -> _C:
        """The class registered as ``name``; KeyError naming the table otherwise."""
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no {self.label} named {name!r}") from None

    def __iter__(self) -> Iterator[_C]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)
