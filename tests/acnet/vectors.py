"""The raw-ACNET conformance vectors and helpers to turn their inputs into objects."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pacsys_acnet.codec.ftp import FTPDevice
from pacsys_acnet.codec.reads import ReadDevice

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "acnet_vectors.json"


@cache
def _data() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def cases(kind: str, op: str | None = None) -> list[Any]:
    """pytest params (id = the case id) of one kind, optionally one ``input.op``."""
    import pytest

    return [
        pytest.param(c, id=c["id"])
        for c in _data()[kind]["cases"]
        if op is None or c["input"].get("op") == op
    ]


def raw_cases(kind: str) -> list[dict[str, Any]]:
    return list(_data()[kind]["cases"])


def read_device(d: dict[str, Any]) -> ReadDevice:
    return ReadDevice(
        d["di"], d["pi"], bytes.fromhex(d["ssdn_hex"]), d["length"], d.get("offset", 0)
    )


def ftp_device(d: dict[str, Any]) -> FTPDevice:
    return FTPDevice(
        d["di"], d["pi"], bytes.fromhex(d["ssdn_hex"]), d.get("offset", 0), d.get("data_length", 2)
    )


def packet_summary(p: Any) -> dict[str, Any]:
    """A packet in the vectors' summary form."""
    out = {
        "class": type(p).__name__,
        "flags": p.flags,
        "status": p.status,
        "server": p.server,
        "client": p.client,
        "server_task": p.server_task,
        "server_task_name": p.server_task_name,
        "client_task_id": p.client_task_id,
        "msg_id": p.id,
        "length": p.length,
        "data_hex": p.data.hex(),
        "server_trunk": p.server_trunk,
        "server_node": p.server_node,
        "client_trunk": p.client_trunk,
        "client_node": p.client_node,
        "is_request": p.is_request(),
        "is_reply": p.is_reply(),
        "is_message": p.is_message(),
        "is_cancel": p.is_cancel(),
    }
    if p.is_reply():
        out.update(request_id=p.request_id, last=p.last, success=p.success())
    if p.is_request():
        out.update(
            reply_id=p.reply_id, multiple_reply=p.multiple_reply, is_multicast=p.is_multicast()
        )
    if p.is_cancel():
        out.update(reply_id=p.reply_id)
    return out


def error_type(expected: dict[str, Any]) -> tuple[type[BaseException], ...]:
    """The exception classes an expected error allows (struct.error may be a ValueError)."""
    import struct

    from pacsys.acnet import errors

    name = expected["type"]
    if name == "struct.error":
        return (struct.error, ValueError, OverflowError)
    if name in ("ValueError", "TypeError"):
        return ({"ValueError": ValueError, "TypeError": TypeError}[name],)
    return (getattr(errors, name),)
