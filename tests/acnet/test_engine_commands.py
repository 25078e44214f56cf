"""The client engine sends exactly the bytes of every command vector and reads every ACK
the way the vectors say (no sockets: bytes in, bytes and events out)."""

from __future__ import annotations

from typing import Any

import pytest

from pacsys_acnet.codec.framing import frame
from pacsys_acnet.codec.packet import AcnetPacket
from pacsys_acnet.codec.rad50 import encode
from pacsys_acnet.protocol import ClientEngine

from .vectors import cases, error_type


def _engine(case: dict[str, Any]) -> ClientEngine:
    inp = case["input"]
    state = inp.get("state", {})
    op = inp["op"]
    if op.startswith("connect"):
        return ClientEngine(state.get("name", ""), state.get("vnode", ""), udp=op == "connect_udp")
    engine = ClientEngine("", state.get("vnode", ""))
    engine.handle = encode(state["name"]) if state.get("name") else 0
    engine.connected = True
    engine.receiving = bool(state.get("receiving"))
    return engine


def _request(args: dict[str, Any]) -> Any:
    request = AcnetPacket.parse(bytes.fromhex(args["request_hex"]))
    if args.get("request_cancelled"):
        request.cancel()
    return request


def _call(engine: ClientEngine, inp: dict[str, Any]) -> tuple[Any, Any]:
    """(pending or None, what to report afterwards)."""
    op, args = inp["op"], inp.get("args", {})
    data = bytes.fromhex(args.get("data_hex", ""))
    if op == "connect":
        return engine.connect(), lambda r: {
            "handle": engine.name,
            "raw_handle": engine.handle,
            "connected": engine.connected,
        }
    if op == "connect_udp":
        pending = engine.connect(args["pid"], args["data_port"])
        return pending, lambda r: {
            "handle": engine.name,
            "raw_handle": engine.handle,
            "connected": engine.connected,
        }
    if op in ("disconnect", "disconnect_single"):
        return getattr(engine, op)(), lambda r: {"connected": engine.connected}
    if op == "keepalive":
        return engine.keepalive(), lambda r: None
    if op == "rename_task":
        return engine.rename_task(args["new_name"]), lambda r: {
            "handle": engine.name,
            "raw_handle": engine.handle,
        }
    if op == "send_message":
        return engine.send_message(args["node"], args["task"], data), lambda r: None
    if op in ("send_request", "request_multiple"):
        multiple = op == "request_multiple"
        timeout = args.get("timeout", 0 if multiple else 5000)
        pending = engine.send_request(args["node"], args["task"], data, print, multiple, timeout)
        return pending, lambda r: {
            "request_id": r.request_id,
            "multiple_reply": r.multiple_reply,
            "timeout": r.timeout,
        }
    if op == "get_node":
        return engine.get_node(args["name"]), lambda r: r
    if op == "get_name":
        return engine.get_name(args["node"]), lambda r: r
    if op in ("get_local_node", "get_node_stats"):
        return getattr(engine, op)(), lambda r: r
    if op == "get_task_pid":
        return engine.get_task_pid(args["task"]), lambda r: r
    if op in ("ignore_request", "send_reply"):
        request = _request(args)
        if op == "ignore_request":
            pending = engine.ignore_request(request)
        else:
            pending = engine.send_reply(request, data, args["status"], args.get("last", True))
        return pending, lambda r: {"request_cancelled": request.cancelled}
    if op == "cancel":
        from pacsys_acnet.protocol import OpenRequest

        request = OpenRequest(0, "ECHO", print, False, 0)
        request.request_id = args["request_id"]
        engine._requests[request.request_id] = request
        return engine.cancel(request), lambda r: {"cancelled": request.cancelled}
    if op == "request_ack":
        return engine.request_ack(args["reply_id"]), lambda r: None
    if op == "handle_requests":
        return engine.receive_requests(), lambda r: {"receiving": engine.receiving}
    raise AssertionError(op)


@pytest.mark.parametrize("case", cases("command"))
def test_command(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expect"]
    engine = _engine(case)
    try:
        pending, report = _call(engine, inp)
    except Exception as exc:  # raised before anything was queued
        assert exp["sent_hex"] == []
        assert isinstance(exc, error_type(exp["error"])), exc
        if exp["error"]["type"] != "struct.error":
            assert str(exc) == exp["error"]["message"] or exp["error"]["message"] in str(exc)
        return
    sent = []
    raw = engine.next_command()
    if raw is not None:
        sent.append(raw)
        assert frame(1, raw).hex() == exp.get("tcp_hex", frame(1, raw).hex())
        engine.receive_ack(bytes.fromhex(inp["ack_hex"]))
    assert [s.hex() for s in sent] == exp["sent_hex"]
    assert engine.next_command() is None  # one command per call
    if "error" in exp:
        with pytest.raises(error_type(exp["error"])) as info:
            pending.outcome()
        assert str(info.value) == exp["error"]["message"]
        assert info.value.status == exp["error"]["status"]
        return
    result = pending.outcome() if pending is not None else None
    assert report(result) == exp["result"]
