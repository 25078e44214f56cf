"""Frozen wire structs: a slotted, immutable class per struct (DPM messages and settings).

A struct class declares its fields in wire order as ``name = wire_field(KIND, ...)`` and
is decorated with :func:`struct`, which makes it slotted and immutable. Instances compare
and hash by field values and print as ``Name(field=value, ...)``.

The ``__init__`` of a class (positional or keyword arguments, converters applied, optional
fields defaulting to ``None``) is generated the first time the class is instantiated, not
when it is defined. Generating code is what makes class creation expensive, a codec
defines dozens of classes and a process uses a handful of them: this keeps importing the
codec cheap, which every command-line call pays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pacsys.wire.fields import WireField, check_order

__all__ = ["FrozenInstanceError", "Struct", "struct"]

_T = TypeVar("_T", bound=type)


class FrozenInstanceError(AttributeError):
    """Assigning to (or deleting) a field of a frozen struct."""


def struct(cls: _T) -> _T:
    """Make ``cls`` (a :class:`Struct` subclass) a slotted, frozen struct of its fields."""
    if not issubclass(cls, Struct):
        raise TypeError(f"{cls.__name__} must derive from Struct")
    fields = []
    namespace: dict[str, Any] = {}
    for key, value in vars(cls).items():
        if isinstance(value, WireField):
            value.name = key
            fields.append(value)
        elif key not in ("__dict__", "__weakref__"):
            namespace[key] = value
    check_order(cls, fields)
    names = tuple(field.name for field in fields)
    namespace.update(__slots__=names, __match_args__=names, __wire_fields__=tuple(fields))
    return type(cls)(cls.__name__, cls.__bases__, namespace)  # type: ignore[misc]  # rebuilt with slots


class Struct:
    """Base of the frozen structs; see the module documentation."""

    __slots__ = ()
    __wire_fields__: ClassVar[tuple[WireField, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # First instance of this class: generate its __init__, install it, use it.
        cls = type(self)
        init = _generate_init(cls)
        cls.__init__ = init  # type: ignore[method-assign]  # generated once, per class
        init(self, *args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen struct")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen struct")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in self.__wire_fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        plain_self, plain_other = [], []
        for field in self.__wire_fields__:
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if field.eq is None:
                plain_self.append(mine)
                plain_other.append(theirs)
            elif not field.eq(mine, theirs):
                return False
        return plain_self == plain_other  # list equality: identical objects are equal (NaN)

    def __hash__(self) -> int:
        fields = self.__wire_fields__
        return hash((type(self).__name__, *(getattr(self, f.name) for f in fields if not f.eq)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__wire_fields__)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())


def _generate_init(cls: type[Struct]) -> Callable[..., None]:
    """``__init__`` of ``cls``: store every field (converted) through ``object.__setattr__``."""
    fields = cls.__wire_fields__
    names: dict[str, Any] = {"_setattr": object.__setattr__}
    params = [f"{f.name}=None" if f.optional else f.name for f in fields]
    lines = [f"def __init__(self{''.join(', ' + p for p in params)}):"]
    for f in fields:
        value = f.name
        if f.converter is not None:
            names[f"_convert_{f.name}"] = f.converter
            value = f"_convert_{f.name}({f.name})"
            if f.optional:
                value = f"None if {f.name} is None else {value}"
        lines.append(f"    _setattr(self, {f.name!r}, {value})")
    if not fields:
        lines.append("    pass")
    exec("\n".join(lines), names)  # source built only from the class's fields
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
