"""pika as amqp.py uses it: pipelined set-up frames equal pika's own; pinned internals."""

from __future__ import annotations

from typing import Any

import pika.callback
import pika.channel
import pika.frame
import pika.spec

from pacsys_dmq.amqp import (
    ignore_ok,
    pipeline_bind,
    pipeline_declare_queue,
    pipeline_declare_topic_exchange,
)


class RecordingConnection:
    """Just enough of a pika connection for a Channel: records what would be sent."""

    def __init__(self) -> None:
        self.callbacks = pika.callback.CallbackManager()
        self.sent: list[tuple[int, str, bytes]] = []

    def _send_method(self, channel_number: int, method: Any, content: Any = None) -> None:
        self.sent.append((channel_number, method.NAME, b"".join(method.encode())))


def open_channel() -> tuple[RecordingConnection, pika.channel.Channel]:
    connection = RecordingConnection()
    channel = pika.channel.Channel(connection, 7, None)  # type: ignore[arg-type]
    channel._set_state(channel.OPEN)
    return connection, channel


def reply(channel: pika.channel.Channel, connection: RecordingConnection, method: Any) -> None:
    connection.callbacks.process(
        channel.channel_number, method, connection, pika.frame.Method(7, method)
    )


def test_frames_equal_pikas_own_and_go_out_without_waiting() -> None:
    exchange = "0e9d8c7b-6a59-4837-a625-1403f2e1d0c9"
    queue = "amq.gen-abc"

    # Reference: pika's public API, each method sent only after the previous -Ok.
    ref_conn, ref = open_channel()
    ref.queue_declare("", exclusive=True, auto_delete=True, callback=ignore_ok)
    ref.exchange_declare(exchange, exchange_type="topic", auto_delete=True, callback=ignore_ok)
    assert len(ref_conn.sent) == 1  # pika holds the exchange.declare back
    reply(ref, ref_conn, pika.spec.Queue.DeclareOk(queue, 0, 0))
    ref.queue_bind(queue, exchange, "R.#", callback=ignore_ok)
    reply(ref, ref_conn, pika.spec.Exchange.DeclareOk())
    reply(ref, ref_conn, pika.spec.Queue.BindOk())

    conn, channel = open_channel()
    names: list[str] = []
    pipeline_declare_queue(channel, lambda frame: names.append(frame.method.queue))
    pipeline_declare_topic_exchange(channel, exchange)
    pipeline_bind(channel, queue, exchange, "R.#")
    assert len(conn.sent) == 3  # all three before any -Ok
    assert conn.sent == ref_conn.sent

    reply(channel, conn, pika.spec.Queue.DeclareOk(queue, 0, 0))
    assert names == [queue]


def test_each_ok_is_consumed_once() -> None:
    conn, channel = open_channel()
    pipeline_bind(channel, "q", "x", "H")
    pipeline_bind(channel, "q", "x", "D")
    reply(channel, conn, pika.spec.Queue.BindOk())
    assert conn.callbacks.pending(7, pika.spec.Queue.BindOk)
    reply(channel, conn, pika.spec.Queue.BindOk())
    assert not conn.callbacks.pending(7, pika.spec.Queue.BindOk)


def test_pika_has_an_upper_bound_and_the_suite_runs_inside_it() -> None:
    """amqp.py relies on pika internals: pacsys-dmq caps pika at versions checked here."""
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement

    [pika_req] = [r for r in map(Requirement, requires("pacsys-dmq") or []) if r.name == "pika"]
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in pika_req.specifier)
    assert pika_req.specifier.contains(version("pika")), (version("pika"), str(pika_req))


def test_pika_internals_used_by_amqp_exist() -> None:
    """What amqp.py reaches for (besides the pipelining checked above) is still there."""
    from pika.adapters.blocking_connection import BlockingConnection

    _, channel = open_channel()
    assert isinstance(channel._cancelled, set)
    assert callable(channel._set_cookie) and callable(channel._get_cookie)
    assert "_impl" in BlockingConnection.__init__.__code__.co_names


def test_the_write_buffer_size_unsent_bytes_reads_is_there() -> None:
    import pika.adapters.select_connection

    from pacsys_dmq.amqp import unsent_bytes

    assert callable(pika.adapters.select_connection.SelectConnection._get_write_buffer_size)

    class Gone:
        _impl = None  # a connection without its transport: nothing counts as unsent

    assert unsent_bytes(Gone()) == 0  # type: ignore[arg-type]
