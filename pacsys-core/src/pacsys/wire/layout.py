"""Compiled layout of a wire struct: field ids, presence rules, count bounds.

Both SDD codecs (DPM, docs/protocols/dpm.md §2.4; DMQ, docs/protocols/dmq.md §12.2)
write a struct as an array header of ``2 x present fields`` followed by
``(field id, value)`` pairs. A :class:`StructLayout` holds what every encoder and
decoder of such a struct needs, computed once per class from its declared fields
(:mod:`.fields`): each field's wire id (declared, or looked up by wire name in the
codec's table), the id -> field index, which fields are required, and the valid entry
counts. Values are read and written by the codec's kinds; this module never touches bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pacsys.wire.fields import declared_fields

__all__ = ["LaidField", "StructLayout", "layout_of"]


class LaidField:
    """One field of a compiled layout: attribute, wire name, resolved id, kind, presence."""

    __slots__ = ("attr", "bit", "converter", "field_id", "index", "kind", "optional", "wire_name")

    def __init__(
        self,
        index: int,
        attr: str,
        wire_name: str,
        field_id: int,
        kind: Any,
        optional: bool,
        converter: Callable[[Any], Any] | None,
    ) -> None:
        self.index = index
        self.bit = 1 << index
        self.attr = attr
        self.wire_name = wire_name
        self.field_id = field_id
        self.kind = kind
        self.optional = optional
        self.converter = converter

    @property
    def required(self) -> bool:
        return not self.optional

    def __repr__(self) -> str:
        return f"LaidField({self.attr!r}, {self.wire_name!r}, {self.field_id}, {self.kind!r})"


class StructLayout:
    """Wire layout of one struct class (see the module documentation)."""

    __slots__ = ("by_id", "cls", "fields", "max_count", "min_count", "required_mask")

    def __init__(self, cls: type, field_ids: Mapping[str, int] | None = None) -> None:
        self.cls = cls
        fields = []
        for index, declared in enumerate(declared_fields(cls)):
            wire_name = declared.wire_name or declared.name
            field_id = declared.field_id
            if field_id is None:
                if field_ids is None or wire_name not in field_ids:
                    raise TypeError(
                        f"{cls.__name__}.{declared.name}: no field id declared and none "
                        f"known for wire name {wire_name!r}"
                    )
                field_id = field_ids[wire_name]
            fields.append(
                LaidField(
                    index,
                    declared.name,
                    wire_name,
                    field_id,
                    declared.kind,
                    declared.optional,
                    declared.converter,
                )
            )
        self.fields: tuple[LaidField, ...] = tuple(fields)
        self.by_id: dict[int, LaidField] = {}
        for field in fields:
            if field.field_id in self.by_id:
                raise TypeError(
                    f"{cls.__name__}: fields {self.by_id[field.field_id].attr} and "
                    f"{field.attr} share wire id {field.field_id}"
                )
            self.by_id[field.field_id] = field
        self.required_mask = sum(f.bit for f in fields if not f.optional)
        self.min_count = 2 * sum(not f.optional for f in fields)
        """Fewest array entries a struct of this class has (its required pairs)."""
        self.max_count = 2 * len(fields)

    def count_ok(self, count: int) -> bool:
        """Whether a struct header's entry count can belong to this class."""
        return not count & 1 and self.min_count <= count <= self.max_count

    def missing(self, seen: int) -> list[str]:
        """Wire names of the required fields whose bits are not set in ``seen``."""
        return [f.wire_name for f in self.fields if not f.optional and not seen & f.bit]


_LAYOUTS: dict[type, StructLayout] = {}


def layout_of(cls: type, field_ids: Mapping[str, int] | None = None) -> StructLayout:
    """The (cached) layout of ``cls``; ``field_ids`` maps wire names to ids for fields
    declared without one (used when the layout is first compiled)."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = StructLayout(cls, field_ids)
    return layout
