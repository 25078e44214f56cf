"""Slew limits: how far and how fast a device's setting may move between writes."""

from __future__ import annotations

import dataclasses
import enum
import math
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from pacsys.policies._drf import NameMatcher, UnacceptableDRF, resolve
from pacsys.policies.base import Policy, PolicyDecision, RequestContext, allow, deny

_MIN_INTERVAL = 1e-9  # seconds; keeps the rate finite for back-to-back writes


def _check_limit(value: object, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number or None, got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")


@dataclasses.dataclass(frozen=True)
class SlewLimit:
    """Limits for one device pattern: largest change per write, largest change per second."""

    max_step: float | None = None
    max_rate: float | None = None

    def __post_init__(self) -> None:
        if self.max_step is None and self.max_rate is None:
            raise ValueError("SlewLimit needs max_step, max_rate or both")
        _check_limit(self.max_step, "max_step")
        _check_limit(self.max_rate, "max_rate")


def finite_scalar(value: object) -> float | None:
    """``value`` as a float when it is a finite real scalar (numpy included), else None."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if isinstance(value, enum.Enum) or not isinstance(value, bool | int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class SlewRatePolicy(Policy):
    """Deny Set values that move a device too far (``max_step``) or too fast (``max_rate``).

    The first glob matching the device name (case-insensitively) selects the limit.  The
    first write to a device is always allowed.  History is kept per canonical device name
    and recorded only when every slot passes; a later backend failure still records it.
    Stricter than the 0.2.3 reference, to stay unbypassable: numpy scalars count as
    numbers; a value to a limited device that is not a finite real scalar (NaN, inf, an
    array, a string) is denied instead of skipped; several slots writing one device are
    also checked against each other.  CONTROL writes are not slew-limited.  Thread-safe.
    """

    def __init__(
        self,
        limits: Mapping[str, SlewLimit],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(limits, Mapping) or not limits:
            raise ValueError("limits must be a non-empty dict of glob pattern -> SlewLimit")
        for pattern, limit in limits.items():
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(f"limits keys must be non-empty strings, got {pattern!r}")
            if not isinstance(limit, SlewLimit):
                raise ValueError(f"limits[{pattern!r}] must be a SlewLimit, got {limit!r}")
        self.limits = dict(limits)
        self._ordered = list(self.limits.values())
        self._matcher = NameMatcher(tuple(self.limits), fold_case=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._history: dict[str, tuple[float, float]] = {}

    def check(self, ctx: RequestContext) -> PolicyDecision:
        if ctx.rpc_method != "Set":
            return allow()
        with self._lock:
            now = self._clock()
            pending: dict[str, tuple[float, float]] = {}
            for drf, value in ctx.values:
                try:
                    ref = resolve(drf, for_write=True)
                except UnacceptableDRF as exc:
                    return deny(str(exc))
                index = self._matcher.first_match(ref)
                if index is None or ref.property_name == "CONTROL":
                    continue
                name = ref.name
                number = finite_scalar(value)
                if number is None:
                    return deny(
                        f"Value {value!r} for slew-limited device {name} is not a finite number"
                    )
                limit = self._ordered[index]
                for previous in (self._history.get(name), pending.get(name)):
                    if previous is not None:
                        reason = _compare(name, limit, number, previous, now)
                        if reason is not None:
                            return deny(reason)
                pending[name] = (number, now)
            self._history.update(pending)
        return allow()

    def __repr__(self) -> str:
        return f"SlewRatePolicy({self.limits!r})"


def _compare(
    name: str, limit: SlewLimit, number: float, previous: tuple[float, float], now: float
) -> str | None:
    previous_value, previous_time = previous
    step = abs(number - previous_value)
    if limit.max_step is not None and step > limit.max_step:
        return f"Step {step:.4g} for {name} exceeds limit {limit.max_step}"
    rate = step / max(now - previous_time, _MIN_INTERVAL)
    if limit.max_rate is not None and rate > limit.max_rate:
        return f"Slew rate {rate:.1f}/s for {name} exceeds limit {limit.max_rate}/s"
    return None
