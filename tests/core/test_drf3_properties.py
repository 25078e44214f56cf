"""Property-based tests of the DRF3 parser: grammar-generated requests and arbitrary text."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pacsys.drf3 import (
    DRF_EXTRA,
    DRF_FIELD,
    DRF_PROPERTY,
    DataRequest,
    allowed_fields,
    get_default_field,
    parse_request,
)
from pacsys.drf3.parser import parse_request_uncached

INT_MAX = 2147483647

PROPERTY_WORDS: dict[DRF_PROPERTY, tuple[str, ...]] = {
    DRF_PROPERTY.READING: ("READING", "READ", "PRREAD"),
    DRF_PROPERTY.SETTING: ("SETTING", "SET", "PRSET"),
    DRF_PROPERTY.STATUS: ("STATUS", "BASIC_STATUS", "STS", "PRBSTS"),
    DRF_PROPERTY.CONTROL: ("CONTROL", "BASIC_CONTROL", "CTRL", "PRBCTL"),
    DRF_PROPERTY.ANALOG: ("ANALOG", "ANALOG_ALARM", "AA", "PRANAB"),
    DRF_PROPERTY.DIGITAL: ("DIGITAL", "DIGITAL_ALARM", "DA", "PRDABL"),
    DRF_PROPERTY.DESCRIPTION: ("DESCRIPTION", "DESC", "PRDESC"),
    DRF_PROPERTY.INDEX: ("INDEX", "IDX", "PRIDX"),
    DRF_PROPERTY.LONG_NAME: ("LONG_NAME", "LNGNAM", "PRLNAM"),
    DRF_PROPERTY.ALARM_LIST_NAME: ("ALARM_LIST_NAME", "LSTNAM", "PRALNM"),
    DRF_PROPERTY.BIT_STATUS: ("BIT_STATUS", "BITSTATUS"),
}
ALL_PROPERTY_WORDS = {word for words in PROPERTY_WORDS.values() for word in words}
QUALIFIERS: dict[DRF_PROPERTY, str] = {
    DRF_PROPERTY.READING: ":?",
    DRF_PROPERTY.SETTING: "_",
    DRF_PROPERTY.STATUS: "|",
    DRF_PROPERTY.CONTROL: "&",
    DRF_PROPERTY.ANALOG: "@",
    DRF_PROPERTY.DIGITAL: "$",
    DRF_PROPERTY.DESCRIPTION: "~",
    DRF_PROPERTY.INDEX: "^",
    DRF_PROPERTY.LONG_NAME: "#",
    DRF_PROPERTY.ALARM_LIST_NAME: "!",
}
FIELD_WORDS: dict[DRF_FIELD, tuple[str, ...]] = {
    DRF_FIELD.RAW: ("RAW",),
    DRF_FIELD.PRIMARY: ("PRIMARY", "VOLTS"),
    DRF_FIELD.SCALED: ("SCALED", "COMMON"),
    DRF_FIELD.ALL: ("ALL",),
    DRF_FIELD.TEXT: ("TEXT",),
    DRF_FIELD.EXTENDED_TEXT: ("EXTENDED_TEXT",),
    DRF_FIELD.ON: ("ON",),
    DRF_FIELD.READY: ("READY",),
    DRF_FIELD.REMOTE: ("REMOTE",),
    DRF_FIELD.POSITIVE: ("POSITIVE",),
    DRF_FIELD.RAMP: ("RAMP",),
    DRF_FIELD.BIT_VALUE: ("BIT_VALUE",),
    DRF_FIELD.BIT_NAMES: ("BIT_NAMES",),
    DRF_FIELD.BIT_VALUES: ("BIT_VALUES",),
    DRF_FIELD.MIN: ("MIN", "MINIMUM"),
    DRF_FIELD.MAX: ("MAX", "MAXIMUM"),
    DRF_FIELD.NOM: ("NOM", "NOMINAL"),
    DRF_FIELD.TOL: ("TOL", "TOLERANCE"),
    DRF_FIELD.RAW_MIN: ("RAW_MIN", "RAWMIN"),
    DRF_FIELD.RAW_MAX: ("RAW_MAX", "RAWMAX"),
    DRF_FIELD.RAW_NOM: ("RAW_NOM", "RAWNOM"),
    DRF_FIELD.RAW_TOL: ("RAW_TOL", "RAWTOL"),
    DRF_FIELD.ALARM_ENABLE: ("ALARM_ENABLE", "ENABLE"),
    DRF_FIELD.ALARM_STATUS: ("ALARM_STATUS", "STATUS"),
    DRF_FIELD.TRIES_NEEDED: ("TRIES_NEEDED",),
    DRF_FIELD.TRIES_NOW: ("TRIES_NOW",),
    DRF_FIELD.ALARM_FTD: ("ALARM_FTD", "FTD"),
    DRF_FIELD.ABORT: ("ABORT",),
    DRF_FIELD.ABORT_INHIBIT: ("ABORT_INHIBIT",),
    DRF_FIELD.FLAGS: ("FLAGS",),
    DRF_FIELD.MASK: ("MASK",),
    DRF_FIELD.UNITS: ("UNITS",),
}

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LETTERS = UPPER + UPPER.lower()
DIGITS = "0123456789"


@st.composite
def any_case(draw: st.DrawFn, word: str) -> str:
    """``word`` with each letter's case chosen at random."""
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.lower() if flip else c for c, flip in zip(word, flips, strict=True))


def cased(words: tuple[str, ...] | list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(words)).flatmap(any_case)


@st.composite
def acnet_name(draw: st.DrawFn, qualifier: str) -> str:
    first = draw(st.sampled_from(LETTERS + "0#"))
    rest = draw(st.text(alphabet=LETTERS + DIGITS + "_:-", min_size=1, max_size=62))
    return first + qualifier + rest


@st.composite
def array_range(draw: st.DrawFn) -> str:
    zeros = draw(st.sampled_from(["", "0", "00"]))
    low = draw(st.integers(0, INT_MAX))
    kind = draw(st.sampled_from(["empty", "colon", "single", "std", "open_end", "open_start"]))
    if kind == "empty":
        return "[]"
    if kind == "colon":
        return "[:]"
    if kind == "single":
        return f"[{zeros}{low}]"
    if kind == "open_end":
        return f"[{low}:]"
    high = draw(st.integers(0 if kind == "open_start" else low, INT_MAX))
    if kind == "open_start":
        return f"[:{zeros}{high}]"
    return f"[{low}:{high}]"


@st.composite
def byte_range(draw: st.DrawFn) -> str:
    offset = draw(st.integers(0, INT_MAX))
    length = draw(st.integers(0, INT_MAX + 1 - offset))
    kind = draw(st.sampled_from(["empty", "colon", "single", "std", "open_end", "open_start"]))
    return {
        "empty": "{}",
        "colon": "{:}",
        "single": f"{{{offset}}}",
        "std": f"{{{offset}:{length}}}",
        "open_end": f"{{{offset}:}}",
        "open_start": f"{{:{min(length, INT_MAX)}}}",
    }[kind]


@st.composite
def time_freq(draw: st.DrawFn) -> str:
    number = draw(st.integers(0, INT_MAX))
    unit = draw(st.sampled_from(["", "S", "s", "M", "m", "U", "u", "H", "h", "K", "k"]))
    return f"{number}{unit}"


@st.composite
def periodic_event(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from("pPqQ"))
    if draw(st.booleans()):
        text += "," + draw(time_freq())
        if draw(st.booleans()):
            text += "," + draw(cased(["T", "TRUE", "F", "FALSE"]))
    return text


@st.composite
def clock_event(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from("eE")) + ","
    text += draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=4))
    if draw(st.booleans()):
        text += "," + draw(st.sampled_from("HhSsEe"))
        if draw(st.booleans()):
            text += "," + draw(time_freq())
    return text


@st.composite
def state_event(draw: st.DrawFn) -> str:
    device = draw(st.text(alphabet=LETTERS + DIGITS + ":_,", min_size=1, max_size=12))
    value = draw(st.integers(0, 10**6))
    delay = draw(time_freq())
    op = draw(st.sampled_from(["=", "!=", "*", ">", "<", "<=", ">="]))
    return f"{draw(st.sampled_from('sS'))},{device},{value},{delay},{op}"


EVENTS = st.one_of(
    st.sampled_from(["U", "u", "I", "i", "N", "n"]),
    periodic_event(),
    clock_event(),
    state_event(),
)
EXTRAS = st.tuples(
    cased([extra.name for extra in DRF_EXTRA]),
    st.one_of(
        st.just(""),
        st.text(alphabet=LETTERS + DIGITS + ":[]/._ ", max_size=20).map(lambda p: ":" + p),
        st.text(alphabet=DIGITS + "-", max_size=12).map(lambda p: "[" + p + "]"),
    ),
).map("".join)


@st.composite
def acnet_request(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid ACNET DRF plus the parts the parser must find in it."""
    prop = draw(st.sampled_from(list(DRF_PROPERTY)))
    explicit = prop is DRF_PROPERTY.BIT_STATUS or draw(st.booleans())
    qualifier = draw(st.sampled_from(QUALIFIERS[prop])) if not explicit else None
    if explicit:
        qualifier = draw(st.sampled_from(":?_|&@$~^#!"))
    name = draw(acnet_name(qualifier))
    field = draw(st.one_of(st.none(), st.sampled_from(sorted(allowed_fields(prop), key=str))))
    range_text = draw(st.one_of(st.none(), array_range(), byte_range()))
    event = draw(st.one_of(st.none(), EVENTS))
    extra = draw(st.one_of(st.none(), EXTRAS))

    text = name
    field_text = ""
    # Without a property word the field may precede the range (it is then the first word).
    before_range = not explicit and (range_text is None or draw(st.booleans()))
    if field is not None:
        words = FIELD_WORDS[field]
        if before_range:  # a lone first word must not be read as a property
            words = tuple(w for w in words if w not in ALL_PROPERTY_WORDS)
        if words:
            field_text = "." + draw(cased(words))
        else:
            field = None
    if explicit:
        text += "." + draw(cased(PROPERTY_WORDS[prop]))
    if before_range:
        text += field_text + (range_text or "")
    else:
        text += (range_text or "") + field_text
    if event is not None:
        text += "@" + event
    if extra is not None:
        text += "<-" + extra
    expected = {
        "property": prop,
        "field": get_default_field(prop) if field is None else field,
        "explicit": explicit,
        "event": event,
        "extra_raw": extra,
    }
    return text, expected


@st.composite
def foreign_request(draw: st.DrawFn) -> str:
    """A valid non-ACNET DRF: the name starts with a digit other than 0, so it is never ACNET."""
    name = draw(st.sampled_from("123456789")) + draw(
        st.text(alphabet=LETTERS + DIGITS + ":_-{}", min_size=2, max_size=20)
    )
    text = name
    if draw(st.booleans()):
        text += "." + draw(st.text(alphabet=LETTERS + DIGITS + "_", min_size=1, max_size=6))
    text += draw(st.one_of(st.just(""), array_range(), byte_range()))
    if draw(st.booleans()):
        text += "." + draw(st.text(alphabet=LETTERS + DIGITS + "_", min_size=1, max_size=6))
    if draw(st.booleans()):
        text += "@" + draw(EVENTS)
    if draw(st.booleans()):
        text += "<-" + draw(EXTRAS)
    return text


def _assert_canonical_round_trip(request: DataRequest) -> None:
    canonical = request.to_canonical()
    again = parse_request(canonical)
    assert again.to_canonical() == canonical
    assert again == request


@settings(max_examples=300, deadline=None)
@given(acnet_request())
def test_generated_acnet_requests_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    text, expected = case
    request = parse_request(text)
    assert request.is_acnet
    assert request.property is expected["property"]
    assert request.property_explicit is expected["explicit"]
    assert request.field is expected["field"]
    if expected["event"] is None or expected["event"] in "Uu":
        assert request.event.mode == "U"
    elif expected["event"] in "IiNn":
        assert request.event.raw_string == expected["event"].upper()
    else:
        assert request.event.raw_string == expected["event"]
    assert request.extra_raw == expected["extra_raw"]
    assert request.device == request.device.upper()
    assert request.device[1] == ":"
    _assert_canonical_round_trip(request)
    assert parse_request_uncached(text) == request


@settings(max_examples=200, deadline=None)
@given(foreign_request())
def test_generated_foreign_requests_round_trip(text: str) -> None:
    request = parse_request(text)
    assert not request.is_acnet
    assert request.field_explicit is False
    _assert_canonical_round_trip(request)


@given(st.text())
def test_arbitrary_text_only_raises_value_error(text: str) -> None:
    try:
        request = parse_request(text)
    except ValueError:
        return
    _assert_canonical_round_trip(request)


@given(
    # includes the letters/digits with Unicode case or digit quirks (dotless i, long s, Kelvin
    # sign, dotted I, sharp s, Arabic-Indic three)
    st.text(
        alphabet=LETTERS + DIGITS + ":_|&@$~^#!?.[]{},<- \n\u0131\u017f\u212a\u0130\u00df\u0663",
        max_size=40,
    ),
)
@example("Z::ACLTST")
@example("Z:ACLTST:")
@example("Z;ACLTST")
def test_drf_shaped_text_only_raises_value_error(text: str) -> None:
    try:
        request = parse_request(text)
    except ValueError:
        return
    _assert_canonical_round_trip(request)
