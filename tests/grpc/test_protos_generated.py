"""The committed generated modules match the .proto files, and the descriptors match the docs.

The field and method tables below, from docs/protocols/grpc.md §2, §3, §4 and §6.1, are
checked against the descriptors the generated modules register, so a typo in a .proto file
(name, number, type, label, oneof) fails here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, empty_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor, FileDescriptor

from pacsys_grpc._proto.common import device_pb2, status_pb2
from pacsys_grpc._proto.services import daq_pb2, daq_pb2_grpc, devdb_pb2, devdb_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "pacsys-grpc"
COMMITTED = PACKAGE / "src" / "pacsys_grpc" / "_proto"
GENERATOR = PACKAGE / "tools" / "generate_protos.py"

# --- tables of docs/protocols/grpc.md ---------------------------------------------------------
# "<number> <name> <type> <label>"; label is singular | optional | repeated | map |
# oneof:<name>; message types are written as fully-qualified ".pkg.Message".

V = ".common.device.Value"
SPEC_MESSAGES: dict[str, str] = {
    # common.device (3.1)
    "common.device.Value": f"""
        1 scalar double oneof:value; 2 scalarArr {V}.ScalarArray oneof:value;
        3 raw bytes oneof:value; 4 text string oneof:value;
        5 textArr {V}.TextArray oneof:value; 6 anaAlarm {V}.AnalogAlarm oneof:value;
        7 digAlarm {V}.DigitalAlarm oneof:value; 8 basicStatus {V}.BasicStatus oneof:value""",
    "common.device.Value.ScalarArray": "1 value double repeated",
    "common.device.Value.TextArray": "1 value string repeated",
    "common.device.Value.AnalogAlarm": """
        1 minimum double singular; 2 maximum double singular; 3 alarmEnable bool singular;
        4 alarmStatus bool singular; 5 abort bool singular; 6 abortInhibit bool singular;
        7 triesNeeded uint32 singular; 8 triesNow uint32 singular""",
    "common.device.Value.DigitalAlarm": """
        1 nominal int32 singular; 2 mask uint32 singular; 3 alarmEnable bool singular;
        4 alarmStatus bool singular; 5 abort bool singular; 6 abortInhibit bool singular;
        7 triesNeeded uint32 singular; 8 triesNow uint32 singular""",
    "common.device.Value.BasicStatus": f"1 value {V}.BasicStatus.ValueEntry map",
    "common.device.Value.BasicStatus.ValueEntry": "1 key string singular; 2 value string singular",
    # common.status (3.2)
    "common.status.Status": """
        1 facility_code int32 singular; 2 status_code int32 singular; 3 message string singular""",
    # services.daq (4)
    "services.daq.ReadingList": "1 drf string repeated",
    "services.daq.Reading": f"""
        1 timestamp .google.protobuf.Timestamp singular; 2 data {V} singular;
        3 status .common.status.Status singular""",
    "services.daq.Readings": "2 reading .services.daq.Reading repeated",
    "services.daq.ReadingReply": """
        1 index uint32 singular; 2 readings .services.daq.Readings oneof:value;
        3 status .common.status.Status oneof:value""",
    "services.daq.Setting": f"1 device string singular; 2 value {V} singular",
    "services.daq.SettingList": "1 setting .services.daq.Setting repeated",
    "services.daq.SettingReply": "2 status .common.status.Status repeated",
    # services.devdb (6.1)
    "services.devdb.DeviceList": "1 device string repeated",
    "services.devdb.Property": """
        1 primary_units string optional; 2 common_units string optional;
        3 min_val double singular; 4 max_val double singular; 5 p_index uint32 singular;
        6 c_index uint32 singular; 7 coeff double repeated; 8 is_step_motor bool singular;
        9 is_destructive_read bool singular; 10 is_fe_scaling bool singular;
        11 is_contr_setting bool singular; 12 is_knobbable bool singular""",
    "services.devdb.DigitalStatusItem": """
        1 mask_val uint32 singular; 2 match_val uint32 singular; 3 invert bool singular;
        4 short_name string singular; 5 long_name string singular; 6 true_str string singular;
        7 true_color uint32 singular; 8 true_char string singular; 9 false_str string singular;
        10 false_color uint32 singular; 11 false_char string singular""",
    "services.devdb.DigitalExtStatusItem": """
        1 bit_no uint32 singular; 2 color0 uint32 singular; 3 name0 string singular;
        4 color1 uint32 singular; 5 name1 string singular; 6 description string singular""",
    "services.devdb.DigitalStatus": """
        1 bits .services.devdb.DigitalStatusItem repeated;
        2 ext_bits .services.devdb.DigitalExtStatusItem repeated""",
    "services.devdb.DigitalControlItem": """
        1 value uint32 singular; 2 short_name string singular; 3 long_name string singular""",
    "services.devdb.DigitalControl": "1 cmds .services.devdb.DigitalControlItem repeated",
    "services.devdb.DeviceInfo": """
        1 device_index uint32 singular; 2 description string singular;
        3 reading .services.devdb.Property optional; 4 setting .services.devdb.Property optional;
        5 control .services.devdb.DigitalControl optional;
        6 status .services.devdb.DigitalStatus optional""",
    "services.devdb.InfoEntry": """
        1 name string singular; 2 device .services.devdb.DeviceInfo oneof:result;
        3 errMsg string oneof:result""",
    "services.devdb.DeviceInfoReply": "1 set .services.devdb.InfoEntry repeated",
    "services.devdb.AlarmBlock": """
        1 di uint32 singular; 2 pi uint32 singular; 3 status int32 singular;
        4 min_or_nom int32 singular; 5 max_or_tol int32 singular; 6 tries_needed uint32 singular;
        7 tries_now uint32 singular; 8 clock_event_no uint32 singular;
        9 subfunction_code uint32 singular; 10 specific_data string singular;
        11 segment uint32 singular""",
    "services.devdb.DeviceDigitalAlarm": """
        1 di uint32 singular; 2 condition int32 singular; 3 mask int32 singular;
        4 alarm_text_id uint32 singular""",
    "services.devdb.DeviceAnalogAlarm": "1 di uint32 singular; 2 alarm_text_id uint32 singular",
    "services.devdb.AlarmTextIdList": "1 alarm_text_id uint32 repeated",
    "services.devdb.DeviceAlarmText": """
        1 alarm_text_id uint32 singular; 2 length uint32 singular; 3 priority uint32 singular;
        4 hand_code uint32 singular; 5 sound_id uint32 singular; 6 speech_id uint32 singular;
        7 spare uint32 singular; 8 text string singular; 9 url string singular""",
    "services.devdb.DeviceAlarmTextList": """
        1 device_alarm_text .services.devdb.DeviceAlarmText repeated""",
    "services.devdb.AlarmInfo": """
        1 device_name string singular; 2 alarm_block .services.devdb.AlarmBlock singular;
        3 device_analog_alarm .services.devdb.DeviceAnalogAlarm optional;
        4 device_digital_alarm .services.devdb.DeviceDigitalAlarm optional""",
    "services.devdb.AlarmInfoReply": "1 alarm_info .services.devdb.AlarmInfo repeated",
    "services.devdb.PlotSelector": "1 id uint32 optional",
    "services.devdb.PlotConfigSpecification": """
        1 id uint32 singular; 2 name string singular; 3 config string singular""",
    "services.devdb.PlotConfigResults": """
        1 data .services.devdb.PlotConfigSpecification repeated""",
    "services.devdb.PlotConfig": "1 config string singular",
    "services.devdb.PlotConfigResult": """
        1 config .services.devdb.PlotConfigResults oneof:result;
        2 user_config .services.devdb.PlotConfig oneof:result; 3 errMsg string oneof:result""",
    # well-known types used by the services (2)
    "google.protobuf.Timestamp": "1 seconds int64 singular; 2 nanos int32 singular",
    "google.protobuf.Empty": "",
}

# (full method path, server-streaming, request, response) from docs/protocols/grpc.md §2.
SPEC_METHODS = [
    ("/services.daq.DAQ/Read", True, "services.daq.ReadingList", "services.daq.ReadingReply"),
    ("/services.daq.DAQ/Set", False, "services.daq.SettingList", "services.daq.SettingReply"),
    (
        "/services.devdb.DevDB/getDeviceInfo",
        False,
        "services.devdb.DeviceList",
        "services.devdb.DeviceInfoReply",
    ),
    (
        "/services.devdb.DevDB/getAllAlarmInfo",
        False,
        "services.devdb.DeviceList",
        "services.devdb.AlarmInfoReply",
    ),
    (
        "/services.devdb.DevDB/getAlarmText",
        False,
        "services.devdb.AlarmTextIdList",
        "services.devdb.DeviceAlarmTextList",
    ),
    (
        "/services.devdb.DevDB/getPlotConfiguration",
        False,
        "services.devdb.PlotSelector",
        "services.devdb.PlotConfigResult",
    ),
    (
        "/services.devdb.DevDB/getUserPlotConfiguration",
        False,
        "google.protobuf.Empty",
        "services.devdb.PlotConfigResult",
    ),
    (
        "/services.devdb.DevDB/deletePlotConfiguration",
        False,
        "services.devdb.PlotSelector",
        "services.devdb.PlotConfigResult",
    ),
    (
        "/services.devdb.DevDB/savePlotConfiguration",
        False,
        "services.devdb.PlotConfigSpecification",
        "services.devdb.PlotConfigResult",
    ),
    (
        "/services.devdb.DevDB/saveUserPlotConfiguration",
        False,
        "services.devdb.PlotConfig",
        "services.devdb.PlotConfigResult",
    ),
]

_SCALAR_TYPES = {
    "double": FieldDescriptor.TYPE_DOUBLE,
    "bool": FieldDescriptor.TYPE_BOOL,
    "uint32": FieldDescriptor.TYPE_UINT32,
    "int32": FieldDescriptor.TYPE_INT32,
    "int64": FieldDescriptor.TYPE_INT64,
    "string": FieldDescriptor.TYPE_STRING,
    "bytes": FieldDescriptor.TYPE_BYTES,
}
_PACKABLE = {"double", "bool", "uint32", "int32", "int64"}

PROJECT_FILES: list[FileDescriptor] = [
    device_pb2.DESCRIPTOR,
    status_pb2.DESCRIPTOR,
    daq_pb2.DESCRIPTOR,
    devdb_pb2.DESCRIPTOR,
]
ALL_FILES = [*PROJECT_FILES, timestamp_pb2.DESCRIPTOR, empty_pb2.DESCRIPTOR]


def _spec_fields(message: str) -> list[tuple[int, str, str, str]]:
    rows = []
    for item in SPEC_MESSAGES[message].split(";"):
        if item.strip():
            number, name, type_, label = item.split()
            rows.append((int(number), name, type_, label))
    return rows


def _message_protos() -> dict[str, tuple[descriptor_pb2.DescriptorProto, FileDescriptor]]:
    """Every message (nested too) of the project and well-known files, by full name."""
    found: dict[str, tuple[descriptor_pb2.DescriptorProto, FileDescriptor]] = {}

    def walk(prefix: str, messages: Any, file: FileDescriptor) -> None:
        for message in messages:
            name = f"{prefix}.{message.name}"
            found[name] = (message, file)
            walk(name, message.nested_type, file)

    for file in ALL_FILES:
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        walk(proto.package, proto.message_type, file)
    return found


MESSAGE_PROTOS = _message_protos()


# --- generated code is reproducible -----------------------------------------------------


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_protos", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_generated_with_installed_grpcio_tools() -> None:
    """The committed code records the grpcio-tools release that produced it."""
    installed = importlib.metadata.version("grpcio-tools")
    assert installed == daq_pb2_grpc.GRPC_GENERATED_VERSION, (
        "committed code was generated by another grpcio-tools; pin it or regenerate"
    )


def test_regenerated_code_is_byte_identical(tmp_path: Path) -> None:
    generator = _load_generator()
    written = generator.generate(tmp_path)
    fresh, committed = _tree(tmp_path), _tree(COMMITTED)
    assert sorted(fresh) == sorted(p.as_posix() for p in written)
    assert sorted(fresh) == sorted(committed)
    for name, content in fresh.items():
        assert content == committed[name], f"{name} differs; run tools/generate_protos.py"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    generator = _load_generator()
    generator.generate(tmp_path / "a")
    generator.generate(tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_generated_modules_import_package_qualified() -> None:
    for path in COMMITTED.rglob("*_pb2*.py*"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("from ", "import ")) and "_pb2" in line:
                module = line.split()[1]
                assert module.startswith(("google.protobuf", "pacsys_grpc._proto")), (
                    f"{path.name}: {line}"
                )


def test_every_proto_has_generated_python_and_stubs() -> None:
    for proto in sorted((PACKAGE / "protos").rglob("*.proto")):
        rel = proto.relative_to(PACKAGE / "protos" / "pacsys_grpc" / "_proto")
        stem = COMMITTED / rel.parent / rel.stem
        assert stem.with_name(f"{rel.stem}_pb2.py").is_file()
        assert stem.with_name(f"{rel.stem}_pb2.pyi").is_file()


# --- descriptors match docs/protocols/grpc.md ------------------------------------------------


def test_packages() -> None:
    assert [f.package for f in PROJECT_FILES] == [
        "common.device",
        "common.status",
        "services.daq",
        "services.devdb",
    ]
    for file in PROJECT_FILES:
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        assert proto.syntax == "proto3"


def test_no_messages_beyond_the_spec() -> None:
    project = {name for name, (_, file) in MESSAGE_PROTOS.items() if file in PROJECT_FILES}
    expected = {name for name in SPEC_MESSAGES if not name.startswith("google.")}
    assert project == expected


@pytest.mark.parametrize("message", sorted(SPEC_MESSAGES))
def test_message_fields_match_spec(message: str) -> None:
    proto, _ = MESSAGE_PROTOS[message]
    oneof_names = [oneof.name for oneof in proto.oneof_decl]
    actual = []
    for field in proto.field:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            type_ = field.type_name
        else:
            type_ = next(k for k, v in _SCALAR_TYPES.items() if v == field.type)
        if field.label == FieldDescriptor.LABEL_REPEATED:
            entry = MESSAGE_PROTOS.get(field.type_name[1:])
            label = "map" if entry and entry[0].options.map_entry else "repeated"
        elif field.proto3_optional:
            label = "optional"
        elif field.HasField("oneof_index"):
            label = f"oneof:{oneof_names[field.oneof_index]}"
        else:
            label = "singular"
        actual.append((field.number, field.name, type_, label))
    assert sorted(actual) == sorted(_spec_fields(message))


@pytest.mark.parametrize("message", sorted(SPEC_MESSAGES))
def test_repeated_numbers_are_packed(message: str) -> None:
    descriptor = _runtime_descriptor(message)
    for number, name, type_, label in _spec_fields(message):
        field = descriptor.fields_by_number[number]
        assert field.name == name
        if label == "repeated":
            assert field.is_packed is (type_ in _PACKABLE), name


def _runtime_descriptor(full_name: str) -> Any:
    for file in ALL_FILES:
        try:
            return file.pool.FindMessageTypeByName(full_name)
        except KeyError:
            continue
    raise KeyError(full_name)


def test_map_entry_is_string_to_string() -> None:
    proto, _ = MESSAGE_PROTOS["common.device.Value.BasicStatus.ValueEntry"]
    assert proto.options.map_entry


def test_reading_status_is_deprecated() -> None:
    status = daq_pb2.Reading.DESCRIPTOR.fields_by_name["status"]
    assert status.GetOptions().deprecated
    others = [f for f in daq_pb2.Reading.DESCRIPTOR.fields if f.name != "status"]
    assert not any(f.GetOptions().deprecated for f in others)


def test_daq_java_options() -> None:
    options = daq_pb2.DESCRIPTOR.GetOptions()
    assert options.java_package == "gov.fnal.controls.service.proto.grpc"
    assert options.java_outer_classname == "DAQProto"
    assert not options.java_multiple_files


def test_full_method_paths_and_signatures() -> None:
    actual = []
    for file in (daq_pb2.DESCRIPTOR, devdb_pb2.DESCRIPTOR):
        for service in file.services_by_name.values():
            for method in service.methods:
                assert not method.client_streaming
                actual.append(
                    (
                        f"/{service.full_name}/{method.name}",
                        method.server_streaming,
                        method.input_type.full_name,
                        method.output_type.full_name,
                    )
                )
    assert sorted(actual) == sorted(SPEC_METHODS)


class _RecordingChannel:
    """Stands in for a grpc.Channel and records the stubs' method paths and kinds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    def _record(self, streaming: bool) -> Any:
        def factory(path: str, **_: Any) -> str:
            self.calls.append((path, streaming))
            return path

        return factory

    def __getattr__(self, name: str) -> Any:
        if name in ("unary_unary", "unary_stream"):
            return self._record(name == "unary_stream")
        raise AttributeError(name)


def test_generated_stubs_use_spec_paths() -> None:
    channel = _RecordingChannel()
    daq_pb2_grpc.DAQStub(channel)
    devdb_pb2_grpc.DevDBStub(channel)
    assert sorted(channel.calls) == sorted(
        (path, streaming) for path, streaming, *_ in SPEC_METHODS
    )


def test_wire_examples_from_the_conventions() -> None:
    """The presence examples of docs/protocols/grpc.md §1, built through the generated classes."""
    assert devdb_pb2.PlotSelector(id=0).SerializeToString() == bytes.fromhex("0800")
    assert device_pb2.Value(scalar=0.0).SerializeToString() == bytes.fromhex("09" + "00" * 8)
    empty_array = device_pb2.Value()
    empty_array.scalarArr.SetInParent()
    assert empty_array.SerializeToString() == bytes.fromhex("1200")
    negative = status_pb2.Status(status_code=-13).SerializeToString()
    assert negative == bytes.fromhex("10f3ffffffffffffffff01")
    assert status_pb2.Status().SerializeToString() == b""
