"""DPM's frozen structs are core's (:mod:`pacsys.wire.frozen`), re-exported here."""

from pacsys.wire import FrozenInstanceError, Struct, WireField, struct, wire_field

__all__ = ["FrozenInstanceError", "Struct", "WireField", "struct", "wire_field"]
