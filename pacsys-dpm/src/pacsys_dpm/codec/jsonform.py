"""Messages <-> the JSON form of ``tests/vectors/dpm_vectors.json`` (docs/protocols/dpm.md §9).

Keys are the schema field names (``MIC``, ``serviceName``...), absent optional
fields are missing, doubles are numbers or ``"NaN"``/``"Infinity"``/
``"-Infinity"``, binaries are ``{"hex": ...}`` and struct arrays lists of
objects. Useful for vector-driven tests, replaying recorded streams and
logging messages readably.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .ids import Direction
from .messages import Message, message_type
from .schema import Kind, spec_of

_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _double_from_json(value: Any) -> float:
    if isinstance(value, str):
        try:
            return _SPECIAL_DOUBLES[value]
        except KeyError:
            raise ValueError(f"not a JSON double: {value!r}") from None
    return float(value)


def _double_to_json(value: float) -> float | str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _value_from_json(kind: Kind, value: Any) -> Any:
    name = kind.name
    if kind.element is not None:
        return [struct_from_json(kind.element, item) for item in value]
    if name in ("int16", "int32", "int64"):
        return int(value)
    if name == "double":
        return _double_from_json(value)
    if name == "binary":
        return bytes.fromhex(value["hex"])
    if name == "array<double>":
        return [_double_from_json(item) for item in value]
    if name == "array<int64>":
        return [int(item) for item in value]
    if name == "array<string>":
        return list(value)
    return value  # bool, string


def _value_to_json(kind: Kind, value: Any) -> Any:
    name = kind.name
    if kind.element is not None:
        return [struct_to_json(item) for item in value]
    if name == "double":
        return _double_to_json(value)
    if name == "binary":
        return {"hex": bytes(value).hex()}
    if name == "array<double>":
        return [_double_to_json(item) for item in value]
    if name in ("array<int64>", "array<string>"):
        return [item if isinstance(item, str) else int(item) for item in value]
    return value  # ints, bool, string


def struct_from_json(cls: type, fields: Mapping[str, Any]) -> Any:
    """Build a message or setting struct of ``cls`` from its JSON form."""
    spec = spec_of(cls)
    known = {f.wire_name for f in spec.fields}
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    kwargs = {
        f.attr: _value_from_json(f.kind, fields[f.wire_name])
        for f in spec.fields
        if f.wire_name in fields
    }
    return cls(**kwargs)


def struct_to_json(obj: Any) -> dict[str, Any]:
    """JSON form of a message or setting struct (absent optional fields left out)."""
    out: dict[str, Any] = {}
    for field in spec_of(type(obj)).fields:
        value = getattr(obj, field.attr)
        if value is not None:
            out[field.wire_name] = _value_to_json(field.kind, value)
    return out


def message_from_json(direction: Direction, name: str, fields: Mapping[str, Any]) -> Message:
    """Build the ``direction`` message called ``name`` from its JSON fields."""
    return struct_from_json(message_type(direction, name), fields)


def message_to_json(message: Message) -> dict[str, Any]:
    """``{"message": name, "fields": {...}}`` as in the vector file's stream frames."""
    return {"message": message.NAME, "fields": struct_to_json(message)}
