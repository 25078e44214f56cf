"""The codec is byte-exact with every codec vector: RAD50, packets, DATA units, TCP frames,
ReadDevice, RETDAT, GETS32, FTPMAN, DataEvent FTP strings and DPM over ACNET."""

from __future__ import annotations

from typing import Any

import pytest

from pacsys_acnet.codec import dpm, ftp, ftp_frontend, ftp_spec, gets32, rad50, retdat
from pacsys_acnet.codec.framing import FrameDecoder
from pacsys_acnet.codec.packet import AcnetPacket, walk
from pacsys_dpm import codec as dpm_codec

from .vectors import cases, error_type, ftp_device, packet_summary, read_device


def _raises(expect: dict[str, Any]) -> Any:
    return pytest.raises(error_type(expect["error"]))


def _check_error(info: Any, expect: dict[str, Any]) -> None:
    err = expect["error"]
    if err["type"] != "struct.error":
        assert str(info.value).endswith(err["message"]) or err["message"] in str(info.value)
    if "status" in err:
        assert info.value.status == err["status"]


# --- rad50 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("rad50"))
def test_rad50(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expect"]
    if inp["op"] == "encode":
        value = rad50.encode(inp["text"])
        assert value == exp["value"]
        assert value.to_bytes(4, "big").hex() == exp["be_hex"]
        assert value.to_bytes(4, "little").hex() == exp["le_hex"]
        assert rad50.decode(value) == exp["decoded"]
        assert rad50.decode_stripped(value) == exp["stripped"]
    elif inp["op"] == "decode":
        assert rad50.decode(inp["value"]) == exp["text"]
        assert rad50.decode_stripped(inp["value"]) == exp["stripped"]
    else:
        args = (inp["text"], inp["label"])
        if "error" in exp:
            with _raises(exp) as info:
                rad50.check_name(*args, allow_empty=inp["allow_empty"])
            _check_error(info, exp)
        else:
            assert rad50.check_name(*args, allow_empty=inp["allow_empty"]) == exp["value"]


# --- packets, DATA units, TCP frames ---------------------------------------------------------


@pytest.mark.parametrize("case", cases("packet"))
def test_packet(case: dict[str, Any]) -> None:
    raw = bytes.fromhex(case["input"]["hex"])
    exp = case["expect"]
    if "error" in exp:
        with _raises(exp) as info:
            AcnetPacket.parse(raw)
        _check_error(info, exp)
        return
    packet = AcnetPacket.parse(raw)
    assert packet_summary(packet) == exp
    if packet.length == len(raw):
        assert packet.encode() == raw


@pytest.mark.parametrize("case", cases("data_payload"))
def test_data_payload(case: dict[str, Any]) -> None:
    result = walk(bytes.fromhex(case["input"]["hex"]))
    assert [packet_summary(p) for p in result] == case["expect"]["packets"]
    logged = case["expect"]["log"]
    assert (result.problem is None) == (not logged)
    if logged:
        assert logged[0].endswith(result.problem)


@pytest.mark.parametrize("case", cases("tcp_stream"))
def test_tcp_stream(case: dict[str, Any]) -> None:
    raw = bytes.fromhex(case["input"]["hex"])
    for cut in (len(raw), 1, 5):  # one write, byte by byte, odd chunks
        decoder = FrameDecoder()
        got = []
        for i in range(0, len(raw), cut):
            got.extend(decoder.feed(raw[i : i + cut]))
        assert [{"type": t, "data_hex": d.hex()} for t, d in got] == case["expect"]["frames"]
        assert (decoder.error is not None) == case["expect"]["desync"]


# --- RETDAT, GETS32 --------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("read_device"))
def test_read_device(case: dict[str, Any]) -> None:
    d, exp = case["input"]["device"], case["expect"]
    ssdn = d["ssdn_str"] if "ssdn_str" in d else bytes.fromhex(d["ssdn_hex"])
    make = lambda: retdat.ReadDevice(d["di"], d["pi"], ssdn, d["length"], d.get("offset", 0))  # noqa: E731
    if "error" in exp:
        with _raises(exp) as info:
            make()
        _check_error(info, exp)
    else:
        assert make().dipi == exp["dipi"]
        assert make().dipi.to_bytes(4, "little").hex() == exp["dipi_le_hex"]


def _values(reply: Any) -> list[dict[str, Any]]:
    return [{"status": v.status, "data_hex": v.data.hex()} for v in reply.values]


@pytest.mark.parametrize("case", cases("retdat"))
def test_retdat(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expect"]
    devices = [read_device(d) if isinstance(d, dict) else d for d in inp["devices"]]
    if inp["op"] == "build":
        limits = {k: inp[k] for k in ("max_request_size", "max_reply_size") if k in inp}
        call = lambda: retdat.build_request(devices, inp.get("ftd", 0), **limits)  # noqa: E731
    else:
        status = inp.get("acnet_status")
        call = lambda: retdat.parse_reply(bytes.fromhex(inp["hex"]), devices, acnet_status=status)  # noqa: E731
    if "error" in exp:
        with _raises(exp) as info:
            call()
        _check_error(info, exp)
    elif inp["op"] == "build":
        payload = call()
        assert payload.hex() == exp["hex"]
        request = retdat.parse_request(payload)  # the emulator reads it back
        assert request.devices == devices and request.ftd == inp.get("ftd", 0)
    else:
        reply = call()
        assert _values(reply) == exp["values"]
        assert reply.acnet_status == exp["acnet_status"]


def _event(spec: Any) -> Any:
    if isinstance(spec, dict):
        return gets32.Gets32Event(spec["text"], spec["classic_ftd"], spec["repetitive"])
    return spec


@pytest.mark.parametrize("case", cases("gets32"))
def test_gets32(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expect"]
    op = inp["op"]
    if op == "event":
        call: Any = lambda: gets32.Gets32Event.from_string(inp["text"])  # noqa: E731
    elif op == "construct":
        call = lambda: gets32.Gets32Event(inp["text"], inp["classic_ftd"], inp["repetitive"])  # noqa: E731
    elif op == "build":
        devices = [read_device(d) for d in inp["devices"]]
        kwargs = {k: inp[k] for k in ("priority", "max_request_size", "max_reply_size") if k in inp}

        def call():
            return gets32.build_request(
                inp["node"], devices, _event(inp.get("event", "I")), **kwargs
            )
    else:
        devices = [read_device(d) for d in inp["devices"]]
        call = lambda: gets32.parse_reply(  # noqa: E731
            bytes.fromhex(inp["hex"]), devices, acnet_status=inp.get("acnet_status")
        )
    if "error" in exp:
        with _raises(exp) as info:
            call()
        _check_error(info, exp)
        return
    result = call()
    if op in ("event", "construct"):
        assert (result.text, result.classic_ftd, result.repetitive) == (
            exp["text"],
            exp["classic_ftd"],
            exp["repetitive"],
        )
    elif op == "build":
        assert result.hex() == exp["hex"]
        request = gets32.parse_request(result)
        assert request.devices == devices and request.node == inp["node"]
    else:
        assert result.header._asdict() == exp["header"]
        assert _values(result) == exp["values"]
        assert result.acnet_status == exp.get("acnet_status")


# --- FTPMAN ----------------------------------------------------------------------------------


def _samples(s: ftp.Samples) -> list[list[int]]:
    return [[p.timestamp_us, p.raw_value] for p in ftp.points(s)]


def _ftp_call(inp: dict[str, Any]) -> Any:
    op = inp["op"]
    devices = [ftp_device(d) for d in inp.get("devices", [])]
    task = inp.get("task_name", 0)
    if op == "device":
        return lambda: ftp_device(inp["device"])
    if op == "class_info_request":
        return lambda: ftp.build_class_info_request(devices)
    if op == "msg_size":
        args = inp["num_devices"], inp["num_data_words"], inp["rate"], inp["return_period"]
        return lambda: ftp.msg_size(*args)
    if op == "continuous_setup":
        keys = ("return_period", "priority", "reference_event", "task_name")
        kwargs = {k: inp[k] for k in keys if k in inp}
        return lambda: ftp.build_continuous_setup(devices, inp["rate_hz"], **kwargs)
    if op == "arm_trigger_word":
        keys = ("arm_source", "arm_modifier", "plot_mode", "trigger_source", "trigger_modifier")
        return lambda: ftp.arm_trigger_word(**{k: inp[k] for k in keys if k in inp})
    if op == "snapshot_setup":
        keys = ("arm_source", "arm_modifier", "plot_mode", "trigger_source", "trigger_modifier")
        word = ftp.arm_trigger_word(**{k: inp[k] for k in keys if k in inp})
        extra: dict[str, Any] = {
            k: inp[k]
            for k in ("num_points", "arm_delay", "priority", "arm_mask", "arm_value")
            if k in inp
        }
        if "arm_events_hex" in inp:
            extra["arm_events"] = bytes.fromhex(inp["arm_events_hex"])
        if "sample_events_hex" in inp:
            extra["sample_events"] = bytes.fromhex(inp["sample_events_hex"])
        if "arm_device" in inp:
            extra["arm_device"] = ftp_device(inp["arm_device"])
        return lambda: ftp.build_snapshot_setup(
            devices, inp["rate_hz"], arm_trigger_word=word, task_name=task, **extra
        )
    if op == "retrieve_request":
        keys = ("num_points", "point_number")
        return lambda: ftp.build_retrieve_request(
            task, inp["item_number"], **{k: inp[k] for k in keys if k in inp}
        )
    if op == "snapshot_control":
        return lambda: ftp.build_snapshot_control(task, inp["subtype"])
    if op == "task_names":
        prefix = "FTP" if inp["which"] == "ftp" else "SNP"
        return lambda: [ftp.pool_name(prefix, inp["start"] + i) for i in range(inp["count"])]
    data = bytes.fromhex(inp.get("hex", ""))
    if op == "class_info_reply":
        return lambda: ftp.parse_class_info_reply(data, inp["num_devices"])
    if op == "continuous_first_reply":
        return lambda: ftp.parse_continuous_first_reply(data, inp["num_devices"])
    if op == "continuous_data_reply":
        return lambda: ftp.parse_continuous_data_reply(data, devices)
    if op in ("snapshot_setup_reply", "status_update"):
        what = "setup" if op == "snapshot_setup_reply" else "status"
        return lambda: ftp.parse_snapshot_setup_reply(data, inp["num_devices"], what=what)
    if op == "snapshot_data_reply":
        device = ftp_device(inp["device"])
        return lambda: ftp.parse_snapshot_data_reply(
            data, device, inp["has_timestamps"], inp["skip_first_point"]
        )
    if op == "status_to_state":
        return lambda: ftp.status_to_state(inp["status"], inp["first"])
    if op == "control_reply":
        return lambda: ftp.check_control_reply(inp["status"], data)
    raise AssertionError(op)


@pytest.mark.parametrize("case", cases("ftp"))
def test_ftp(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expect"]
    call = _ftp_call(inp)
    if "error" in exp:
        with _raises(exp) as info:
            call()
        _check_error(info, exp)
        return
    result = call()
    op = inp["op"]
    if "hex" in exp:
        assert result.hex() == exp["hex"]
        if op in ("continuous_setup", "snapshot_setup", "class_info_request"):
            _code, parsed = ftp_frontend.parse_request(result)
            got = parsed if op == "class_info_request" else parsed.devices
            offsets = op != "class_info_request"  # the class query carries no offset
            assert [(d.dipi, d.ssdn, d.offset * offsets) for d in got] == [
                (d.dipi, d.ssdn, d.offset * offsets)
                for d in (ftp_device(x) for x in inp["devices"])
            ]
    elif op == "msg_size":
        assert result == exp["words"]
    elif op == "arm_trigger_word":
        assert result == exp["word"] and result.to_bytes(2, "little").hex() == exp["le_hex"]
    elif op == "task_names":
        assert result == exp["values"]
        assert [rad50.decode_stripped(v) for v in result] == exp["names"]
    elif op == "class_info_reply":
        assert [c._asdict() for c in result] == exp["codes"]
    elif op == "continuous_first_reply":
        assert result == exp["statuses"]
    elif op == "continuous_data_reply":
        assert {str(k): _samples(v) for k, v in result.items()} == exp["batch"]
    elif op in ("snapshot_setup_reply", "status_update"):
        got = result._asdict()
        got.pop("error")
        got["arm_events"] = got["arm_events"].hex()
        got["per_device_arm_time"] = [list(t) for t in got["per_device_arm_time"]]
        assert got == exp["setup"]
    elif op == "snapshot_data_reply":
        assert _samples(result) == exp["points"]
    elif op == "status_to_state":
        assert (result.name if result else None) == exp["state"]
    elif op == "control_reply":
        assert exp["ok"] and result is None
    elif op == "device":
        assert isinstance(result, ftp.FTPDevice)


def _spec(obj: Any) -> Any:
    if obj is None or isinstance(obj, (int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return [_spec(x) for x in obj]
    out = {"type": type(obj).__name__}
    out.update({k: _spec(v) for k, v in vars(obj).items()})
    return out


@pytest.mark.parametrize("case", cases("ftp_spec"))
def test_ftp_spec(case: dict[str, Any]) -> None:
    exp = case["expect"]
    if "error" in exp:
        with _raises(exp) as info:
            ftp_spec.parse_ftp_event(case["input"]["text"])
        if "{" not in exp["error"]["message"]:
            _check_error(info, exp)
        return
    got = _spec(ftp_spec.parse_ftp_event(case["input"]["text"]))
    assert got == exp["spec"]


# --- DPM over ACNET --------------------------------------------------------------------------


_REQUESTS = {
    "OpenList": dpm_codec.OpenListRequest,
    "AddToList": dpm_codec.AddToListRequest,
    "RemoveFromList": dpm_codec.RemoveFromListRequest,
    "StartList": dpm_codec.StartListRequest,
    "StopList": dpm_codec.StopListRequest,
    "ClearList": dpm_codec.ClearListRequest,
}


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return {"ndarray": value.dtype.str, "values": value.tolist()}
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    return value


@pytest.mark.parametrize("case", cases("dpm_acnet"))
def test_dpm_acnet(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expect"]
    if inp["op"] == "request":
        message = _REQUESTS[inp["message"]](**inp["fields"])
        assert dpm.encode_message(message).hex() == exp["hex"]
    elif inp["op"] == "read_drf":
        assert dpm.read_drf(inp["drf"]) == exp["drf"]
    else:
        meta: dict[int, Any] = {}
        readings = []
        for raw in inp["hex"]:
            reading = dpm.reading_from_reply(dpm.decode_reply(bytes.fromhex(raw)), meta)
            if reading is not None:
                readings.append(reading)
        got = [
            {
                "ref_id": r.ref_id, "timestamp": r.timestamp, "cycle": r.cycle,
                "status": r.status, "data": _plain(r.data), "meta": r.meta,
                "micros": None if r.micros is None else r.micros.tolist(),
            }
            for r in readings
        ]  # fmt: skip
        assert got == exp["readings"]
        assert {str(k): v for k, v in meta.items()} == exp["meta"]
