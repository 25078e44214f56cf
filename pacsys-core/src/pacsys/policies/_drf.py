"""DRF handling shared by the policies: the acceptability gate, device lookup, name patterns.

Policies match on the *parsed canonical device name*, never on the DRF text, so qualifier
characters, case, property words, ranges and fields cannot hide a device.  A DRF that
fails the gate cannot be matched reliably and makes every policy that looks at devices
deny.  The parser is imported lazily so that listing the built-in policies stays cheap.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Sequence
from typing import Any


class UnacceptableDRF(ValueError):
    """A DRF that fails the gate; its message is the client-visible denial reason."""

    def __init__(self, drf: object) -> None:
        super().__init__(f"Malformed or disallowed DRF: {drf!r}")
        self.drf = drf


@dataclasses.dataclass(frozen=True)
class DeviceRef:
    """The parts of a parsed DRF the policies need."""

    name: str
    is_acnet: bool
    property: Any
    field: Any

    @property
    def property_name(self) -> str | None:
        return getattr(self.property, "name", None)

    @property
    def field_name(self) -> str | None:
        return getattr(self.field, "name", None)


def _printable_ascii(text: str) -> bool:
    return all(" " <= char <= "~" for char in text)


# Names a policy could not match reliably are refused (fail closed): an ACNET name with a colon
# after its qualifier character (``Z::ACLTST``, ``Z:ACLTST:``; the DRF grammar admits them, no
# device has one), and a non-ACNET name that is not a plain EPICS PV name -- colon-separated
# segments of PV characters, the first at least two long (so ``Z;ACLTST`` is refused).
_PV_SEGMENT = r"[A-Za-z0-9_\-+\[\]<>{}.]"
_EPICS_NAME = re.compile(rf"{_PV_SEGMENT}{{2,}}(?::{_PV_SEGMENT}+)*")


def _parse(drf: str) -> Any:
    from pacsys.drf3 import parse_request

    return parse_request(drf)


def _write_form(drf: str) -> str:
    from pacsys.drf_utils import prepare_for_write

    return prepare_for_write(drf)


def resolve(drf: object, *, for_write: bool = False) -> DeviceRef:
    """Gate and parse ``drf``; with ``for_write`` describe its write form (READING→SETTING...).

    Raises :class:`UnacceptableDRF` for anything the supervised server's DRF gate rejects:
    non-strings, empty or whitespace-padded text, non-printable-ASCII characters, a leading
    ``#`` (index alias or DPM list directive), unparsable text, an ACNET device-index alias
    (``0:<di>``), a name no policy could match reliably (``Z::ACLTST``, ``Z;ACLTST``: see
    above), and for writes text that does not survive write preparation.
    """
    if not isinstance(drf, str) or not drf or drf != drf.strip():
        raise UnacceptableDRF(drf)
    if not _printable_ascii(drf) or drf.startswith("#"):
        raise UnacceptableDRF(drf)
    try:
        request = _parse(drf)
        if for_write:
            request = _parse(_write_form(drf))
    except (ValueError, TypeError) as exc:
        raise UnacceptableDRF(drf) from exc
    device = request.device
    if not isinstance(device, str) or not device:
        raise UnacceptableDRF(drf)
    if request.is_acnet and device.startswith("0"):
        raise UnacceptableDRF(drf)
    if request.is_acnet and ":" in device[2:]:
        raise UnacceptableDRF(drf)
    if not request.is_acnet and not _EPICS_NAME.fullmatch(device):
        raise UnacceptableDRF(drf)
    return DeviceRef(device, bool(request.is_acnet), request.property, request.field)


def acceptable_drf(drf: object, *, for_write: bool = False) -> bool:
    """The supervised server's DRF gate (docs/protocols/grpc.md §7.2 step 3) as a predicate."""
    try:
        resolve(drf, for_write=for_write)
    except UnacceptableDRF:
        return False
    return True


def check_patterns(patterns: object, what: str) -> tuple[str, ...]:
    """Validate a list of pattern strings (a bare string is refused, not split into chars)."""
    if isinstance(patterns, str | bytes) or not isinstance(patterns, Sequence | set | frozenset):
        raise ValueError(f"{what} must be a list of strings, got {type(patterns).__name__}")
    result = tuple(patterns)
    if not result:
        raise ValueError(f"{what} must not be empty")
    for pattern in result:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"{what} must contain non-empty strings, got {pattern!r}")
    return result


class NameMatcher:
    """Device-name patterns: fnmatch globs or full-match regexes.

    ACNET names match case-insensitively; non-ACNET (EPICS) names are case-sensitive
    unless ``fold_case`` asks for case-insensitive matching of every name.
    """

    def __init__(self, patterns: Sequence[str], syntax: str = "glob", *, fold_case: bool = False):
        if syntax not in ("glob", "regex"):
            raise ValueError(f"syntax must be 'glob' or 'regex', got {syntax!r}")
        self.patterns = tuple(patterns)
        self._exact: list[re.Pattern[str]] = []
        self._folded: list[re.Pattern[str]] = []
        for pattern in self.patterns:
            source = fnmatch.translate(pattern) if syntax == "glob" else pattern
            try:
                self._exact.append(re.compile(source))
                self._folded.append(re.compile(source, re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"Invalid {syntax} pattern {pattern!r}: {exc}") from exc
        self._fold_case = fold_case

    def first_match(self, ref: DeviceRef) -> int | None:
        """Index of the first pattern matching ``ref``'s name, or None."""
        compiled = self._folded if (ref.is_acnet or self._fold_case) else self._exact
        for index, regex in enumerate(compiled):
            if regex.fullmatch(ref.name):
                return index
        return None

    def all_matches(self, ref: DeviceRef) -> list[int]:
        compiled = self._folded if (ref.is_acnet or self._fold_case) else self._exact
        return [index for index, regex in enumerate(compiled) if regex.fullmatch(ref.name)]

    def matches(self, ref: DeviceRef) -> bool:
        return self.first_match(ref) is not None
