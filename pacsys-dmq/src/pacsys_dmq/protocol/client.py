"""The client role of the DMQ protocol, free of I/O: :class:`ClientProtocol`.

One object holds the state of every job on one broker connection: one-shot reads,
subscriptions, and write sessions with their cache (reuse per init DRF, idle TTL, a size
limit with least-recently-used eviction). Each method takes the driver's monotonic
``now`` where time matters and returns the outputs to carry out, in order. Not
thread-safe: a driver calls it from one thread (or one event loop) only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence

from pacsys_dmq.protocol.client_jobs import ClientJob, ReadJob, StreamJob
from pacsys_dmq.protocol.events import AmqpMessage, Output, SignerNeeded
from pacsys_dmq.protocol.liveness import Timing
from pacsys_dmq.protocol.sessions import PendingWrite, WriteCall, WriteSession
from pacsys_dmq.protocol.signing import Signer, new_id

__all__ = ["CLOSED_BY_BACKEND", "ClientProtocol"]

CLOSED_BY_BACKEND = "Connection closed: backend closed"


class ClientProtocol:
    """Every client job of one connection; inputs in, outputs (actions and events) out.

    ``host_address`` is the 4-byte header every SETTING carries; ``timing`` the ``H``
    period and the ``Q`` silence that ends subscriptions and sessions; ``session_ttl``
    the idle time after which a write session closes; ``max_sessions`` the most write
    sessions open or opening at once. ``new_id`` makes SETTING message ids.
    """

    def __init__(
        self,
        *,
        host_address: bytes,
        timing: Timing | None = None,
        session_ttl: float = 600.0,
        max_sessions: int = 1024,
        new_id: Callable[[], str] = new_id,
    ) -> None:
        self.host_address = host_address
        self.timing = timing or Timing()
        self.session_ttl = session_ttl
        self.max_sessions = max_sessions
        self.new_id = new_id
        self.out: list[Output] = []
        self.jobs: dict[Hashable, ClientJob] = {}
        """Jobs with a mailbox, by exchange (= job id)."""
        self.sessions: dict[str, WriteSession] = {}
        """Write sessions by init DRF, unsigned ones included."""
        self.calls: dict[Hashable, WriteCall] = {}
        """Write calls still waiting for results."""

    def _take(self) -> list[Output]:
        out = self.out[:]
        self.out.clear()
        return out

    def forget(self, job: ClientJob) -> None:
        """A job ended (called by the job itself)."""
        if self.jobs.get(job.id) is job:
            del self.jobs[job.id]
        if isinstance(job, WriteSession) and self.sessions.get(job.init_drf) is job:
            del self.sessions[job.init_drf]

    # --- reads and subscriptions -----------------------------------------------------------

    def start_read(
        self, init: AmqpMessage, drfs: list[str], prepared: list[str], now: float
    ) -> list[Output]:
        """A one-shot read of ``drfs`` whose INIT asks for ``prepared`` (same order)."""
        job = ReadJob(self, self.timing, now, drfs, prepared)
        self._open(job, init, now)
        return self._take()

    def cancel_read(self, job_id: Hashable) -> list[Output]:
        """The caller stopped waiting: report what came so far and DROP the job."""
        job = self.jobs.get(job_id)
        if isinstance(job, ReadJob):
            job.finish(error=TimeoutError("Request timeout"))
        return self._take()

    def start_stream(self, init: AmqpMessage, drfs: list[str], now: float) -> list[Output]:
        """A subscription to ``drfs`` (its INIT asks for them unchanged)."""
        self._open(StreamJob(self, self.timing, now, drfs), init, now)
        return self._take()

    def stop_stream(self, job_id: Hashable) -> list[Output]:
        job = self.jobs.get(job_id)
        if isinstance(job, StreamJob):
            job.end(None)
        return self._take()

    def _open(self, job: ClientJob, init: AmqpMessage, now: float) -> None:
        if init.reply_to in self.jobs:
            raise ValueError(f"a job on exchange {init.reply_to!r} exists already")
        job.open(init, now)
        self.jobs[job.id] = job

    # --- writes ------------------------------------------------------------------------------

    def write(
        self,
        call: Hashable,
        drfs: Sequence[str],
        groups: Mapping[str, Sequence[tuple[int, bytes]]],
        now: float,
    ) -> list[Output]:
        """Write call ``call``: ``groups`` maps each init DRF to its (index, SETTING body).

        Each group goes to the session of its init DRF, or to a new one, which asks for
        its signed INIT with :class:`SignerNeeded`: then nothing of the call is sent until
        :meth:`sign_sessions`. The results come as one :class:`WritesDone`.
        """
        record = WriteCall(call, drfs, self)
        targets: list[tuple[WriteSession, list[PendingWrite]]] = []
        for init_drf, items in groups.items():
            writes = [PendingWrite(record, index, body) for index, body in items]
            session = self.sessions.get(init_drf)
            if session is None:
                session = self._new_session(init_drf, now, keep=[t for t, _ in targets])
                if session is None:
                    for write in writes:
                        write.fail("Too many active write sessions")
                    continue
                record.held = True
            targets.append((session, writes))
        for session, writes in targets:  # once held or not is known
            record.sessions.append(session)
            session.enqueue(writes, now)
        if record.missing:
            self.calls[call] = record
        return self._take()

    def _new_session(
        self, init_drf: str, now: float, keep: list[WriteSession]
    ) -> WriteSession | None:
        """A new unsigned session, evicting the least recently used idle one (not in
        ``keep``) at the limit."""
        if len(self.sessions) >= self.max_sessions:
            idle = [s for s in self.sessions.values() if not s.busy and s not in keep]
            victim = min(idle, key=lambda s: s.last_used, default=None)
            if victim is None:
                return None
            victim.close("Session closed: evicted (session limit)")
        session = WriteSession(
            self, self.timing, now, init_drf, self.session_ttl, self.host_address, self.new_id
        )
        self.sessions[init_drf] = session
        self.out.append(SignerNeeded(init_drf))
        return session

    def sign_sessions(
        self,
        call: Hashable,
        signed: Mapping[str, tuple[AmqpMessage, Signer] | str],
        now: float,
    ) -> list[Output]:
        """Answers to ``call``'s :class:`SignerNeeded`: per init DRF its signed INIT and
        signer, or why none could be made (that session's settings fail with the text).
        Then the call's settings go out."""
        for init_drf, outcome in signed.items():
            session = self.sessions.get(init_drf)
            if session is None or session.opened:
                continue  # gone meanwhile, or signed by another call
            if isinstance(outcome, str):
                session.close(outcome, drop=False)
            else:
                init, session.signer = outcome
                self._open(session, init, now)
        record = self.calls.get(call)
        if record is not None and record.held:
            record.held = False
            for session in record.sessions:
                session.flush()
        return self._take()

    def cancel_writes(self, call: Hashable) -> list[Output]:
        """The caller stopped waiting (or could not sign): unanswered settings time out,
        unsent ones are dropped, and a session left with nothing to do is closed."""
        record = self.calls.pop(call, None)
        if record is not None:
            record.expire()
            for session in record.sessions:
                # A call still held sent nothing: no reason to doubt its open sessions.
                session.abort(record, close_idle=not (record.held and session.opened))
        return self._take()

    # --- what the driver reports ---------------------------------------------------------------

    def ready(self, job_id: Hashable, now: float) -> list[Output]:
        """``job``'s INIT is out and its queue consumed."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.ready(now)
        return self._take()

    def receive(self, job_id: Hashable, message: AmqpMessage, now: float) -> list[Output]:
        """A delivery from ``job``'s queue (late ones for ended jobs are ignored)."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.receive(message, now)
        return self._take()

    def lost(self, job_id: Hashable, reason: str) -> list[Output]:
        """The broker closed ``job``'s channel (or it could not be opened)."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.lost(ConnectionError(f"Channel closed: {reason}"))
        return self._take()

    def connection_lost(self, error: BaseException) -> list[Output]:
        """The connection died: every job fails (nothing can be sent any more)."""
        lost = ConnectionError(f"Connection closed: {error}")
        for job in self._every_job():
            job.lost(lost)
        return self._take()

    def tick(self, now: float) -> list[Output]:
        """Heartbeats, the server's silence, idle sessions: call every ~0.1 s."""
        for job in list(self.jobs.values()):
            job.tick(now)
        return self._take()

    def close(self) -> list[Output]:
        """The backend closes: DROP everything; subscriptions stop, the rest fails."""
        closing = ConnectionError(CLOSED_BY_BACKEND)
        for job in self._every_job():
            if isinstance(job, StreamJob):
                job.end(None)
            else:
                job.lost(closing, drop=True)
        return self._take()

    def _every_job(self) -> Iterator[ClientJob]:
        unsigned = [s for s in self.sessions.values() if not s.opened]
        yield from [*self.jobs.values(), *unsigned]
