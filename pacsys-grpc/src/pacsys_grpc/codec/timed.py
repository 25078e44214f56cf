"""TIMED_SCALAR_ARRAY Readings <-> runs of samples (docs/protocols/grpc.md §5.4.4 and §7.4).

A timed array is ``{"data": float64[n] (or [n, m]), "micros": int64[n]}``; on the wire it is
one ``Reading`` sample per element, the status on the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pacsys.types import Reading, ValueType
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.codec.statuses import failure_reading, status_from_proto, status_to_proto
from pacsys_grpc.codec.timestamps import (
    Now,
    micros_to_proto,
    resolve_now,
    sample_micros,
    sample_time,
)
from pacsys_grpc.codec.values import EmptyValueError

__all__ = ["timed_array_from_samples", "timed_samples"]


def _has_data(sample: daq_pb2.Reading) -> bool:
    return sample.HasField("data") and sample.data.WhichOneof("value") is not None


def _sample_number(sample: daq_pb2.Reading, position: int, allow_arrays: bool) -> Any:
    kind = sample.data.WhichOneof("value") if sample.HasField("data") else None
    if kind is None:
        raise EmptyValueError()
    if kind == "scalar":
        return sample.data.scalar
    if kind == "scalarArr" and allow_arrays:
        return np.array(list(sample.data.scalarArr.value), dtype=np.float64)
    raise ValueError(f"Sample {position} holds {kind}, which cannot be converted to float")


def _stack_samples(values: list[Any]) -> np.ndarray:
    """Samples as float64 data: 1-D for scalars, one row per sample for arrays."""
    shapes = {np.shape(value) for value in values}
    if len(shapes) > 1:
        raise ValueError("Samples have different shapes and cannot form one timed array")
    return np.array(values, dtype=np.float64)


def timed_array_from_samples(
    drf: str,
    samples: Sequence[daq_pb2.Reading],
    *,
    now: Now,
    allow_arrays: bool = False,
) -> Reading:
    """Samples as one TIMED_SCALAR_ARRAY Reading ``{"data": float64[n], "micros": int64[n]}``.

    The first error sample (negative, or positive without data) makes the result that
    error; otherwise the first warning provides the status.  ``allow_arrays`` accepts
    equal-length ``scalarArr`` samples (logger chunks of array devices, data 2-D).  With
    no samples the result is an empty array.  ``now`` stands in for a missing time.
    """
    warning: tuple[int, int, str | None] | None = None
    for sample in samples:
        facility, code, message = status_from_proto(sample.status)
        if code < 0 or (code > 0 and not _has_data(sample)):
            return Reading(
                drf=drf,
                facility_code=facility,
                error_code=code,
                message=message,
                timestamp=sample_time(sample) or resolve_now(now),
            )
        if code > 0 and warning is None:
            warning = (facility, code, message)
    timestamp = (sample_time(samples[0]) if samples else None) or resolve_now(now)
    try:
        values = [_sample_number(s, k, allow_arrays) for k, s in enumerate(samples)]
        data = _stack_samples(values)
        micros = np.array([sample_micros(s, k) for k, s in enumerate(samples)], dtype=np.int64)
    except ValueError as exc:
        return failure_reading(drf, str(exc), timestamp)
    facility, code, message = warning or (0, 0, None)
    return Reading(
        drf=drf,
        value_type=ValueType.TIMED_SCALAR_ARRAY,
        value={"data": data, "micros": micros},
        facility_code=facility,
        error_code=code,
        message=message,
        timestamp=timestamp,
    )


def timed_samples(reading: Reading) -> list[daq_pb2.Reading]:
    """Server side: a timed array as samples, the Reading's status on the first.

    ValueError when the value is not a timed array or its lengths disagree.
    """
    value = reading.value
    if not isinstance(value, Mapping) or "data" not in value or "micros" not in value:
        raise ValueError("Timed scalar array must be a dict with 'data' and 'micros'")
    data, micros = np.asarray(value["data"]), np.asarray(value["micros"])
    if data.ndim not in (1, 2) or len(data) != len(micros):
        raise ValueError(f"Timed scalar array has data {data.shape} for {len(micros)} timestamps")
    samples = []
    for row, stamp in zip(data, micros, strict=True):
        sample = daq_pb2.Reading(timestamp=micros_to_proto(stamp))
        if data.ndim == 1:
            sample.data.scalar = float(row)
        else:
            sample.data.scalarArr.SetInParent()
            sample.data.scalarArr.value.extend(row.astype(np.float64).tolist())
        samples.append(sample)
    if samples:
        samples[0].status.CopyFrom(
            status_to_proto(reading.facility_code, reading.error_code, reading.message)
        )
    return samples
