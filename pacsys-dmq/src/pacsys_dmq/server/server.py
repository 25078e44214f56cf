"""DMQServer: serves any pacsys Backend to DMQ clients through a RabbitMQ broker.

It binds a private queue to ``amq.topic`` with key ``I`` and turns each INIT into a job
(docs/protocols/dmq.md §16): reads and subscriptions are answered from the backend,
settings are written through it. With a ``keytab`` every INIT token and MIC (and every
SETTING MIC) is verified; without one, tokens and signatures are accepted as opaque bytes.
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import logging
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pika

from pacsys.backends import Backend
from pacsys.errors import AuthenticationError
from pacsys_dmq.amqp import AmqpLoop, guarded, safe_close_channel
from pacsys_dmq.codec.codec import decode_request, encode_message
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.messages import ReadingRequest, SettingRequest
from pacsys_dmq.codec.routing import (
    HEADER_GSS_TOKEN,
    HEADER_HOST_ADDRESS,
    HEADER_SIGNATURE,
    INIT_EXCHANGE,
    INIT_KEY,
    JOB_STATUS_KEY,
)
from pacsys_dmq.codec.signing import signing_body
from pacsys_dmq.codec.status import DMQ_INVALID_REQUEST, DMQ_SECURITY_VIOLATION
from pacsys_dmq.server.jobs import ServerJob, header_bytes, status_sample

__all__ = ["DEFAULT_AMQP_URL", "DEFAULT_PRINCIPAL", "DMQServer"]

log = logging.getLogger("pacsys_dmq.server")

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_PRINCIPAL = "daeset/bd/dmq.fnal.gov@FNAL.GOV"

T = TypeVar("T")


def _unservable(request: object) -> str | None:
    """Why a decoded INIT request cannot become a job (None when it can)."""
    if not isinstance(request, ReadingRequest | SettingRequest) or not request.data_request:
        return f"Unsupported INIT {type(request).__name__}"
    if isinstance(request, SettingRequest) and len(request.data_request) != 1:
        return "A SettingRequest takes one DRF"
    return None


class DMQServer:
    """A DMQ service for ``backend`` on the broker at ``amqp_url``; a context manager.

    ``keytab``/``principal``: strict Kerberos mode (verify tokens and MICs).
    ``read_only``: refuse every SETTING with DMQ_SETTING_DISABLED.
    ``heartbeat_interval``/``job_timeout``: ``Q`` period and the ``H`` silence after which
    a job is disposed (5 s / 30 s by default, docs/protocols/dmq.md §11).
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
    ) -> None:
        if not isinstance(backend, Backend):
            raise TypeError(f"backend must be a pacsys Backend, got {type(backend).__name__}")
        self.backend = backend
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.heartbeat = 15
        self._parameters.client_properties = {"connection_name": "pacsys-dmq-server"}
        if keytab is not None and not Path(keytab).is_file():
            raise FileNotFoundError(f"Kerberos keytab not found: {keytab}")
        self.keytab = Path(keytab) if keytab is not None else None
        self.principal = principal
        self.init_exchange = init_exchange
        self.init_key = init_key
        self.read_only = read_only
        self.heartbeat_interval = heartbeat_interval
        self.job_timeout = job_timeout
        self.read_timeout = read_timeout
        self.heartbeats_paused = False
        self._workers = workers
        self._jobs: set[ServerJob] = set()
        self._lock = threading.Lock()
        self._outbox: collections.deque[Callable[[], None]] = collections.deque()
        self._outbox_scheduled = False
        self._loop: AmqpLoop | None = None
        self._reads: concurrent.futures.ThreadPoolExecutor | None = None
        self._writes: concurrent.futures.ThreadPoolExecutor | None = None
        self._reply_channel: Any = None
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
        return f"DMQServer({self.address}, {mode}, jobs={len(self._jobs)})"

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> DMQServer:
        """Connect, bind the INIT queue and start consuming."""
        if self._loop is not None:
            raise RuntimeError("DMQServer already started")
        self._reads = concurrent.futures.ThreadPoolExecutor(
            self._workers, thread_name_prefix="pacsys-dmq-server-read"
        )
        self._writes = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="pacsys-dmq-server-write"
        )
        loop = AmqpLoop(
            self._parameters, name="pacsys-dmq-server-io", tick=self._tick, on_lost=self._on_lost
        )
        try:
            loop.start(timeout)
        except Exception as exc:
            self._shutdown_pools()
            raise ConnectionError(f"DMQ server cannot connect to {self.address}: {exc}") from exc
        self._loop = loop
        self._stopped.clear()
        try:
            loop.call(self._bind_init_queue, timeout)
        except Exception:
            self.stop()
            raise
        log.info("DMQ server on %s (INIT queue %s)", self.address, self.init_queue)
        return self

    def _bind_init_queue(self) -> None:
        assert self._loop is not None
        channel = self._loop.connection.channel()
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, self.init_exchange, self.init_key)
        channel.basic_consume(queue, guarded(self._on_init, "DMQ INIT handler"), True)
        self.init_queue = queue

    def stop(self, timeout: float = 3.0) -> None:
        """Dispose every job (stopping backend subscriptions) and close the connection."""
        loop, self._loop = self._loop, None
        if loop is not None:
            if loop.alive:
                try:
                    loop.call(self._dispose_all, timeout)
                except Exception as exc:
                    log.debug("disposing jobs on stop: %s", exc)
            loop.stop(timeout)
        self._dispose_all()
        self._shutdown_pools()
        self._stopped.set()

    def _shutdown_pools(self) -> None:
        for pool in (self._reads, self._writes):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._reads = self._writes = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or the connection is lost); True if it did."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> DMQServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def pause_heartbeats(self, paused: bool = True) -> None:
        """Stop (or resume) publishing ``Q`` — lets tests simulate a dead server job."""
        self.heartbeats_paused = paused

    @property
    def job_count(self) -> int:
        return len(self._jobs)

    # --- helpers for jobs -----------------------------------------------------------------------

    def forget_job(self, job: ServerJob) -> None:
        self._jobs.discard(job)

    def post(self, task: Callable[[], None]) -> None:
        """Run ``task`` on the I/O thread (batched wake-ups; dropped if the server stopped)."""
        with self._lock:
            self._outbox.append(task)
            if self._outbox_scheduled:
                return
            self._outbox_scheduled = True
        loop = self._loop
        if loop is None:
            return
        loop.submit(self._drain_outbox, lambda exc: None)

    def _drain_outbox(self) -> None:
        while True:
            with self._lock:
                if not self._outbox:
                    self._outbox_scheduled = False
                    return
                task = self._outbox.popleft()
            try:
                task()
            except Exception:
                log.exception("Error in DMQ server task (ignored)")

    def run_read(self, job: ServerJob, work: Callable[[], T], then: Callable[[T], None]) -> None:
        self._run(self._reads, job, work, then)

    def run_write(self, job: ServerJob, work: Callable[[], T], then: Callable[[T], None]) -> None:
        self._run(self._writes, job, work, then)

    def _run(
        self,
        pool: concurrent.futures.ThreadPoolExecutor | None,
        job: ServerJob,
        work: Callable[[], T],
        then: Callable[[T], None],
    ) -> None:
        """``work()`` on ``pool``, then ``then(result)`` back on the I/O thread."""
        if pool is None:
            return

        def done(future: concurrent.futures.Future[T]) -> None:
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                log.error("DMQ job %s work failed: %r", job.exchange, error)
                return
            result = future.result()
            self.post(lambda: then(result))

        try:
            pool.submit(work).add_done_callback(done)
        except RuntimeError:  # pool shut down
            pass

    # --- I/O thread -----------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        for job in list(self._jobs):
            job.tick(now)

    def _on_lost(self, exc: BaseException) -> None:
        log.error("DMQ server lost its broker connection: %s", exc)
        self._dispose_all()
        self._stopped.set()

    def _dispose_all(self) -> None:
        for job in list(self._jobs):
            job.dispose()
        self._jobs.clear()

    def _status_reply(self, exchange: str, error: int, message: str, correlation_id: str) -> None:
        """A job-level status to a client we will not serve (on a scratch channel)."""
        assert self._loop is not None
        body = encode_message(status_sample(error, message))
        properties = pika.BasicProperties(correlation_id=correlation_id or None)
        for _attempt in range(2):
            try:
                if self._reply_channel is None or not self._reply_channel.is_open:
                    self._reply_channel = self._loop.connection.channel()
                self._reply_channel.basic_publish(exchange, JOB_STATUS_KEY, body, properties)
                return
            except Exception as exc:
                log.debug("status reply to %s failed: %s", exchange, exc)
                safe_close_channel(self._reply_channel)
                self._reply_channel = None

    def _on_init(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        reply_to = properties.reply_to
        if not reply_to:
            log.warning("INIT without reply_to dropped")
            return
        message_id = properties.message_id or ""
        try:
            request = decode_request(body)
            refusal = _unservable(request)
        except DMQProtocolError as exc:
            refusal = f"Bad INIT: {exc}"
        if refusal is not None:
            self._status_reply(reply_to, DMQ_INVALID_REQUEST, refusal, message_id)
            return
        kind = "write" if isinstance(request, SettingRequest) else "read"
        context = None
        if self.keytab is not None:
            try:
                context = self._authenticate(properties, body)
            except (AuthenticationError, ValueError) as exc:
                log.warning("INIT from %s rejected: %s", reply_to, exc)
                self._status_reply(reply_to, DMQ_SECURITY_VIOLATION, str(exc), message_id)
                return
        job = ServerJob(
            self,
            kind=kind,
            exchange=reply_to,
            init_message_id=message_id,
            entries=list(request.data_request),
            context=context,
        )
        assert self._loop is not None
        try:
            job.open(
                self._loop.connection, job.send_pending, functools.partial(self._job_ready, job)
            )
        except Exception as exc:
            log.info("cannot wire job for %s: %s", reply_to, exc)
            job.dispose()
            return
        self._jobs.add(job)

    def _job_ready(self, job: ServerJob) -> None:
        """The broker confirmed the job's bindings and consumer: start reading."""
        if job.kind == "read":
            job.start_read()

    def _authenticate(self, properties: Any, body: bytes) -> Any:
        """Accept the INIT's GSS token and verify its MIC; the context (for SETTING MICs)."""
        from pacsys.gss import ServerContext

        assert self.keytab is not None
        headers = properties.headers
        context = ServerContext(self.keytab, self.principal)
        context.step(header_bytes(headers, HEADER_GSS_TOKEN))
        if not context.complete:
            raise AuthenticationError("GSS context not established by a single token")
        signing = signing_body(
            body,
            message_id=properties.message_id or "",
            correlation_id=properties.correlation_id or "",
            reply_to=properties.reply_to or "",
            app_id=properties.app_id or "",
            host_address=header_bytes(headers, HEADER_HOST_ADDRESS),
        )
        context.verify_mic(signing, header_bytes(headers, HEADER_SIGNATURE))
        log.info("INIT from %s authenticated", context.initiator)
        return context
