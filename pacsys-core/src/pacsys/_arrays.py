"""Array-aware value helpers for Reading and WriteResult, without importing numpy.

Values of readings can be numpy arrays, but numpy is heavy to import and most scripts
read scalars. No value can be an ndarray (or a numpy scalar) before numpy is imported,
so these helpers look numpy up in ``sys.modules`` and skip every array check while it
is absent: ``import pacsys`` and scalar reads never load it.
"""

from __future__ import annotations

import base64
import math
import sys
from typing import Any

__all__ = [
    "decode_value",
    "encode_value",
    "freeze_value",
    "is_ndarray",
    "is_numpy_scalar",
    "loaded_numpy",
    "readback_type",
    "value_hash",
    "values_equal",
]

# Values of these exact types never hold arrays: the fast path of every helper.
_PLAIN: frozenset[type] = frozenset({float, int, str, bytes, bool, type(None)})


def loaded_numpy() -> Any | None:
    """The numpy module if something has imported it, else None (never imports it)."""
    return sys.modules.get("numpy")


def _is_array(value: Any, np: Any) -> bool:
    return np is not None and isinstance(value, np.ndarray)


def _holds_arrays(value: dict[Any, Any], np: Any) -> bool:
    return np is not None and any(isinstance(v, np.ndarray) for v in value.values())


def freeze_value(value: Any) -> Any:
    """Make ndarray values (also inside dicts) read-only, copying views."""
    if value.__class__ in _PLAIN:
        return value
    np = loaded_numpy()
    if _is_array(value, np):
        if value.flags.writeable:
            if value.base is None:
                value.flags.writeable = False
            else:
                value = value.copy()
                value.flags.writeable = False
        return value
    if isinstance(value, dict) and _holds_arrays(value, np):
        return {k: freeze_value(v) for k, v in value.items()}
    return value


def values_equal(a: Any, b: Any) -> bool:
    """Equality that understands arrays (same dtype, NaN == NaN) and nested dicts."""
    np = loaded_numpy()
    a_array, b_array = _is_array(a, np), _is_array(b, np)
    if np is not None and (a_array or b_array):
        if not (a_array and b_array):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(values_equal, a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


_ARRAY_HASH_MARKER = hash("pacsys.ndarray")


def value_hash(value: Any) -> int:
    """Hash of a value; arrays hash to one marker, lists and dicts are unhashable."""
    if _is_array(value, loaded_numpy()):
        return _ARRAY_HASH_MARKER
    if isinstance(value, list | dict):
        raise TypeError(f"unhashable value of type {type(value).__name__}")
    return hash(value)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars."""
    np = loaded_numpy()
    return value.item() if np is not None and isinstance(value, np.generic) else value


def encode_value(value: Any) -> tuple[Any, Any]:
    """Value -> (JSON-able value, dtype record or None)."""
    np = loaded_numpy()
    if _is_array(value, np):
        return value.tolist(), value.dtype.str
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value], "list"
    if isinstance(value, dict) and _holds_arrays(value, np):
        encoded = {k: encode_value(v) for k, v in value.items()}
        return {k: e[0] for k, e in encoded.items()}, {k: e[1] for k, e in encoded.items()}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii"), None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}, None
    return _plain(value), None


def decode_value(value: Any, dtype: Any, is_raw: bool) -> Any:
    """The inverse of :func:`encode_value` (imports numpy only for array records)."""
    if is_raw and isinstance(value, str):
        return base64.b64decode(value)
    if dtype == "list":
        return list(value)
    if isinstance(dtype, str):
        import numpy as np

        return np.asarray(value, dtype=np.dtype(dtype))
    if isinstance(dtype, dict):
        return {k: decode_value(v, dtype.get(k), False) for k, v in value.items()}
    return value


def readback_type(value: Any) -> str | None:
    """The value-type string recorded for a write's readback, when it is not a scalar."""
    np = loaded_numpy()
    if _is_array(value, np):
        return "scalarArr"
    if isinstance(value, dict) and _holds_arrays(value, np):
        return "timedScalarArr"
    if isinstance(value, bytes | bytearray):
        return "raw"
    return None


def is_ndarray(value: Any) -> bool:
    """``isinstance(value, numpy.ndarray)``, without importing numpy."""
    return _is_array(value, loaded_numpy())


def is_numpy_scalar(value: Any) -> bool:
    """``isinstance(value, numpy.generic)``, without importing numpy."""
    np = loaded_numpy()
    return np is not None and isinstance(value, np.generic)
