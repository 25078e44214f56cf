"""Value-range limits for writes, failing closed on anything not comparable to the limit."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pacsys.policies._drf import NameMatcher, UnacceptableDRF, check_patterns, resolve
from pacsys.policies.base import Policy, PolicyDecision, RequestContext, allow, deny

#: Fields whose values are not in engineering units, so a scaled limit says nothing.
UNSCALED_FIELDS = frozenset({"RAW", "PRIMARY", "VOLTS", "RAW_MIN", "RAW_MAX", "RAW_NOM", "RAW_TOL"})
_REAL_KINDS = "biuf"

Number = bool | int | float


def _bound(value: object, pattern: str) -> int | float:
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"limits[{pattern!r}] bounds must be numbers, got {value!r}")
    return value


def _check_limits(limits: object) -> dict[str, tuple[int | float, int | float]]:
    if not isinstance(limits, Mapping) or not limits:
        raise ValueError("limits must be a non-empty dict of glob pattern -> (min, max)")
    checked: dict[str, tuple[int | float, int | float]] = {}
    for pattern, bounds in limits.items():
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"limits keys must be non-empty strings, got {pattern!r}")
        if isinstance(bounds, str | bytes) or not isinstance(bounds, Sequence) or len(bounds) != 2:
            raise ValueError(f"limits[{pattern!r}] must be a (min, max) pair, got {bounds!r}")
        low, high = _bound(bounds[0], pattern), _bound(bounds[1], pattern)
        if low > high:
            raise ValueError(f"limits[{pattern!r}] has min {low} above max {high}")
        checked[pattern] = (low, high)
    return checked


def flatten_numbers(value: object) -> list[Number] | None:
    """The real numbers in ``value`` (scalar, nested list/tuple, numpy array), else None.

    None means "not purely numeric": strings, bytes, dicts, enums (including IntEnum),
    complex numbers, None, or a container mixing numbers with any of those.
    """
    numbers: list[Number] = []
    return numbers if _collect(value, numbers) else None


def _collect(value: object, out: list[Number]) -> bool:
    if isinstance(value, enum.Enum):
        return False
    if isinstance(value, np.generic):
        if value.dtype.kind not in _REAL_KINDS:
            return False
        out.append(value.item())
        return True
    if isinstance(value, bool | int | float):
        out.append(value)
        return True
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _REAL_KINDS:
            out.extend(value.ravel().tolist())
            return True
        if value.dtype.kind == "O":
            return all(_collect(item, out) for item in value.ravel())
        return False
    if isinstance(value, list | tuple):
        return all(_collect(item, out) for item in value)
    return False


def _within(number: Number, low: int | float, high: int | float) -> bool:
    if isinstance(number, float) and not math.isfinite(number):
        return False
    return low <= number <= high


class ValueRangePolicy(Policy):
    """Deny Set values outside ``(min, max)`` limits given per device glob.

    Every matching pattern applies (the bound is their intersection).  CONTROL writes are
    not range-checked.  Bytes and unscaled fields (RAW, PRIMARY/VOLTS, RAW_* alarm limits)
    cannot be compared with an engineering-unit limit, so they are denied unless the
    device matches an ``allow_raw`` glob.  Non-numeric values, NaN and infinities are
    denied.  ACNET names match case-insensitively, EPICS names case-sensitively.
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[float, float]],
        *,
        allow_raw: Sequence[str] | None = None,
    ) -> None:
        self.limits = _check_limits(limits)
        self.allow_raw = () if allow_raw is None else check_patterns(allow_raw, "allow_raw")
        self._limit_matcher = NameMatcher(tuple(self.limits))
        self._raw_matcher = NameMatcher(self.allow_raw) if self.allow_raw else None
        self._bounds = list(self.limits.values())

    def check(self, ctx: RequestContext) -> PolicyDecision:
        if ctx.rpc_method != "Set":
            return allow()
        for drf, value in ctx.values:
            reason = self._check_slot(drf, value)
            if reason is not None:
                return deny(reason)
        return allow()

    def _check_slot(self, drf: str, value: Any) -> str | None:
        try:
            ref = resolve(drf, for_write=True)
        except UnacceptableDRF as exc:
            return str(exc)
        matches = self._limit_matcher.all_matches(ref)
        if not matches or ref.property_name == "CONTROL":
            return None
        name = ref.name
        low = max(self._bounds[index][0] for index in matches)
        high = min(self._bounds[index][1] for index in matches)
        if low > high:
            return f"Contradictory value ranges for {name}: empty intersection [{low}, {high}]"
        field = ref.field_name
        is_bytes = isinstance(value, bytes | bytearray | memoryview)
        unscaled = field in UNSCALED_FIELDS
        if is_bytes or unscaled:
            if self._raw_matcher is not None and self._raw_matcher.matches(ref):
                return None
            if unscaled:
                shown = "PRIMARY" if field == "VOLTS" else field
                return (
                    f"{shown} field write to range-limited device {name}"
                    " is not comparable to its engineering-unit limit"
                )
            return f"Raw byte write to range-limited device {name} requires an allow_raw exemption"
        numbers = flatten_numbers(value)
        if numbers is None:
            return f"Non-numeric value {value!r} for range-limited device {name}"
        for number in numbers:
            if not _within(number, low, high):
                return f"Value {number} for {name} outside range [{low}, {high}]"
        return None

    def __repr__(self) -> str:
        return f"ValueRangePolicy({self.limits!r}, allow_raw={list(self.allow_raw)!r})"
