"""Pure conversions between DevDB messages and pacsys.metadata records (docs/protocols/grpc.md §6).

Client direction (proto -> dataclass) follows docs/protocols/grpc.md §6.3; the server direction
(dataclass -> proto) sets optional members only when the record has them
(docs/protocols/grpc.md §10).
"""

from __future__ import annotations

from typing import Any

from pacsys.metadata import (
    AlarmBlockInfo,
    AlarmInfo,
    AlarmText,
    ControlCommandDef,
    DeviceInfoResult,
    ExtStatusBitDef,
    PropertyInfo,
    StatusBitDef,
)
from pacsys_grpc._proto.services import devdb_pb2

__all__ = [
    "alarm_info_from_proto",
    "alarm_info_to_proto",
    "alarm_text_from_proto",
    "alarm_text_to_proto",
    "device_info_from_proto",
    "device_info_to_proto",
    "is_empty_device",
    "property_from_proto",
    "property_to_proto",
]

_PROPERTY_FLAGS = (
    "is_step_motor",
    "is_destructive_read",
    "is_fe_scaling",
    "is_contr_setting",
    "is_knobbable",
)
_ALARM_BLOCK_FIELDS = (
    "di",
    "pi",
    "status",
    "min_or_nom",
    "max_or_tol",
    "tries_needed",
    "tries_now",
    "clock_event_no",
    "subfunction_code",
    "specific_data",
    "segment",
)
# (record field, proto field) of a status bit; the other records use the proto's names.
_STATUS_BIT_FIELDS = (
    ("mask", "mask_val"),
    ("match", "match_val"),
    *(
        (name, name)
        for name in (
            "invert",
            "short_name",
            "long_name",
            "true_str",
            "false_str",
            "true_color",
            "true_char",
            "false_color",
            "false_char",
        )
    ),
)
_EXT_BIT_FIELDS = ("bit_no", "description", "name0", "name1", "color0", "color1")
_CONTROL_FIELDS = ("value", "short_name", "long_name")
_ALARM_TEXT_FIELDS = (
    "alarm_text_id",
    "length",
    "priority",
    "hand_code",
    "sound_id",
    "speech_id",
    "spare",
    "text",
    "url",
)


# --- proto -> dataclass (client) --------------------------------------------------------


def property_from_proto(prop: devdb_pb2.Property) -> PropertyInfo:
    """A Property; absent units are None, present empty units stay ``""``."""
    return PropertyInfo(
        primary_units=prop.primary_units if prop.HasField("primary_units") else None,
        common_units=prop.common_units if prop.HasField("common_units") else None,
        min_val=float(prop.min_val),
        max_val=float(prop.max_val),
        p_index=int(prop.p_index),
        c_index=int(prop.c_index),
        coeff=tuple(float(c) for c in prop.coeff),
        **{flag: bool(getattr(prop, flag)) for flag in _PROPERTY_FLAGS},
    )


def _status_bit(item: devdb_pb2.DigitalStatusItem) -> StatusBitDef:
    return StatusBitDef(**{ours: getattr(item, theirs) for ours, theirs in _STATUS_BIT_FIELDS})


def _copy(source: object, names: tuple[str, ...]) -> dict[str, Any]:
    """``{name: source.name}`` for records and messages that share field names."""
    return {name: getattr(source, name) for name in names}


def device_info_from_proto(info: devdb_pb2.DeviceInfo) -> DeviceInfoResult:
    """A DeviceInfo; sub-messages map to None when absent, to empty tuples when empty."""
    has_status = info.HasField("status")
    return DeviceInfoResult(
        device_index=info.device_index,
        description=info.description,
        reading=property_from_proto(info.reading) if info.HasField("reading") else None,
        setting=property_from_proto(info.setting) if info.HasField("setting") else None,
        control=(
            tuple(ControlCommandDef(**_copy(c, _CONTROL_FIELDS)) for c in info.control.cmds)
            if info.HasField("control")
            else None
        ),
        status_bits=tuple(_status_bit(b) for b in info.status.bits) if has_status else None,
        ext_status_bits=(
            tuple(ExtStatusBitDef(**_copy(b, _EXT_BIT_FIELDS)) for b in info.status.ext_bits)
            if has_status
            else None
        ),
    )


def is_empty_device(result: DeviceInfoResult) -> bool:
    """True for the all-default device sent for an unknown name (docs/protocols/grpc.md §6.2)."""
    return not result.description and all(
        part is None
        for part in (result.reading, result.setting, result.control, result.status_bits)
    )


def alarm_info_from_proto(info: devdb_pb2.AlarmInfo) -> AlarmInfo:
    """An AlarmInfo; the analog/digital members stay None when the reply has neither."""
    block = info.alarm_block
    analog = info.device_analog_alarm if info.HasField("device_analog_alarm") else None
    digital = info.device_digital_alarm if info.HasField("device_digital_alarm") else None
    return AlarmInfo(
        device_name=info.device_name,
        alarm_block=AlarmBlockInfo(**_copy(block, _ALARM_BLOCK_FIELDS)),
        analog_alarm_text_id=analog.alarm_text_id if analog is not None else None,
        digital_alarm_condition=digital.condition if digital is not None else None,
        digital_alarm_mask=digital.mask if digital is not None else None,
        digital_alarm_text_id=digital.alarm_text_id if digital is not None else None,
    )


def alarm_text_from_proto(text: devdb_pb2.DeviceAlarmText) -> AlarmText:
    """An AlarmText (fields copied as they are)."""
    return AlarmText(**_copy(text, _ALARM_TEXT_FIELDS))


# --- dataclass -> proto (server) --------------------------------------------------------


def property_to_proto(prop: PropertyInfo) -> devdb_pb2.Property:
    """A Property; None units are left unset (absent, not empty)."""
    out = devdb_pb2.Property(
        min_val=prop.min_val,
        max_val=prop.max_val,
        p_index=prop.p_index,
        c_index=prop.c_index,
        coeff=list(prop.coeff),
        **_copy(prop, _PROPERTY_FLAGS),
    )
    if prop.primary_units is not None:
        out.primary_units = prop.primary_units
    if prop.common_units is not None:
        out.common_units = prop.common_units
    return out


def device_info_to_proto(info: DeviceInfoResult) -> devdb_pb2.DeviceInfo:
    """A DeviceInfo; None sub-records are left absent, empty ones sent empty."""
    out = devdb_pb2.DeviceInfo(device_index=info.device_index, description=info.description)
    if info.reading is not None:
        out.reading.CopyFrom(property_to_proto(info.reading))
    if info.setting is not None:
        out.setting.CopyFrom(property_to_proto(info.setting))
    if info.control is not None:
        out.control.SetInParent()
        out.control.cmds.extend(
            devdb_pb2.DigitalControlItem(**_copy(c, _CONTROL_FIELDS)) for c in info.control
        )
    if info.status_bits is not None or info.ext_status_bits is not None:
        out.status.SetInParent()
        out.status.bits.extend(
            devdb_pb2.DigitalStatusItem(
                **{theirs: getattr(b, ours) for ours, theirs in _STATUS_BIT_FIELDS}
            )
            for b in info.status_bits or ()
        )
        out.status.ext_bits.extend(
            devdb_pb2.DigitalExtStatusItem(**_copy(b, _EXT_BIT_FIELDS))
            for b in info.ext_status_bits or ()
        )
    return out


def alarm_info_to_proto(info: AlarmInfo) -> devdb_pb2.AlarmInfo:
    """An AlarmInfo with the analog or the digital member the record has, if any."""
    block = info.alarm_block
    out = devdb_pb2.AlarmInfo(
        device_name=info.device_name,
        alarm_block=devdb_pb2.AlarmBlock(**_copy(block, _ALARM_BLOCK_FIELDS)),
    )
    if info.analog_alarm_text_id is not None:
        out.device_analog_alarm.CopyFrom(
            devdb_pb2.DeviceAnalogAlarm(di=block.di, alarm_text_id=info.analog_alarm_text_id)
        )
    elif info.digital_alarm_text_id is not None or info.digital_alarm_condition is not None:
        out.device_digital_alarm.CopyFrom(
            devdb_pb2.DeviceDigitalAlarm(
                di=block.di,
                condition=info.digital_alarm_condition or 0,
                mask=info.digital_alarm_mask or 0,
                alarm_text_id=info.digital_alarm_text_id or 0,
            )
        )
    return out


def alarm_text_to_proto(text: AlarmText) -> devdb_pb2.DeviceAlarmText:
    """A DeviceAlarmText (fields copied as they are)."""
    return devdb_pb2.DeviceAlarmText(**_copy(text, _ALARM_TEXT_FIELDS))
