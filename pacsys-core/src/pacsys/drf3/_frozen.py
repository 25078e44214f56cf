"""Immutable value objects stored as one private tuple.

Parsed DRF objects are shared (``parse_request`` caches them), so they must be immutable. Keeping
all values in a single tuple slot makes construction cheap (one slot write) while ``__setattr__``
rejects any mutation from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T", bound="Frozen")


class Frozen:
    """Base class: the values live in ``self._v`` (a tuple); attributes are read-only."""

    __slots__ = ("_v",)

    _v: tuple[Any, ...]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return (build, (type(self), self._v))

    def __copy__(self: _T) -> _T:
        return build(type(self), self._v)

    def __deepcopy__(self: _T, memo: dict[int, Any]) -> _T:
        # Every stored value is itself immutable, so sharing them is a valid deep copy.
        return build(type(self), self._v)


# Raw constructors for hot paths that inline ``build``: ``obj = new(cls); set_values(obj, values)``.
set_values = Frozen.__dict__["_v"].__set__
new = object.__new__


def build(cls: type[_T], values: tuple[Any, ...]) -> _T:
    """Create an instance of ``cls`` holding ``values`` without running ``__init__``."""
    obj = new(cls)
    set_values(obj, values)
    return obj


def init_values(obj: Frozen, values: tuple[Any, ...]) -> None:
    """Store ``values`` in a freshly created ``obj`` (for use inside ``__init__``)."""
    set_values(obj, values)


def slot(index: int, doc: str) -> Any:
    """Read-only attribute returning item ``index`` of the value tuple."""
    return property(lambda self: self._v[index], doc=doc)
