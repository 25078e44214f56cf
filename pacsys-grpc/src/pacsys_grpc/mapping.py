"""Pure conversions between the DAQ protobuf messages and pacsys values.

Client side: ``common.device.Value``/``services.daq.Reading``/``ReadingReply`` to pacsys
``Reading`` and Python values to ``Setting``.  Server side: pacsys ``Reading`` to
``ReadingReply`` messages and ``WriteResult`` to ``Status``.  Plus the gRPC status-code
rules both sides share.  Rules follow docs/protocols/grpc.md §5 and §7.2-§7.4;
there is no channel or server code here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import grpc
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from pacsys.acnet.status import DIO_NOPRIV, DPM_PRIV, parse_error
from pacsys.backends import summarize_drfs, timestamp_from_seconds
from pacsys.types import Reading, ValueType, WriteResult
from pacsys_grpc._proto.common import device_pb2, status_pb2
from pacsys_grpc._proto.services import daq_pb2

__all__ = [
    "EMPTY_VALUE_MESSAGE",
    "ERR_RETRY",
    "ERR_TIMEOUT",
    "FACILITY_ACNET",
    "LOGGER_CHUNK_SIZE",
    "NO_RESPONSE_MESSAGE",
    "NO_STATUS_MESSAGE",
    "RETRYABLE_STREAM_CODES",
    "EmptyValueError",
    "bearer_metadata",
    "exception_to_rpc_status",
    "failure_reading",
    "failure_write_result",
    "is_retryable_stream_status",
    "missing_reply_reading",
    "normalize_status_code",
    "reading_from_oneshot_reply",
    "reading_from_proto",
    "reading_from_status",
    "reading_to_replies",
    "readings_from_reply",
    "rpc_error_code",
    "rpc_error_message",
    "rpc_error_status",
    "rpc_failure_reading",
    "rpc_failure_write_result",
    "sample_time",
    "setting_to_proto",
    "status_from_proto",
    "status_to_proto",
    "stream_error_message",
    "timed_array_from_samples",
    "timestamp_to_proto",
    "value_from_proto",
    "value_to_proto",
    "write_result_to_status",
    "write_results_from_reply",
]

FACILITY_ACNET = 1
ERR_RETRY = -1
"""Error number of a transport failure (facility 1): retry may help."""
ERR_TIMEOUT = -6
"""Error number of a timeout (facility 1)."""

EMPTY_VALUE_MESSAGE = "Proto Value has no value set (empty oneof)"
NO_RESPONSE_MESSAGE = "No response received"
NO_STATUS_MESSAGE = "No status received from server"
_STATUS_REPLY_FALLBACK = "gRPC error"
_NO_DATA_MESSAGE = "No data"

LOGGER_CHUNK_SIZE = 487
"""Most samples the server packs into one complete-history ``readings`` reply."""

RETRYABLE_STREAM_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED})
"""Stream failures after which a subscription reconnects instead of ending."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UTC = timezone.utc
_SCALAR = ValueType.SCALAR
_from_timestamp = datetime.fromtimestamp

# (dict key, proto field) pairs of the alarm blocks, in the order the dicts are built.
_ANALOG_ALARM_FIELDS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("alarm_enable", "alarmEnable"),
    ("alarm_status", "alarmStatus"),
    ("abort", "abort"),
    ("abort_inhibit", "abortInhibit"),
    ("tries_needed", "triesNeeded"),
    ("tries_now", "triesNow"),
)
_DIGITAL_ALARM_FIELDS = (
    ("nominal", "nominal"),
    ("mask", "mask"),
    *_ANALOG_ALARM_FIELDS[2:],
)
_BASIC_STATUS_BOOL_KEYS = frozenset({"on", "ready", "remote", "positive", "ramp"})
_BOOL_TEXT = {"True": True, "False": False}
_NUMERIC_KINDS = frozenset("biuf")


class EmptyValueError(ValueError):
    """A ``common.device.Value`` with no oneof member set (a protocol error)."""

    def __init__(self) -> None:
        super().__init__(EMPTY_VALUE_MESSAGE)


def _utc_now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


# --- statuses ---------------------------------------------------------------------------


def normalize_status_code(code: int) -> int:
    """Read an error number sent as an unsigned byte as signed (243 -> -13)."""
    return code - 256 if code > 127 else code


def status_from_proto(status: status_pb2.Status) -> tuple[int, int, str | None]:
    """(facility, signed error number, message) of a Status; an absent one reads 0/0/None.

    An empty wire message stays None (docs/protocols/grpc.md §5.4.1): the server's text is
    passed through unchanged and never replaced by a locally generated description.
    """
    code = normalize_status_code(status.status_code)
    return status.facility_code, code, status.message or None


def status_to_proto(facility: int, code: int, message: str | None = None) -> status_pb2.Status:
    """A Status message; an empty or None message is left unset."""
    return status_pb2.Status(facility_code=facility, status_code=code, message=message or "")


def write_result_to_status(result: WriteResult) -> status_pb2.Status:
    """Server side: one WriteResult as the Status of its SettingReply slot."""
    return status_to_proto(result.facility_code, result.error_code, result.message)


# --- timestamps -------------------------------------------------------------------------


def sample_time(sample: daq_pb2.Reading) -> datetime | None:
    """UTC time of a sample, or None when the timestamp is absent or 0/0.

    Built from the float ``seconds + nanos / 1e9`` as the reference client does, so the
    result has microsecond resolution.
    """
    if not sample.HasField("timestamp"):
        return None
    stamp = sample.timestamp
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return timestamp_from_seconds(stamp.seconds + stamp.nanos / 1e9)


_INT64 = range(-(2**63), 2**63)


def _sample_micros(sample: daq_pb2.Reading, position: int) -> int:
    stamp = sample.timestamp
    micros = stamp.seconds * 1_000_000 + stamp.nanos // 1000
    if micros not in _INT64:
        raise ValueError(f"Sample {position} has a timestamp out of range ({stamp.seconds} s)")
    return micros


def _epoch_parts(when: datetime) -> tuple[int, int]:
    """(seconds, nanos) since the epoch, exact to the microsecond; naive means UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    delta = when - _EPOCH
    return delta.days * 86_400 + delta.seconds, delta.microseconds * 1000


def timestamp_to_proto(when: datetime) -> Timestamp:
    """A datetime as a Timestamp; a naive datetime is taken as UTC."""
    seconds, nanos = _epoch_parts(when)
    return Timestamp(seconds=seconds, nanos=nanos)


def _micros_to_proto(micros: int) -> Timestamp:
    seconds, rest = divmod(int(micros), 1_000_000)
    return Timestamp(seconds=seconds, nanos=rest * 1000)


# --- Value -> Python --------------------------------------------------------------------


def _basic_status_value(entries: Mapping[str, str]) -> dict[str, Any]:
    """Bools when the map is DPM's bool-as-text form, else the plain text map."""
    if (
        entries
        and set(entries) <= _BASIC_STATUS_BOOL_KEYS
        and all(text in _BOOL_TEXT for text in entries.values())
    ):
        return {key: _BOOL_TEXT[text] for key, text in entries.items()}
    return dict(entries)


def value_from_proto(value: device_pb2.Value) -> tuple[Any, ValueType]:
    """The Python value and its ValueType; EmptyValueError when no member is set.

    scalar -> float, scalarArr -> float64 ndarray, raw -> bytes, text -> str,
    textArr -> list[str], alarms -> snake_case dicts, basicStatus -> dict.
    """
    kind = value.WhichOneof("value")
    if kind is None:
        raise EmptyValueError()
    if kind == "scalar":
        return float(value.scalar), ValueType.SCALAR
    if kind == "scalarArr":
        return np.array(list(value.scalarArr.value), dtype=np.float64), ValueType.SCALAR_ARRAY
    if kind == "raw":
        return bytes(value.raw), ValueType.RAW
    if kind == "text":
        return value.text, ValueType.TEXT
    if kind == "textArr":
        return list(value.textArr.value), ValueType.TEXT_ARRAY
    if kind == "anaAlarm":
        block = value.anaAlarm
        return {key: getattr(block, field) for key, field in _ANALOG_ALARM_FIELDS}, (
            ValueType.ANALOG_ALARM
        )
    if kind == "digAlarm":
        block = value.digAlarm
        return {key: getattr(block, field) for key, field in _DIGITAL_ALARM_FIELDS}, (
            ValueType.DIGITAL_ALARM
        )
    return _basic_status_value(value.basicStatus.value), ValueType.BASIC_STATUS


# --- replies -> Reading -----------------------------------------------------------------


def failure_reading(drf: str, message: str, timestamp: datetime | None = None) -> Reading:
    """A Reading without value for a local or transport failure (facility 1, error -1)."""
    return Reading(
        drf=drf,
        facility_code=FACILITY_ACNET,
        error_code=ERR_RETRY,
        message=message,
        timestamp=timestamp,
    )


def failure_write_result(drf: str, message: str) -> WriteResult:
    """The WriteResult of a setting that failed locally or got no status (facility 1, -1)."""
    return WriteResult(drf, facility_code=FACILITY_ACNET, error_code=ERR_RETRY, message=message)


def _has_data(sample: daq_pb2.Reading) -> bool:
    return sample.HasField("data") and sample.data.WhichOneof("value") is not None


def reading_from_proto(
    drf: str, sample: daq_pb2.Reading, *, now: datetime | None = None
) -> Reading:
    """One sample as a Reading (docs/protocols/grpc.md §5.4.3); ``now`` replaces a missing time.

    A negative status is an error (data ignored), a positive one a warning that keeps the
    value; no data with status 0 is reported as facility 1, error -1.  This runs once per
    streamed sample, so it reads each field once (an unset sub-message reads as zeros).
    """
    stamp = sample.timestamp
    seconds, nanos = stamp.seconds, stamp.nanos
    if seconds or nanos:
        try:
            timestamp: datetime | None = _from_timestamp(seconds + nanos / 1e9, tz=_UTC)
        except (OverflowError, OSError, ValueError):  # a peer's time no datetime can hold
            timestamp = None
    else:
        timestamp = _utc_now(now)
    status = sample.status
    code = status.status_code
    if code > 127:
        code -= 256
    data = sample.data
    kind = data.WhichOneof("value")
    if code < 0 or (code > 0 and kind is None):
        return Reading(
            drf=drf,
            facility_code=status.facility_code,
            error_code=code,
            message=status.message or None,
            timestamp=timestamp,
        )
    if kind is None:
        return failure_reading(drf, EMPTY_VALUE_MESSAGE, timestamp)
    if kind == "scalar":
        value, value_type = data.scalar, _SCALAR
    else:
        value, value_type = value_from_proto(data)
    return Reading(
        drf=drf,
        value_type=value_type,
        value=value,
        facility_code=status.facility_code,
        error_code=code,
        message=status.message or None,
        timestamp=timestamp,
    )


def reading_from_status(
    drf: str, status: status_pb2.Status, *, now: datetime | None = None
) -> Reading:
    """A status-only reply as an error Reading, even for code 0 (docs/protocols/grpc.md §5.4.2)."""
    code = normalize_status_code(status.status_code)
    message = status.message or _STATUS_REPLY_FALLBACK
    timestamp = _utc_now(now)
    if code == 0:
        return failure_reading(drf, message, timestamp)
    return Reading(
        drf=drf,
        facility_code=status.facility_code,
        error_code=code,
        message=message,
        timestamp=timestamp,
    )


def readings_from_reply(
    drf: str, reply: daq_pb2.ReadingReply, *, now: datetime | None = None
) -> list[Reading]:
    """Stream path: one Reading per sample, or one error Reading for a status reply.

    A reply with neither member, or with zero samples, gives an empty list.
    """
    kind = reply.WhichOneof("value")
    if kind == "status":
        return [reading_from_status(drf, reply.status, now=now)]
    if kind == "readings":
        return [reading_from_proto(drf, sample, now=now) for sample in reply.readings.reading]
    return []


def reading_from_oneshot_reply(
    drf: str, reply: daq_pb2.ReadingReply, *, now: datetime | None = None
) -> Reading | None:
    """One-shot path: the slot's result, or None when the reply gives no result.

    Several samples in one reply become one TIMED_SCALAR_ARRAY (docs/protocols/grpc.md §5.4.4).
    """
    kind = reply.WhichOneof("value")
    if kind == "status":
        return reading_from_status(drf, reply.status, now=now)
    if kind != "readings" or not reply.readings.reading:
        return None
    samples = reply.readings.reading
    if len(samples) == 1:
        return reading_from_proto(drf, samples[0], now=now)
    return timed_array_from_samples(drf, samples, now=now)


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
    now: datetime | None = None,
    allow_arrays: bool = False,
) -> Reading:
    """Samples as one TIMED_SCALAR_ARRAY Reading ``{"data": float64[n], "micros": int64[n]}``.

    The first error sample (negative, or positive without data) makes the result that
    error; otherwise the first warning provides the status.  ``allow_arrays`` accepts
    equal-length ``scalarArr`` samples (logger chunks of array devices, data 2-D).  With
    no samples the result is an empty array.
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
                timestamp=sample_time(sample) or _utc_now(now),
            )
        if code > 0 and warning is None:
            warning = (facility, code, message)
    timestamp = (sample_time(samples[0]) if samples else None) or _utc_now(now)
    try:
        values = [_sample_number(s, k, allow_arrays) for k, s in enumerate(samples)]
        data = _stack_samples(values)
        micros = np.array([_sample_micros(s, k) for k, s in enumerate(samples)], dtype=np.int64)
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


def missing_reply_reading(drf: str, *, now: datetime | None = None) -> Reading:
    """The result of a slot the server never answered before ending the stream."""
    return failure_reading(drf, NO_RESPONSE_MESSAGE, _utc_now(now))


# --- Python -> Value --------------------------------------------------------------------


def _is_number(item: Any) -> bool:
    return isinstance(item, int | float | np.integer | np.floating | np.bool_)


def _alarm_to_proto(block: Any, fields: tuple[tuple[str, str], ...], value: Mapping) -> None:
    known = {key: field for key, field in fields}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"Unknown alarm keys: {', '.join(map(str, unknown))}")
    for key, item in value.items():
        setattr(block, known[key], item)


def _dict_to_proto(out: device_pb2.Value, value: Mapping, value_type: ValueType | None) -> None:
    if value_type is ValueType.BASIC_STATUS:
        out.basicStatus.SetInParent()
        for key, item in value.items():
            out.basicStatus.value[str(key)] = str(item)
        return
    digital = value_type is ValueType.DIGITAL_ALARM or (
        value_type is None and bool({"nominal", "mask"} & set(value))
    )
    analog = value_type is ValueType.ANALOG_ALARM or (
        value_type is None and bool({"minimum", "maximum"} & set(value))
    )
    if digital and not analog:
        out.digAlarm.SetInParent()
        _alarm_to_proto(out.digAlarm, _DIGITAL_ALARM_FIELDS, value)
    elif analog and not digital:
        out.anaAlarm.SetInParent()
        _alarm_to_proto(out.anaAlarm, _ANALOG_ALARM_FIELDS, value)
    else:
        raise ValueError("Dict value is neither an analog nor a digital alarm block")


def _sequence_to_proto(out: device_pb2.Value, items: Sequence, text_hint: bool) -> None:
    if not items and text_hint:
        out.textArr.SetInParent()
    elif all(_is_number(item) for item in items):
        out.scalarArr.SetInParent()
        out.scalarArr.value.extend(float(item) for item in items)
    elif all(isinstance(item, str) for item in items):
        out.textArr.value.extend(items)
    else:
        raise ValueError("List values must be all numbers or all strings")


def value_to_proto(
    value: Any, *, value_type: ValueType | None = None, allow_dicts: bool = False
) -> device_pb2.Value:
    """A Python value as a Value message (docs/protocols/grpc.md §5.6 and §7.4).

    Numbers (bool, int, IntEnum, numpy scalars) become ``scalar``; str ``text``; bytes
    ``raw``; numeric sequences and 1-D numeric arrays ``scalarArr`` (an empty list too);
    string sequences ``textArr``.  Dicts are refused with NotImplementedError unless
    ``allow_dicts`` (server side): then BASIC_STATUS dicts become ``basicStatus`` and alarm
    dicts ``anaAlarm``/``digAlarm``.  ``value_type`` only disambiguates dicts and empty
    lists.  Other types raise TypeError; bad shapes and mixed lists ValueError.
    """
    out = device_pb2.Value()
    _fill_value(out, value, value_type, allow_dicts)
    return out


def _fill_value(
    out: device_pb2.Value, value: Any, value_type: ValueType | None, allow_dicts: bool
) -> None:
    """Set ``out`` (an empty Value, possibly a sub-message) to ``value``; see value_to_proto."""
    if type(value) is float:  # the common case first
        out.scalar = value
    elif isinstance(value, bytes | bytearray):
        out.raw = bytes(value)
    elif isinstance(value, str):
        out.text = value
    elif _is_number(value):
        out.scalar = float(value)
    elif isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(
                f"Only 1-D numeric arrays can be sent, got {value.ndim}-D {value.dtype}"
            )
        out.scalarArr.SetInParent()
        out.scalarArr.value.extend(value.astype(np.float64).tolist())
    elif isinstance(value, list | tuple):
        _sequence_to_proto(out, value, value_type is ValueType.TEXT_ARRAY)
    elif isinstance(value, Mapping):
        if not allow_dicts:
            raise NotImplementedError("Dict values (alarm or status blocks) cannot be written")
        _dict_to_proto(out, value, value_type)
    else:
        raise TypeError(f"Unsupported value type {type(value).__name__}")
    out.SetInParent()


def setting_to_proto(drf: str, value: Any) -> daq_pb2.Setting:
    """Client side: one (write-prepared DRF, value) pair as a Setting."""
    return daq_pb2.Setting(device=drf, value=value_to_proto(value))


def write_results_from_reply(drfs: Sequence[str], reply: daq_pb2.SettingReply) -> list[WriteResult]:
    """Client side: one WriteResult per sent DRF, status k for setting k.

    Extra statuses are ignored; missing ones become facility 1, error -1.
    """
    results = []
    for position, drf in enumerate(drfs):
        if position < len(reply.status):
            facility, code, message = status_from_proto(reply.status[position])
            results.append(
                WriteResult(drf, facility_code=facility, error_code=code, message=message)
            )
        else:
            results.append(failure_write_result(drf, NO_STATUS_MESSAGE))
    return results


# --- Reading -> ReadingReply (server side) ----------------------------------------------


def _status_reply(
    index: int, facility: int, code: int, message: str | None
) -> daq_pb2.ReadingReply:
    return daq_pb2.ReadingReply(index=index, status=status_to_proto(facility, code, message))


def _timed_samples(reading: Reading) -> list[daq_pb2.Reading]:
    value = reading.value
    if not isinstance(value, Mapping) or "data" not in value or "micros" not in value:
        raise ValueError("Timed scalar array must be a dict with 'data' and 'micros'")
    data, micros = np.asarray(value["data"]), np.asarray(value["micros"])
    if data.ndim not in (1, 2) or len(data) != len(micros):
        raise ValueError(f"Timed scalar array has data {data.shape} for {len(micros)} timestamps")
    samples = []
    for row, stamp in zip(data, micros, strict=True):
        sample = daq_pb2.Reading(timestamp=_micros_to_proto(stamp))
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


def _fill_sample(sample: daq_pb2.Reading, reading: Reading) -> None:
    """One non-timed Reading into an empty sample: data, always a status, timestamp if any."""
    _fill_value(sample.data, reading.value, reading.value_type, True)
    status = sample.status
    status.SetInParent()
    status.facility_code = reading.facility_code
    status.status_code = reading.error_code
    if reading.message:
        status.message = reading.message
    if reading.timestamp is not None:
        stamp = sample.timestamp
        stamp.SetInParent()
        stamp.seconds, stamp.nanos = _epoch_parts(reading.timestamp)


def _chunks(samples: list[daq_pb2.Reading], size: int) -> Iterable[list[daq_pb2.Reading]]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def _readings_reply(index: int, samples: Iterable[daq_pb2.Reading]) -> daq_pb2.ReadingReply:
    reply = daq_pb2.ReadingReply(index=index)
    reply.readings.SetInParent()
    reply.readings.reading.extend(samples)
    return reply


def reading_to_replies(
    index: int, reading: Reading, *, complete_history: bool = False
) -> list[daq_pb2.ReadingReply]:
    """Server side: the ReadingReply messages carrying one Reading (docs/protocols/grpc.md §7.4).

    An unusable Reading becomes a status reply (error 0 is sent as 1/-1 "No data"); a
    timed array becomes one sample per element with the status on the first; anything
    else one sample whose status is always present.  ``complete_history`` (LOGGER slots
    of a one-shot request) splits the samples into chunks and appends an empty
    ``readings`` reply as terminator.  A value that cannot be encoded becomes a status
    reply 1/-1 "Cannot encode reading: ...".
    """
    if not reading.ok:
        if reading.error_code != 0:
            return [
                _status_reply(index, reading.facility_code, reading.error_code, reading.message)
            ]
        return [
            _status_reply(index, FACILITY_ACNET, ERR_RETRY, reading.message or _NO_DATA_MESSAGE)
        ]
    try:
        if reading.value_type is ValueType.TIMED_SCALAR_ARRAY:
            samples = _timed_samples(reading)
        elif complete_history:
            samples = [daq_pb2.Reading()]
            _fill_sample(samples[0], reading)
        else:  # the commonest reply: filled in place, no sample copied
            reply = daq_pb2.ReadingReply(index=index)
            _fill_sample(reply.readings.reading.add(), reading)
            return [reply]
    except (TypeError, ValueError, NotImplementedError, OverflowError) as exc:
        return [_status_reply(index, FACILITY_ACNET, ERR_RETRY, f"Cannot encode reading: {exc}")]
    if not complete_history:
        return [_readings_reply(index, samples)]
    is_2d = bool(samples) and samples[0].data.WhichOneof("value") == "scalarArr"
    size = 1 if is_2d else LOGGER_CHUNK_SIZE
    replies = [_readings_reply(index, chunk) for chunk in _chunks(samples, size)]
    replies.append(_readings_reply(index, []))
    return replies


# --- gRPC statuses and metadata ---------------------------------------------------------


def is_retryable_stream_status(code: grpc.StatusCode) -> bool:
    """True when a failed stream should be re-opened after a backoff."""
    return code in RETRYABLE_STREAM_CODES


def rpc_error_code(code: grpc.StatusCode | None) -> int:
    """ACNET error number for a failed RPC: -6 (timeout) for DEADLINE_EXCEEDED, else -1."""
    return ERR_TIMEOUT if code is grpc.StatusCode.DEADLINE_EXCEEDED else ERR_RETRY


#: gRPC statuses that refuse the caller (the supervised server's policy denials): they become
#: ACNET privilege errors, not ACNET_RETRY, since retrying cannot help.
REFUSAL_CODES = frozenset({grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED})
REFUSED_WRITE = parse_error(DPM_PRIV)
"""(facility, error) of a refused setting: DPM_PRIV, as DPM itself reports it."""
REFUSED_READ = parse_error(DIO_NOPRIV)
"""(facility, error) of a refused read or stream: DIO_NOPRIV, "no privilege for action"."""


def rpc_error_status(code: grpc.StatusCode | None, *, write: bool = False) -> tuple[int, int]:
    """(facility, error) of a failed RPC: a refusal is a privilege error, else facility 1."""
    if code in REFUSAL_CODES:
        return REFUSED_WRITE if write else REFUSED_READ
    return FACILITY_ACNET, rpc_error_code(code)


def rpc_error_message(target: str, code: grpc.StatusCode, details: str | None) -> str:
    """``gRPC error (<host>:<port>): <STATUS>: <details>``."""
    return f"gRPC error ({target}): {code.name}: {details or ''}"


def stream_error_message(
    target: str, code: grpc.StatusCode, details: str | None, drfs: Iterable[str]
) -> str:
    """``gRPC stream error (<host>:<port>): <STATUS>: <details> (devices: <list>)``."""
    devices = summarize_drfs(drfs)
    return f"gRPC stream error ({target}): {code.name}: {details or ''} (devices: {devices})"


def rpc_failure_reading(
    drf: str,
    target: str,
    code: grpc.StatusCode,
    details: str | None,
    *,
    now: datetime | None = None,
) -> Reading:
    """The error Reading of a slot left unanswered by a failed Read RPC."""
    facility, error = rpc_error_status(code)
    return Reading(
        drf=drf,
        facility_code=facility,
        error_code=error,
        message=rpc_error_message(target, code, details),
        timestamp=_utc_now(now),
    )


def rpc_failure_write_result(
    drf: str, target: str, code: grpc.StatusCode, details: str | None
) -> WriteResult:
    """The WriteResult of a setting sent in a failed Set RPC."""
    facility, error = rpc_error_status(code, write=True)
    return WriteResult(
        drf,
        facility_code=facility,
        error_code=error,
        message=rpc_error_message(target, code, details),
    )


def exception_to_rpc_status(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """Server side: the gRPC status and details a backend exception is reported with."""
    from pacsys.errors import AuthenticationError

    text = str(exc)
    if isinstance(exc, AuthenticationError):
        return grpc.StatusCode.UNAUTHENTICATED, text
    if isinstance(exc, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, text or "Backend does not support this operation"
    if isinstance(exc, ValueError):
        return grpc.StatusCode.INVALID_ARGUMENT, text
    return grpc.StatusCode.INTERNAL, f"Backend error: {text}"


def bearer_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying a JWT (``authorization: Bearer <token>``); empty without one."""
    if not token:
        return ()
    return (("authorization", f"Bearer {token}"),)
