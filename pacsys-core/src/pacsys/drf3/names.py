"""Device names: ACNET name grammar, qualifier characters, canonical and qualified forms."""

from __future__ import annotations

from pacsys.drf3._frozen import Frozen, init_values, slot
from pacsys.drf3._lazyre import LazyPattern
from pacsys.drf3.properties import DRF_PROPERTY

__all__ = ["DeviceName", "canonical_device", "get_qualified_device", "parse_device"]

# Letters are matched case-insensitively the way Python's re.IGNORECASE does it for [A-Z]: the
# 52 ASCII letters plus U+0130, U+0131, U+017F and U+212A. Spelled out so no flag is needed.
LETTERS = "A-Za-z\u0130\u0131\u017f\u212a"
FIRST_CHAR = f"[{LETTERS}0#]"
QUALIFIERS = ":?_|&@$~^#!"
QUALIFIER_CHAR = r"[:?_|&@$~^#!]"
NAME_CHARS = f"[{LETTERS}0-9_:\\-]"
# first-char qual-char name-char{1,62}: 3..64 characters.
ACNET_NAME = f"{FIRST_CHAR}{QUALIFIER_CHAR}{NAME_CHARS}{{1,62}}"

_ACNET_NAME_RE = LazyPattern(ACNET_NAME)

# Qualifier character -> property it selects when no property word is written.
PROPERTY_BY_QUALIFIER: dict[str, DRF_PROPERTY] = {
    ":": DRF_PROPERTY.READING,
    "?": DRF_PROPERTY.READING,
    "_": DRF_PROPERTY.SETTING,
    "|": DRF_PROPERTY.STATUS,
    "&": DRF_PROPERTY.CONTROL,
    "@": DRF_PROPERTY.ANALOG,
    "$": DRF_PROPERTY.DIGITAL,
    "~": DRF_PROPERTY.DESCRIPTION,
    "^": DRF_PROPERTY.INDEX,
    "#": DRF_PROPERTY.LONG_NAME,
    "!": DRF_PROPERTY.ALARM_LIST_NAME,
}


def is_acnet_name(name: str) -> bool:
    """True when ``name`` is exactly an ACNET device name (any qualifier, any case)."""
    return _ACNET_NAME_RE.fullmatch(name) is not None


def canonical_device(name: str) -> str:
    """Upper-case ACNET name with the qualifier replaced by ``:`` (``m_outtmp`` -> ``M:OUTTMP``)."""
    return (name[0] + ":" + name[2:]).upper()


def get_qualified_device(name: str, prop: DRF_PROPERTY) -> str:
    """``name`` with its qualifier replaced by ``prop``'s character (``N:I2B1RI`` -> ``N_I2B1RI``).

    Letter case is kept. Raises for non-ACNET names and for BIT_STATUS (no qualifier).
    """
    if not is_acnet_name(name):
        raise ValueError(f"Cannot qualify non-ACNET device {name!r}")
    qualifier = prop.value
    if qualifier is None:
        raise ValueError(
            f"Property {prop.name} has no qualifier character and cannot be used in "
            "qualified device names"
        )
    return name[0] + qualifier + name[2:]


class DeviceName(Frozen):
    """Result of :func:`parse_device`: the text, its canonical form and whether it is ACNET."""

    __slots__ = ()

    def __init__(self, raw_string: str, canonical_string: str, is_acnet: bool) -> None:
        init_values(self, (raw_string, canonical_string, is_acnet))

    raw_string: str = slot(0, "the name as given")
    canonical_string: str = slot(1, "canonical ACNET name, or the verbatim foreign name")
    is_acnet: bool = slot(2, "True for an ACNET name, False for a foreign (EPICS) name")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeviceName):
            return NotImplemented
        return self._v == other._v

    def __hash__(self) -> int:
        return hash(self._v)

    def __str__(self) -> str:
        return self._v[1]

    def __repr__(self) -> str:
        return f"DeviceName({self._v[0]!r}, {self._v[1]!r}, is_acnet={self._v[2]!r})"


def parse_device(text: str, assume_epics: bool = True) -> DeviceName:
    """Classify a bare device name (whole-string match, no property/range/event allowed).

    Non-ACNET names are accepted verbatim as foreign names unless ``assume_epics`` is False.
    """
    if is_acnet_name(text):
        return DeviceName(text, canonical_device(text), True)
    if not assume_epics:
        raise ValueError(f"{text} is not a valid device")
    return DeviceName(text, text, False)
