"""Client-side scaling: raw device data <-> engineering units, as ACNET converts them.

A device property converts in two stages, each chosen by a DevDB index::

    raw int --primary transform (p_index)--> primary units --common transform
    (c_index, constants C1..C6)--> engineering (common) units

:class:`Scaler` runs both stages in either direction, bit for bit as ACNET does (the
inverse truncates toward zero, and some inverses are numeric searches). Build one from the
device's DevDB record so nothing is copied by hand::

    >>> from pacsys.scaling import Scaler
    >>> info = pacsys.Device("M:OUTTMP").info()                  # doctest: +SKIP
    >>> scaler = Scaler.from_property_info(info.reading, input_len=2)  # doctest: +SKIP
    >>> Scaler(2, 6, (4.0, 1.0), 2).scale(819)
    0.999755859375

numpy arrays go in and come out (float64 for engineering values, int64 for raw); the
arithmetic transforms run vectorised and give the same bits as the scalar path. Every
failure is a :class:`~pacsys.errors.ScalingError` naming the transform and the input.
"""

from __future__ import annotations

import numbers
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from pacsys.errors import ScalingError
from pacsys.scaling import _vector
from pacsys.scaling._base import TransformFailure
from pacsys.scaling._common import forward as _common_forward
from pacsys.scaling._common import ready as common_ready
from pacsys.scaling._inverse import inverse as _common_inverse
from pacsys.scaling._primary import FORWARD, INVERSE

if TYPE_CHECKING:
    from pacsys.metadata import PropertyInfo

__all__ = ["Scaler", "ScalingError"]

# Built-in errors the transforms let escape (as ACNET's own implementation does); the
# Scaler reports them as ScalingError with the original chained.
_ARITHMETIC = (ArithmeticError, ValueError, IndexError, struct.error)

ArrayLike = np.ndarray | list[Any] | tuple[Any, ...]


def _constants(given: Any) -> tuple[float, ...]:
    """DevDB constants as floats; TypeError for anything but a sequence of numbers."""
    if isinstance(given, Iterable) and not isinstance(given, str | bytes):
        items = tuple(given)
        if all(isinstance(c, numbers.Real) and not isinstance(c, bool) for c in items):
            return tuple(float(c) for c in items)
    raise TypeError(f"constants must be a sequence of numbers, got {given!r}")


def _number(value: object, what: str) -> None:
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number or a numpy array, got {type(value).__name__}")


@dataclass(frozen=True)
class Scaler:
    """The scaling of one device property: DevDB ``p_index``, ``c_index``, ``constants``
    (C1..C6) and the raw width ``input_len`` in bytes (1, 2 or 4; DevDB does not know it).

    An unknown transform index is accepted here and fails on first use.
    """

    p_index: int
    c_index: int
    constants: tuple[float, ...]
    input_len: int

    def __post_init__(self) -> None:
        if isinstance(self.input_len, bool) or self.input_len not in (1, 2, 4):
            raise ValueError(f"input_len must be 1, 2, or 4, got {self.input_len}")
        for name in ("p_index", "c_index"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        object.__setattr__(self, "constants", _constants(self.constants))

    @classmethod
    def from_property_info(cls, prop: PropertyInfo, input_len: int) -> Scaler:
        """The Scaler of a DevDB property record (``Device.info().reading``, ``.setting``)."""
        if prop is None:
            raise ValueError("the device has no such property in DevDB (PropertyInfo is None)")
        return cls(prop.p_index, prop.c_index, prop.coeff, input_len)

    # --- the four stages ----------------------------------------------------------------

    @overload
    def raw_to_primary(self, raw: float) -> float: ...
    @overload
    def raw_to_primary(self, raw: ArrayLike) -> np.ndarray: ...
    def raw_to_primary(self, raw: Any) -> Any:
        """Raw integer(s) -> primary units (a float raw is truncated toward zero)."""
        return self._forward(raw, primary=True, common=False)

    @overload
    def primary_to_common(self, primary: float) -> float: ...
    @overload
    def primary_to_common(self, primary: ArrayLike) -> np.ndarray: ...
    def primary_to_common(self, primary: Any) -> Any:
        """Primary units -> engineering units."""
        return self._forward(primary, primary=False, common=True)

    @overload
    def common_to_primary(self, value: float) -> float: ...
    @overload
    def common_to_primary(self, value: ArrayLike) -> np.ndarray: ...
    def common_to_primary(self, value: Any) -> Any:
        """Engineering units -> primary units."""
        return self._inverse(value, common=True, primary=False)

    @overload
    def primary_to_raw(self, primary: float) -> int: ...
    @overload
    def primary_to_raw(self, primary: ArrayLike) -> np.ndarray: ...
    def primary_to_raw(self, primary: Any) -> Any:
        """Primary units -> raw integer (truncated toward zero, range-checked)."""
        return self._inverse(primary, common=False, primary=True)

    @overload
    def scale(self, raw: float) -> float: ...
    @overload
    def scale(self, raw: ArrayLike) -> np.ndarray: ...
    def scale(self, raw: Any) -> Any:
        """Raw integer(s) -> engineering units (float, or a float64 array)."""
        return self._forward(raw, primary=True, common=True)

    @overload
    def unscale(self, value: float) -> int: ...
    @overload
    def unscale(self, value: ArrayLike) -> np.ndarray: ...
    def unscale(self, value: Any) -> Any:
        """Engineering units -> raw integer(s) (int, or an int64 array)."""
        return self._inverse(value, common=True, primary=True)

    # --- scalar steps -------------------------------------------------------------------

    def _raw_to_primary(self, raw: int) -> float:
        p = self.p_index
        try:
            return _primary_transform(FORWARD, p)(raw, self.input_len)
        except (TransformFailure, *_ARITHMETIC) as exc:
            raise _failure(exc, "primary", f"primary transform {p}", raw) from _cause(exc)

    def _primary_to_common(self, x: float) -> float:
        c = self.c_index
        try:
            return _common_forward(c, x, self.constants)
        except (TransformFailure, *_ARITHMETIC) as exc:
            raise _failure(exc, "common", f"common transform {c}", x) from _cause(exc)

    def _common_to_primary(self, xx: float) -> float:
        c = self.c_index
        try:
            return _common_inverse(c, xx, self.constants, self.p_index)
        except (TransformFailure, *_ARITHMETIC) as exc:
            error = _failure(exc, "common_inverse", f"common transform {c} inverse", xx)
            raise error from _cause(exc)

    def _primary_to_raw(self, v: float) -> int:
        p = self.p_index
        try:
            return _primary_transform(INVERSE, p)(v, self.input_len)
        except (TransformFailure, *_ARITHMETIC) as exc:
            error = _failure(exc, "primary_inverse", f"primary transform {p} inverse", v)
            raise error from _cause(exc)

    def _forward_one(self, value: Any, primary: bool, common: bool) -> float:
        x = self._raw_to_primary(_raw_int(value)) if primary else float(value)
        return self._primary_to_common(x) if common else x

    def _inverse_one(self, value: Any, common: bool, primary: bool) -> Any:
        v = self._common_to_primary(float(value)) if common else float(value)
        return self._primary_to_raw(v) if primary else v

    # --- dispatch: scalars and arrays ------------------------------------------------------

    def _forward(self, value: Any, *, primary: bool, common: bool) -> Any:
        if not isinstance(value, np.ndarray | list | tuple):
            _number(value, "raw value" if primary else "primary value")
            return self._forward_one(value, primary, common)
        array = np.asarray(value)
        out: np.ndarray | None = None
        if primary:
            raw = _vector.raw_ints(array)
            if raw is not None:
                out = _accept(_vector.primary_forward(self.p_index, raw, self.input_len))
        elif array.dtype.kind in "iuf":
            out = array.astype(np.float64)  # a copy: the common kernels work in place
        if out is not None and common:
            out = _accept(_vector.common_forward(self.c_index, out, self.constants))
        if out is None:
            items = array.ravel().tolist()
            fast = (
                self._fast_forward(items, primary, common) if array.dtype.kind in "iubf" else None
            )
            one = lambda x: self._forward_one(x, primary, common)  # noqa: E731
            return _collect(array, items, fast, one, np.float64)
        return out

    def _inverse(self, value: Any, *, common: bool, primary: bool) -> Any:
        if not isinstance(value, np.ndarray | list | tuple):
            _number(value, "engineering value" if common else "primary value")
            return self._inverse_one(value, common, primary)
        array = np.asarray(value)
        out: np.ndarray | None = array.astype(np.float64) if array.dtype.kind in "iuf" else None
        if out is not None and common:
            out = _accept(_vector.common_inverse(self.c_index, out, self.constants))
        if out is not None and primary:
            out = _accept(_vector.primary_inverse(self.p_index, out, self.input_len))
        if out is None:
            items = array.ravel().tolist()
            fast = (
                self._fast_inverse(items, common, primary) if array.dtype.kind in "iubf" else None
            )
            one = lambda v: self._inverse_one(v, common, primary)  # noqa: E731
            return _collect(array, items, fast, one, np.int64 if primary else np.float64)
        return out

    # --- element by element, for the transforms numpy cannot do bit-exactly ---------------

    def _fast_forward(self, items: list[Any], primary: bool, common: bool) -> list[Any] | None:
        """The results of a clean run, or None when any element fails (or is unsupported)."""
        n, c, C = self.input_len, self.c_index, self.constants
        pf = FORWARD.get(self.p_index)
        if (primary and pf is None) or (common and not common_ready(c, C)):
            return None
        try:
            if primary and common:
                return [_common_forward(c, pf(int(r), n), C) for r in items]  # type: ignore[misc]
            if primary:
                return [pf(int(r), n) for r in items]  # type: ignore[misc]
            return [_common_forward(c, float(x), C) for x in items]
        except Exception:
            return None

    def _fast_inverse(self, items: list[Any], common: bool, primary: bool) -> list[Any] | None:
        n, c, p, C = self.input_len, self.c_index, self.p_index, self.constants
        pi = INVERSE.get(p)
        if primary and pi is None:
            return None
        try:
            if primary and common:
                return [pi(_common_inverse(c, float(v), C, p), n) for v in items]  # type: ignore[misc]
            if primary:
                return [pi(float(v), n) for v in items]  # type: ignore[misc]
            return [_common_inverse(c, float(v), C, p) for v in items]
        except Exception:
            return None


def _primary_transform(table: dict[int, Callable[..., Any]], p: int) -> Callable[..., Any]:
    transform = table.get(p)
    if transform is None:
        raise TransformFailure(f"Primary transform {p} not found")
    return transform


def _failure(exc: Exception, stage: str, transform: str, value: object) -> ScalingError:
    return ScalingError(str(exc), transform=transform, stage=stage, value=value)


def _cause(exc: Exception) -> Exception | None:
    """A built-in error stays chained to the ScalingError; ACNET's own refusals need not."""
    return None if isinstance(exc, TransformFailure) else exc


def _raw_int(value: Any) -> int:
    if isinstance(value, str | bytes):
        raise TypeError(f"raw value must be a number, got {type(value).__name__}")
    try:
        return int(value)
    except (ValueError, OverflowError) as exc:  # NaN, infinity
        raise ScalingError(
            f"raw value {value!r} is not a finite number", stage="primary", value=value
        ) from exc


def _accept(result: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    """A kernel's result when every element went through cleanly, else None."""
    if result is None:
        return None
    out, bad = result
    return None if bad.any() else out


def _collect(
    array: np.ndarray,
    items: list[Any],
    fast: list[Any] | None,
    one: Callable[[Any], Any],
    dtype: type[np.generic],
) -> np.ndarray:
    """The array of results: ``fast`` when it ran cleanly, else each item through ``one``,
    which raises the precise ScalingError of the first failing element."""
    results = fast if fast is not None else [one(item) for item in items]
    try:
        return np.array(results, dtype=dtype).reshape(array.shape)
    except OverflowError:
        big = next(item for item in results if not -(2**63) <= item < 2**63)
        raise ScalingError(f"raw value {big} does not fit in int64", value=big) from None
