"""A client too slow for its stream loses readings only visibly (docs/protocols/grpc.md §7.2).

The supervised server never blocks the backend for a slow client: past ``stream_buffer``
queued readings it drops new ones, counts them (``dropped_readings``) and, before the next
reading it sends, tells the client with a (1, -7) status reply on every slot, which the
client counts in ``handle.dropped`` and delivers as an error Reading.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from pacsys.testing import FakeBackend
from pacsys.types import DispatchMode, Reading, ValueType
from pacsys_grpc import codec
from pacsys_grpc._proto.services import daq_pb2
from pacsys_grpc.supervised.core import STOPPED, StreamSession

DRF = "G:AMANDA@p,1000"
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)
PAYLOAD = np.arange(4096, dtype=np.float64)  # big replies fill the flow-control windows fast


def _reading(drf: str = DRF, value: float = 1.0) -> Reading:
    return Reading(drf=drf, value_type=ValueType.SCALAR, value=value)


class _Handle:
    """What a session looks at on a backend subscription handle."""

    def __init__(self) -> None:
        self.dropped = 0
        self.exc: BaseException | None = None


# --- the shared stream logic -------------------------------------------------------------


def test_session_drops_past_its_limit_and_counts() -> None:
    losses: list[int] = []
    session = StreamSession([DRF], limit=2, on_loss=losses.append)
    assert session.admit(_reading(), 1)
    assert not session.admit(_reading(), 2)
    assert session.admit(STOPPED, 2)  # only readings are ever dropped
    assert losses == [1]


def test_session_announces_a_loss_on_every_slot_before_the_next_reading() -> None:
    session = StreamSession([DRF, "M:OUTTMP@p,1000", DRF], limit=1)
    session.admit(_reading(), 5)
    replies = session.replies(_reading(), _Handle())
    assert isinstance(replies, list)
    notices = [r for r in replies if r.WhichOneof("value") == "status"]
    assert [r.index for r in notices] == [0, 1, 2]
    assert {(r.status.facility_code, r.status.status_code) for r in notices} == {(1, -7)}
    assert notices[0].status.message == codec.loss_notice_text(1)
    assert [r.index for r in replies if r.WhichOneof("value") == "readings"] == [0, 2]
    again = session.replies(_reading(), _Handle())  # told once per loss
    assert isinstance(again, list) and [r.WhichOneof("value") for r in again] == ["readings"] * 2


def test_session_counts_what_the_backend_handle_dropped() -> None:
    losses: list[int] = []
    session = StreamSession([DRF], on_loss=losses.append)
    handle = _Handle()
    handle.dropped = 3
    first = session.replies(_reading(), handle)
    second = session.replies(_reading(), handle)
    assert isinstance(first, list) and first[0].status.status_code == -7
    assert first[0].status.message == codec.loss_notice_text(3)
    assert isinstance(second, list) and len(second) == 1
    assert losses == [3]


def test_client_decodes_the_notice_as_an_error_reading() -> None:
    (notice,) = codec.loss_notice_replies([0], 4)
    wire = daq_pb2.ReadingReply.FromString(notice.SerializeToString())
    (reading,) = codec.readings_from_reply(DRF, wire, now=NOW)
    assert codec.is_loss_notice(reading) and not reading.ok
    assert reading.message == codec.loss_notice_text(4)


# --- over loopback -------------------------------------------------------------------------


def test_slow_client_is_told_and_counts_over_loopback(
    fake: FakeBackend, serve: Any, client_for: Any
) -> None:
    """The client's stream thread blocks in its callback until the server has dropped."""
    server = serve(stream_buffer=4)
    client = client_for(server, dispatch_mode=DispatchMode.DIRECT)
    release = threading.Event()
    notice = threading.Event()
    seen: list[Reading] = []

    def on_reading(reading: Reading, handle: Any) -> None:
        seen.append(reading)
        if codec.is_loss_notice(reading):
            notice.set()
        release.wait(60)  # a slow consumer: holds the stream until told to go on

    handle = client.subscribe([DRF], callback=on_reading)
    try:
        assert fake.wait_for_subscription(DRF, timeout=10)
        deadline = time.monotonic() + 60
        while server.dropped_readings == 0:  # until the server's queue overflows
            assert time.monotonic() < deadline, "server never dropped a reading"
            fake.emit_reading(DRF, PAYLOAD, ValueType.SCALAR_ARRAY)
        release.set()
        fake.emit_reading(DRF, PAYLOAD, ValueType.SCALAR_ARRAY)  # the notice goes before it
        assert notice.wait(30)
    finally:
        release.set()
    assert handle.dropped >= 1
    assert server.dropped_readings >= 1
    (told,) = [r for r in seen if codec.is_loss_notice(r)][:1]
    assert told.drf == DRF and "dropped" in (told.message or "")
    handle.stop()


def test_stream_buffer_is_checked(fake: FakeBackend) -> None:
    from pacsys_grpc.supervised import SupervisedServer

    with pytest.raises(ValueError, match="stream_buffer"):
        SupervisedServer(fake, port=0, stream_buffer=0)
