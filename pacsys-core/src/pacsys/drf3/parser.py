"""Top-level DRF parsing: split the extra, match the ACNET grammar, else reject or fall back.

Algorithm (docs/protocols/drf3.md §3): extra split -> strict ACNET match -> near-miss
rejection -> foreign (EPICS) fallback. One precompiled regex per step; everything else is
dictionary lookups.
"""

from __future__ import annotations

import functools

from pacsys.drf3._frozen import build, new, set_values
from pacsys.drf3._lazyre import LazyPattern
from pacsys.drf3.events import DEFAULT_EVENT, parse_event
from pacsys.drf3.extras import DRF_EXTRA, parse_extra
from pacsys.drf3.names import (
    ACNET_NAME,
    FIRST_CHAR,
    NAME_CHARS,
    PROPERTY_BY_QUALIFIER,
    QUALIFIER_CHAR,
)
from pacsys.drf3.properties import (
    ALLOWED_FIELDS,
    DEFAULT_FIELD,
    DRF_FIELD,
    DRF_PROPERTY,
    FIELD_BY_WORD,
    PROPERTY_BY_WORD,
)
from pacsys.drf3.ranges import parse_range_text
from pacsys.drf3.request import NO_EPICS_FIELDS, DataRequest

__all__ = ["clear_parse_cache", "parse_request", "parse_request_uncached"]

# [ "." word ] [ range-text ] [ "." word ] [ "@" event-text ] END   ($ = end or before a final \n)
_SUFFIX = r"(?:\.(\w+))?(\[[\d:]*\]|\{[\d:]*\})?(?:\.(\w+))?(?:@(.+))?$"
_ACNET_TARGET = LazyPattern(f"({FIRST_CHAR})({QUALIFIER_CHAR})({NAME_CHARS}{{1,62}})" + _SUFFIX)
# Shortest device prefix (>= 3 chars) for which the rest matches.
_FOREIGN_TARGET = LazyPattern(r"(.{3,}?)" + _SUFFIX)
_NAME_PREFIX = LazyPattern(ACNET_NAME)
_BRACE_GROUP_THEN_STOP = LazyPattern(r"\{[^{}]*\}(?:[.@]|\Z)")

_READING = DRF_PROPERTY.READING
_SCALED = DRF_FIELD.SCALED

CACHE_SIZE = 8192


def _parse_other(text: str, extra: DRF_EXTRA | None, extra_raw: str | None) -> DataRequest:
    """Input that is not a strict ACNET target: near-miss error or foreign (EPICS) request."""
    prefix = _NAME_PREFIX.match(text)
    if prefix is not None:
        rest = text[prefix.end() :]
        if rest and (rest[0] in ".[@" or (rest[0] == "{" and _BRACE_GROUP_THEN_STOP.match(rest))):
            # An ACNET-looking name with a malformed suffix must not become an EPICS name.
            raise ValueError(f"Invalid ACNET DRF {text!r}")
    match = _FOREIGN_TARGET.match(text)
    if match is None:
        raise ValueError(f"{text} is not a valid DRF2 device")
    device, word1, range_text, word2, event_text = match.groups()
    rng = None if range_text is None else parse_range_text(range_text)
    event = DEFAULT_EVENT if event_text is None else parse_event(event_text)
    return build(
        DataRequest,
        (
            device,
            _READING,
            rng,
            _SCALED,
            event,
            extra,
            extra_raw,
            (word1, word2),
            text,
            False,
            False,
            False,
        ),
    )


def parse_request_uncached(device_str: str) -> DataRequest:
    """Parse one DRF string (``str`` only) without consulting the cache."""
    text = device_str
    extra: DRF_EXTRA | None = None
    extra_raw: str | None = None
    if "<-" in text:
        pieces = text.split("<-")
        if len(pieces) != 2:
            raise ValueError(f"Invalid drf {text}")
        text, extra_raw = pieces
        extra = parse_extra(extra_raw)

    match = _ACNET_TARGET.match(text)
    if match is None:
        return _parse_other(text, extra, extra_raw)
    first, qualifier, name_rest, word1, range_text, word2, event_text = match.groups()

    # Word resolution: a property word wins; otherwise the single word is a field.
    prop = None
    field_word = word2
    if word1 is not None:
        prop = PROPERTY_BY_WORD.get(word1.upper())
        if prop is None:
            if word2 is not None:
                raise ValueError(
                    f"Invalid DRF '{text}': '{word1}' is not a property, "
                    f"ambiguous with field '{word2}'"
                )
            field_word = word1
    property_explicit = prop is not None
    if prop is None:
        prop = PROPERTY_BY_QUALIFIER[qualifier]

    rng = None if range_text is None else parse_range_text(range_text)

    if field_word is None:
        field = DEFAULT_FIELD.get(prop)
    else:
        upper = field_word.upper()
        field = FIELD_BY_WORD.get(upper)
        if field is None:
            raise ValueError(f"Unrecognized field {upper}")
        if field not in ALLOWED_FIELDS[prop]:
            raise ValueError(f"Field '{field_word}' not allowed for {prop.name}")

    event = DEFAULT_EVENT if event_text is None else parse_event(event_text)
    request = new(DataRequest)  # inlined build(): this is the hottest allocation
    set_values(
        request,
        (
            (first + ":" + name_rest).upper(),
            prop,
            rng,
            field,
            event,
            extra,
            extra_raw,
            NO_EPICS_FIELDS,
            text,
            property_explicit,
            field_word is not None,
            True,
        ),
    )
    return request


_parse_cached = functools.lru_cache(maxsize=CACHE_SIZE)(parse_request_uncached)


def parse_request(device_str: str) -> DataRequest:
    """Parse a DRF string into an immutable :class:`DataRequest` (results are cached).

    Raises ``ValueError`` for invalid DRF (and for None), ``TypeError`` for non-strings.
    """
    if type(device_str) is str:
        return _parse_cached(device_str)
    if device_str is None:
        raise ValueError("device_str must not be None")
    if isinstance(device_str, str):
        return _parse_cached(str(device_str))
    "<-" in device_str  # noqa: B015 - raises Python's own TypeError for e.g. int
    raise TypeError(f"device_str must be str, got {type(device_str).__name__}")


def clear_parse_cache() -> None:
    """Forget cached parse results (tests and benchmarks)."""
    _parse_cached.cache_clear()
