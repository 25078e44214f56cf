"""The client engine against the emulator's daemon engine, in memory (no sockets, no threads):
tasks and names, lookups, requests routed between client tasks, multiple replies, cancels,
USMs, a task going away, idle timeouts (REQTMO) and PEND heartbeats on a virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pacsys.acnet import status as st
from pacsys.acnet.errors import AcnetError
from pacsys_acnet import constants as c
from pacsys_acnet.codec import commands as cmd
from pacsys_acnet.codec.rad50 import encode
from pacsys_acnet.memory import MemoryConnection
from pacsys_acnet.protocol.daemon import DaemonEngine
from pacsys_acnet.server.memory import MemoryDaemon

LOCAL, DPM06 = 0x0A01, 0x0A06


@pytest.fixture
def daemon() -> MemoryDaemon:
    return MemoryDaemon()


@pytest.fixture
def pair(daemon: MemoryDaemon) -> Iterator[tuple[MemoryConnection, MemoryConnection]]:
    """A requester task and an ECHO task that serves requests."""
    client, server = daemon.connection("PYTEST"), daemon.connection("ECHO")
    client.connect()
    server.connect()
    yield client, server
    client.close()
    server.close()


def _summary(reply: Any) -> tuple[int, int, bool, bytes]:
    return reply.request_id, reply.status, reply.last, reply.data


def test_names_and_lookups(daemon: MemoryDaemon) -> None:
    anonymous = daemon.connection()
    anonymous.connect()
    assert anonymous.handle.startswith("%") and len(anonymous.handle) == 6
    with daemon.connection("PYTEST") as conn:
        assert conn.handle == "PYTEST"
        assert conn.get_node("DPM06") == DPM06
        assert conn.get_name(DPM06) == "DPM06"
        assert conn.get_name(0) == "ACNEMU"
        assert conn.get_local_node() == conn.get_default_node() == LOCAL
        with pytest.raises(AcnetError) as info:
            conn.get_node("NOSUCH")
        assert info.value.status == st.ACNET_NO_NODE
        with pytest.raises(AcnetError) as info:
            conn.get_task_pid("NOSUCH")
        assert info.value.status == st.ACNET_NO_TASK
        with pytest.raises(AcnetError) as info:  # another connection holds the name
            daemon.connection("PYTEST").connect()
        assert info.value.status == st.ACNET_NAME_IN_USE
        with pytest.raises(AcnetError):
            conn.rename_task(anonymous.handle)
        conn.rename_task("PYTST2")
        assert conn.handle == "PYTST2"
        assert conn.get_task_pid("PYTST2") == 0
        daemon.connection("PYTEST").connect()  # the old name is free again
    anonymous.close()


def test_single_and_multiple_replies_between_tasks(
    pair: tuple[MemoryConnection, MemoryConnection],
) -> None:
    client, server = pair
    seen: list[Any] = []

    def echo(request: Any) -> None:
        seen.append(request)
        if request.multiple_reply:
            server.send_reply(request, request.data, last=False)
            server.send_reply(request, b"end", last=True)
        else:
            server.send_reply(request, request.data + b"!")

    server.handle_requests(echo)
    replies: list[Any] = []
    context = client.request_single(0, "ECHO", b"hi", replies.append)
    assert [_summary(r) for r in replies] == [(context.request_id, 0, True, b"hi!\0")]  # padded
    assert seen[0].server_task_name == "ECHO" and seen[0].client == LOCAL
    replies.clear()
    context = client.request_multiple(LOCAL, "ECHO", b"ab", replies.append)
    assert [_summary(r) for r in replies] == [
        (context.request_id, 0, False, b"ab"),
        (context.request_id, st.ACNET_ENDMULT, True, b"end\0"),
    ]
    assert context.cancelled  # finished: nothing left to cancel


def test_no_task_not_receiving_and_unknown_node(
    pair: tuple[MemoryConnection, MemoryConnection],
) -> None:
    client, _ = pair
    replies: list[Any] = []
    client.request_single(0, "NOBODY", b"", replies.append)
    client.request_single(0, "ECHO", b"", replies.append)  # connected, not receiving
    assert [r.status for r in replies] == [st.ACNET_NO_TASK, st.ACNET_NCR]
    with pytest.raises(AcnetError) as info:
        client.request_single(0x0B01, "ECHO", b"", replies.append)
    assert info.value.status == st.ACNET_NO_NODE


def test_cancel_reaches_the_replier(pair: tuple[MemoryConnection, MemoryConnection]) -> None:
    client, server = pair
    requests: list[Any] = []
    cancels: list[Any] = []
    server.handle_requests(requests.append)
    server.handle_cancels(cancels.append)
    replies: list[Any] = []
    context = client.request_multiple(0, "ECHO", b"", replies.append)
    server.send_reply(requests[0], b"1", last=False)
    context.cancel()
    assert [c.reply_id for c in cancels] == [requests[0].reply_id]
    assert requests[0].cancelled
    with pytest.raises(AcnetError, match="Request was cancelled"):
        server.send_reply(requests[0], b"2")
    assert [r.data for r in replies] == [b"1\0"]  # padded to even


def test_replier_going_away_ends_requests(
    pair: tuple[MemoryConnection, MemoryConnection], daemon: MemoryDaemon
) -> None:
    client, server = pair
    server.handle_requests(lambda request: None)
    replies: list[Any] = []
    client.request_multiple(0, "ECHO", b"", replies.append)
    server.close()
    assert [(r.status, r.last) for r in replies] == [(st.ACNET_DISCONNECTED, True)]
    other = daemon.connection("ECHO2")
    other.connect()
    other.handle_requests(lambda request: None)
    client.request_single(0, "ECHO2", b"", replies.append)
    with daemon.connection("ECHO3") as third:
        third.handle_requests(lambda request: None)
        client.request_single(0, "ECHO3", b"", replies.append)
        other.close()  # without DISCONNECT: the transport goes away
    assert [r.status for r in replies[1:]] == [st.ACNET_DISCONNECTED, st.ACNET_DISCONNECTED]


def test_block_requests_ends_the_open_ones(
    pair: tuple[MemoryConnection, MemoryConnection],
) -> None:
    client, server = pair
    server.handle_requests(lambda request: None)
    replies: list[Any] = []
    client.request_multiple(0, "ECHO", b"", replies.append)
    server._call(server._engine.block_requests)
    assert [r.status for r in replies] == [st.ACNET_DISCONNECTED]
    client.request_single(0, "ECHO", b"", replies.append)
    assert replies[-1].status == st.ACNET_NCR


def test_usm(pair: tuple[MemoryConnection, MemoryConnection]) -> None:
    client, server = pair
    messages: list[Any] = []
    server.handle_messages(messages.append)
    client.send_message(0, "ECHO", b"ping!")
    assert [(m.data, m.server_task_name, m.is_message()) for m in messages] == [
        (b"ping!\0", "ECHO", True)
    ]
    with pytest.raises(AcnetError) as info:
        client.send_message(0, "NOBODY", b"")
    assert info.value.status == st.ACNET_NO_TASK


def test_idle_single_request_times_out(
    pair: tuple[MemoryConnection, MemoryConnection], daemon: MemoryDaemon
) -> None:
    client, server = pair
    requests: list[Any] = []
    cancels: list[Any] = []
    server.handle_requests(requests.append)
    server.handle_cancels(cancels.append)
    replies: list[Any] = []
    client.request_single(0, "ECHO", b"", replies.append, timeout=1000)
    daemon.advance(0.999)
    assert replies == []
    daemon.advance(0.002)
    assert [(r.status, r.last, r.data) for r in replies] == [(st.ACNET_REQTMO, True, b"")]
    assert [c.reply_id for c in cancels] == [requests[0].reply_id]


def test_ignored_request_times_out(
    pair: tuple[MemoryConnection, MemoryConnection], daemon: MemoryDaemon
) -> None:
    client, server = pair
    server.handle_requests(server.ignore_request)
    replies: list[Any] = []
    client.request_single(0, "ECHO", b"", replies.append, timeout=500)
    assert replies == []
    daemon.advance(0.5)
    assert [r.status for r in replies] == [st.ACNET_REQTMO]


def test_idle_multiple_request_gets_heartbeats(
    pair: tuple[MemoryConnection, MemoryConnection], daemon: MemoryDaemon
) -> None:
    client, server = pair
    requests: list[Any] = []
    server.handle_requests(requests.append)
    replies: list[Any] = []
    client.request_multiple(0, "ECHO", b"", replies.append, timeout=1000)
    daemon.advance(0.6)
    server.send_reply(requests[0], b"data", last=False)  # activity restarts the idle time
    daemon.advance(0.6)
    assert [r.data for r in replies] == [b"data"]
    daemon.advance(1.5)  # idle since 0.6: heartbeats at 1.6 and 2.6
    assert [(r.status, r.last, r.data) for r in replies[1:]] == [
        (st.ACNET_PEND, False, b""),
        (st.ACNET_PEND, False, b""),
    ]


def test_udp_clients_route_like_tcp(daemon: MemoryDaemon) -> None:
    server = daemon.connection("ECHO", udp=True)
    server.connect()
    server.handle_requests(lambda r: server.send_reply(r, r.data))
    with daemon.connection(udp=True) as client:
        replies: list[Any] = []
        client.request_single(0, "ECHO", b"udp!", replies.append)
        assert [r.data for r in replies] == [b"udp!"]
    server.close()


def test_node_stats_count_traffic(pair: tuple[MemoryConnection, MemoryConnection]) -> None:
    client, server = pair
    server.handle_requests(lambda r: server.send_reply(r, b""))
    server.handle_messages(lambda m: None)
    client.request_single(0, "ECHO", b"", lambda r: None)
    client.send_message(0, "ECHO", b"")
    stats = client.get_node_stats()
    assert (stats.usm_received, stats.usm_sent) == (1, 1)
    assert (stats.requests_sent, stats.requests_received) == (1, 1)
    assert (stats.replies_sent, stats.replies_received) == (1, 1)


# --- the daemon engine's command handling, byte for byte ----------------------------------


def _engine() -> DaemonEngine:
    engine = DaemonEngine({"ACNEMU": LOCAL}, "ACNEMU")
    engine.attach("a", 51234)
    return engine


def _ack(engine: DaemonEngine, payload: bytes) -> bytes:
    engine.receive_command("a", payload, 0.0)
    (out,) = engine.take()
    assert out.kind == "ack"
    return out.payload


def test_commands_before_connect_and_malformed_ones() -> None:
    engine = _engine()
    keepalive = cmd.command(c.CMD_KEEPALIVE, 0, 0)
    assert _ack(engine, keepalive) == cmd.ack(st.ACNET_NOT_CONNECTED)
    assert _ack(engine, cmd.connect(0, 0)) == cmd.ack_connect(0, 1, encode("%51234"))
    assert _ack(engine, keepalive) == cmd.ack(0)
    assert _ack(engine, cmd.command(99, 0, 0)) == cmd.ack(st.ACNET_BUG)
    assert _ack(engine, cmd.command(c.CMD_CANCEL, 0, 0, b"\x01")) == cmd.ack(st.ACNET_IVM)
    assert _ack(engine, b"\0\0\0") == cmd.ack(st.ACNET_IVM)
    cancel = cmd.with_u16(c.CMD_CANCEL, 0, 0, 7)
    assert _ack(engine, cancel) == cmd.ack(st.ACNET_NO_SUCH)
    reply = cmd.send_reply(0, 0, 7, True, 0, b"")
    assert _ack(engine, reply) == cmd.ack_send_reply(st.ACNET_NO_SUCH)
    assert _ack(engine, cmd.command(c.CMD_DISCONNECT, 0, 0)) == cmd.ack(0)
    assert _ack(engine, keepalive) == cmd.ack(st.ACNET_NOT_CONNECTED)


def test_send_request_ack_precedes_the_request_it_forwards() -> None:
    engine = _engine()
    engine.attach("b", 51235)
    _ack(engine, cmd.connect(encode("PYTEST"), 0))
    engine.receive_command("b", cmd.connect(encode("ECHO"), 0), 0.0)
    engine.receive_command("b", cmd.command(c.CMD_RECEIVE_REQUESTS, encode("ECHO"), 0), 0.0)
    engine.take()
    request = cmd.send_request(encode("PYTEST"), 0, encode("ECHO"), 0, True, 1000, b"x")
    engine.receive_command("a", request, 0.0)
    first, second = engine.take()
    assert (first.kind, first.target, first.payload) == ("ack", "a", cmd.ack_send_request(0, 1))
    assert (second.kind, second.target) == ("data", "b")
    # a request packet: flags REQ|MLT, the reply id in the status field, padded payload
    assert (
        second.payload.hex()
        == "03000100" + "0a010a01" + "c01fc05d" + "0100" + "0100" + "1400" + "7800"
    )
