"""Field descriptors of SDD wire structs (docs/protocols/dpm.md §2.4).

A struct field is declared once, with :func:`wire_field`: its *kind* (the codec's
own object that reads and writes one value), its field id or wire name, whether it
may be absent, and how Python values become field values. The descriptor is the
same whether the class is a frozen :class:`~pacsys.wire.frozen.Struct` (DPM) or
an attrs class that carries it in its attribute metadata (DMQ); :func:`declared_fields`
reads it back from either (DMQ's structs: docs/protocols/dmq.md §12.2). Nothing here
encodes or decodes: kinds belong to codecs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

__all__ = ["METADATA_KEY", "WireField", "check_order", "declared_fields", "wire_field"]

METADATA_KEY: Final = "pacsys.wire"
"""Key of the :class:`WireField` in an attrs attribute's ``metadata``."""


class WireField:
    """One declared field: wire kind, id or wire name, presence, conversion, equality."""

    __slots__ = ("converter", "eq", "field_id", "kind", "name", "optional", "wire_name")

    def __init__(
        self,
        kind: Any,
        *,
        field_id: int | None = None,
        wire_name: str | None = None,
        optional: bool = False,
        converter: Callable[[Any], Any] | None = None,
        eq: Callable[[Any, Any], bool] | None = None,
        name: str = "",
    ) -> None:
        if field_id is not None and not isinstance(field_id, int):
            raise TypeError(f"field_id must be an int, got {type(field_id).__name__}")
        self.kind = kind
        self.field_id = field_id
        """Wire id, or None when the codec looks it up by :attr:`wire_name`."""
        self.wire_name = wire_name
        """Protocol name when it differs from the attribute name, else None."""
        self.optional = optional
        self.converter = converter
        self.eq = eq
        self.name = name
        """Attribute name (set when the class is declared)."""

    def named(self, name: str) -> WireField:
        """A copy of this descriptor bound to attribute ``name``."""
        return WireField(
            self.kind,
            field_id=self.field_id,
            wire_name=self.wire_name,
            optional=self.optional,
            converter=self.converter,
            eq=self.eq,
            name=name,
        )

    def __repr__(self) -> str:
        return f"WireField({self.name!r}, {self.kind!r}, optional={self.optional})"


def wire_field(
    kind: Any,
    *,
    field_id: int | None = None,
    wire_name: str | None = None,
    optional: bool = False,
    converter: Callable[[Any], Any] | None = None,
    eq: Callable[[Any, Any], bool] | None = None,
) -> Any:
    """Declare a field of kind ``kind`` in a :class:`~pacsys.wire.frozen.Struct` class.

    ``field_id`` is the wire id when the declaration carries it; otherwise the codec
    resolves ``wire_name`` (or the attribute name) through its id table. Optional
    fields default to ``None`` and must come after the required ones. ``eq`` compares
    two values of the field (arrays); such fields are left out of the hash.
    """
    return WireField(
        kind,
        field_id=field_id,
        wire_name=wire_name,
        optional=optional,
        converter=converter,
        eq=eq,
    )


_DECLARED: dict[type, tuple[WireField, ...]] = {}


def declared_fields(cls: type) -> tuple[WireField, ...]:
    """The wire fields of ``cls`` in declaration (wire) order, each bound to its attribute.

    ``cls`` is a frozen struct (fields in ``__wire_fields__``) or an attrs class whose
    wire attributes carry a :class:`WireField` under :data:`METADATA_KEY`; attrs
    attributes without one are not on the wire.
    """
    fields = _DECLARED.get(cls)
    if fields is not None:
        return fields
    own = cls.__dict__.get("__wire_fields__")
    if own is not None:
        fields = tuple(own)
    elif hasattr(cls, "__attrs_attrs__"):
        fields = tuple(
            attribute.metadata[METADATA_KEY].named(attribute.name)
            for attribute in cls.__attrs_attrs__
            if METADATA_KEY in attribute.metadata
        )
    else:
        raise TypeError(f"{cls.__name__} declares no wire fields (not a wire struct class)")
    check_order(cls, fields)
    _DECLARED[cls] = fields
    return fields


def check_order(cls: type, fields: Sequence[WireField]) -> None:
    """Optional fields come last: the struct's field count then bounds its layout."""
    optional_seen = False
    for field in fields:
        if optional_seen and not field.optional:
            raise TypeError(f"{cls.__name__}.{field.name}: required field after an optional one")
        optional_seen = optional_seen or field.optional
