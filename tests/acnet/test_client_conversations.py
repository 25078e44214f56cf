"""The protocol clients' conversations of the vectors (RETDAT, GETS32, FTPMAN, UDP, DPM over
ACNET), replayed in memory: the sync API runs on a MemoryConnection whose peer answers the
i-th command with the vector's i-th response. Every command must equal the transcript's
byte for byte, and every API result the vector's. No sockets, no threads."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pacsys.acnet.errors import AcnetError
from pacsys_acnet import ftp as ftp_module
from pacsys_acnet.dpm_acnet import DPMAcnet
from pacsys_acnet.ftp import FTPClient
from pacsys_acnet.gets32 import Gets32Client
from pacsys_acnet.memory import MemoryConnection
from pacsys_acnet.retdat import RetdatClient

from .scripted import ScriptedDaemon, client_frames, masked
from .vectors import ftp_device, raw_cases, read_device


def _values(reply: Any) -> list[dict[str, Any]]:
    return [{"status": v.status, "data_hex": v.data.hex()} for v in reply.values]


def _retdat(conn: MemoryConnection, args: dict[str, Any]) -> dict[str, Any]:
    devices = [read_device(d) for d in args["devices"]]
    client = RetdatClient(conn)
    with client.stream(args["node"], devices, ftd=args.get("ftd", 0)) as stream:
        batches = list(itertools.islice(stream.readings(timeout=3.0), args["batches"]))
    return {"stream": [{"values": _values(b), "acnet_status": b.acnet_status} for b in batches]}


def _gets32(conn: MemoryConnection, args: dict[str, Any]) -> dict[str, Any]:
    devices = [read_device(d) for d in args["devices"]]
    client = Gets32Client(conn)
    with client.stream(args["node"], devices, event=args["event"]) as stream:
        batches = list(itertools.islice(stream.readings(timeout=3.0), args["batches"]))
    return {
        "stream": [
            {"header": b.header._asdict(), "values": _values(b), "acnet_status": b.acnet_status}
            for b in batches
        ]
    }


def _ftp(conn: MemoryConnection, args: dict[str, Any]) -> dict[str, Any]:
    devices = [ftp_device(d) for d in args["devices"]]
    client = FTPClient(conn)
    node, mode = args["node"], args["mode"]
    if mode == "class_codes":
        many = client.get_class_codes_many(node, devices)
        one = client.get_class_codes(node, devices[0])
        return {
            "get_class_codes_many": [c._asdict() for c in many],
            "get_class_codes": one._asdict(),
        }
    if mode == "setup_rejected":
        with pytest.raises(AcnetError) as info:
            client.start_continuous(node, devices, args["rate_hz"])
        return {"start_continuous": {"error": info.value.status}}
    if mode == "continuous":
        stream = client.start_continuous(node, devices, args["rate_hz"], args["return_period"])
        batches = list(itertools.islice(stream.readings(timeout=1.0), args["batches"]))
        stream.stop()
        return {
            "start_continuous": {
                "setup_statuses": stream.setup_statuses,
                "batches": [
                    {str(k): [list(p) for p in v] for k, v in batch.items()} for batch in batches
                ],
                "stopped": stream.stopped,
            }
        }
    snap = client.start_snapshot(
        node,
        devices,
        args["rate_hz"],
        num_points=args["num_points"],
        snap_class_code=args["snap_class_code"],
    )
    result = {
        "setup_errors": list(snap.setup_reply.per_device_errors),
        "wait": snap.wait(5.0),
        "state": snap.state.name,
        "points": [list(p) for p in snap.retrieve(0, timeout=3.0)],
        "points_page2": [list(p) for p in snap.retrieve(0, timeout=3.0)],
    }
    snap.cancel()
    return {"start_snapshot": result}


def _udp(conn: MemoryConnection, args: dict[str, Any]) -> dict[str, Any]:
    got: dict[str, Any] = {"state": {"name": conn.handle}}
    replies: list[Any] = []
    context = conn.send_request(
        0x0A2B, "ECHO", bytes.fromhex(args.get("data_hex", "6869")), replies.append, True, 0
    )
    got["send_request"] = {"request_id": context.request_id}
    got["replies"] = [
        {
            "request_id": r.request_id, "status": r.status, "last": r.last,
            "data_hex": r.data.hex(), "server": r.server, "client": r.client,
            "server_task_name": r.server_task_name, "flags": r.flags,
        }
        for r in replies
    ]  # fmt: skip
    if args.get("cancel"):
        context.cancel()
    return got


def _dpm(daemon: ScriptedDaemon) -> dict[str, Any]:
    client = DPMAcnet(dpm_node="DPM01", connection=MemoryConnection(daemon))
    client.connect()
    got: dict[str, Any] = {"list_id": client.list_id}
    client.add_entry(1, "M:OUTTMP@p,1000")
    client.start()
    readings = list(itertools.islice(client.readings(timeout=3.0), 2))
    got["reading"] = [vars(r) for r in readings]
    client.stop()
    client.remove_entry(1)
    client.clear_list()
    client.close()
    return got


RUNNERS = {"retdat": _retdat, "gets32": _gets32, "ftp": _ftp, "udp": _udp}
CASES = [c for c in raw_cases("conversation") if c["input"]["driver"] in {*RUNNERS, "dpm"}]


@pytest.fixture
def fresh_pool_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pool names as in a fresh process: FTP002 and SNP002 first."""
    monkeypatch.setattr(ftp_module, "_ftp_counter", itertools.count(1))
    monkeypatch.setattr(ftp_module, "_snap_counter", itertools.count(1))


@pytest.mark.usefixtures("fresh_pool_names")
@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_conversation(case: dict[str, Any]) -> None:
    inp = case["input"]
    args = inp.get("args", {})
    daemon = ScriptedDaemon(case)
    if inp["driver"] == "dpm":
        got = _dpm(daemon)
    else:
        name = args.get("name", "PYUDP") if inp["driver"] == "udp" else "PYTEST"
        conn = MemoryConnection(daemon, name, udp=daemon.udp)
        conn.connect()
        got = RUNNERS[inp["driver"]](conn, args)
        conn.close()
    assert masked(case, daemon.sent) == client_frames(case)
    expected: dict[str, Any] = {}
    for result in case["expect"]["results"]:
        if "error" in result:
            expected[result["step"]] = {"error": result["error"]["status"]}
        elif result["return"] is None:
            continue  # connect(), close(), add_entry(), ...: nothing to compare
        elif result["step"] == "reading":
            expected.setdefault("reading", []).append(result["return"])
        else:
            expected[result["step"]] = result["return"]
    assert got == expected
