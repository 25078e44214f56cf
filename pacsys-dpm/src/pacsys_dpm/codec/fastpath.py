"""Generated straight-line struct readers for the usual field order.

Every sender writes a struct's fields in schema order with 3-byte field ids,
so most structs can be read without the general loop's per-field dictionary
lookups and calls. For each struct class this module generates (as attrs does
for ``__init__``) a reader that expects the required fields in order, reads
the commonest encodings (short integers, short strings, doubles) inline, and
then takes the optional fields in any order. It returns ``None`` as soon as
the input deviates (other order, non-minimal ids, unexpected count, a value
it would need to reject); the caller then re-reads the struct with the
general decoder, which also produces the error message. So the fast path
never accepts anything the general one would reject, and where it answers it
gives the same result (checked by the property tests).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from .wire import ARRAY_BASE, DOUBLE_TAG, INT_BASE, STRING_BASE

FastReader = Callable[[bytes, int], "tuple[Any, int] | None"]
Reader = Callable[[bytes, int], tuple[Any, int]]


# Inline forms of the commonest encodings, by kind; ``{v}`` is the variable.
# Anything else goes through the kind's reader. Truncation inside an inline
# form raises IndexError or struct.error, which the message decoder reports as
# a truncated message, exactly as the readers would.
_INT_INLINE = """\
    t = buf[p] - {int_base}
    if t == 1:
        {v} = buf[p + 1]
        if {v} > 127:
            {v} -= 256
        p += 2
    elif 1 < t <= {width}:
        e = p + 1 + t
        if e > len(buf):
            return None
        {v} = int.from_bytes(buf[p + 1:e], "big", signed=True)
        p = e
    else:
        {v}, p = {read}(buf, p)
"""
_STRING_INLINE = """\
    if buf[p] == {string1} and buf[p + 1] < 128:
        e = p + 2 + buf[p + 1]
        if e > len(buf):
            return None
        {v} = buf[p + 2:e].decode("latin-1")
        p = e
    else:
        {v}, p = {read}(buf, p)
"""
_DOUBLE_INLINE = """\
    if buf[p] == {double}:
        {v} = unpack_double(buf, p + 1)[0]
        p += 9
    else:
        {v}, p = {read}(buf, p)
"""
# Widths up to these always fit the kind's range, so no range check is needed.
_GENERIC = "    {v}, p = {read}(buf, p)\n"
_INLINE = {
    "int16": _INT_INLINE.replace("{width}", "2"),
    "int32": _INT_INLINE.replace("{width}", "4"),
    "int64": _INT_INLINE.replace("{width}", "8"),
    "string": _STRING_INLINE,
    "double": _DOUBLE_INLINE,
}
_CONSTANTS = {"int_base": INT_BASE, "string1": STRING_BASE | 1, "double": DOUBLE_TAG}


def build_fast_reader(
    cls: type | None,
    required: Sequence[tuple[bytes, str, Reader]],
    optional: Sequence[tuple[bytes, str, Reader]],
) -> FastReader | None:
    """Compile a reader for ``cls``.

    ``required`` and ``optional`` list (id bytes, kind name, reader) of the
    fields in wire order; optional fields are read inline when they come in
    schema order and through a lookup otherwise.
    Returns None when some id is not 3 bytes long (no fast path then). With
    ``cls`` None the reader returns the field values as a tuple in wire order
    (optional fields None when absent) instead of an instance.
    """
    if any(len(entry[0]) != 3 for entry in (*required, *optional)):
        return None
    min_count, max_count = 2 * len(required), 2 * (len(required) + len(optional))
    names: dict[str, Any] = {"cls": cls, "unpack_double": struct.Struct(">d").unpack_from}
    lines = [  # struct header with a one-byte count (every DPM struct)
        "def read_fast(buf, pos):",
        f"    if buf[pos] != {ARRAY_BASE | 1}:",
        "        return None",
        "    count = buf[pos + 1]",
        f"    if count & 1 or not {min_count} <= count <= {max_count}:",
        "        return None",
        "    p = pos + 2",
    ]
    for index, (id_bytes, kind, reader) in enumerate(required):
        names[f"id{index}"], names[f"read{index}"] = id_bytes, reader
        lines += [
            f"    if buf[p:p + 3] != id{index}:",
            "        return None",
            "    p += 3",
        ]
        template = _INLINE.get(kind, _GENERIC)
        lines.append(template.format(v=f"v{index}", read=f"read{index}", **_CONSTANTS).rstrip("\n"))
    args = ", ".join(f"v{index}" for index in range(len(required)))
    make = "cls" if cls is not None else ""
    if optional:
        names["optional"] = {
            id_bytes: (index, reader) for index, (id_bytes, _, reader) in enumerate(optional)
        }
        lines += [f"    extra = [None] * {len(optional)}", f"    left = (count - {min_count}) >> 1"]
        for index, (id_bytes, kind, reader) in enumerate(optional):  # in schema order: inline
            names[f"oid{index}"], names[f"oread{index}"] = id_bytes, reader
            template = _INLINE.get(kind, _GENERIC)
            body = template.format(v=f"extra[{index}]", read=f"oread{index}", **_CONSTANTS)
            lines += [
                f"    if left and buf[p:p + 3] == oid{index}:",
                "        p += 3",
                "        left -= 1",
                *("    " + line for line in body.rstrip("\n").split("\n")),
            ]
        lines += [
            "    for _ in range(left):",  # any other order (or a duplicate)
            "        entry = optional.get(buf[p:p + 3])",
            "        if entry is None:",
            "            return None",
            "        index, read = entry",
            "        extra[index], p = read(buf, p + 3)",
            f"    return {make}({args}{', ' if args else ''}*extra{',' if cls is None else ''}), p",
        ]
    else:
        lines.append(f"    return {make}({args}{',' if cls is None and args else ''}), p")
    exec("\n".join(lines), names)  # source built only from the schema, never from input
    read_fast: FastReader = names["read_fast"]
    read_fast.__qualname__ = f"read_fast_{'fields' if cls is None else cls.__name__}"
    return read_fast
