"""DRF helpers shared by every backend: inspection, event rewriting and write conversion.

All helpers parse their input (so invalid DRF raises ``ValueError``) except the two
``is_*historical_drf`` predicates, which answer False instead.
"""

from __future__ import annotations

from pacsys.drf3.events import DEFAULT_EVENT, IMMEDIATE_EVENT, NEVER_EVENT, parse_event
from pacsys.drf3.extras import CHUNKED_HISTORICAL_EXTRAS, HISTORICAL_EXTRAS
from pacsys.drf3.parser import parse_request
from pacsys.drf3.properties import ALLOWED_FIELDS, DRF_PROPERTY
from pacsys.drf3.request import DataRequest

__all__ = [
    "ensure_immediate_event",
    "get_device_name",
    "has_event",
    "has_explicit_property",
    "is_chunked_historical_drf",
    "is_historical_drf",
    "is_immediate_only",
    "is_setting_property",
    "parse_named",
    "prepare_for_control",
    "prepare_for_write",
    "replace_event",
    "strip_event",
]

# Property a write goes to when the DRF names a readback property.
_WRITE_PROPERTY = {
    DRF_PROPERTY.READING: DRF_PROPERTY.SETTING,
    DRF_PROPERTY.STATUS: DRF_PROPERTY.CONTROL,
}
_CONTROL_LIKE = (DRF_PROPERTY.CONTROL, DRF_PROPERTY.STATUS)


def parse_named(drf: str) -> DataRequest:
    """:func:`parse_request`, with the DRF named in the error when the parser's text omits it.

    The parser's own messages (``Bad periodic event p,``) are fixed by the DRF3 vectors;
    callers facing users add which DRF was wrong here.
    """
    try:
        return parse_request(drf)
    except ValueError as exc:
        if not isinstance(drf, str) or drf in str(exc):
            raise
        raise ValueError(f"Invalid DRF {drf!r}: {exc}") from None


def get_device_name(drf: str) -> str:
    """Canonical device name (``m_outtmp`` -> ``M:OUTTMP``)."""
    return parse_request(drf).device


def has_event(drf: str) -> bool:
    """True unless the event is the default one (``@I`` and ``@N`` count as events)."""
    return parse_request(drf).event.mode != "U"


def has_explicit_property(drf: str) -> bool:
    """True when a property word was written (a qualifier character alone does not count)."""
    return parse_request(drf).property_explicit


def is_setting_property(drf: str) -> bool:
    """True when the property is SETTING (by qualifier or by word)."""
    return parse_request(drf).property is DRF_PROPERTY.SETTING


def is_immediate_only(drf: str) -> bool:
    """True when the event is ``I`` (one immediate reply)."""
    return parse_request(drf).event.mode == "I"


def is_historical_drf(drf: str) -> bool:
    """True for logger extras (LOGGER, LOGGERSINGLE, LOGGERDURATION); False for invalid DRF."""
    try:
        return parse_request(drf).extra in HISTORICAL_EXTRAS
    except (ValueError, TypeError):
        return False


def is_chunked_historical_drf(drf: str) -> bool:
    """True for extras answered in chunks (LOGGER, LOGGERDURATION); False for invalid DRF."""
    try:
        return parse_request(drf).extra in CHUNKED_HISTORICAL_EXTRAS
    except (ValueError, TypeError):
        return False


def replace_event(drf: str, event: str) -> str:
    """Canonical DRF with the event replaced by ``event`` (``U`` removes it)."""
    return parse_request(drf).to_canonical(event=parse_event(event))


def strip_event(drf: str) -> str:
    """Canonical DRF without any event."""
    return parse_request(drf).to_canonical(event=DEFAULT_EVENT)


def ensure_immediate_event(drf: str) -> str:
    """One-shot read form: add ``@I`` when no event is given (historical extras are untouched).

    Inputs with an explicit event, or with a historical extra, are returned unchanged.
    """
    request = parse_request(drf)
    if request.extra in HISTORICAL_EXTRAS or request.event.mode != "U":
        return drf
    return request.to_canonical(event=IMMEDIATE_EVENT)


def prepare_for_write(drf: str) -> str:
    """DRF sent for a write: READING -> SETTING, STATUS -> CONTROL, event forced to ``@N``.

    When the property changes, the field is kept only if the new property allows it.
    Range and extra are kept. Non-ACNET devices only get the ``@N`` event.
    """
    request = parse_request(drf)
    if not request.is_acnet:
        return request.to_canonical(event=NEVER_EVENT)
    target = _WRITE_PROPERTY.get(request.property)
    if target is None:
        return request.to_canonical(event=NEVER_EVENT)
    field = request.field if request.field in ALLOWED_FIELDS[target] else None
    return request.to_canonical(property=target, field=field, event=NEVER_EVENT)


def prepare_for_control(drf: str) -> str:
    """DRF for a basic-control write: property CONTROL (field dropped, event/extra kept).

    DRFs already naming CONTROL or STATUS are returned unchanged. Non-ACNET devices raise.
    """
    request = parse_request(drf)
    if not request.is_acnet:
        raise ValueError(f"Basic control writes require an ACNET device: {drf}")
    if request.property in _CONTROL_LIKE:
        return drf
    return request.to_canonical(property=DRF_PROPERTY.CONTROL)
