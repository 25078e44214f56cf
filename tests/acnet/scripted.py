"""A scripted acnetd for :class:`~pacsys_acnet.memory.MemoryConnection`: it answers the i-th
command with the conversation vector's i-th response, and records what the client sent."""

from __future__ import annotations

from typing import Any

from pacsys_acnet import constants as c
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.memory import MemoryConnection


class ScriptedDaemon:
    """The daemon side of one conversation vector (TCP frames or UDP datagrams)."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.udp = case["input"]["transport"] == "udp"
        script = case["input"]["script"]
        self.responses: list[Any] = script["responses"]
        self.close_after: int | None = script.get("close_after")
        self.sent: list[str] = []
        self.closed = False

    def open(self, connection: MemoryConnection) -> tuple[int, int]:
        return (4242, 50000) if self.udp else (0, 0)

    def close(self, connection: MemoryConnection) -> None:
        self.closed = True

    def command(self, connection: MemoryConnection, raw: bytes) -> None:
        index = len(self.sent)
        self.sent.append(raw.hex() if self.udp else frame(c.ACNETD_COMMAND, raw).hex())
        answers = self.responses[index] if index < len(self.responses) else []
        for answer in answers:
            if self.udp:
                feed = connection.feed_ack if answer["to"] == "cmd" else connection.feed_data
                feed(bytes.fromhex(answer["hex"]))
            else:
                self._write(connection, bytes.fromhex("".join(answer)))
        if self.close_after is not None and index >= self.close_after:
            connection.feed_lost()

    @staticmethod
    def _write(connection: MemoryConnection, data: bytes) -> None:
        decoder = FrameDecoder()
        for kind, payload in decoder.feed(data):
            if kind == c.ACNETD_ACK:
                connection.feed_ack(payload)
            elif kind == c.ACNETD_DATA:
                connection.feed_data(payload)
        if decoder.error is not None:
            connection.feed_lost()


def client_frames(case: dict[str, Any]) -> list[str]:
    """What the client must send, in order (without the TCP handshake; UDP CONNECT masked)."""
    out = []
    for entry in case["expect"]["transcript"]:
        if entry["dir"] != "c2d" or "hex" not in entry or entry.get("note") == "handshake":
            continue
        out.append(entry["hex"])
    return out


def masked(case: dict[str, Any], sent: list[str]) -> list[str]:
    """``sent`` with the fields the vector masks (UDP CONNECT's pid and port) zeroed."""
    out = list(sent)
    entries = [
        e
        for e in case["expect"]["transcript"]
        if e["dir"] == "c2d" and "hex" in e and e.get("note") != "handshake"
    ]
    for i, entry in enumerate(entries[: len(out)]):
        raw = bytearray.fromhex(out[i])
        for offset, size, _ in entry.get("masked", []):
            raw[offset : offset + size] = bytes(size)
        out[i] = raw.hex()
    return out
