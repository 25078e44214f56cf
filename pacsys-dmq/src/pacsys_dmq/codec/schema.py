"""Wire types and the generic SDD struct codec driven by attrs field metadata.

Message and struct classes declare each attribute with :func:`wire_field`, naming its
16-bit field id and wire type. Attributes without a default are required; the optional
ones default to None and are left off the wire when None. The encoder writes fields in
declaration order; the decoder accepts any order.
"""

from __future__ import annotations

import functools
import math
import operator
import struct
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

import attrs
import numpy as np

from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.sdd import INT16_RANGE, INT32_RANGE, INT64_RANGE, SDDReader, SDDWriter

__all__ = [
    "BINARY",
    "BOOL",
    "DOUBLE",
    "INT16",
    "INT32",
    "INT64",
    "STRING",
    "ArrayType",
    "EnumType",
    "StructType",
    "WireField",
    "WireType",
    "decode_struct",
    "encode_struct",
    "struct_fields",
    "wire_field",
]

_WIRE = "pacsys_dmq.wire"
_DOUBLE_BITS = struct.Struct(">d")


class WireType(Protocol):
    """How one attribute is converted, compared, encoded and decoded."""

    name: str

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None: ...

    def decode(self, reader: SDDReader, where: str) -> Any: ...

    def convert(self, value: Any) -> Any: ...

    def eq_key(self, value: Any) -> Any: ...


class _Scalar:
    """Base for wire types whose Python value needs no conversion."""

    name = "value"

    def convert(self, value: Any) -> Any:
        return value

    def eq_key(self, value: Any) -> Any:
        return value


class IntType(_Scalar):
    """Signed integer of a fixed Java width (checked on encode and decode)."""

    def __init__(self, name: str, bounds: tuple[int, int]) -> None:
        self.name = name
        self.bounds = bounds

    def convert(self, value: Any) -> Any:
        return int(value) if isinstance(value, np.integer) else value

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise TypeError(f"{where}: expected an integer, got {type(value).__name__}")
        number = operator.index(value)
        if not self.bounds[0] <= number <= self.bounds[1]:
            raise ValueError(f"{where}: {number} does not fit {self.name}")
        writer.integer(number)

    def decode(self, reader: SDDReader, where: str) -> int:
        return reader.integer(self.bounds, f"{self.name} {where}")


class DoubleType(_Scalar):
    """IEEE-754 binary64; compared bit-for-bit so NaN equals NaN and -0.0 != 0.0."""

    name = "double"

    def convert(self, value: Any) -> float:
        return float(value)

    def eq_key(self, value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        return _DOUBLE_BITS.pack(value)

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        writer.double(float(value))

    def decode(self, reader: SDDReader, where: str) -> float:
        return reader.double()


class BoolType(_Scalar):
    name = "bool"

    def convert(self, value: Any) -> Any:
        return bool(value) if isinstance(value, np.bool_) else value

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{where}: expected a bool, got {type(value).__name__}")
        writer.boolean(value)

    def decode(self, reader: SDDReader, where: str) -> bool:
        return reader.boolean()


class StringType(_Scalar):
    name = "string"

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"{where}: expected a str, got {type(value).__name__}")
        try:
            writer.string(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None

    def decode(self, reader: SDDReader, where: str) -> str:
        return reader.string()


class BinaryType(_Scalar):
    name = "binary"

    def convert(self, value: Any) -> bytes:
        return bytes(value) if isinstance(value, bytearray | memoryview) else value

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"{where}: expected bytes, got {type(value).__name__}")
        writer.binary(bytes(value))

    def decode(self, reader: SDDReader, where: str) -> bytes:
        return reader.binary()


class EnumType(_Scalar):
    """An SDD enum restricted to the given wire values."""

    def __init__(self, name: str, values: Iterable[int]) -> None:
        self.name = name
        self.values = frozenset(int(v) for v in values)

    def convert(self, value: Any) -> Any:
        return int(value) if isinstance(value, int) else value

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.values:
            raise ValueError(f"{where}: {value!r} is not a {self.name} wire value")
        writer.enum(int(value))

    def decode(self, reader: SDDReader, where: str) -> int:
        at = reader.offset
        value = reader.enum()
        if value not in self.values:
            raise DMQProtocolError(
                f"unknown enum value: {value} for {self.name} {where} at offset {at}"
            )
        return value


class ArrayType:
    """A homogeneous SDD array, held in Python as a tuple."""

    def __init__(self, element: WireType) -> None:
        self.element = element
        self.name = f"{element.name}[]"

    def convert(self, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str | bytes):
            raise TypeError(f"expected a sequence of {self.element.name}, got {value!r}")
        return tuple(self.element.convert(item) for item in value)

    def eq_key(self, value: Any) -> Any:
        return tuple(self.element.eq_key(item) for item in value)

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        items = tuple(value)
        writer.array_header(len(items))
        for index, item in enumerate(items):
            self.element.encode(writer, item, f"{where}[{index}]")

    def decode(self, reader: SDDReader, where: str) -> tuple[Any, ...]:
        count = reader.array_header()
        return tuple(self.element.decode(reader, f"{where}[{i}]") for i in range(count))


class StructType(_Scalar):
    """A nested struct whose class declares its fields with :func:`wire_field`."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.name = cls.__name__

    def encode(self, writer: SDDWriter, value: Any, where: str) -> None:
        if not isinstance(value, self.cls):
            raise TypeError(f"{where}: expected {self.name}, got {type(value).__name__}")
        encode_struct(writer, value)

    def decode(self, reader: SDDReader, where: str) -> Any:
        return decode_struct(reader, self.cls)


INT16 = IntType("int16", INT16_RANGE)
INT32 = IntType("int32", INT32_RANGE)
INT64 = IntType("int64", INT64_RANGE)
DOUBLE = DoubleType()
BOOL = BoolType()
STRING = StringType()
BINARY = BinaryType()


@attrs.frozen
class WireField:
    """Wire facts of one attribute: its id, type, protocol name and whether it is required."""

    attr_name: str
    field_id: int
    wire_type: WireType
    wire_name: str
    required: bool


@attrs.frozen
class _WireInfo:
    field_id: int
    wire_type: WireType
    wire_name: str | None


def wire_field(
    field_id: int, wire_type: WireType, *, optional: bool = False, wire_name: str | None = None
) -> Any:
    """Declare an attrs attribute carried on the wire as field ``field_id``.

    ``wire_name`` is the protocol's field name when it differs from the attribute name
    (e.g. ``dataRequest``).
    """
    converter: Callable[[Any], Any] = wire_type.convert
    eq_key: Callable[[Any], Any] = wire_type.eq_key
    if optional:
        converter = attrs.converters.optional(converter)
        base_key = eq_key

        def eq_key(value: Any) -> Any:
            return None if value is None else base_key(value)

    metadata = {_WIRE: _WireInfo(field_id, wire_type, wire_name)}
    if optional:
        return attrs.field(default=None, converter=converter, eq=eq_key, metadata=metadata)
    return attrs.field(converter=converter, eq=eq_key, metadata=metadata)


_T = TypeVar("_T")


@functools.cache
def struct_fields(cls: type) -> tuple[WireField, ...]:
    """The wire fields of an attrs class, in declaration order."""
    fields = []
    for attribute in attrs.fields(cls):
        info = attribute.metadata.get(_WIRE)
        if info is None:
            continue
        fields.append(
            WireField(
                attr_name=attribute.name,
                field_id=info.field_id,
                wire_type=info.wire_type,
                wire_name=info.wire_name or attribute.name,
                required=attribute.default is attrs.NOTHING,
            )
        )
    return tuple(fields)


@functools.cache
def _fields_by_id(cls: type) -> dict[int, WireField]:
    return {field.field_id: field for field in struct_fields(cls)}


def _label(cls: type) -> str:
    return getattr(cls, "SDD_NAME", cls.__name__)


def encode_struct(writer: SDDWriter, obj: Any) -> None:
    """Write ``obj`` as an SDD struct: entry count, then (field id, value) pairs."""
    kind: type = type(obj)  # plain ``type``: mypy does not see type[Any] as Hashable
    label = _label(kind)
    present = [
        (field, value)
        for field in struct_fields(kind)
        if (value := getattr(obj, field.attr_name)) is not None
    ]
    writer.array_header(2 * len(present))
    for field, value in present:
        writer.integer(field.field_id)
        field.wire_type.encode(writer, value, f"{label}.{field.wire_name}")


def decode_struct(reader: SDDReader, cls: type[_T]) -> _T:
    """Read an SDD struct of ``cls``: fields in any order, no unknown or repeated ids."""
    key: type = cls  # plain ``type``: mypy does not see type[_T] as Hashable
    label = _label(key)
    fields = struct_fields(key)
    by_id = _fields_by_id(key)
    lowest = 2 * sum(field.required for field in fields)
    highest = 2 * len(fields)
    at = reader.offset
    count = reader.array_header()
    if count % 2 or not lowest <= count <= highest:
        raise DMQProtocolError(
            f"incorrect number of fields: {label} struct at offset {at} has {count} entries, "
            f"expected an even count in {lowest}..{highest}"
        )
    values: dict[str, Any] = {}
    for _ in range(count // 2):
        id_at = reader.offset
        field_id = reader.integer(INT32_RANGE, "field id")
        field = by_id.get(field_id)
        if field is None:
            raise DMQProtocolError(
                f"unknown field found: id {field_id} at offset {id_at} is not a field of {label}"
            )
        if field.attr_name in values:
            raise DMQProtocolError(
                f"duplicate field: {label}.{field.wire_name} appears twice (offset {id_at})"
            )
        values[field.attr_name] = field.wire_type.decode(reader, f"{label}.{field.wire_name}")
    missing = [f.wire_name for f in fields if f.required and f.attr_name not in values]
    if missing:
        raise DMQProtocolError(
            f"missing required field: {label} lacks {', '.join(missing)} (struct at offset {at})"
        )
    return cls(**values)
