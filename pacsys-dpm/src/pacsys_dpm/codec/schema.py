"""Schema-driven struct codec (docs/protocols/dpm.md §2.4).

Message and setting classes are frozen structs (:mod:`pacsys.wire`) whose fields
declare their wire kind and wire name. This module compiles each class, on its
first use, from its core layout (:func:`pacsys.wire.layout_of`, ids looked up in
:data:`.ids.FIELD_IDS`) into a :class:`StructSpec` with precomputed field-id bytes and an
id -> reader table, then encodes instances and decodes structs from it.
Attribute order is wire order; optional fields default to ``None`` and are
left out of the struct when ``None``. The generated fast paths of a class
(:mod:`.fastpath`, :mod:`.fastwrite`) are compiled on their first call.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, Final

from pacsys.wire import layout_of, wire_field

from . import wire
from .errors import DPMEncodeError, DPMProtocolError
from .fastpath import build_fast_reader
from .fastwrite import build_fast_writer
from .ids import FIELD_IDS

__all__ = [
    "Kind",
    "StructSpec",
    "encode_struct",
    "encode_struct_in_order",
    "read_struct",
    "read_struct_any_order",
    "spec_of",
    "struct_array",
    "wire_field",
]

Reader = Callable[[bytes, int], tuple[Any, int]]
Encoder = Callable[[Any], bytes]


class Kind:
    """A wire type: its schema name, its writer and its reader."""

    __slots__ = ("element", "encode", "name", "read")

    def __init__(self, name: str, encode: Encoder, read: Reader, element: type | None = None):
        self.name = name
        self.encode = encode
        self.read = read
        self.element = element
        """Struct class of an ``array<struct>`` kind."""

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


def _ranged_int(low: int, high: int, bits: int) -> Encoder:
    def encode(value: int) -> bytes:
        try:
            value = operator.index(value)
        except TypeError as exc:
            raise DPMEncodeError(f"expected an int, got {type(value).__name__}") from exc
        if not low <= value <= high:
            raise DPMEncodeError(f"value {value} out of range for int{bits}")
        return wire.encode_int(value)

    return encode


INT16: Final = Kind("int16", _ranged_int(wire.INT16_MIN, wire.INT16_MAX, 16), wire.read_int16)
INT32: Final = Kind("int32", _ranged_int(wire.INT32_MIN, wire.INT32_MAX, 32), wire.read_int32)
INT64: Final = Kind("int64", _ranged_int(wire.INT64_MIN, wire.INT64_MAX, 64), wire.read_int)
DOUBLE: Final = Kind("double", wire.encode_double, wire.read_double)
BOOL: Final = Kind("bool", wire.encode_bool, wire.read_bool)
STRING: Final = Kind("string", wire.encode_string, wire.read_string)
BINARY: Final = Kind("binary", wire.encode_binary, wire.read_binary)
DOUBLE_ARRAY: Final = Kind("array<double>", wire.encode_double_array, wire.read_double_array)
INT64_ARRAY: Final = Kind("array<int64>", wire.encode_int64_array, wire.read_int64_array)
STRING_ARRAY: Final = Kind("array<string>", wire.encode_string_array, wire.read_string_array)


def struct_array(cls: type) -> Kind:
    """Kind of an array of structs of ``cls`` (compiled lazily on first use)."""

    def encode(values: Sequence[Any]) -> bytes:
        if not isinstance(values, (list, tuple)):
            raise DPMEncodeError(f"expected a sequence of {cls.__name__}")
        for value in values:
            if not isinstance(value, cls):
                raise DPMEncodeError(f"expected {cls.__name__}, got {type(value).__name__}")
        return wire.encode_array_header(len(values)) + b"".join(map(encode_struct, values))

    def read(buf: bytes, pos: int) -> tuple[tuple[Any, ...], int]:
        spec = spec_of(cls)
        count, pos = wire.read_size(buf, pos, wire.ARRAY_BASE)
        if count > len(buf) - pos:  # each struct takes at least 2 bytes
            raise DPMProtocolError(f"truncated message (array of {count} structs)")
        items = []
        for _ in range(count):
            item, pos = read_struct(buf, pos, spec)
            items.append(item)
        return tuple(items), pos

    return Kind(f"array<{cls.__name__}>", encode, read, cls)


class FieldSpec:
    """One compiled struct field."""

    __slots__ = ("attr", "field_id", "id_bytes", "kind", "optional", "wire_name")

    def __init__(
        self, attr: str, wire_name: str, field_id: int, id_bytes: bytes, kind: Kind, optional: bool
    ) -> None:
        self.attr = attr
        self.wire_name = wire_name
        self.field_id = field_id
        self.id_bytes = id_bytes
        self.kind = kind
        self.optional = optional

    def __repr__(self) -> str:
        return f"FieldSpec({self.attr!r}, {self.wire_name!r}, {self.field_id}, {self.kind!r})"


_MISSING: Final = object()


class StructSpec:
    """Compiled layout of one struct class (message body or setting struct)."""

    __slots__ = (
        "by_id",
        "by_id_bytes",
        "cls",
        "fast",
        "fast_fields",
        "fields",
        "layout",
        "max_count",
        "min_count",
        "pack",
        "required_mask",
        "template",
        "write",
    )

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.layout = layout = layout_of(cls, FIELD_IDS)
        fields = [
            FieldSpec(
                f.attr, f.wire_name, f.field_id, wire.encode_int(f.field_id), f.kind, f.optional
            )
            for f in layout.fields
        ]
        self.fields: tuple[FieldSpec, ...] = tuple(fields)
        self.by_id: dict[int, tuple[int, int, Reader]] = {
            f.field_id: (index, 1 << index, f.kind.read) for index, f in enumerate(fields)
        }
        # Minimal 3-byte id encodings (every DPM field id) -> entry: skips int parsing.
        self.by_id_bytes: dict[bytes, tuple[int, int, Reader]] = {
            f.id_bytes: self.by_id[f.field_id] for f in fields if len(f.id_bytes) == 3
        }
        self.template: list[Any] = [None if f.optional else _MISSING for f in fields]
        self.required_mask = layout.required_mask
        self.min_count = layout.min_count
        self.max_count = layout.max_count
        # The generated fast paths are compiled on first call (each stub replaces itself).
        # A reader needs 3-byte field ids; packing raw values skips the converters, so
        # only classes without any get a packer. None: no fast path.
        readable = all(len(f.id_bytes) == 3 for f in fields)
        plain = all(f.converter is None for f in layout.fields)
        self.fast: Any = self._first_fast if readable else None
        self.fast_fields: Any = self._first_fast_fields if readable else None
        self.write: Any = self._first_write
        self.pack: Any = self._first_pack if plain else None

    def _readers(self, cls: type | None) -> Any:
        required = [(f.id_bytes, f.kind.name, f.kind.read) for f in self.fields if not f.optional]
        optional = [(f.id_bytes, f.kind.name, f.kind.read) for f in self.fields if f.optional]
        return build_fast_reader(cls, required, optional)

    def _first_fast(self, buf: bytes, pos: int) -> Any:
        self.fast = self._readers(self.cls)
        return self.fast(buf, pos)

    def _first_fast_fields(self, buf: bytes, pos: int) -> Any:
        self.fast_fields = self._readers(None)
        return self.fast_fields(buf, pos)

    def _writers(self) -> None:
        self.write, pack = build_fast_writer(
            self.cls,
            [(f.attr, f.id_bytes, f.kind.name, f.kind.encode, f.optional) for f in self.fields],
        )
        if self.pack is not None:
            self.pack = pack

    def _first_write(self, obj: Any) -> bytes | None:
        self._writers()
        return self.write(obj)

    def _first_pack(self, *values: Any) -> bytes | None:
        self._writers()
        return self.pack(*values)


_SPECS: dict[type, StructSpec] = {}


def spec_of(cls: type) -> StructSpec:
    """The compiled layout of ``cls`` (cached)."""
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = StructSpec(cls)
    return spec


def encode_struct(obj: Any) -> bytes:
    """Struct header (2 x present fields) and the (id, value) pairs in wire order."""
    spec = _SPECS.get(type(obj)) or spec_of(type(obj))
    encoded = spec.write(obj)
    return encode_struct_in_order(obj, spec) if encoded is None else encoded


def encode_struct_in_order(obj: Any, spec: StructSpec | None = None) -> bytes:
    """The general encoder behind :func:`encode_struct` (and its error messages)."""
    spec = spec or spec_of(type(obj))
    parts = [b""]
    for field in spec.fields:
        value = getattr(obj, field.attr)
        if value is None:
            if field.optional:
                continue
            raise DPMEncodeError(f"{spec.cls.__name__}.{field.attr} is required")
        try:
            encoded = field.kind.encode(value)
        except DPMEncodeError as exc:
            raise DPMEncodeError(f"{spec.cls.__name__}.{field.attr}: {exc}") from exc
        parts.append(field.id_bytes)
        parts.append(encoded)
    parts[0] = wire.encode_array_header(len(parts) - 1)
    return b"".join(parts)


def read_struct(buf: bytes, pos: int, spec: StructSpec) -> tuple[Any, int]:
    """Decode one struct of ``spec`` at ``pos`` (fast path first, see :mod:`.fastpath`)."""
    if spec.fast is not None:
        result = spec.fast(buf, pos)
        if result is not None:
            return result
    return read_struct_any_order(buf, pos, spec)


def read_struct_any_order(buf: bytes, pos: int, spec: StructSpec) -> tuple[Any, int]:
    """Decode one struct of ``spec`` at ``pos``; fields may come in any order.

    As in the reference, a duplicate field overwrites the earlier one; a
    required field that ends up missing is an error.
    """
    start = pos
    count, pos = wire.read_size(buf, pos, wire.ARRAY_BASE)
    if count & 1 or not spec.min_count <= count <= spec.max_count:
        raise DPMProtocolError(f"bad field count {count} for {spec.cls.__name__} at offset {start}")
    values = spec.template.copy()
    by_id_bytes = spec.by_id_bytes
    seen = 0
    for _ in range(count >> 1):
        entry = by_id_bytes.get(buf[pos : pos + 3])
        if entry is None:
            field_id, pos = wire.read_int(buf, pos)
            entry = spec.by_id.get(field_id)
            if entry is None:
                raise DPMProtocolError(
                    f"unknown field found: id {field_id} in {spec.cls.__name__} at offset {pos}"
                )
        else:
            pos += 3
        index, bit, read = entry
        values[index], pos = read(buf, pos)
        seen |= bit
    if seen & spec.required_mask != spec.required_mask:
        missing = spec.layout.missing(seen)
        raise DPMProtocolError(f"{spec.cls.__name__} lacks required field(s) {missing}")
    return spec.cls(*values), pos
