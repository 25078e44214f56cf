"""Targeted tests of docs/protocols/drf3.md statements that the vector file does not exercise."""

from __future__ import annotations

import copy
import pickle

import pytest

from pacsys import drf_utils
from pacsys.drf3 import (
    ARRAY_RANGE,
    BYTE_RANGE,
    CHUNKED_HISTORICAL_EXTRAS,
    DRF_EXTRA,
    DRF_FIELD,
    DRF_PROPERTY,
    HISTORICAL_EXTRAS,
    ClockEvent,
    DataRequest,
    DefaultEvent,
    ImmediateEvent,
    NeverEvent,
    PeriodicEvent,
    StateEvent,
    allowed_fields,
    get_default_field,
    get_qualified_device,
    parse_device,
    parse_event,
    parse_extra,
    parse_field,
    parse_property,
    parse_range,
    parse_request,
)
from pacsys.drf3.parser import clear_parse_cache, parse_request_uncached

P = DRF_PROPERTY
F = DRF_FIELD

# --- docs/protocols/drf3.md §3 top level ---------------------------------------------------------


def test_none_input() -> None:
    with pytest.raises(ValueError, match=r"^device_str must not be None$"):
        parse_request(None)  # type: ignore[arg-type]


def test_non_string_input_raises_type_error() -> None:
    with pytest.raises(TypeError, match="argument of type 'int' is not iterable"):
        parse_request(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_request(["M:OUTTMP"])  # type: ignore[arg-type]


def test_str_subclass_is_accepted() -> None:
    class Name(str):
        pass

    assert parse_request(Name("m:outtmp")).to_canonical() == "M:OUTTMP.READING"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M:OUTTMP\n\n", "M:OUTTMP\n\n is not a valid DRF2 device"),
        ("M:OUTTMP.READING\n\n", "Invalid ACNET DRF 'M:OUTTMP.READING\\n\\n'"),
        ("AB<-FOO", "Invalid extra FOO"),  # the extra is validated first
        ("M:OUTTMP[a]", "Invalid ACNET DRF 'M:OUTTMP[a]'"),
        ("M:OUTTMP<-A<-B<-C", "Invalid drf M:OUTTMP<-A<-B<-C"),
        ("M:OUTTMP.ON[0:2]", "Field 'ON' not allowed for READING"),
        ("M:OUTTMP.on", "Field 'on' not allowed for READING"),
        ("M:OUTTMP.bogus", "Unrecognized field BOGUS"),
        ("M:OUTTMP[5:1].ON", "array range end must not precede start, got [5:1]"),
        ("M:OUTTMP.ON@Z", "Field 'ON' not allowed for READING"),
        ("M:OUTTMP{2147483647:2}", "offset + length must be less than Integer.MAX_VALUE"),
        ("M:OUTTMP{0:2147483648}", "length exceeds Integer.MAX_VALUE"),
        ("M:OUTTMP@NX", "Invalid never event: NX"),
        ("M:OUTTMP@p,1.5", "Bad periodic event p,1.5"),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_request(text)
    assert str(info.value) == message


def test_check_order_range_before_field() -> None:
    with pytest.raises(ValueError, match="Bad range"):
        parse_request("M:OUTTMP[1:2:3].BOGUS")


def test_trailing_newline_is_accepted_once() -> None:
    assert parse_request("M:OUTTMP\n") == parse_request("M:OUTTMP")
    assert parse_request("M:OUTTMP@p,1000\n").event.raw_string == "p,1000"


def test_near_miss_brace_rules() -> None:
    for text in ("M:OUTTMP{a}", "M:OUTTMP{a}.RAW", "M:OUTTMP{1:2}@"):
        with pytest.raises(ValueError, match="Invalid ACNET DRF"):
            parse_request(text)
    # A brace group followed by something else, or an unclosed one, is a foreign name.
    for text in ("M:OUTTMP{0:4}x", "M:OUTTMP{0:3", "M:OUTTMP{a}x"):
        request = parse_request(text)
        assert not request.is_acnet
        assert request.device == text


def test_long_name_becomes_foreign() -> None:
    name64 = "Z:" + "A" * 62
    assert parse_request(name64).is_acnet
    name65 = name64 + "A"
    request = parse_request(name65)
    assert not request.is_acnet
    assert request.to_canonical() == name65


def test_foreign_shortest_prefix() -> None:
    request = parse_request("FOO.BAR.BAZ@p,500<-FTP")
    assert request.device == "FOO"
    assert request.epics_fields == ("BAR", "BAZ")
    assert request.property is P.READING and request.field is F.SCALED
    assert request.to_canonical() == "FOO.BAR.BAZ@p,500<-FTP"
    with pytest.raises(ValueError, match="Invalid event: xyz"):
        parse_request("FOO@xyz")


def test_first_char_variants() -> None:
    assert parse_request("0:12345").device == "0:12345"
    assert parse_request("##OUTTMP").property is P.LONG_NAME
    assert not parse_request("1:FOO").is_acnet


# --- docs/protocols/drf3.md §4 names -------------------------------------------------------------


def test_get_qualified_device() -> None:
    assert get_qualified_device("N:I2B1RI", P.SETTING) == "N_I2B1RI"
    assert get_qualified_device("n:i2b1ri", P.STATUS) == "n|i2b1ri"
    with pytest.raises(ValueError, match=r"^Cannot qualify non-ACNET device 'PV:X.VAL'$"):
        get_qualified_device("PV:X.VAL", P.READING)
    with pytest.raises(ValueError) as info:
        get_qualified_device("N:I2B1RI", P.BIT_STATUS)
    assert str(info.value) == (
        "Property BIT_STATUS has no qualifier character "
        "and cannot be used in qualified device names"
    )


def test_parse_device() -> None:
    device = parse_device("m_outtmp")
    assert (device.raw_string, device.canonical_string, device.is_acnet) == (
        "m_outtmp",
        "M:OUTTMP",
        True,
    )
    foreign = parse_device("N_I2B1RI@p,1000")  # full-match test: a suffix makes it foreign
    assert (foreign.canonical_string, foreign.is_acnet) == ("N_I2B1RI@p,1000", False)
    with pytest.raises(ValueError, match=r"^PV:X is not a valid device$"):
        parse_device("PV:X", assume_epics=False)
    assert parse_device("Z@ACLTST", assume_epics=False).canonical_string == "Z:ACLTST"


# --- docs/protocols/drf3.md §5 properties and fields ---------------------------------------------

SPEC_PROPERTY_WORDS = {
    P.READING: "READING READ PRREAD",
    P.SETTING: "SETTING SET PRSET",
    P.STATUS: "STATUS BASIC_STATUS STS PRBSTS",
    P.CONTROL: "CONTROL BASIC_CONTROL CTRL PRBCTL",
    P.ANALOG: "ANALOG ANALOG_ALARM AA PRANAB",
    P.DIGITAL: "DIGITAL DIGITAL_ALARM DA PRDABL",
    P.DESCRIPTION: "DESCRIPTION DESC PRDESC",
    P.INDEX: "INDEX IDX PRIDX",
    P.LONG_NAME: "LONG_NAME LNGNAM PRLNAM",
    P.ALARM_LIST_NAME: "ALARM_LIST_NAME LSTNAM PRALNM",
    P.BIT_STATUS: "BIT_STATUS BITSTATUS",
}

SPEC_ALLOWED = {
    P.READING: "RAW PRIMARY SCALED MIN MAX UNITS",
    P.SETTING: "RAW PRIMARY SCALED MIN MAX UNITS",
    P.STATUS: "RAW ALL TEXT EXTENDED_TEXT ON READY REMOTE POSITIVE RAMP BIT_VALUE BIT_NAMES "
    "BIT_VALUES",
    P.CONTROL: "RAW SCALED",
    P.ANALOG: "RAW ALL TEXT MIN MAX NOM TOL RAW_MIN RAW_MAX RAW_NOM RAW_TOL ALARM_ENABLE "
    "ALARM_STATUS TRIES_NEEDED TRIES_NOW ALARM_FTD ABORT ABORT_INHIBIT FLAGS",
    P.DIGITAL: "RAW ALL TEXT NOM MASK ALARM_ENABLE ALARM_STATUS TRIES_NEEDED TRIES_NOW ALARM_FTD "
    "ABORT ABORT_INHIBIT FLAGS",
    P.DESCRIPTION: "SCALED",
    P.INDEX: "SCALED",
    P.LONG_NAME: "SCALED",
    P.ALARM_LIST_NAME: "SCALED",
    P.BIT_STATUS: "RAW ALL TEXT ON READY REMOTE POSITIVE RAMP BIT_VALUE BIT_NAMES BIT_VALUES",
}


def test_enum_members_and_values() -> None:
    assert list(P) == list(SPEC_PROPERTY_WORDS)
    assert [p.value for p in P] == [":", "_", "|", "&", "@", "$", "~", "^", "#", "!", None]
    field_names = (
        "RAW PRIMARY VOLTS SCALED COMMON ALL TEXT EXTENDED_TEXT ON READY REMOTE POSITIVE RAMP "
        "BIT_VALUE BIT_NAMES BIT_VALUES MIN MAX NOM TOL RAW_MIN RAW_MAX RAW_NOM RAW_TOL "
        "ALARM_ENABLE ALARM_STATUS TRIES_NEEDED TRIES_NOW ALARM_FTD ABORT ABORT_INHIBIT FLAGS "
        "MASK UNITS EMPTY"
    )
    assert " ".join(f.name for f in F) == field_names
    extra_names = "FTP LIVEDATA LOGGER LOGGERSINGLE LOGGERDURATION SRFILE SDAFILE REDIR MIRROR"
    assert " ".join(e.name for e in DRF_EXTRA) == extra_names


@pytest.mark.parametrize("prop", list(P))
def test_property_words(prop: DRF_PROPERTY) -> None:
    for word in SPEC_PROPERTY_WORDS[prop].split():
        assert parse_property(word) is prop
        assert parse_property(word.lower()) is prop


def test_parse_property_error() -> None:
    with pytest.raises(ValueError, match=r"^Invalid property bogus$"):
        parse_property("bogus")


def test_field_words() -> None:
    assert parse_field("volts") is F.PRIMARY
    assert parse_field("COMMON") is F.SCALED
    assert parse_field("minimum") is F.MIN
    assert parse_field("enable") is F.ALARM_ENABLE
    assert parse_field("STATUS") is F.ALARM_STATUS
    assert parse_field("ftd") is F.ALARM_FTD
    assert parse_field("rawtol") is F.RAW_TOL
    for unreachable in ("EMPTY", "BOGUS"):
        with pytest.raises(ValueError, match=rf"^Unrecognized field {unreachable}$"):
            parse_field(unreachable.lower())


@pytest.mark.parametrize("prop", list(P))
def test_allowed_fields_table(prop: DRF_PROPERTY) -> None:
    expected = {F[name] for name in SPEC_ALLOWED[prop].split()}
    assert allowed_fields(prop) == expected


def test_default_fields() -> None:
    defaults = {p: get_default_field(p) for p in P}
    assert defaults == {
        p: (
            F.SCALED
            if p in (P.READING, P.SETTING)
            else F.ALL
            if p in (P.ANALOG, P.DIGITAL)
            else None
        )
        for p in P
    }


def test_word_resolution_rules() -> None:
    both = parse_request("M:OUTTMP.SETTING[0:2].RAW")
    assert (both.property, both.field, both.property_explicit, both.field_explicit) == (
        P.SETTING,
        F.RAW,
        True,
        True,
    )
    after_range = parse_request("M@OUTTMP[0].STATUS")  # second word: a field, ALARM_STATUS
    assert (after_range.property, after_range.field) == (P.ANALOG, F.ALARM_STATUS)
    assert parse_request("M:OUTTMP.ANALOG.STATUS").field is F.ALARM_STATUS


# --- docs/protocols/drf3.md §6 ranges ------------------------------------------------------------


def test_array_range_constructor() -> None:
    assert ARRAY_RANGE().mode == "full"
    assert ARRAY_RANGE(3).mode == "std"
    assert str(ARRAY_RANGE(3)) == "[3:]"
    assert str(ARRAY_RANGE(None, 7)) == "[:7]"
    assert str(ARRAY_RANGE(4, mode="single")) == "[4]"
    assert str(ARRAY_RANGE(10, 10)) == "[10:10]"
    for args, message in [
        ((-1, None), "array range start must be 0..2147483647, got -1"),
        ((None, 2147483648), "array range end must be 0..2147483647, got 2147483648"),
        ((5, 4), "array range end must not precede start, got [5:4]"),
    ]:
        with pytest.raises(ValueError) as info:
            ARRAY_RANGE(*args)
        assert str(info.value) == message
    with pytest.raises(TypeError):
        ARRAY_RANGE("1")  # type: ignore[arg-type]


def test_byte_range_constructor() -> None:
    assert BYTE_RANGE(4, 2).mode is None
    assert str(BYTE_RANGE(4, 2)) == "{4:2}"  # None mode renders like std
    assert str(BYTE_RANGE(4, None)) == "{4:}"
    assert str(BYTE_RANGE(0, -2147483648, mode="full")) == "{:}"
    assert str(BYTE_RANGE(2147483647, 1)) == "{2147483647:1}"
    for args, message in [
        ((-1, 2), "offset must be non-negative"),
        ((2147483648, None), "offset exceeds Integer.MAX_VALUE"),
        ((0, 2147483648), "length exceeds Integer.MAX_VALUE"),
        ((0, -1), "length must be non-negative"),
        ((0, -2147483648), "length must be non-negative"),  # sentinel needs mode full
        ((2147483647, 2), "offset + length must be less than Integer.MAX_VALUE"),
    ]:
        with pytest.raises(ValueError) as info:
            BYTE_RANGE(*args)
        assert str(info.value) == message


def test_parse_range() -> None:
    assert parse_range(None) is None
    assert str(parse_range("[00005]")) == "[5]"
    assert str(parse_range("[]")) == "[:]"
    assert str(parse_range("{}")) == "{:}"
    assert parse_range("[5]") == ARRAY_RANGE(5, mode="single")
    assert parse_range("{1:2}") == BYTE_RANGE(1, 2, mode="std")
    assert parse_range("[1:2]") != parse_range("{1:2}")
    assert parse_range("{1:2}") != BYTE_RANGE(1, 2)  # modes differ: std vs None
    assert hash(parse_range("[0:3]")) == hash(ARRAY_RANGE(0, 3))
    for bad in ("", "[", "[1:2:3]", "[::]", "[1}", "{a}", "[ 1]", "(1)"):
        with pytest.raises(ValueError, match=r"^Bad range"):
            parse_range(bad)


# --- docs/protocols/drf3.md §7 events ------------------------------------------------------------


def test_parse_event_dispatch() -> None:
    assert parse_event(None) is None
    with pytest.raises(ValueError, match=r"^event string must not be empty$"):
        parse_event("")
    assert isinstance(parse_event("u"), DefaultEvent)
    assert isinstance(parse_event("i"), ImmediateEvent)
    assert parse_event("i").raw_string == "I"
    assert isinstance(parse_event("n"), NeverEvent)
    assert isinstance(parse_event("Q,5"), PeriodicEvent)
    assert isinstance(parse_event("e,0f"), ClockEvent)
    assert isinstance(parse_event("s,G:X,1,0,="), StateEvent)
    for bad, message in [
        ("IMMEDIATE", "Invalid event: IMMEDIATE"),
        ("II", "Invalid event: II"),
        (" p,1000", "Invalid event:  p,1000"),
        ("Never", "Invalid never event: Never"),
    ]:
        with pytest.raises(ValueError) as info:
            parse_event(bad)
        assert str(info.value) == message


def test_event_equality_is_by_raw_text() -> None:
    assert parse_event("p,1000") != parse_event("P,1000")
    assert parse_event("p,1000") == PeriodicEvent("p,1000")
    assert parse_event("n") == NeverEvent()
    assert parse_event("U") == DefaultEvent()
    assert hash(parse_event("E,0F")) == hash(ClockEvent("E,0F"))
    assert parse_event("I") != parse_event("N")


def test_periodic_event_attributes() -> None:
    event = parse_event("q,10H,false")
    assert isinstance(event, PeriodicEvent)
    assert (event.mode, event.freq, event.imm, event.cont) == ("Q", 100, False, False)
    default = parse_event("P")
    assert (default.freq, default.imm, default.cont) == (1000, True, True)
    assert parse_event("p,2S,t").freq == 2000
    for bad in ("p,-5", "p,1000,X", "p,1000,T,1", "px"):
        with pytest.raises(ValueError, match=r"^Bad periodic event"):
            parse_event(bad)
    with pytest.raises(ValueError, match=r"^Bad time-freq value: 2147483648$"):
        parse_event("p,2147483648,T")
    # The shape is checked before the number.
    with pytest.raises(ValueError, match=r"^Bad periodic event p,2147483648,X$"):
        parse_event("p,2147483648,X")
    with pytest.raises(ValueError, match=r"^Bad periodic event p,99999999999,T,1$"):
        parse_event("p,99999999999,T,1")
    with pytest.raises(ValueError, match=r"^Bad time-freq value: 9{5000}$"):
        parse_event("p," + "9" * 5000)


def test_clock_and_state_attributes() -> None:
    clock = parse_event("E,1FF,s,3")
    assert isinstance(clock, ClockEvent)
    assert (clock.mode, clock.evt, clock.clock_type, clock.delay) == ("E", 511, "s", 3)
    assert parse_event("e,0f").clock_type == "either"
    state = parse_event("S,G:AMANDA,12,2S,>=")
    assert isinstance(state, StateEvent)
    assert (state.device, state.value, state.delay, state.expression) == (
        "G:AMANDA",
        12,
        2000,
        ">=",
    )
    with pytest.raises(ValueError, match=r"^Bad time-freq value: abc$"):
        parse_event("S,G:AMANDA,1,abc,=")


def test_event_constructors_validate() -> None:
    with pytest.raises(ValueError, match=r"^Bad clock event E,0x0F$"):
        ClockEvent("E,0x0F")
    with pytest.raises(ValueError):
        ImmediateEvent("X")
    assert NeverEvent("n").raw_string == "N"


# --- docs/protocols/drf3.md §8 extras ------------------------------------------------------------


def test_parse_extra() -> None:
    assert parse_extra("logger:1:2") is DRF_EXTRA.LOGGER
    assert parse_extra("LOGGER[2024-01-01]") is DRF_EXTRA.LOGGER
    assert parse_extra("mirror") is DRF_EXTRA.MIRROR
    for bad in ("", "FOO", "LOGGERX:1", " FTP", ":123"):
        with pytest.raises(ValueError, match=rf"^Invalid extra {bad}$"):
            parse_extra(bad)
    assert {DRF_EXTRA.LOGGER, DRF_EXTRA.LOGGERSINGLE, DRF_EXTRA.LOGGERDURATION} == HISTORICAL_EXTRAS
    assert {DRF_EXTRA.LOGGER, DRF_EXTRA.LOGGERDURATION} == CHUNKED_HISTORICAL_EXTRAS


# --- docs/protocols/drf3.md §9 canonical / qualified rendering with overrides --------------------

SAMPLE = "M_OUTTMP[0:3].RAW@p,1000<-FTP"


def test_canonical_overrides_from_spec() -> None:
    request = parse_request(SAMPLE)
    assert request.to_canonical(property=P.READING) == "M:OUTTMP.READING[0:3]@p,1000<-FTP"
    assert request.to_canonical(property=P.SETTING) == "M:OUTTMP.SETTING[0:3].RAW@p,1000<-FTP"
    assert request.to_canonical(range=None) == "M:OUTTMP.SETTING.RAW@p,1000<-FTP"
    assert request.to_canonical(extra=None) == "M:OUTTMP.SETTING[0:3].RAW@p,1000"


def test_canonical_override_details() -> None:
    request = parse_request("M:OUTTMP@p,1000<-logger:1:2")
    assert request.to_canonical(extra=DRF_EXTRA.FTP) == "M:OUTTMP.READING@p,1000<-FTP"
    assert request.to_canonical() == "M:OUTTMP.READING@p,1000<-logger:1:2"
    assert request.to_canonical(event=DefaultEvent()) == "M:OUTTMP.READING<-logger:1:2"
    assert request.to_canonical(event=NeverEvent()) == "M:OUTTMP.READING@N<-logger:1:2"
    assert request.to_canonical(event="q,5") == "M:OUTTMP.READING@q,5<-logger:1:2"
    assert (
        request.to_canonical(range=ARRAY_RANGE(1, 2)) == "M:OUTTMP.READING[1:2]@p,1000<-logger:1:2"
    )
    assert request.to_canonical(device="G:AMANDA", field=F.RAW, extra=None) == (
        "G:AMANDA.READING.RAW@p,1000"
    )
    assert request.to_canonical(property=P.ANALOG, field=F.ALL) == (
        "M:OUTTMP.ANALOG@p,1000<-logger:1:2"
    )
    assert request.to_canonical(property=P.STATUS) == "M:OUTTMP.STATUS@p,1000<-logger:1:2"


def test_non_acnet_overrides() -> None:
    request = parse_request("PV:X.VAL[2]@p,1")
    assert request.to_canonical(event=NeverEvent()) == "PV:X.VAL[2]@N"
    assert request.to_canonical(range=None, event=DefaultEvent()) == "PV:X.VAL"
    for kwargs in ({"property": P.SETTING}, {"field": F.RAW}):
        with pytest.raises(
            ValueError, match=r"^Cannot set ACNET property/field on non-ACNET device PV:X$"
        ):
            request.to_canonical(**kwargs)
    with pytest.raises(ValueError, match=r"^Cannot qualify non-ACNET device 'PV:X'$"):
        request.to_qualified()


def test_qualified_form() -> None:
    request = parse_request("N_I2B1RI.SETTING[50].RAW@e,AE,e,1000")
    assert request.to_qualified() == "N_I2B1RI[50].RAW@e,AE,e,1000"
    assert request.to_qualified(property=P.READING) == "N:I2B1RI[50]@e,AE,e,1000"
    assert request.to_qualified(event=DefaultEvent(), range=None) == "N_I2B1RI.RAW"
    with pytest.raises(ValueError, match="BIT_STATUS has no qualifier"):
        parse_request("M:OUTTMP.BIT_STATUS").to_qualified()


# --- docs/protocols/drf3.md §10 DataRequest ------------------------------------------------------


def test_equality_and_hash() -> None:
    assert parse_request("M:OUTTMP") == parse_request("m?outtmp")
    assert hash(parse_request("M:OUTTMP")) == hash(parse_request("m?outtmp"))
    assert parse_request("M:OUTTMP.READING") == parse_request("M:OUTTMP")  # explicit flag ignored
    assert parse_request("M:OUTTMP@p,1000") != parse_request("M:OUTTMP@P,1000")
    assert parse_request("M:OUTTMP<-ftp") != parse_request("M:OUTTMP<-FTP")  # extra_raw differs
    assert parse_request("M:OUTTMP") != "M:OUTTMP.READING"


def test_attributes_and_flags() -> None:
    request = parse_request("M_OUTTMP[0:3].RAW@p,1000<-FTP")
    assert request.parts == (
        "M:OUTTMP",
        P.SETTING,
        ARRAY_RANGE(0, 3),
        F.RAW,
        PeriodicEvent("p,1000"),
    )
    assert (request.is_setting, request.is_reading, request.is_status, request.is_control) == (
        True,
        False,
        False,
        False,
    )
    assert parse_request("Z|X").is_status and parse_request("Z&X").is_control
    assert request.name_as(P.STATUS) == "M|OUTTMP"
    assert request.raw_string == "M_OUTTMP[0:3].RAW@p,1000"
    assert request.extra is DRF_EXTRA.FTP and request.extra_raw == "FTP"
    assert request.epics_fields == (None, None)


def test_immutable_copyable_picklable() -> None:
    request = parse_request(SAMPLE)
    with pytest.raises(AttributeError):
        request.device = "X"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del request.event  # type: ignore[misc]
    with pytest.raises(AttributeError):
        request.new_attribute = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        request.event.raw_string = "I"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        request.range.low = 5  # type: ignore[union-attr,misc]
    for clone in (copy.copy(request), copy.deepcopy(request), pickle.loads(pickle.dumps(request))):
        assert clone == request and clone is not request
        assert clone.raw_string == request.raw_string
        assert clone.to_canonical() == request.to_canonical()


def test_constructor_type_checks() -> None:
    request = DataRequest("M:OUTTMP", "M:OUTTMP", P.READING)
    assert request.event == DefaultEvent()
    assert request.to_canonical() == "M:OUTTMP.READING"
    with pytest.raises(TypeError):
        DataRequest("M:OUTTMP", "M:OUTTMP", "READING")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DataRequest("M:OUTTMP", "M:OUTTMP", P.READING, range="[0:3]")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DataRequest("M:OUTTMP", "M:OUTTMP", P.READING, event="p,1000")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DataRequest("M:OUTTMP", "M:OUTTMP", P.READING, property_explicit=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DataRequest("M:OUTTMP", 5, P.READING)  # type: ignore[arg-type]


def test_replace_returns_new_request() -> None:
    request = parse_request(SAMPLE)
    changed = request.replace(event=parse_event("I"), extra=None, extra_raw=None)
    assert changed.to_canonical() == "M:OUTTMP.SETTING[0:3].RAW@I"
    assert request.to_canonical() == "M:OUTTMP.SETTING[0:3].RAW@p,1000<-FTP"
    with pytest.raises(TypeError):
        request.replace(colour="red")


def test_parse_cache_returns_shared_immutable_objects() -> None:
    clear_parse_cache()
    first = parse_request("G:AMANDA@p,250")
    assert parse_request("G:AMANDA@p,250") is first
    fresh = parse_request_uncached("G:AMANDA@p,250")
    assert fresh == first and fresh is not first


# --- docs/protocols/drf3.md §11-§12 helpers ------------------------------------------------------


def test_prepare_for_write_table() -> None:
    for drf, expected in [
        ("Z:ACLTST", "Z:ACLTST.SETTING@N"),
        ("Z:ACLTST.READING.RAW", "Z:ACLTST.SETTING.RAW@N"),
        ("Z|ACLTST", "Z:ACLTST.CONTROL@N"),
        ("M|OUTTMP.ON", "M:OUTTMP.CONTROL@N"),
        ("Z$ACLTST.MASK@I", "Z:ACLTST.DIGITAL.MASK@N"),
        ("Z:ACLTST[0:3]<-FTP", "Z:ACLTST.SETTING[0:3]@N<-FTP"),
        ("M:OUTTMP.BIT_STATUS.ON@p,5", "M:OUTTMP.BIT_STATUS.ON@N"),
        ("ABC@", "ABC@@N"),
        ("M:OUTTMP.READING.MIN", "M:OUTTMP.SETTING.MIN@N"),
    ]:
        assert drf_utils.prepare_for_write(drf) == expected


def test_prepare_for_control() -> None:
    assert drf_utils.prepare_for_control("Z:ACLTST@p,1000") == "Z:ACLTST.CONTROL@p,1000"
    assert drf_utils.prepare_for_control("z|acltst@i") == "z|acltst@i"
    with pytest.raises(ValueError, match=r"^Basic control writes require an ACNET device: PV:X$"):
        drf_utils.prepare_for_control("PV:X")


def test_helpers_raise_on_invalid_drf() -> None:
    for helper in (
        drf_utils.get_device_name,
        drf_utils.has_event,
        drf_utils.strip_event,
        drf_utils.ensure_immediate_event,
        drf_utils.prepare_for_write,
    ):
        with pytest.raises(ValueError, match="Invalid ACNET DRF"):
            helper("M:OUTTMP[a]")


def test_historical_predicates_never_raise() -> None:
    for bad in ("M:OUTTMP[a]", "", None, 5):
        assert drf_utils.is_historical_drf(bad) is False  # type: ignore[arg-type]
        assert drf_utils.is_chunked_historical_drf(bad) is False  # type: ignore[arg-type]
    assert drf_utils.is_historical_drf("PV:X<-LoggerSingle:5") is True


def test_ensure_immediate_event_variants() -> None:
    assert drf_utils.ensure_immediate_event("PV:X.VAL@u<-FTP") == "PV:X.VAL@I<-FTP"
    assert drf_utils.ensure_immediate_event("M:OUTTMP@U<-LOGGERDURATION:5") == (
        "M:OUTTMP@U<-LOGGERDURATION:5"
    )
    assert drf_utils.replace_event("PV:X", "n") == "PV:X@N"
