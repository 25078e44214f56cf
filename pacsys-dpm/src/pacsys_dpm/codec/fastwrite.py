"""Generated straight-line struct writers (the encoding twin of :mod:`.fastpath`).

The general encoder loops over a struct's fields, calling ``getattr`` and the
kind's writer for each. For every struct class this module generates (as attrs
does for ``__init__``) a *packer* that takes the field values positionally and
writes the commonest ones inline (ints, floats, short Latin-1 strings,
booleans; anything else goes to the kind's writer), and a *writer* that calls
it with an instance's attributes. The packer lets hot paths encode without
building the message object. The output is exactly what the general encoder
produces (checked by the property tests). On any exception the packer returns
``None`` and the caller re-encodes with the general encoder, which then raises
its usual, field-naming error.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from typing import Any

from . import wire

FastWriter = Callable[[Any], "bytes | None"]
FastPacker = Callable[..., "bytes | None"]
Encoder = Callable[[Any], bytes]

# Inline forms by kind; ``{v}`` is the value, ``{b}`` the bytes it becomes.
_INT_INLINE = """\
        if {v}.__class__ is not int:
            {b} = {enc}({v})
        elif -128 <= {v} <= 127:
            {b} = SMALL[{v} + 128]
        elif {low} <= {v} <= {high}:
            w = (({v} if {v} >= 0 else ~{v}).bit_length() + 8) >> 3
            {b} = INT_TAGS[w] + {v}.to_bytes(w, "big", signed=True)
        else:
            {b} = {enc}({v})
"""
_DOUBLE_INLINE = """\
        if {v}.__class__ is float:
            {b} = DOUBLE + pack_double({v})
        else:
            {b} = {enc}({v})
"""
_STRING_INLINE = """\
        if {v}.__class__ is str and len({v}) < 128:
            {b} = STRING1[len({v})] + {v}.encode("latin-1")
        else:
            {b} = {enc}({v})
"""
_BOOL_INLINE = """\
        if {v} is True:
            {b} = TRUE
        elif {v} is False:
            {b} = FALSE
        else:
            {b} = {enc}({v})
"""
_GENERIC = "        {b} = {enc}({v})\n"
_INLINE = {
    **{
        kind: _INT_INLINE.replace("{low}", str(low)).replace("{high}", str(high))
        for kind, low, high in (
            ("int16", wire.INT16_MIN, wire.INT16_MAX),
            ("int32", wire.INT32_MIN, wire.INT32_MAX),
            ("int64", wire.INT64_MIN, wire.INT64_MAX),
        )
    },
    "double": _DOUBLE_INLINE,
    "string": _STRING_INLINE,
    "bool": _BOOL_INLINE,
}


@functools.cache
def _shared_names() -> dict[str, Any]:
    """Constants every packer uses (built once, on the first packer)."""
    return {
        "SMALL": tuple(wire.encode_int(v) for v in range(-128, 128)),
        "INT_TAGS": tuple(bytes((wire.INT_BASE | width,)) for width in range(9)),
        "STRING1": tuple(bytes((wire.STRING_BASE | 1, n)) for n in range(128)),
        "DOUBLE": bytes((wire.DOUBLE_TAG,)),
        "TRUE": bytes((wire.TRUE_TAG,)),
        "FALSE": bytes((wire.FALSE_TAG,)),
        "pack_double": struct.Struct(">d").pack,
    }


def build_fast_packer(fields: Sequence[tuple[str, bytes, str, Encoder, bool]]) -> FastPacker:
    """Compile a packer: field values (positional, wire order) -> struct bytes, or None.

    ``fields`` lists (attribute, id bytes, kind name, kind writer, optional) in
    wire order; optional fields come last (structs require it) and default to
    None. None means "defer to the general encoder" (a required field is None, a
    value is out of range or of an unexpected type...).
    """
    names: dict[str, Any] = {
        **_shared_names(),
        "HEADERS": tuple(wire.encode_array_header(n) for n in range(2 * len(fields) + 1)),
    }
    has_optional = any(optional for *_, optional in fields)
    required = 2 * sum(not optional for *_, optional in fields)
    params = [f"v{i}=None" if field[4] else f"v{i}" for i, field in enumerate(fields)]
    lines = [f"def pack({', '.join(params)}):", "    try:", "        pass"]
    if has_optional:
        lines.append(f"        count = {required}")
    parts: list[str] = []
    for index, (_, id_bytes, kind, encode, optional) in enumerate(fields):
        names[f"ID{index}"], names[f"enc{index}"] = id_bytes, encode
        v, b = f"v{index}", f"b{index}"
        template = _INLINE.get(kind, _GENERIC).format(v=v, b=b, enc=f"enc{index}").rstrip("\n")
        if optional:
            lines += [
                f"        if {v} is None:",
                f'            {b} = b""',
                "        else:",
                *("    " + line for line in template.split("\n")),
                f"            {b} = ID{index} + {b}",
                "            count += 2",
            ]
            parts.append(b)
        else:
            lines.append(template)
            parts += [f"ID{index}", b]
    header = "HEADERS[count]" if has_optional else f"HEADERS[{required}]"
    lines += [
        "    except Exception:",
        "        return None",
        f"    return b''.join(({', '.join([header, *parts])},))",
    ]
    exec("\n".join(lines), names)  # source built only from the schema, never from input
    packer: FastPacker = names["pack"]
    return packer


def build_fast_writer(
    cls: type, fields: Sequence[tuple[str, bytes, str, Encoder, bool]]
) -> tuple[FastWriter, FastPacker]:
    """A writer of ``cls`` instances and the packer it calls (see :func:`build_fast_packer`)."""
    names: dict[str, Any] = {"pack": build_fast_packer(fields)}
    args = ", ".join(f"obj.{attr}" for attr, *_ in fields)
    exec(f"def write_fast(obj):\n    return pack({args})", names)
    writer: FastWriter = names["write_fast"]
    writer.__qualname__ = f"write_fast_{cls.__name__}"
    names["pack"].__qualname__ = f"pack_{cls.__name__}"
    return writer, names["pack"]
