"""The DMQ client engine on a pika I/O thread: blocking, thread-safe calls for DMQBackend.

:class:`ClientDriver` owns the connection (opened lazily, reopened after a loss), the
:class:`~pacsys_dmq.protocol.ClientProtocol` and the callers' waiters. Every engine call
runs on the loop thread; callers block on their waiter's event, and the engine's events
(on the loop thread) fill the waiters or feed subscription handles.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import pika

from pacsys.acnet.status import ERR_QUEFULL, ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.deadline import Deadline
from pacsys.types import WriteResult
from pacsys_dmq.driver import BrokerActions
from pacsys_dmq.loop import AmqpLoop
from pacsys_dmq.protocol import (
    AmqpMessage,
    ClientProtocol,
    Output,
    ReadDone,
    Signer,
    SignerNeeded,
    StreamData,
    StreamEnded,
    StreamReady,
    WritesDone,
)
from pacsys_dmq.protocol.sessions import TIMEOUT_MESSAGE

__all__ = ["ABORT_WAIT", "ClientDriver", "Signed"]

log = logging.getLogger("pacsys_dmq.client")

ABORT_WAIT = 2.0
"""How long a timed-out call waits for the I/O thread to cancel its work."""
CLOSE_JOIN = 3.0
SERVER_DROPPED = (FACILITY_ACNET, ERR_QUEFULL)
"""The status of a reading that stands for stream readings the server dropped."""

Signed = tuple[AmqpMessage, Signer] | str
"""A new write session's signed INIT and signer, or why none could be made."""


class _Read:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: ReadDone | None = None


class SubscriptionSetupTimeout(RuntimeError):
    """The server did not start consuming a subscription's job within the call's timeout."""


LostCallback = Callable[[BaseException | None], None]
"""Told when a started subscription's job ends: its error, or None when it was stopped."""


class _Stream:
    def __init__(self, handle: BufferedSubscriptionHandle, on_end: LostCallback | None) -> None:
        self.handle = handle
        self.on_end = on_end
        self.ready = threading.Event()
        self.setup_error: BaseException | None = None


class _Writes:
    """One write call's waiter; the engine knows the call by this object."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.results: tuple[WriteResult, ...] | None = None


class ClientDriver:
    """Runs a :class:`ClientProtocol` on the I/O thread of a (re)connectable AmqpLoop."""

    def __init__(
        self, engine: ClientProtocol, parameters: Callable[[float], pika.ConnectionParameters]
    ) -> None:
        self.engine = engine
        self._parameters = parameters
        self._connect_lock = threading.Lock()
        self._lock = threading.Lock()
        self._loop: AmqpLoop | None = None
        self._actions: BrokerActions | None = None
        self._shut = False
        self._reads: dict[Hashable, _Read] = {}  # by job; loop thread only
        self._streams: dict[Hashable, _Stream] = {}  # by job; under _lock

    @property
    def loop(self) -> AmqpLoop | None:
        return self._loop

    # --- connection ----------------------------------------------------------------------------

    def connect(self, deadline: float, name: str) -> AmqpLoop:
        """The live loop, connecting first if needed (raises what connecting raises)."""
        with self._connect_lock:
            loop = self._loop
            if loop is not None and loop.alive:
                return loop
            if loop is not None:
                loop.stop(CLOSE_JOIN)  # its last word (on_lost) is out before a new loop starts
            remaining = Deadline(deadline).remaining(0.05)
            engine = self.engine
            actions = BrokerActions(
                lambda: new_loop.connection,
                ready=lambda job: engine.ready(job, time.monotonic()),
                receive=lambda job, message: engine.receive(job, message, time.monotonic()),
                lost=engine.lost,
                on_event=self._on_event,
            )
            new_loop = AmqpLoop(
                self._parameters(remaining),
                name=name,
                tick=lambda now: actions.run(engine.tick(now)),
                on_lost=lambda exc: actions.run(engine.connection_lost(exc)),
            )
            self._actions = actions
            self._shut = False
            new_loop.start(remaining)
            self._loop = new_loop
            return new_loop

    def _run(self, outputs: list[Output]) -> None:
        """Carry out outputs (on the loop thread, or after it is gone)."""
        assert self._actions is not None
        self._actions.run(outputs)

    def _on_event(self, event: Any) -> None:
        """Engine events, on the loop thread: fill waiters, feed handles."""
        if isinstance(event, StreamData):
            with self._lock:
                stream = self._streams.get(event.job)
            if stream is not None:
                reading = event.reading
                if (reading.facility_code, reading.error_code) == SERVER_DROPPED:
                    stream.handle.count_dropped(1)  # at least one; the reading says how many
                stream.handle.deliver(reading)
        elif isinstance(event, ReadDone):
            read = self._reads.pop(event.job, None)
            if read is not None:
                read.outcome = event
                read.done.set()
        elif isinstance(event, WritesDone):
            writes = event.call
            assert isinstance(writes, _Writes)
            writes.results = event.results
            writes.done.set()
        elif isinstance(event, StreamReady):
            with self._lock:
                stream = self._streams.get(event.job)
            if stream is not None:
                stream.ready.set()
        elif isinstance(event, StreamEnded):
            self._stream_ended(event)

    def _stream_ended(self, event: StreamEnded) -> None:
        with self._lock:
            stream = self._streams.pop(event.job, None)
        if stream is None:
            return
        if event.error is not None and not event.started:
            stream.setup_error = event.error
            stream.ready.set()
            if stream.on_end is None:
                stream.handle.mark_stopped()
            return
        if stream.on_end is not None:
            stream.on_end(event.error)  # the subscription decides: resubscribe or end
            return
        if event.error is not None:
            stream.handle.fail(event.error)
        stream.handle.mark_stopped()

    # --- reads ---------------------------------------------------------------------------------

    def read(
        self,
        loop: AmqpLoop,
        init: AmqpMessage,
        drfs: list[str],
        prepared: list[str],
        deadline: float,
    ) -> tuple[ReadDone, bool]:
        """Run a one-shot read until done or ``deadline``; (outcome, timed out)."""
        job = init.reply_to
        assert job is not None
        read = _Read()

        def start() -> None:
            self._reads[job] = read
            self._run(self.engine.start_read(init, drfs, prepared, time.monotonic()))

        def never_started(exc: BaseException) -> None:
            read.outcome = ReadDone(job, (None,) * len(drfs), error=exc)
            read.done.set()

        loop.submit(start, never_started)
        if read.done.wait(Deadline(deadline).remaining()):
            assert read.outcome is not None
            return read.outcome, False
        self._on_loop(loop, lambda: self._run(self.engine.cancel_read(job)))
        outcome = read.outcome or ReadDone(job, (None,) * len(drfs))
        return outcome, True

    # --- streams -------------------------------------------------------------------------------

    def subscribe(
        self,
        loop: AmqpLoop,
        init: AmqpMessage,
        drfs: list[str],
        handle: BufferedSubscriptionHandle,
        deadline: float,
        on_end: LostCallback | None = None,
    ) -> None:
        """Start a subscription and wait until it is consumed (raises on failure).

        Without ``on_end`` a failure stops ``handle`` and a later end fails or stops it;
        with it, neither touches the handle: ``on_end`` hears how the job ended.
        """
        job = init.reply_to
        assert job is not None
        stream = _Stream(handle, on_end)
        with self._lock:
            self._streams[job] = stream

        def never_started(exc: BaseException) -> None:
            stream.setup_error = exc
            stream.ready.set()

        loop.submit(
            lambda: self._run(self.engine.start_stream(init, drfs, time.monotonic())),
            never_started,
        )
        if not stream.ready.wait(Deadline(deadline).remaining()):
            self.stop_stream(job)
            if on_end is None:
                handle.stop()
            raise SubscriptionSetupTimeout("Timeout waiting for subscription setup")
        if stream.setup_error is not None:
            with self._lock:
                self._streams.pop(job, None)
            if on_end is None:
                handle.mark_stopped()
            error = stream.setup_error
            raise ConnectionError(f"Subscription setup failed: {error}") from error

    def stop_stream(self, job: str) -> None:
        """DROP a subscription (its handle is stopped already)."""
        with self._lock:
            self._streams.pop(job, None)
        loop = self._loop
        if loop is not None and loop.alive:
            loop.submit(lambda: self._run(self.engine.stop_stream(job)), lambda exc: None)

    def stream_handles(self) -> list[BufferedSubscriptionHandle]:
        with self._lock:
            return [stream.handle for stream in self._streams.values()]

    # --- writes --------------------------------------------------------------------------------

    def write(
        self,
        loop: AmqpLoop,
        drfs: Sequence[str],
        groups: Mapping[str, Sequence[tuple[int, bytes]]],
        sign: Callable[[str], Signed],
        deadline: float,
    ) -> list[WriteResult]:
        """Run a write call until done or ``deadline``: one result per setting.

        New sessions are signed with ``sign(init_drf)`` on this thread; an exception it
        raises fails those sessions and is raised here, with nothing of the call sent.
        """
        writes = _Writes()

        def start() -> list[str]:
            outputs = self.engine.write(writes, drfs, groups, time.monotonic())
            needed = [o.init_drf for o in outputs if isinstance(o, SignerNeeded)]
            self._run([o for o in outputs if not isinstance(o, SignerNeeded)])
            return needed

        try:
            needed = loop.call(start, Deadline(deadline).remaining(ABORT_WAIT))
        except ConnectionError as exc:  # the loop is gone: nothing was started
            return [WriteResult(drf, FACILITY_ACNET, ERR_RETRY, str(exc)) for drf in drfs]
        except TimeoutError:
            needed = []  # the loop is stuck: start may still run, the cancel below follows it
        if needed:
            signed: dict[str, Signed] = {}
            try:
                for init_drf in needed:
                    signed[init_drf] = sign(init_drf)
            except BaseException as exc:
                failed = {init_drf: str(exc) for init_drf in needed}
                self._on_loop(loop, lambda: self._abandon(writes, failed))
                raise
            loop.submit(
                lambda: self._run(self.engine.sign_sessions(writes, signed, time.monotonic())),
                lambda exc: None,
            )
        if not writes.done.wait(Deadline(deadline).remaining()):
            self._on_loop(loop, lambda: self._run(self.engine.cancel_writes(writes)))
        if writes.results is None:  # not even the cancel ran
            return [WriteResult(drf, FACILITY_ACNET, ERR_TIMEOUT, TIMEOUT_MESSAGE) for drf in drfs]
        return list(writes.results)

    def _abandon(self, writes: _Writes, failed: Mapping[str, Signed]) -> None:
        self._run(self.engine.cancel_writes(writes))
        self._run(self.engine.sign_sessions(writes, failed, time.monotonic()))

    # --- lifecycle -------------------------------------------------------------------------------

    def _on_loop(self, loop: AmqpLoop, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop and wait a little for it (nothing when the loop is gone)."""
        if not loop.alive:
            return
        try:
            loop.call(fn, ABORT_WAIT)
        except Exception as exc:
            log.debug("I/O thread task failed: %s", exc)

    def close(self) -> None:
        """DROP everything, close the connection and join the I/O thread."""
        with self._connect_lock:
            loop = self._loop
        if loop is None:
            return
        self._on_loop(loop, self._shutdown)
        loop.stop(CLOSE_JOIN)
        if not self._shut:  # the loop could not do it: end what is left here
            self._shutdown()

    def _shutdown(self) -> None:
        self._shut = True
        self._run(self.engine.close())
        assert self._actions is not None
        self._actions.close()
