"""The request half of a Device: an immutable, validated DRF and the DRFs built from it.

A Device parses its DRF once, at construction, and builds the DRF each operation needs from
the parsed request: reads go out with ``@I``, writes with ``@N``, subscriptions with the
chosen event, always keeping the device's range and ``<-extra``. This module holds that part
(construction, identity, ``with_*`` modifiers, DRF building); :mod:`pacsys.device` adds the
I/O on top.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, TypeVar

from pacsys.drf3 import (
    ARRAY_RANGE,
    DRF_FIELD,
    DRF_PROPERTY,
    HISTORICAL_EXTRAS,
    DataRequest,
    get_default_field,
    is_field_allowed,
    parse_event,
    parse_field,
    parse_property,
    parse_request,
)
from pacsys.drf_utils import parse_named

if TYPE_CHECKING:
    from pacsys.backends import Backend

__all__ = ["FieldArg", "PropArg"]

_D = TypeVar("_D", bound="_DeviceBase")

_P = DRF_PROPERTY
_DEFAULT = parse_event("U")
_IMMEDIATE = parse_event("I")
_NEVER = parse_event("N")

# The only properties a non-ACNET (e.g. EPICS) device has.
_NON_ACNET_PROPERTIES = frozenset((_P.READING, _P.SETTING))

FieldArg = str | DRF_FIELD | None
PropArg = str | DRF_PROPERTY | None


class _DeviceBase:
    """A device request (a parsed DRF), immutable; ``with_*`` methods return new instances."""

    __slots__ = ("_backend", "_drf", "_explicit_field", "_request")

    _request: DataRequest
    _backend: Backend | None
    _explicit_field: DRF_FIELD | None
    _drf: str

    def __init__(self, drf: str, backend: Backend | None = None) -> None:
        if drf is None:
            raise ValueError("device_str must not be None")
        if not isinstance(drf, str):
            raise TypeError(f"Expected a DRF string, got {type(drf).__name__}")
        request = parse_named(drf)
        self._setup(request, backend, request.field if request.field_explicit else None)

    def _setup(
        self, request: DataRequest, backend: Backend | None, explicit_field: DRF_FIELD | None
    ) -> None:
        object.__setattr__(self, "_request", request)
        object.__setattr__(self, "_backend", backend)
        object.__setattr__(self, "_explicit_field", explicit_field)
        object.__setattr__(self, "_drf", request.to_canonical())

    @classmethod
    def _from_parts(
        cls: type[_D],
        request: DataRequest,
        backend: Backend | None,
        explicit_field: DRF_FIELD | None,
    ) -> _D:
        device = cls.__new__(cls)
        device._setup(request, backend, explicit_field)
        return device

    def _derive(self: _D, drf: str) -> _D:
        """A new Device of the same class for ``drf``, keeping backend and explicit field."""
        return self._from_parts(parse_request(drf), self._backend, self._explicit_field)

    # --- immutability, copying, identity --------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} instances are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} instances are immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self._drf, self._backend, self._explicit_field))

    def __copy__(self: _D) -> _D:
        return self

    def __deepcopy__(self: _D, memo: dict[int, Any]) -> _D:
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._drf!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _DeviceBase):
            return NotImplemented
        return self._drf == other._drf

    def __hash__(self) -> int:
        return hash(self._drf)

    # --- attributes -----------------------------------------------------------------------

    @property
    def drf(self) -> str:
        """Canonical DRF of the request, e.g. ``M:OUTTMP.READING@p,1000``."""
        return self._drf

    @property
    def name(self) -> str:
        """Canonical device name, e.g. ``M:OUTTMP``."""
        return self._request.device

    @property
    def request(self) -> DataRequest:
        """A copy of the parsed request (callers cannot affect this Device through it)."""
        return copy.deepcopy(self._request)

    @property
    def backend(self) -> Backend | None:
        """The bound backend, or None when the global backend is used."""
        return self._backend

    @property
    def has_event(self) -> bool:
        """True unless the event is the default (``@I`` and ``@N`` count as events)."""
        return self._request.event.mode != "U"

    @property
    def is_periodic(self) -> bool:
        return self._request.event.mode in ("P", "Q")

    # --- fluent modifiers (no I/O) --------------------------------------------------------

    def with_event(self: _D, event: str) -> _D:
        """Same request with the event replaced, e.g. ``with_event("p,500")``."""
        if not isinstance(event, str):
            raise TypeError(f"event must be a str, got {type(event).__name__}")
        return self._derive(self._request.to_canonical(event=parse_event(event)))

    def without_event(self: _D) -> _D:
        return self._derive(self._request.to_canonical(event=_DEFAULT))

    def with_range(
        self: _D, start: int | None = None, end: int | None = None, *, at: int | None = None
    ) -> _D:
        """Same request with array range ``[start:end]``, ``[at]``, or ``[:]`` when none given."""
        if at is not None:
            if start is not None or end is not None:
                raise ValueError("'at' cannot be combined with 'start'/'end'")
            new_range = ARRAY_RANGE(low=at, mode="single")
        else:
            new_range = ARRAY_RANGE(low=start, high=end)
        return self._derive(self._request.to_canonical(range=new_range))

    def without_range(self: _D) -> _D:
        return self._derive(self._request.to_canonical(range=None))

    def with_extra(self: _D, extra: str | None) -> _D:
        """Same request with the ``<-extra`` replaced (kept verbatim); None removes it."""
        if extra is not None and not isinstance(extra, str):
            raise TypeError(f"extra must be a str or None, got {type(extra).__name__}")
        return self._derive(self._request.to_canonical(extra=extra))

    def with_backend(self: _D, backend: Backend) -> _D:
        """Same request bound to ``backend``."""
        return self._from_parts(self._request, backend, self._explicit_field)

    # --- DRF building ---------------------------------------------------------------------

    def _stream_drf(self, verb: str, prop: PropArg, field: FieldArg, event: str | None) -> str:
        if field is not None and prop is None:
            raise ValueError("field requires prop to be specified")
        target = _P.READING if prop is None else self._parse_prop(prop)
        resolved = self._resolve_field(target, field)
        chosen = parse_event(event) if event is not None else None
        if chosen is None or chosen.mode == "U":
            if not self.has_event:
                raise ValueError(f"{verb} requires an event — use event= or dev.with_event()")
            chosen = self._request.event
        if chosen.mode == "N":
            raise ValueError(f"{verb} cannot use @N (never) event")
        return self._build(target, resolved, chosen)

    def _parse_prop(self, prop: str | DRF_PROPERTY) -> DRF_PROPERTY:
        if isinstance(prop, DRF_PROPERTY):
            return prop
        try:
            return parse_property(prop)
        except (ValueError, AttributeError):
            raise ValueError(f"Invalid property {prop!r} for {self.name}") from None

    def _require_acnet(self, prop: DRF_PROPERTY) -> None:
        if not self._request.is_acnet and prop not in _NON_ACNET_PROPERTIES:
            raise ValueError(
                f"{prop.name} is ACNET-specific, not supported for non-ACNET device {self.name}"
            )

    def _resolve_field(self, prop: DRF_PROPERTY, field: FieldArg) -> DRF_FIELD | None:
        """The field to request for ``prop`` (rules of the field argument, see module doc)."""
        self._require_acnet(prop)
        requested = _parse_field_arg(field)
        if not self._request.is_acnet:
            if requested is not None and requested is not get_default_field(prop):
                raise ValueError(
                    f"ACNET field {requested.name} not supported for non-ACNET device {self.name}"
                )
            return None
        if requested is not None:
            if not is_field_allowed(prop, requested):
                shown = field.name if isinstance(field, DRF_FIELD) else field
                raise ValueError(f"Field '{shown}' not allowed for {prop.name}")
            return requested
        explicit = self._explicit_field
        if explicit is not None and is_field_allowed(prop, explicit):
            return explicit
        return get_default_field(prop)

    def _one_shot_event(self) -> Any:
        """``@I``, except that historical (logger) requests keep their own event."""
        if self._request.extra in HISTORICAL_EXTRAS:
            return self._request.event
        return _IMMEDIATE

    def _build(self, prop: DRF_PROPERTY, field: DRF_FIELD | None, event: Any) -> str:
        """``D.PROP[range].FIELD@EVENT<-extra`` for this device (field omitted when default)."""
        request = self._request
        if not request.is_acnet:
            return request.to_canonical(event=event)
        parts = [request.device, ".", prop.name]
        if request.range is not None:
            parts.append(str(request.range))
        if field is not None and field is not get_default_field(prop):
            parts.append("." + field.name)
        if event.mode != "U":
            parts.append("@" + event.raw_string)
        if request.extra_raw is not None:
            parts.append("<-" + request.extra_raw)
        return "".join(parts)


# --- module helpers -------------------------------------------------------------------------


def _restore(
    cls: type[_D], drf: str, backend: Backend | None, explicit_field: DRF_FIELD | None
) -> _D:
    """Unpickle a Device (see ``Device.__reduce__``)."""
    return cls._from_parts(parse_request(drf), backend, explicit_field)


def _parse_field_arg(field: FieldArg) -> DRF_FIELD | None:
    if field is None or isinstance(field, DRF_FIELD):
        return field
    if not isinstance(field, str):
        raise TypeError(f"field must be a str, got {type(field).__name__}")
    return parse_field(field)
