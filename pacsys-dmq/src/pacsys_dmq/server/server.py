"""DMQServer: serves any pacsys Backend to DMQ clients through a RabbitMQ broker.

It binds a private queue to ``amq.topic`` with key ``I`` and hands each INIT to a
:class:`~pacsys_dmq.protocol.ServerProtocol`, which runs the jobs; this module carries
out the engine's broker actions on the AMQP I/O thread and its backend work on worker
pools (reads and subscriptions on several threads, writes on one, in order). With a
``keytab`` every INIT token and MIC (and every SETTING MIC) is verified; without one,
tokens and signatures are accepted as opaque bytes. A lost broker connection ends every
job; the server connects again with backoff and tells those jobs' clients; stream readings
it cannot pass on in time are dropped visibly (``docs/protocols/dmq.md`` §16).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pika

from pacsys.backends import Backend
from pacsys.backends.dispatch import RateLimitedLogger
from pacsys.backends.server_args import check_server_args
from pacsys.errors import AuthenticationError, ReadError
from pacsys.types import Reading
from pacsys_dmq.amqp import delivered_message, guarded, publish_once
from pacsys_dmq.codec.codec import encode_message
from pacsys_dmq.codec.routing import INIT_EXCHANGE, INIT_KEY, JOB_STATUS_KEY
from pacsys_dmq.codec.status import DMQ_SYSTEM_ERROR
from pacsys_dmq.driver import BrokerActions
from pacsys_dmq.loop import AmqpLoop
from pacsys_dmq.protocol import (
    AmqpMessage,
    ApplySetting,
    Output,
    ReadDevices,
    ServerProtocol,
    StartStream,
    StopStream,
    Timing,
    Verifier,
)
from pacsys_dmq.protocol.server_jobs import status_sample
from pacsys_dmq.server.backlog import StreamBacklog
from pacsys_dmq.server.link import BrokerLink
from pacsys_dmq.server.outbox import Outbox, run_on_pool

__all__ = ["DEFAULT_AMQP_URL", "DEFAULT_PRINCIPAL", "DMQServer"]

log = logging.getLogger("pacsys_dmq.server")

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_PRINCIPAL = "daeset/bd/dmq.fnal.gov@FNAL.GOV"
STREAM_BUFFER = 4 * 1024 * 1024
"""Default ``stream_buffer``: unsent bytes on the broker connection before readings drop."""
MAX_WAITING_READINGS = 10_000
"""Stream readings of one job that may wait for the I/O thread before more are dropped."""
LOST_JOB_TEXT = (
    "DMQ server lost its broker connection; job ended (a setting in flight may or may not "
    "have been applied)"
)

T = TypeVar("T")


def _now_ms() -> int:
    """Wall-clock milliseconds since the epoch, as DMQ samples carry them."""
    return int(time.time() * 1000)


class DMQServer:
    """A DMQ service for ``backend`` on the broker at ``amqp_url``; a context manager.

    ``keytab``/``principal``: strict Kerberos mode (verify tokens and MICs).
    ``read_only``: refuse every SETTING with DMQ_SETTING_DISABLED.
    ``heartbeat_interval``/``job_timeout``: ``Q`` period and the ``H`` silence after which
    a job is disposed (5 s / 30 s by default).
    ``reconnect``: after losing the broker, connect again (backoff doubling from
    ``reconnect_delay`` up to ``max_reconnect_delay``), bind a new INIT queue and tell the
    clients of the jobs that ended; without it the server stops (``wait`` returns).
    ``stream_buffer``: unsent bytes on the broker connection beyond which stream readings
    are dropped (counted in ``dropped_readings``; the client is told).
    """

    def __init__(
        self,
        backend: Backend,
        amqp_url: str = DEFAULT_AMQP_URL,
        *,
        keytab: str | Path | None = None,
        principal: str | None = DEFAULT_PRINCIPAL,
        init_exchange: str = INIT_EXCHANGE,
        init_key: str = INIT_KEY,
        read_only: bool = False,
        heartbeat_interval: float = 5.0,
        job_timeout: float = 30.0,
        read_timeout: float = 5.0,
        workers: int = 4,
        reconnect: bool = True,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
        stream_buffer: int = STREAM_BUFFER,
    ) -> None:
        self.keytab = check_server_args(
            backend,
            keytab,
            stream_buffer,
            reconnect_delay=reconnect_delay,
            max_reconnect_delay=max_reconnect_delay,
        )
        self.backend = backend
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.heartbeat = 15
        self._parameters.client_properties = {"connection_name": "pacsys-dmq-server"}
        self.principal = principal
        self.init_exchange = init_exchange
        self.init_key = init_key
        self.read_only = read_only
        self.read_timeout = read_timeout
        self.stream_buffer = stream_buffer
        self._engine = ServerProtocol(
            accept=self._accept if self.keytab is not None else None,
            read_only=read_only,
            timing=Timing(heartbeat_interval, job_timeout),
        )
        self._workers = workers
        self._streams: dict[Any, Any] = {}  # backend subscriptions by job (loop thread)
        self._backend_dropped: dict[Any, int] = {}  # their drop counts already counted
        self._backlog = StreamBacklog(MAX_WAITING_READINGS)
        self._outbox = Outbox(lambda: self._link.loop)
        self._drop_warning = RateLimitedLogger(log, 10.0)
        self._actions: BrokerActions | None = None
        self._reads: concurrent.futures.ThreadPoolExecutor | None = None
        self._writes: concurrent.futures.ThreadPoolExecutor | None = None
        self._orphans: list[tuple[str, str]] = []  # (exchange, INIT id) of jobs a loss ended
        self._link = BrokerLink(
            self._parameters,
            name="pacsys-dmq-server-io",
            prepare=self._prepare,
            setup=self._bind_init_queue,
            tick=lambda now: self._run(self._engine.tick(now)),
            on_lost=self._on_lost,
            on_down=self._on_down,
            reconnect=reconnect,
            reconnect_delay=reconnect_delay,
            max_reconnect_delay=max_reconnect_delay,
        )
        self._stopped = threading.Event()
        self._stopped.set()
        self.init_queue: str | None = None

    # --- ServedEndpoint -------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """The broker URL without credentials."""
        p = self._parameters
        vhost = urllib.parse.quote(p.virtual_host, safe="")
        return f"amqp://{p.host}:{p.port}/{vhost}"

    def client_env(self) -> dict[str, str]:
        """Variables that point ``pacsys.dmq()`` at this broker (and vhost, if not ``/``)."""
        env = {
            "PACSYS_DMQ_HOST": self._parameters.host,
            "PACSYS_DMQ_PORT": str(self._parameters.port),
        }
        if self._parameters.virtual_host != "/":
            env["PACSYS_DMQ_VHOST"] = self._parameters.virtual_host
        return env

    def __repr__(self) -> str:
        mode = "strict" if self.keytab else "open"
        return f"DMQServer({self.address}, {mode}, jobs={self.job_count})"

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> DMQServer:
        """Connect, bind the INIT queue and start consuming."""
        if not self._stopped.is_set():
            raise RuntimeError("DMQServer already started")
        self._reads = concurrent.futures.ThreadPoolExecutor(
            self._workers, thread_name_prefix="pacsys-dmq-server-read"
        )
        self._writes = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="pacsys-dmq-server-write"
        )
        try:
            self._link.start(timeout)
        except Exception as exc:
            self._shutdown_pools()
            raise ConnectionError(f"DMQ server cannot connect to {self.address}: {exc}") from exc
        self._stopped.clear()
        log.info("DMQ server on %s (INIT queue %s)", self.address, self.init_queue)
        return self

    def _prepare(self, loop: AmqpLoop) -> None:
        """Before a loop starts: the broker actions that run on it."""
        engine = self._engine
        self._actions = BrokerActions(
            lambda: loop.connection,
            ready=lambda job: engine.ready(job, _now_ms()),
            receive=lambda job, message: engine.receive(job, message, time.monotonic(), _now_ms()),
            lost=lambda job, _reason: engine.lost(job),
            on_event=self._on_event,
        )

    def _bind_init_queue(self, connection: pika.BlockingConnection) -> None:
        """(Loop thread) the INIT queue, then the notices owed from a lost connection."""
        channel = connection.channel()
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, self.init_exchange, self.init_key)
        channel.basic_consume(queue, guarded(self._on_init, "DMQ INIT handler"), True)
        self.init_queue = queue
        orphans, self._orphans = self._orphans, []
        time_ms = _now_ms()
        for exchange, init_id in orphans:
            body = encode_message(status_sample(DMQ_SYSTEM_ERROR, LOST_JOB_TEXT, time_ms))
            notice = AmqpMessage(exchange, JOB_STATUS_KEY, body, correlation_id=init_id or None)
            publish_once(connection, notice)

    def stop(self, timeout: float = 3.0) -> None:
        """Dispose every job (stopping backend subscriptions) and close the connection."""
        loop = self._link.stop(timeout)
        if loop is not None:
            if loop.alive:
                try:
                    loop.call(self._dispose_all, timeout)
                except Exception as exc:
                    log.debug("disposing jobs on stop: %s", exc)
            loop.stop(timeout)
            self._dispose_all()
        self._on_down()

    def _on_down(self) -> None:
        self._shutdown_pools()
        self._stopped.set()

    def _shutdown_pools(self) -> None:
        for pool in (self._reads, self._writes):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._reads = self._writes = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or loses the broker without ``reconnect``)."""
        return self._stopped.wait(timeout)

    @property
    def reconnect(self) -> bool:
        return self._link.reconnect

    @property
    def connections(self) -> int:
        """Broker connections made so far (1 after start, one more per reconnection)."""
        return self._link.connections

    @property
    def failed_reconnections(self) -> int:
        """Reconnection attempts that failed so far."""
        return self._link.failed_reconnections

    def wait_connected(self, count: int, timeout: float) -> bool:
        """Wait until the server has made ``count`` broker connections (True) or timeout."""
        return self._link.wait_connected(count, timeout)

    def __enter__(self) -> DMQServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def heartbeat_interval(self) -> float:
        return self._engine.timing.heartbeat_interval

    @property
    def job_timeout(self) -> float:
        return self._engine.timing.peer_timeout

    @property
    def heartbeats_paused(self) -> bool:
        return not self._engine.send_heartbeats

    def pause_heartbeats(self, paused: bool = True) -> None:
        """Stop (or resume) publishing ``Q``: lets tests simulate a dead server job."""
        self._engine.send_heartbeats = not paused

    @property
    def job_count(self) -> int:
        return len(self._engine.jobs)

    @property
    def dropped_readings(self) -> int:
        """Stream readings dropped for clients too slow to take them (each client was told)."""
        return self._backlog.dropped

    # --- broker loss ------------------------------------------------------------------------

    def _on_lost(self, exc: BaseException) -> None:
        """(Dying loop thread) end every job and remember whom to tell once reconnected."""
        log.error("DMQ server lost its broker connection: %s", exc)
        self._orphans.extend(
            (job.exchange, job.init_message_id) for job in self._engine.jobs.values()
        )
        self._dispose_all()
        self._outbox.clear()
        self._backlog.reset()

    # --- the engine, on the I/O thread ------------------------------------------------------

    def _run(self, outputs: list[Output]) -> None:
        actions = self._actions
        if actions is not None:
            actions.run(outputs)

    def _on_init(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        message = delivered_message(method, properties, body)
        self._run(self._engine.receive_init(message, time.monotonic(), _now_ms()))

    def _dispose_all(self) -> None:
        self._run(self._engine.close())
        for handle in self._streams.values():
            _stop_quietly(handle)
        self._streams.clear()

    def _accept(self, token: bytes) -> Verifier:
        """Strict mode: accept an INIT's GSS token with the keytab (one step, no reply)."""
        from pacsys.gss import ServerContext

        assert self.keytab is not None
        context = ServerContext(self.keytab, self.principal)
        context.step(token)
        if not context.complete:
            raise AuthenticationError("GSS context not established by a single token")
        log.info("INIT token of %s accepted", context.initiator)
        return context

    def _on_event(self, event: Any) -> None:
        """Backend work the engine asks for (the answers come back through the outbox)."""
        engine = self._engine
        job = event.job
        if isinstance(event, ReadDevices):
            indexes, drfs = event.indexes, list(event.drfs)
            self._work(
                self._reads,
                lambda: self._get_many(drfs),
                lambda outcome: engine.devices_read(job, indexes, outcome, _now_ms()),
            )
        elif isinstance(event, StartStream):
            drfs = list(event.drfs)
            self._work(self._reads, lambda: self._subscribe(job, drfs), self._attach(job))
        elif isinstance(event, StopStream):
            handle = self._streams.pop(job, None)
            self._backend_dropped.pop(job, None)
            self._backlog.forget(job)
            if handle is not None:
                _stop_quietly(handle)
        elif isinstance(event, ApplySetting):
            drf, value, seq = event.drf, event.value, event.seq
            self._work(
                self._writes,
                lambda: self._write(drf, value),
                lambda outcome: engine.setting_applied(job, seq, outcome, _now_ms()),
            )

    # --- backend work, on the pools ---------------------------------------------------------

    def _get_many(self, drfs: list[str]) -> list[Reading] | BaseException:
        try:
            return self.backend.get_many(drfs, timeout=self.read_timeout)
        except ReadError as exc:
            return exc.readings
        except Exception as exc:
            return exc

    def _write(self, drf: str, value: Any) -> Any:
        try:
            return self.backend.write(drf, value, timeout=self.read_timeout)
        except Exception as exc:
            log.warning("backend write of %s failed: %s", drf, exc)
            return exc

    def _subscribe(self, job: int, drfs: list[str]) -> Any:
        engine = self._engine
        backlog = self._backlog

        def on_reading(reading: Reading, handle: Any) -> None:
            if backlog.admit(job):
                self._outbox.post(lambda: self._stream_reading(job, reading, handle))

        def on_error(exc: BaseException, _handle: Any) -> None:
            self._outbox.post(lambda: self._run(engine.stream_failed(job, exc, _now_ms())))

        return self.backend.subscribe(drfs, callback=on_reading, on_error=on_error)

    def _stream_reading(self, job: int, reading: Reading, handle: Any) -> None:
        """(Loop thread) publish a reading, or drop it while the broker is not keeping up."""
        backlog, engine, actions = self._backlog, self._engine, self._actions
        backlog.taken(job)
        if job not in engine.jobs or actions is None:
            return
        dropped = getattr(handle, "dropped", 0)  # what the backend itself dropped
        if isinstance(dropped, int) and dropped > self._backend_dropped.get(job, 0):
            backlog.drop(job, dropped - self._backend_dropped.get(job, 0))
            self._backend_dropped[job] = dropped
        if actions.unsent_bytes() > self.stream_buffer:
            backlog.drop(job)
            self._drop_warning.warning(
                "DMQ broker connection backed up (> %d bytes unsent): stream readings dropped",
                self.stream_buffer,
            )
            return
        lost = backlog.take_lost(job)
        time_ms = _now_ms()
        if lost:
            self._run(engine.stream_lost(job, lost, time_ms))
        self._run(engine.stream_reading(job, reading, time_ms))

    def _attach(self, job: int) -> Callable[[Any], list[Output]]:
        def attach(handle: Any) -> list[Output]:
            if job in self._engine.jobs:
                self._streams[job] = handle
            else:
                _stop_quietly(handle)
            return []

        return attach

    def _work(
        self,
        pool: concurrent.futures.ThreadPoolExecutor | None,
        work: Callable[[], T],
        then: Callable[[T], list[Output]],
    ) -> None:
        """``work()`` on ``pool``, then the outputs of ``then(result)`` on the I/O thread."""
        run_on_pool(pool, work, lambda result: self._outbox.post(lambda: self._run(then(result))))


def _stop_quietly(handle: Any) -> None:
    try:
        handle.stop()
    except Exception:
        log.exception("stopping a backend subscription failed")
