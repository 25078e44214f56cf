"""Both DMQ engines against each other in memory: a topic broker and :class:`ProtocolPair`.

For tests: no sockets, threads or clocks. The pair carries out each engine's outputs on
a :class:`MemoryBroker` (topic exchanges, server-named queues, bindings, auto-delete),
delivers queued messages when :meth:`ProtocolPair.pump` is called, and moves time only
in :meth:`ProtocolPair.advance`. GSS is played by :class:`FakeGss` (HMAC MICs).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import attrs

from pacsys.backends import Backend
from pacsys.drf_utils import ensure_immediate_event, prepare_for_write
from pacsys.errors import AuthenticationError, ReadError
from pacsys.types import Reading, Value, WriteResult
from pacsys_dmq.codec.codec import encode_message
from pacsys_dmq.codec.mapping import value_to_setting
from pacsys_dmq.codec.messages import ReadingRequest, SettingRequest
from pacsys_dmq.codec.routing import INIT_EXCHANGE, INIT_KEY
from pacsys_dmq.codec.signing import FALLBACK_HOST_ADDRESS
from pacsys_dmq.protocol import (
    AmqpMessage,
    ApplySetting,
    ClientProtocol,
    Close,
    Open,
    Output,
    Publish,
    ReadDevices,
    ReadDone,
    ServerProtocol,
    SignerNeeded,
    StartStream,
    StopStream,
    Timing,
    WritesDone,
    build_init,
)

__all__ = ["START_MS", "FakeGss", "MemoryBroker", "ProtocolPair", "counting_ids", "topic_matches"]

START_MS = 1_704_067_200_000
"""Wall-clock milliseconds of the pair's time 0 (2024-01-01T00:00:00Z)."""


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: words split on ``.``, ``*`` is one word, ``#`` zero or more."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), key.split("."))


@attrs.define(eq=False)
class MemoryQueue:
    """A server-named queue of one side's job (``owner`` is ``(side, job)``)."""

    name: str
    owner: tuple[str, Any]
    messages: collections.deque[AmqpMessage] = attrs.field(factory=collections.deque)


class MemoryBroker:
    """Topic exchanges and queues; what a real broker does with the DMQ engines' actions."""

    def __init__(self) -> None:
        self.exchanges: dict[str, list[tuple[MemoryQueue, str]]] = {INIT_EXCHANGE: []}
        self.queues: dict[str, MemoryQueue] = {}
        self._names = itertools.count(1)

    def declare_queue(self, owner: tuple[str, Any]) -> MemoryQueue:
        queue = MemoryQueue(f"amq.gen-{next(self._names)}", owner)
        self.queues[queue.name] = queue
        return queue

    def declare_exchange(self, name: str) -> None:
        self.exchanges.setdefault(name, [])

    def bind(self, queue: MemoryQueue, exchange: str, pattern: str) -> bool:
        """False when the exchange does not exist (the broker would close the channel)."""
        bindings = self.exchanges.get(exchange)
        if bindings is None:
            return False
        bindings.append((queue, pattern))
        return True

    def publish(self, message: AmqpMessage) -> bool:
        """Route to each queue with a matching binding; False for a missing exchange."""
        bindings = self.exchanges.get(message.exchange)
        if bindings is None:
            return False
        routed = {id(q): q for q, p in bindings if topic_matches(p, message.routing_key)}
        for queue in routed.values():
            queue.messages.append(message)
        return True

    def delete_queue(self, queue: MemoryQueue) -> None:
        """The queue and its bindings go; auto-delete exchanges left unbound go too."""
        self.queues.pop(queue.name, None)
        for name, bindings in list(self.exchanges.items()):
            kept = [(q, p) for q, p in bindings if q is not queue]
            if len(kept) != len(bindings) and not kept and not name.startswith("amq."):
                del self.exchanges[name]
            else:
                self.exchanges[name] = kept


class FakeGss:
    """GSS played with HMAC: tokens name a principal, MICs are HMAC-SHA256 under one key."""

    def __init__(self, key: bytes = b"pacsys-dmq-test") -> None:
        self.key = key

    def signer(self, principal: str = "testuser@FNAL.GOV") -> _FakeSigner:
        return _FakeSigner(self.key, f"token:{principal}".encode())

    def accept(self, token: bytes) -> _FakeVerifier:
        if not token.startswith(b"token:"):
            raise AuthenticationError(f"GSS token refused: {token[:20]!r}")
        return _FakeVerifier(self.key)


class _FakeSigner:
    def __init__(self, key: bytes, token: bytes) -> None:
        self._key = key
        self.token = token

    def sign(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()


class _FakeVerifier:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def verify_mic(self, data: bytes, mic: bytes) -> None:
        if not hmac.compare_digest(hmac.new(self._key, data, hashlib.sha256).digest(), mic):
            raise AuthenticationError("MIC does not match")


def counting_ids(prefix: int = 0) -> Callable[[], str]:
    """Deterministic UUID-shaped ids: ``00000000-0000-0000-0000-000000000001``, ..."""
    counter = itertools.count(prefix + 1)
    return lambda: str(uuid.UUID(int=next(counter)))


class ProtocolPair:
    """A :class:`ClientProtocol` and a :class:`ServerProtocol` wired through a MemoryBroker.

    With a ``backend`` the pair serves the server's work from it at once (reads, writes,
    subscriptions fed by its ``emit_reading``); without one, the work events stay in
    :attr:`server_events` for the test to answer. ``strict``: the server checks tokens
    and MICs (see :class:`FakeGss`). Every published message is kept in
    :attr:`published` as ``(side, message)``; :attr:`drop` may discard some in transit.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        strict: bool = True,
        client_timing: Timing | None = None,
        server_timing: Timing | None = None,
        session_ttl: float = 600.0,
        max_sessions: int = 1024,
        read_only: bool = False,
        host_address: bytes = FALLBACK_HOST_ADDRESS,
    ) -> None:
        self.gss = FakeGss()
        self.new_id = counting_ids()
        self.host_address = host_address
        self.client = ClientProtocol(
            host_address=host_address,
            timing=client_timing,
            session_ttl=session_ttl,
            max_sessions=max_sessions,
            new_id=self.new_id,
        )
        self.server = ServerProtocol(
            accept=self.gss.accept if strict else None, read_only=read_only, timing=server_timing
        )
        self.backend = backend
        self.broker = MemoryBroker()
        self.init_queue = self.broker.declare_queue(("init", None))
        self.broker.bind(self.init_queue, INIT_EXCHANGE, INIT_KEY)
        self.now = 0.0
        self.client_events: list[Output] = []
        self.server_events: list[Output] = []
        self.published: list[tuple[str, AmqpMessage]] = []
        self.actions: list[tuple[str, Output]] = []
        self.drop: Callable[[AmqpMessage], bool] = lambda message: False
        self._queues: dict[tuple[str, Any], MemoryQueue] = {}
        self._streams: dict[Any, Any] = {}
        self._stream_inbox: collections.deque[tuple[Any, Reading]] = collections.deque()

    @property
    def time_ms(self) -> int:
        return START_MS + int(self.now * 1000)

    # --- carrying out outputs ------------------------------------------------------------------

    def run(self, side: str, outputs: Sequence[Output]) -> None:
        """Carry out one engine's outputs; consumers of opened queues report ready last."""
        opened: list[Any] = []
        for output in outputs:
            if isinstance(output, Open | Publish | Close):
                self.actions.append((side, output))
            if isinstance(output, Open):
                if self._open(side, output):
                    opened.append(output.job)
            elif isinstance(output, Publish):
                self._publish(side, output)
            elif isinstance(output, Close):
                queue = self._queues.pop((side, output.job), None)
                if queue is not None:
                    self.broker.delete_queue(queue)
            elif side == "client":
                self.client_events.append(output)
            else:
                self._serve(output)
        for job in opened:
            if (side, job) in self._queues:
                self.run(side, self._ready(side, job))

    def _open(self, side: str, action: Open) -> bool:
        queue = self.broker.declare_queue((side, action.job))
        self._queues[(side, action.job)] = queue
        if action.declare_exchange:
            self.broker.declare_exchange(action.exchange)
        for key in action.bindings:
            if not self.broker.bind(queue, action.exchange, key):
                self._lose(side, action.job, "by the broker (404 NOT_FOUND)")
                return False
        return True

    def _publish(self, side: str, output: Publish) -> None:
        if output.job is not None and (side, output.job) not in self._queues:
            return  # the job's channel is gone: the driver drops it
        message = output.message
        self.published.append((side, message))
        if self.drop(message):
            return
        if not self.broker.publish(message) and output.job is not None:
            self._lose(side, output.job, "by the broker (404 NOT_FOUND)")

    def _lose(self, side: str, job: Any, reason: str) -> None:
        queue = self._queues.pop((side, job), None)
        if queue is not None:
            self.broker.delete_queue(queue)
        if side == "client":
            self.run(side, self.client.lost(job, reason))
        else:
            self.run(side, self.server.lost(job))

    def _ready(self, side: str, job: Any) -> list[Output]:
        if side == "client":
            return self.client.ready(job, self.now)
        return self.server.ready(job, self.time_ms)

    def _serve(self, event: Output) -> None:
        """A server event: answered from the backend at once, or kept for the test."""
        backend = self.backend
        if backend is None or not isinstance(
            event, ReadDevices | ApplySetting | StartStream | StopStream
        ):
            self.server_events.append(event)
            return
        server = self.server
        if isinstance(event, ReadDevices):
            try:
                outcome: Any = backend.get_many(list(event.drfs))
            except ReadError as exc:
                outcome = exc.readings
            self.run("server", server.devices_read(event.job, event.indexes, outcome, self.time_ms))
        elif isinstance(event, ApplySetting):
            try:
                result: Any = backend.write(event.drf, event.value)
            except Exception as exc:
                result = exc
            self.run("server", server.setting_applied(event.job, event.seq, result, self.time_ms))
        elif isinstance(event, StartStream):
            job = event.job
            self._streams[job] = backend.subscribe(
                list(event.drfs), callback=lambda r, _h: self._stream_inbox.append((job, r))
            )
        else:
            handle = self._streams.pop(event.job, None)
            if handle is not None:
                handle.stop()

    # --- moving messages and time ---------------------------------------------------------------

    def pump(self, limit: int = 100_000) -> int:
        """Deliver every queued message (and backend stream reading) until all is quiet."""
        delivered = 0
        while delivered < limit:
            if self._stream_inbox:
                job, reading = self._stream_inbox.popleft()
                self.run("server", self.server.stream_reading(job, reading, self.time_ms))
                delivered += 1
                continue
            queue = next((q for q in self.broker.queues.values() if q.messages), None)
            if queue is None:
                return delivered
            message = queue.messages.popleft()
            delivered += 1
            side, job = queue.owner
            if side == "init":
                self.run("server", self.server.receive_init(message, self.now, self.time_ms))
            elif side == "server":
                self.run("server", self.server.receive(job, message, self.now, self.time_ms))
            else:
                self.run("client", self.client.receive(job, message, self.now))
        raise AssertionError(f"still delivering after {limit} messages")

    def advance(self, seconds: float, step: float = 0.5) -> None:
        """Let ``seconds`` pass: both engines tick every ``step`` and messages flow."""
        end = self.now + seconds
        while self.now < end:
            self.now = min(self.now + step, end)
            self.run("client", self.client.tick(self.now))
            self.run("server", self.server.tick(self.now))
            self.pump()

    # --- what a client backend does, without threads ----------------------------------------------

    def read(self, drfs: list[str], *, signer: Any = None) -> str:
        """Start a one-shot read; its job id (its ReadDone comes with :meth:`pump`)."""
        prepared = [ensure_immediate_event(drf) for drf in drfs]
        init = self.init(encode_message(ReadingRequest(tuple(prepared))), signer)
        self.run("client", self.client.start_read(init, drfs, prepared, self.now))
        return _job_of(init)

    def get_many(self, drfs: list[str]) -> ReadDone:
        """A whole one-shot read: its ReadDone."""
        job = self.read(drfs)
        self.pump()
        return self.event(ReadDone, job)

    def subscribe(self, drfs: list[str]) -> str:
        init = self.init(encode_message(ReadingRequest(tuple(drfs))))
        self.run("client", self.client.start_stream(init, drfs, self.now))
        return _job_of(init)

    def write(self, settings: list[tuple[str, Value]], *, sign: bool = True) -> Hashable:
        """Start a write call (its key); new sessions are signed at once unless not ``sign``."""
        call = object()
        drfs = [drf for drf, _ in settings]
        groups: dict[str, list[tuple[int, bytes]]] = {}
        for index, (drf, value) in enumerate(settings):
            body = encode_message(value_to_setting(value, time_ms=self.time_ms))
            groups.setdefault(prepare_for_write(drf), []).append((index, body))
        outputs = self.client.write(call, drfs, groups, self.now)
        needed = [o.init_drf for o in outputs if isinstance(o, SignerNeeded)]
        self.run("client", [o for o in outputs if not isinstance(o, SignerNeeded)])
        if needed and sign:
            self.sign_sessions(call, needed)
        return call

    def sign_sessions(self, call: Hashable, init_drfs: list[str]) -> None:
        signed = {}
        for init_drf in init_drfs:
            signer = self.gss.signer()
            body = encode_message(SettingRequest((init_drf,)))
            signed[init_drf] = (self.init(body, signer), signer)
        self.run("client", self.client.sign_sessions(call, signed, self.now))

    def write_many(self, settings: list[tuple[str, Value]]) -> tuple[WriteResult, ...]:
        call = self.write(settings)
        self.pump()
        return self.event(WritesDone, call).results

    def init(self, body: bytes, signer: Any = None) -> AmqpMessage:
        """A signed INIT with deterministic exchange and message ids."""
        signer = signer or self.gss.signer()
        return build_init(
            body,
            signer,
            self.host_address,
            exchange=self.new_id(),
            message_id=self.new_id(),
        )

    def event(self, kind: type[Any], key: Hashable) -> Any:
        """The client event of type ``kind`` for job or call ``key`` (AssertionError if none)."""
        for event in self.client_events:
            if type(event) is kind and getattr(event, "job", getattr(event, "call", None)) == key:
                return event
        raise AssertionError(f"no {kind.__name__} for {key!r} in {self.client_events}")

    def events(self, kind: type[Any], key: Hashable | None = None) -> list[Any]:
        """Every client event of type ``kind`` (for job ``key``, when given)."""
        return [
            e
            for e in self.client_events
            if type(e) is kind and (key is None or getattr(e, "job", None) == key)
        ]

    def sent(self, side: str, routing_key: str | None = None) -> list[AmqpMessage]:
        """Messages ``side`` published (with ``routing_key``, when given), in order."""
        return [
            m
            for s, m in self.published
            if s == side and (routing_key is None or m.routing_key == routing_key)
        ]


def _job_of(init: AmqpMessage) -> str:
    assert init.reply_to is not None
    return init.reply_to
