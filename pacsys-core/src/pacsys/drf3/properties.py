"""DRF properties and fields: the enums, their accepted words, defaults and allowed combinations."""

from __future__ import annotations

import enum

__all__ = [
    "DRF_FIELD",
    "DRF_PROPERTY",
    "allowed_fields",
    "get_default_field",
    "is_field_allowed",
    "parse_field",
    "parse_property",
]


class DRF_PROPERTY(enum.Enum):
    """Device property; the value is the qualifier character (None for BIT_STATUS)."""

    # Members are singletons compared by identity, so an identity hash is valid and much faster
    # than Enum's Python-level name hash (these are dictionary keys on the parse hot path).
    __hash__ = object.__hash__

    READING = ":"
    SETTING = "_"
    STATUS = "|"
    CONTROL = "&"
    ANALOG = "@"
    DIGITAL = "$"
    DESCRIPTION = "~"
    INDEX = "^"
    LONG_NAME = "#"
    ALARM_LIST_NAME = "!"
    BIT_STATUS = None


class DRF_FIELD(enum.Enum):
    """Which part of a property's data is requested."""

    __hash__ = object.__hash__

    RAW = enum.auto()
    PRIMARY = enum.auto()
    VOLTS = enum.auto()
    SCALED = enum.auto()
    COMMON = enum.auto()
    ALL = enum.auto()
    TEXT = enum.auto()
    EXTENDED_TEXT = enum.auto()
    ON = enum.auto()
    READY = enum.auto()
    REMOTE = enum.auto()
    POSITIVE = enum.auto()
    RAMP = enum.auto()
    BIT_VALUE = enum.auto()
    BIT_NAMES = enum.auto()
    BIT_VALUES = enum.auto()
    MIN = enum.auto()
    MAX = enum.auto()
    NOM = enum.auto()
    TOL = enum.auto()
    RAW_MIN = enum.auto()
    RAW_MAX = enum.auto()
    RAW_NOM = enum.auto()
    RAW_TOL = enum.auto()
    ALARM_ENABLE = enum.auto()
    ALARM_STATUS = enum.auto()
    TRIES_NEEDED = enum.auto()
    TRIES_NOW = enum.auto()
    ALARM_FTD = enum.auto()
    ABORT = enum.auto()
    ABORT_INHIBIT = enum.auto()
    FLAGS = enum.auto()
    MASK = enum.auto()
    UNITS = enum.auto()
    EMPTY = enum.auto()


_P = DRF_PROPERTY
_F = DRF_FIELD

# Upper-case word -> property.
PROPERTY_BY_WORD: dict[str, DRF_PROPERTY] = {
    word: prop
    for prop, words in (
        (_P.READING, ("READING", "READ", "PRREAD")),
        (_P.SETTING, ("SETTING", "SET", "PRSET")),
        (_P.STATUS, ("STATUS", "BASIC_STATUS", "STS", "PRBSTS")),
        (_P.CONTROL, ("CONTROL", "BASIC_CONTROL", "CTRL", "PRBCTL")),
        (_P.ANALOG, ("ANALOG", "ANALOG_ALARM", "AA", "PRANAB")),
        (_P.DIGITAL, ("DIGITAL", "DIGITAL_ALARM", "DA", "PRDABL")),
        (_P.DESCRIPTION, ("DESCRIPTION", "DESC", "PRDESC")),
        (_P.INDEX, ("INDEX", "IDX", "PRIDX")),
        (_P.LONG_NAME, ("LONG_NAME", "LNGNAM", "PRLNAM")),
        (_P.ALARM_LIST_NAME, ("ALARM_LIST_NAME", "LSTNAM", "PRALNM")),
        (_P.BIT_STATUS, ("BIT_STATUS", "BITSTATUS")),
    )
    for word in words
}

# Upper-case word -> field. VOLTS, COMMON and EMPTY are members no word resolves to.
FIELD_BY_WORD: dict[str, DRF_FIELD] = {
    "RAW": _F.RAW,
    "PRIMARY": _F.PRIMARY,
    "VOLTS": _F.PRIMARY,
    "SCALED": _F.SCALED,
    "COMMON": _F.SCALED,
    "ALL": _F.ALL,
    "TEXT": _F.TEXT,
    "EXTENDED_TEXT": _F.EXTENDED_TEXT,
    "ON": _F.ON,
    "READY": _F.READY,
    "REMOTE": _F.REMOTE,
    "POSITIVE": _F.POSITIVE,
    "RAMP": _F.RAMP,
    "BIT_VALUE": _F.BIT_VALUE,
    "BIT_NAMES": _F.BIT_NAMES,
    "BIT_VALUES": _F.BIT_VALUES,
    "MIN": _F.MIN,
    "MINIMUM": _F.MIN,
    "MAX": _F.MAX,
    "MAXIMUM": _F.MAX,
    "NOM": _F.NOM,
    "NOMINAL": _F.NOM,
    "TOL": _F.TOL,
    "TOLERANCE": _F.TOL,
    "RAW_MIN": _F.RAW_MIN,
    "RAWMIN": _F.RAW_MIN,
    "RAW_MAX": _F.RAW_MAX,
    "RAWMAX": _F.RAW_MAX,
    "RAW_NOM": _F.RAW_NOM,
    "RAWNOM": _F.RAW_NOM,
    "RAW_TOL": _F.RAW_TOL,
    "RAWTOL": _F.RAW_TOL,
    "ALARM_ENABLE": _F.ALARM_ENABLE,
    "ENABLE": _F.ALARM_ENABLE,
    "ALARM_STATUS": _F.ALARM_STATUS,
    "STATUS": _F.ALARM_STATUS,
    "TRIES_NEEDED": _F.TRIES_NEEDED,
    "TRIES_NOW": _F.TRIES_NOW,
    "ALARM_FTD": _F.ALARM_FTD,
    "FTD": _F.ALARM_FTD,
    "ABORT": _F.ABORT,
    "ABORT_INHIBIT": _F.ABORT_INHIBIT,
    "FLAGS": _F.FLAGS,
    "MASK": _F.MASK,
    "UNITS": _F.UNITS,
}

DEFAULT_FIELD: dict[DRF_PROPERTY, DRF_FIELD] = {
    _P.READING: _F.SCALED,
    _P.SETTING: _F.SCALED,
    _P.ANALOG: _F.ALL,
    _P.DIGITAL: _F.ALL,
}

_READ_SET = frozenset((_F.RAW, _F.PRIMARY, _F.SCALED, _F.MIN, _F.MAX, _F.UNITS))
_NAME_LIKE = frozenset((_F.SCALED,))
_ALARM_COMMON = (
    _F.RAW,
    _F.ALL,
    _F.TEXT,
    _F.NOM,
    _F.ALARM_ENABLE,
    _F.ALARM_STATUS,
    _F.TRIES_NEEDED,
    _F.TRIES_NOW,
    _F.ALARM_FTD,
    _F.ABORT,
    _F.ABORT_INHIBIT,
    _F.FLAGS,
)
_STATUS_BITS = (
    _F.RAW,
    _F.ALL,
    _F.TEXT,
    _F.ON,
    _F.READY,
    _F.REMOTE,
    _F.POSITIVE,
    _F.RAMP,
    _F.BIT_VALUE,
    _F.BIT_NAMES,
    _F.BIT_VALUES,
)

ALLOWED_FIELDS: dict[DRF_PROPERTY, frozenset[DRF_FIELD]] = {
    _P.READING: _READ_SET,
    _P.SETTING: _READ_SET,
    _P.STATUS: frozenset((*_STATUS_BITS, _F.EXTENDED_TEXT)),
    _P.CONTROL: frozenset((_F.RAW, _F.SCALED)),
    _P.ANALOG: frozenset(
        (*_ALARM_COMMON, _F.MIN, _F.MAX, _F.TOL, _F.RAW_MIN, _F.RAW_MAX, _F.RAW_NOM, _F.RAW_TOL)
    ),
    _P.DIGITAL: frozenset((*_ALARM_COMMON, _F.MASK)),
    _P.DESCRIPTION: _NAME_LIKE,
    _P.INDEX: _NAME_LIKE,
    _P.LONG_NAME: _NAME_LIKE,
    _P.ALARM_LIST_NAME: _NAME_LIKE,
    _P.BIT_STATUS: frozenset(_STATUS_BITS),
}

# Pre-rendered ".NAME" suffixes: Enum.name is a slow descriptor, canonical rendering is hot.
PROPERTY_SUFFIX: dict[DRF_PROPERTY, str] = {p: "." + p.name for p in DRF_PROPERTY}
FIELD_SUFFIX: dict[DRF_FIELD, str] = {f: "." + f.name for f in DRF_FIELD}


def parse_property(word: str) -> DRF_PROPERTY:
    """Property named by ``word`` (case-insensitive, aliases accepted)."""
    prop = PROPERTY_BY_WORD.get(word.upper())
    if prop is None:
        raise ValueError(f"Invalid property {word}")
    return prop


def parse_field(word: str) -> DRF_FIELD:
    """Field named by ``word`` (case-insensitive, aliases accepted)."""
    upper = word.upper()
    field = FIELD_BY_WORD.get(upper)
    if field is None:
        raise ValueError(f"Unrecognized field {upper}")
    return field


def get_default_field(prop: DRF_PROPERTY) -> DRF_FIELD | None:
    """Field implied when none is written: SCALED for READING/SETTING, ALL for alarms, else None."""
    return DEFAULT_FIELD.get(prop)


def allowed_fields(prop: DRF_PROPERTY) -> frozenset[DRF_FIELD]:
    """Fields that may be requested for ``prop``."""
    return ALLOWED_FIELDS[prop]


def is_field_allowed(prop: DRF_PROPERTY, field: DRF_FIELD | None) -> bool:
    """True when ``field`` may be requested for ``prop``."""
    return field in ALLOWED_FIELDS[prop]
