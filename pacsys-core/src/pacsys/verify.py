"""Write verification: read a value back after a write and check that it took effect.

:class:`Verify` holds the policy (tolerance, delays, attempts).  It can be passed per call or
activated for a block with ``with Verify(...):``; the active policies form a context-local stack
(one per thread and per asyncio task).  :func:`verified_write` runs the write/readback loop and
is independent of any backend, so the Device API hands it plain callables.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import numbers
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any

from pacsys._arrays import is_ndarray, is_numpy_scalar, loaded_numpy
from pacsys.drf3 import parse_request
from pacsys.errors import DeviceError, ReadError
from pacsys.types import BasicControl, WriteResult

if TYPE_CHECKING:
    from pacsys.types import Value  # built with numpy on first use: annotations only

__all__ = [
    "CONTROL_STATUS_FIELDS",
    "CONTROL_VERIFY_FIELDS",
    "Verify",
    "get_active_verify",
    "normalize_control_readback",
    "resolve_verify",
    "values_match",
    "verified_write",
]

# Active Verify contexts, innermost last.  A tuple so each context sees an immutable snapshot.
_ACTIVE: contextvars.ContextVar[tuple[Verify, ...]] = contextvars.ContextVar(
    "pacsys_verify_stack", default=()
)

_REAL_FIELDS = ("tolerance", "initial_delay", "retry_delay")
_BOOL_FIELDS = ("check_first", "always")


@dataclasses.dataclass(frozen=True)
class Verify:
    """How to confirm a write: readback tolerance, delays, attempts and an optional readback DRF.

    Usable as a context manager: ``with Verify(...):`` makes it the active policy for the
    current thread / asyncio task until the block exits (nested blocks stack).
    """

    check_first: bool = False
    tolerance: float = 0.0
    initial_delay: float = 0.3
    retry_delay: float = 0.5
    max_attempts: int = 3
    readback: str | None = None
    always: bool = False

    def __post_init__(self) -> None:
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool")
        for name in _REAL_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a real number")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and non-negative")
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, numbers.Integral):
            raise TypeError("max_attempts must be an integer")
        if attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.readback is not None:
            if not isinstance(self.readback, str):
                raise TypeError("readback must be a DRF string or None")
            parse_request(self.readback)

    def __enter__(self) -> Verify:
        _ACTIVE.set((*_ACTIVE.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = _ACTIVE.get()
        # Remove the innermost occurrence of self (normally the top of the stack).
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] is self:
                _ACTIVE.set(stack[:index] + stack[index + 1 :])
                return


def get_active_verify() -> Verify | None:
    """The innermost active ``with Verify(...)`` policy of this thread/task, or None."""
    stack = _ACTIVE.get()
    return stack[-1] if stack else None


def resolve_verify(verify: object) -> Verify | None:
    """Turn a ``verify=`` argument into the policy to apply, or None for an unverified write."""
    if verify is False:
        return None
    if verify is True:
        return get_active_verify() or Verify()
    if isinstance(verify, Verify):
        return verify
    if verify is None:
        active = get_active_verify()
        return active if active is not None and active.always else None
    raise TypeError(f"verify must be a bool, Verify, or None, got {type(verify).__name__}")


# --- value comparison -----------------------------------------------------------------------


def values_match(a: object, b: object, tolerance: float = 0.0) -> bool:
    """True when readback ``a`` matches expected ``b`` within an absolute ``tolerance``.

    Bools only match bools, integers compare exactly, NaN never matches, and arrays,
    lists and tuples compare element-wise.
    """
    if is_ndarray(a) or is_ndarray(b):
        return _arrays_match(a, b, tolerance)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))):
            return False
        return len(a) == len(b) and all(
            values_match(x, y, tolerance) for x, y in zip(a, b, strict=True)
        )
    a, b = _python_scalar(a), _python_scalar(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    try:
        if isinstance(a, int) and isinstance(b, int):
            return abs(a - b) <= tolerance
        if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
            return float(abs(a - b)) <= tolerance
        equal = a == b
    except Exception:  # any comparison failure means "no match"
        return False
    return equal if isinstance(equal, bool) else False


def _python_scalar(value: object) -> object:
    return value.item() if is_numpy_scalar(value) else value  # type: ignore[attr-defined]


def _arrays_match(a: object, b: object, tolerance: float) -> bool:
    import numpy as np  # one of them is an array, so numpy is loaded already

    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return False
        if x.dtype.kind == "b" or y.dtype.kind == "b":
            return x.dtype.kind == "b" and y.dtype.kind == "b" and bool(np.array_equal(x, y))
        numeric = "iufc"
        if x.dtype.kind not in numeric or y.dtype.kind not in numeric:
            return all(_exactly_equal(p, q) for p, q in zip(x.flat, y.flat, strict=True))
        if x.dtype.kind in "iu" and y.dtype.kind in "iu":
            # Python ints: no overflow or float rounding for int64/uint64 extremes.
            return all(
                abs(int(p) - int(q)) <= tolerance for p, q in zip(x.flat, y.flat, strict=True)
            )
        return bool(np.allclose(x, y, rtol=0.0, atol=tolerance, equal_nan=False))
    except Exception:  # unconvertible or incomparable arrays never match
        return False


def _exactly_equal(a: object, b: object) -> bool:
    equal = a == b
    np = loaded_numpy()
    if np is not None and isinstance(equal, np.bool_):
        return bool(equal)
    return equal if isinstance(equal, bool) else False


# --- control commands -----------------------------------------------------------------------

# Control command -> (STATUS field read back, expected flag once the command took effect).
CONTROL_VERIFY_FIELDS: Mapping[BasicControl, tuple[str, bool]] = MappingProxyType(
    {
        BasicControl.ON: ("ON", True),
        BasicControl.OFF: ("ON", False),
        BasicControl.RESET: ("READY", True),
        BasicControl.TRIP: ("READY", False),
        BasicControl.POSITIVE: ("POSITIVE", True),
        BasicControl.NEGATIVE: ("POSITIVE", False),
        BasicControl.RAMP: ("RAMP", True),
        BasicControl.DC: ("RAMP", False),
        BasicControl.REMOTE: ("REMOTE", True),
        BasicControl.LOCAL: ("REMOTE", False),
    }
)
# Name used by the Device API.
CONTROL_STATUS_FIELDS = CONTROL_VERIFY_FIELDS


def normalize_control_readback(value: Any, field: str) -> Any:
    """Reduce a STATUS readback to the flag for ``field`` (e.g. ``"on"``): 0/1 become bools.

    A dict readback (full basic status) yields its ``field`` entry; other values such as 2.0
    are returned unchanged so they fail the comparison instead of being coerced.
    """
    key = field.lower()
    if isinstance(value, dict) and key in value:
        value = value[key]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):  # numpy bools are not Real
        if value == 0:
            return False
        if value == 1:
            return True
    return value


# --- the write/readback loop ------------------------------------------------------------------


def verified_write(
    *,
    write: Callable[[], WriteResult],
    read_back: Callable[[], Value],
    expected: Value,
    write_drf: str,
    verify: Verify | None,
    normalize: Callable[[Value], Value] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WriteResult:
    """Write, then read back until the value matches ``expected`` or attempts run out.

    With ``verify.check_first`` a matching current value skips the write.  Readback
    ``DeviceError``/``ReadError`` count as failed attempts; other exceptions propagate.
    """

    def read() -> Value:
        value = read_back()
        return normalize(value) if normalize is not None else value

    if verify is not None and verify.check_first:
        current = read()
        if values_match(current, expected, verify.tolerance):
            return WriteResult(drf=write_drf, verified=True, readback=current, skipped=True)

    result = write()
    if verify is None or not result.success:
        return result

    sleep(verify.initial_delay)
    last_value: Value | None = None
    last_error: Exception | None = None
    for attempt in range(1, verify.max_attempts + 1):
        try:
            value = read()
        except (DeviceError, ReadError) as exc:
            last_error = exc
        else:
            last_error = None
            last_value = value
            if values_match(value, expected, verify.tolerance):
                return _with_verification(result, True, value, attempt, result.message)
        if attempt < verify.max_attempts:
            sleep(verify.retry_delay)

    message = f"Readback failed: {last_error}" if last_error is not None else result.message
    return _with_verification(result, False, last_value, verify.max_attempts, message)


def _with_verification(
    result: WriteResult,
    verified: bool,
    readback: Value | None,
    attempts: int,
    message: str | None,
) -> WriteResult:
    return WriteResult(
        drf=result.drf,
        facility_code=result.facility_code,
        error_code=result.error_code,
        message=message,
        verified=verified,
        readback=readback,
        attempts=attempts,
    )
