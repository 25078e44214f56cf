"""The parsed DRF request (``DataRequest``) and its canonical / qualified renderings."""

from __future__ import annotations

import builtins
from typing import Any, TypeAlias

from pacsys.drf3._frozen import Frozen, init_values, slot
from pacsys.drf3.events import DEFAULT_EVENT, DrfEvent, parse_event
from pacsys.drf3.extras import DRF_EXTRA, parse_extra
from pacsys.drf3.names import get_qualified_device
from pacsys.drf3.properties import (
    DEFAULT_FIELD,
    DRF_FIELD,
    DRF_PROPERTY,
    FIELD_SUFFIX,
    PROPERTY_SUFFIX,
    parse_field,
    parse_property,
)
from pacsys.drf3.ranges import ARRAY_RANGE, BYTE_RANGE, parse_range

__all__ = ["KEEP", "DataRequest", "Range"]

Range: TypeAlias = ARRAY_RANGE | BYTE_RANGE

NO_EPICS_FIELDS: tuple[None, None] = (None, None)


class _Keep:
    """Marker for "argument not passed" where None has a meaning of its own (remove)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()

_READING = DRF_PROPERTY.READING
_SETTING = DRF_PROPERTY.SETTING
_STATUS = DRF_PROPERTY.STATUS
_CONTROL = DRF_PROPERTY.CONTROL


def _require(name: str, value: object, kind: type | tuple[type, ...], optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, kind) or (kind is bool and type(value) is not bool):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds) + (" or None" if optional else "")
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")


def _render_tail(
    rng: Range | None, field_suffix: str, event: DrfEvent, extra_text: str | None
) -> str:
    """Range, field, event and extra parts shared by every rendering."""
    tail = field_suffix if rng is None else str(rng) + field_suffix
    ev = event._v
    if ev[1] != "U":
        tail += "@" + ev[0]
    if extra_text is not None:
        tail += "<-" + extra_text
    return tail


class DataRequest(Frozen):
    """One parsed DRF: device, property, range, field, event and extra (immutable).

    Equality and hashing use device, property, range, field, event, extra, extra_raw and
    epics_fields; the raw string and the "explicit" flags are ignored.
    """

    __slots__ = ()

    def __init__(
        self,
        raw_string: str,
        device: str,
        property: DRF_PROPERTY,
        range: Range | None = None,
        field: DRF_FIELD | None = None,
        event: DrfEvent | None = None,
        extra: DRF_EXTRA | None = None,
        extra_raw: str | None = None,
        *,
        property_explicit: bool = False,
        field_explicit: bool = False,
        is_acnet: bool = True,
        epics_fields: tuple[str | None, str | None] = NO_EPICS_FIELDS,
    ) -> None:
        if event is None:
            event = DEFAULT_EVENT
        _require("raw_string", raw_string, str, False)
        _require("device", device, str, False)
        _require("property", property, DRF_PROPERTY, False)
        _require("range", range, (ARRAY_RANGE, BYTE_RANGE), True)
        _require("field", field, DRF_FIELD, True)
        _require("event", event, DrfEvent, False)
        _require("extra", extra, DRF_EXTRA, True)
        _require("extra_raw", extra_raw, str, True)
        _require("property_explicit", property_explicit, bool, False)
        _require("field_explicit", field_explicit, bool, False)
        _require("is_acnet", is_acnet, bool, False)
        if not (
            isinstance(epics_fields, tuple)
            and len(epics_fields) == 2
            and all(word is None or isinstance(word, str) for word in epics_fields)
        ):
            raise TypeError("epics_fields must be a pair of str or None")
        init_values(
            self,
            (
                device,
                property,
                range,
                field,
                event,
                extra,
                extra_raw,
                epics_fields,
                raw_string,
                property_explicit,
                field_explicit,
                is_acnet,
            ),
        )

    device: str = slot(0, "canonical device name (ACNET) or the verbatim foreign name")
    property: DRF_PROPERTY = slot(1, "resolved property (READING placeholder for non-ACNET)")
    range: Range | None = slot(2, "array or byte range, or None")
    field: DRF_FIELD | None = slot(3, "resolved field (the property's default when none written)")
    event: DrfEvent = slot(4, "event object (DefaultEvent when none written)")
    extra: DRF_EXTRA | None = slot(5, "data-source extra, or None")
    extra_raw: str | None = slot(6, "extra text exactly as written after '<-', or None")
    epics_fields: tuple[str | None, str | None] = slot(
        7, "non-ACNET: the two dot words as written; (None, None) for ACNET"
    )
    raw_string: str = slot(8, "the input without its '<-extra' part")
    property_explicit: bool = slot(9, "a property word was written")
    field_explicit: bool = slot(10, "a field word was written")
    is_acnet: bool = slot(11, "ACNET device (False for the foreign/EPICS fallback)")

    @builtins.property
    def parts(self) -> tuple[str, DRF_PROPERTY, Range | None, DRF_FIELD | None, DrfEvent]:
        """(device, property, range, field, event)."""
        return self._v[:5]

    @builtins.property
    def is_reading(self) -> bool:
        """Property is READING."""
        return self._v[1] is _READING

    @builtins.property
    def is_setting(self) -> bool:
        """Property is SETTING."""
        return self._v[1] is _SETTING

    @builtins.property
    def is_status(self) -> bool:
        """Property is STATUS."""
        return self._v[1] is _STATUS

    @builtins.property
    def is_control(self) -> bool:
        """Property is CONTROL."""
        return self._v[1] is _CONTROL

    def name_as(self, prop: DRF_PROPERTY) -> str:
        """Qualified device name for ``prop`` (``M:OUTTMP`` as SETTING -> ``M_OUTTMP``)."""
        return get_qualified_device(self._v[0], prop)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataRequest):
            return NotImplemented
        return self._v[:8] == other._v[:8]

    def __hash__(self) -> int:
        return hash(self._v[:8])

    def __repr__(self) -> str:
        return f"DataRequest({self.to_canonical()!r})"

    def __str__(self) -> str:
        return self.to_canonical()

    def replace(self, **changes: Any) -> DataRequest:
        """Copy with some constructor arguments changed (the object itself is immutable)."""
        names = (
            "device",
            "property",
            "range",
            "field",
            "event",
            "extra",
            "extra_raw",
            "epics_fields",
            "raw_string",
            "property_explicit",
            "field_explicit",
            "is_acnet",
        )
        unknown = set(changes) - set(names)
        if unknown:
            raise TypeError(f"unknown DataRequest attribute(s): {', '.join(sorted(unknown))}")
        values = dict(zip(names, self._v, strict=True))
        values.update(changes)
        return DataRequest(**values)

    # -- rendering -------------------------------------------------------------------------

    def _resolve(
        self,
        device: str | None,
        prop: DRF_PROPERTY | str | None,
        rng: Any,
        field: DRF_FIELD | str | None,
        event: DrfEvent | str | None,
        extra: Any,
    ) -> tuple[str, DRF_PROPERTY, Range | None, DRF_FIELD | None, DrfEvent, str | None]:
        """Apply rendering overrides; see :meth:`to_canonical`."""
        v = self._v
        if not v[11] and (prop is not None or field is not None):
            raise ValueError(f"Cannot set ACNET property/field on non-ACNET device {v[0]}")
        new_prop = v[1]
        new_field = v[3]
        if prop is not None:
            if isinstance(prop, str):
                prop = parse_property(prop)
            elif not isinstance(prop, DRF_PROPERTY):
                raise TypeError(f"property must be a DRF_PROPERTY, got {type(prop).__name__}")
            if prop is not new_prop:
                new_prop = prop
                new_field = None
        if field is not None:
            if isinstance(field, str):
                field = parse_field(field)
            elif not isinstance(field, DRF_FIELD):
                raise TypeError(f"field must be a DRF_FIELD, got {type(field).__name__}")
            new_field = field
        if rng is KEEP:
            rng = v[2]
        elif isinstance(rng, str):
            rng = parse_range(rng)
        elif rng is not None and not isinstance(rng, (ARRAY_RANGE, BYTE_RANGE)):
            raise TypeError(f"range must be a range object or None, got {type(rng).__name__}")
        new_event: DrfEvent
        if event is None:
            new_event = v[4]
        elif isinstance(event, str):
            new_event = parse_event(event)
        elif isinstance(event, DrfEvent):
            new_event = event
        else:
            raise TypeError(f"event must be an event object, got {type(event).__name__}")
        if extra is KEEP:
            extra_text = v[6] if v[6] is not None or v[5] is None else v[5].value
        elif extra is None:
            extra_text = None
        elif isinstance(extra, DRF_EXTRA):
            extra_text = extra.value
        elif isinstance(extra, str):
            parse_extra(extra)
            extra_text = extra
        else:
            raise TypeError(f"extra must be a DRF_EXTRA, str or None, got {type(extra).__name__}")
        return (v[0] if device is None else device, new_prop, rng, new_field, new_event, extra_text)

    def to_canonical(
        self,
        device: str | None = None,
        property: DRF_PROPERTY | str | None = None,
        range: Any = KEEP,
        field: DRF_FIELD | str | None = None,
        event: DrfEvent | str | None = None,
        extra: Any = KEEP,
    ) -> str:
        """Canonical DRF: ``DEVICE.PROPERTY[RANGE][.FIELD][@EVENT][<-EXTRA]``.

        Overrides: ``device``/``property``/``field``/``event`` replace the stored value (None keeps
        it; a new property drops the stored field). ``range``/``extra``: omitted keeps, None
        removes, a value replaces (an extra enum member is emitted as its bare name). A Default
        event removes the event. Non-ACNET requests keep their dot words verbatim.
        """
        v = self._v
        if (
            device is None
            and property is None
            and range is KEEP
            and field is None
            and event is None
            and extra is KEEP
        ):
            dev, prop, rng, fld, ev = v[:5]
            extra_text = v[6] if v[6] is not None or v[5] is None else v[5].value
        else:
            dev, prop, rng, fld, ev, extra_text = self._resolve(
                device, property, range, field, event, extra
            )
        if not v[11]:
            word1, word2 = v[7]
            head = dev if word1 is None else dev + "." + word1
            if rng is not None:
                head += str(rng)
            if word2 is not None:
                head += "." + word2
            return head + _render_tail(None, "", ev, extra_text)
        suffix = "" if fld is None or fld is DEFAULT_FIELD.get(prop) else FIELD_SUFFIX[fld]
        return dev + PROPERTY_SUFFIX[prop] + _render_tail(rng, suffix, ev, extra_text)

    def to_qualified(
        self,
        device: str | None = None,
        property: DRF_PROPERTY | str | None = None,
        range: Any = KEEP,
        field: DRF_FIELD | str | None = None,
        event: DrfEvent | str | None = None,
        extra: Any = KEEP,
    ) -> str:
        """Qualified DRF: the property is expressed by the qualifier character, no ``.PROPERTY``
        word (``N_I2B1RI[50].RAW@e,AE,e,1000``). Same overrides as :meth:`to_canonical`.

        Raises ``ValueError`` for non-ACNET devices and for BIT_STATUS.
        """
        if not self._v[11]:
            raise ValueError(f"Cannot qualify non-ACNET device {self._v[0]!r}")
        dev, prop, rng, fld, ev, extra_text = self._resolve(
            device, property, range, field, event, extra
        )
        suffix = "" if fld is None or fld is DEFAULT_FIELD.get(prop) else FIELD_SUFFIX[fld]
        return get_qualified_device(dev, prop) + _render_tail(rng, suffix, ev, extra_text)
