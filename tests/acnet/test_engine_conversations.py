"""Connection-level conversations of the vectors, replayed in memory against the engine.

A scripted daemon answers the i-th client frame with the vector's i-th response; the
client engine runs the driver's API steps. Every client frame must equal the transcript's
(after the handshake, which belongs to the TCP driver), and the handlers must see exactly
the replies, requests, USMs and cancels the vector lists. No sockets, no threads.
"""

from __future__ import annotations

from typing import Any

import pytest

from pacsys.acnet.errors import AcnetError
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.protocol import ClientEngine, Event, Pending

from .vectors import raw_cases

DRIVERS = {"request", "server", "send_message", "desync", "sync_connect_close", "sync_lookups"}


class Scripted:
    """The client engine against the vector's daemon script, over an in-memory byte stream."""

    def __init__(self, case: dict[str, Any], name: str) -> None:
        self.script = case["input"]["script"]
        self.close_after = self.script.get("close_after")
        self.engine = ClientEngine(name)
        self.sent: list[str] = []
        self.decoder = FrameDecoder()
        self.seen: list[tuple[str, Any]] = []
        self.closed_by_daemon = False

    def run(self, pending: Pending | None) -> Any:
        """Pump commands until ``pending`` is finished (or nothing is left to send)."""
        while True:
            if pending is not None and pending.finished:
                return pending
            raw = self.engine.next_command()
            if raw is None:
                return pending
            self.sent.append(frame(1, raw).hex())
            index = len(self.sent) - 1
            responses = self.script["responses"]
            for write in responses[index] if index < len(responses) else []:
                self.feed(bytes.fromhex("".join(write)))
            if self.close_after is not None and index >= self.close_after:
                self.closed_by_daemon = True
                self.handle(self.engine.connection_lost())

    def feed(self, data: bytes) -> None:
        for kind, payload in self.decoder.feed(data):
            if kind == 2:
                self.handle(self.engine.receive_ack(payload))
            elif kind == 3:
                self.handle(self.engine.receive_data(payload))
        if self.decoder.error is not None:
            self.handle(self.engine.connection_lost())

    def handle(self, events: list[Event]) -> None:
        for event in events:
            if event.kind != "done":
                event.handler(event.packet)

    def call(self, pending: Pending | None) -> Any:
        self.run(pending)
        return None if pending is None else pending.outcome()


def _reply(p: Any) -> dict[str, Any]:
    return {
        "request_id": p.request_id, "status": p.status, "last": p.last, "data_hex": p.data.hex(),
        "server": p.server, "client": p.client, "server_task_name": p.server_task_name,
        "flags": p.flags,
    }  # fmt: skip


def _client_frames(case: dict[str, Any]) -> list[str]:
    return [
        t["hex"]
        for t in case["expect"]["transcript"]
        if t["dir"] == "c2d" and "hex" in t and t.get("note") != "handshake"
    ]


def _close(s: Scripted) -> None:
    if s.engine.connected:
        pending = s.engine.disconnect()
        s.run(pending)
    s.handle(s.engine.closed())


def _run_request(case: dict[str, Any], s: Scripted) -> dict[str, Any]:
    args = case["input"]["args"]
    got: dict[str, Any] = {}
    replies: list[Any] = []
    s.call(s.engine.connect())
    try:
        request = s.call(
            s.engine.send_request(
                args["node"], args["task"], bytes.fromhex(args["data_hex"]), replies.append,
                args.get("multiple_reply", False), args.get("timeout", 5000),
            )
        )  # fmt: skip
    except AcnetError as exc:
        got["send_request"] = {"error": type(exc).__name__, "status": exc.status}
        _close(s)
        return got
    got["send_request"] = {"request_id": request.request_id}
    got["replies"] = [_reply(r) for r in replies]
    if args.get("cancel"):
        s.call(s.engine.cancel(request))
    got["context"] = {"cancelled": request.cancelled}
    if args.get("then_local_node"):
        try:
            s.call(s.engine.get_local_node())
        except AcnetError as exc:
            got["get_local_node"] = {"error": type(exc).__name__, "status": exc.status}
    got["connected"] = s.engine.connected
    _close(s)
    got["replies_after_close"] = [_reply(r) for r in replies]
    return got


def _run_server(case: dict[str, Any], s: Scripted) -> dict[str, Any]:
    mode = case["input"]["args"]["mode"]
    engine = s.engine
    s.call(engine.connect())
    engine.cancel_handler = lambda p: s.seen.append(("cancel", p.reply_id))
    if mode == "unhandled":
        engine.message_handler = lambda p: s.seen.append(("usm", p.data.hex()))
        s.call(engine.receive_requests())
        s.run(None)
    else:

        def on_request(request: Any) -> None:
            s.seen.append(("request", request.reply_id))
            if mode == "reply_twice":
                engine.send_reply(request, b"\x01", 0, last=False)
                engine.send_reply(request, b"\x02\x03\x04", 0, last=True)
            elif mode == "ignore":
                engine.ignore_request(request)
            else:
                s.pending_request = request

        engine.request_handler = on_request
        s.call(engine.receive_requests())
        s.run(None)
        if mode == "cancel_later":
            s.call(engine.get_local_node())
            with pytest.raises(AcnetError, match="Request was cancelled"):
                engine.send_reply(s.pending_request, b"", 0)
    _close(s)
    return {"seen": s.seen}


def _run_simple(case: dict[str, Any], s: Scripted) -> dict[str, Any]:
    driver = case["input"]["driver"]
    engine = s.engine
    got: dict[str, Any] = {}
    try:
        s.call(engine.connect())
    except AcnetError as exc:
        got["connect"] = exc.status
        s.handle(engine.closed())
        return got
    if driver == "send_message":
        s.call(engine.send_message(0x0A2B, "ECHO", b"ping!"))
        with pytest.raises(AcnetError):
            s.call(engine.send_message(0x0A2B, "FTPMAN", b""))
    elif driver == "desync":
        with pytest.raises(AcnetError) as info:
            s.call(engine.get_local_node())
        got["local_node"] = info.value.status
        got["connected"] = engine.connected
        with pytest.raises(AcnetError):
            s.call(engine.get_default_node())
    elif driver == "sync_lookups":
        got["node"] = s.call(engine.get_node("CLXSRV"))
        got["name"] = s.call(engine.get_name(0x0A2B))
        got["local"] = s.call(engine.get_local_node())
        got["default"] = s.call(engine.get_default_node())
        got["pid"] = s.call(engine.get_task_pid("DPMD"))
        got["stats"] = list(s.call(engine.get_node_stats()))
        with pytest.raises(AcnetError):
            s.call(engine.get_node("NOSUCH"))
        s.call(engine.rename_task("PYTST2"))
        got["renamed"] = engine.name
        s.call(engine.keepalive())
    else:
        got["state"] = {"name": engine.name, "raw_handle": engine.handle}
    _close(s)
    return got


CASES = [c for c in raw_cases("conversation") if c["input"]["driver"] in DRIVERS]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_conversation(case: dict[str, Any]) -> None:
    inp = case["input"]
    driver = inp["driver"]
    name = {"server": inp.get("args", {}).get("name", "")}.get(driver, "PYTEST")
    if driver == "sync_connect_close":
        name = inp["args"]["name"]
    s = Scripted(case, name)
    runner = {"request": _run_request, "server": _run_server}.get(driver, _run_simple)
    got = runner(case, s)
    assert s.sent == _client_frames(case)
    results = case["expect"]["results"]
    steps: dict[str, Any] = {}
    for r in results:
        steps.setdefault(r["step"], r)  # the first of a repeated step
    if driver == "request":
        if "error" in steps["send_request"]:
            assert got["send_request"]["status"] == steps["send_request"]["error"]["status"]
            assert got["send_request"]["error"] == steps["send_request"]["error"]["type"]
            return
        assert got["send_request"] == steps["send_request"]["return"]
        assert got["replies"] == steps["replies"]["return"]
        assert got["context"] == steps["context"]["return"]
        assert got["connected"] == steps["connected"]["return"]
        assert got["replies_after_close"] == steps["replies_after_close"]["return"]
        if "get_local_node" in steps and "error" in steps["get_local_node"]:
            assert got["get_local_node"]["status"] == steps["get_local_node"]["error"]["status"]
    elif driver == "server":
        expected = []
        for item in steps["seen"]["return"]:
            kind, value = next(iter(item.items()))
            expected.append(
                (kind, value["data_hex"] if kind == "usm" else value["reply_id"])
                if isinstance(value, dict)
                else (kind, value)
            )
        assert s.seen == expected
    elif driver == "sync_connect_close":
        if "error" in steps["connect"]:
            assert got["connect"] == steps["connect"]["error"]["status"]
        else:
            state = steps["state"]["return"]
            assert got["state"] == {"name": state["name"], "raw_handle": state["raw_handle"]}
    elif driver == "sync_lookups":
        returns = [r.get("return") for r in results]
        for key in ("node", "name", "local", "default", "pid"):
            assert got[key] in returns
        assert {"name": got["renamed"]} in returns
