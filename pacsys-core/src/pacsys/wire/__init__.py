"""One schema engine for the binary (SDD) wire structs of the DPM and DMQ codecs.

Pure (no I/O). A struct class declares its fields once with :func:`wire_field`
(:mod:`.fields`), either as a frozen :class:`Struct` (:mod:`.frozen`) or as an attrs
class carrying the same descriptor in its metadata; :func:`layout_of` compiles it into a
:class:`StructLayout` (:mod:`.layout`) of resolved field ids, presence rules and count
bounds; :class:`MessageTable` (:mod:`.registry`) maps message names and type ids to
classes. How single values are written and read (the field *kinds*) stays with each
codec: DPM's kinds are byte-string functions with generated fast paths, DMQ's work on a
reader/writer pair. See docs/protocols/dpm.md §2.4 and docs/protocols/dmq.md §12.
"""

from pacsys.wire.fields import METADATA_KEY, WireField, declared_fields, wire_field
from pacsys.wire.frozen import FrozenInstanceError, Struct, struct
from pacsys.wire.layout import LaidField, StructLayout, layout_of
from pacsys.wire.registry import MessageTable

__all__ = [
    "METADATA_KEY",
    "FrozenInstanceError",
    "LaidField",
    "MessageTable",
    "Struct",
    "StructLayout",
    "WireField",
    "declared_fields",
    "layout_of",
    "struct",
    "wire_field",
]
