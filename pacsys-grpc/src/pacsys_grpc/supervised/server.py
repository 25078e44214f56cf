"""SupervisedServer: any Backend as the DAQ service, behind policies (docs/protocols/grpc.md §7).

No policies means every read is allowed and every write denied.  Optionally serves the
DevDB service on the same port from a :class:`pacsys.metadata.MetadataSource`.

A sync backend is served by a threaded grpc server by default (each RPC calls the backend
on its own worker: no thread hop per read, and faster streams); an async backend, or
``server_mode="aio"``, gets the grpc.aio server on its own event loop.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pacsys.metadata import MetadataSource
from pacsys.policies import Policy
from pacsys_grpc._aio_server import AioServerThread
from pacsys_grpc._params import check_host, check_port, check_positive_int, client_host
from pacsys_grpc._proto.services import daq_pb2_grpc, devdb_pb2_grpc
from pacsys_grpc._threaded_server import MAX_RPCS, ThreadedServer
from pacsys_grpc.supervised.audit import AuditLog
from pacsys_grpc.supervised.config import load_policies
from pacsys_grpc.supervised.core import STREAM_QUEUE_LIMIT, check_backend, is_async_backend
from pacsys_grpc.supervised.servicer import DAQServicer
from pacsys_grpc.supervised.threaded import ThreadedDAQServicer

__all__ = ["SERVER_MODES", "SupervisedServer"]

WORKER_THREADS = 32
SERVER_MODES = ("auto", "aio", "threaded")


def _check_policies(policies: Any) -> list[Policy]:
    if policies is None:
        return []
    if isinstance(policies, str | os.PathLike):
        return load_policies(policies)
    if not isinstance(policies, Sequence):
        raise TypeError(f"policies must be a list of Policy objects, got {type(policies)}")
    for policy in policies:
        if not isinstance(policy, Policy):
            raise TypeError(f"policies must be Policy instances, got {type(policy).__name__}")
    return list(policies)


class SupervisedServer:
    """gRPC DAQ proxy with policy enforcement and audit logging.

    ``policies`` is a list of Policy objects, or the path of a JSON/TOML policy file (see
    :func:`pacsys_grpc.supervised.load_policies`).  ``token``: Set RPCs must carry
    ``authorization: Bearer <token>``.  ``port=0`` picks a free port (see ``.port``).
    ``metadata_source`` also serves DevDB on the same port.  ``server_mode``: "auto"
    (threaded for a sync backend, aio for an async one), "aio", or "threaded" (sync
    backends only; at most ``max_rpcs`` RPCs, streams included, run at once and further
    ones get RESOURCE_EXHAUSTED).  ``stream_buffer``: readings a stream holds for a slow
    client before it drops new ones (counted in ``dropped_readings``; the client is told,
    docs/protocols/grpc.md §7.2).
    """

    def __init__(
        self,
        backend: Any,
        port: int = 50051,
        host: str = "[::]",
        policies: Sequence[Policy] | str | os.PathLike[str] | None = None,
        token: str | None = None,
        audit_log: AuditLog | None = None,
        *,
        metadata_source: MetadataSource | None = None,
        server_mode: str = "auto",
        max_rpcs: int = MAX_RPCS,
        stream_buffer: int = STREAM_QUEUE_LIMIT,
    ) -> None:
        check_backend(backend)
        if server_mode not in SERVER_MODES:
            raise ValueError(f"server_mode must be one of {SERVER_MODES}, got {server_mode!r}")
        if server_mode == "threaded" and is_async_backend(backend):
            raise ValueError("server_mode='threaded' needs a sync Backend")
        self._max_rpcs = check_positive_int(max_rpcs, "max_rpcs")
        self._stream_buffer = check_positive_int(stream_buffer, "stream_buffer")
        check_port(port, lowest=0)
        self._host = check_host(host)
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string or None")
        if audit_log is not None and not isinstance(audit_log, AuditLog):
            raise TypeError(f"audit_log must be an AuditLog or None, got {type(audit_log)}")
        if metadata_source is not None and not isinstance(metadata_source, MetadataSource):
            raise TypeError("metadata_source must implement pacsys.metadata.MetadataSource")
        self._backend = backend
        self._policies = _check_policies(policies)
        self._token = token
        self._audit = audit_log
        self._metadata_source = metadata_source
        self._threaded = server_mode == "threaded" or (
            server_mode == "auto" and not is_async_backend(backend)
        )
        self._executor: ThreadPoolExecutor | None = None
        self._runner: AioServerThread | ThreadedServer | None = None
        self._servicer: DAQServicer | None = None
        self._requested_port = port
        self._lock = threading.Lock()
        self._dropped_lock = threading.Lock()  # taken on backend threads: never held long
        self._dropped = 0

    def __repr__(self) -> str:
        port = self._runner.port if self._runner is not None else None
        where = f"{self._host}:{port if port is not None else self._requested_port}"
        secured = "token" if self._token else "no token"
        policies = len(self._policies)
        return f"<SupervisedServer {where} {self.server_mode} policies={policies} {secured}>"

    @property
    def policies(self) -> list[Policy]:
        return list(self._policies)

    @property
    def server_mode(self) -> str:
        """The server actually used: "threaded" or "aio"."""
        return "threaded" if self._threaded else "aio"

    @property
    def port(self) -> int:
        """The bound port (the OS-assigned one when constructed with ``port=0``)."""
        runner = self._runner
        if runner is not None and runner.port is not None:
            return runner.port
        return self._requested_port

    @property
    def dropped_readings(self) -> int:
        """Stream readings dropped for clients too slow to take them (each was told)."""
        with self._dropped_lock:
            return self._dropped

    def _count_dropped(self, count: int) -> None:
        with self._dropped_lock:
            self._dropped += count

    def _stream_options(self) -> dict[str, Any]:
        return {"stream_buffer": self._stream_buffer, "on_loss": self._count_dropped}

    @property
    def address(self) -> str:
        return f"{client_host(self._host)}:{self.port}"

    def client_env(self) -> dict[str, str]:
        """Environment that points pacsys gRPC (and DevDB, if served) clients here."""
        host = client_host(self._host)
        env = {"PACSYS_GRPC_HOST": host, "PACSYS_GRPC_PORT": str(self.port)}
        if self._metadata_source is not None:
            env |= {
                "PACSYS_DEVDB_HOST": host,
                "PACSYS_DEVDB_PORT": str(self.port),
                "PACSYS_DEVDB_TLS": "0",
            }
        return env

    def start(self) -> SupervisedServer:
        """Bind and serve on background threads; RuntimeError if the bind fails."""
        with self._lock:
            if self._runner is not None:
                raise RuntimeError("SupervisedServer is already running")
            if self._threaded:
                self._runner = self._start_threaded()
            else:
                self._executor, self._servicer, self._runner = self._start_aio()
        return self

    def _start_threaded(self) -> ThreadedServer:
        servicer = ThreadedDAQServicer(
            self._backend, self._policies, self._token, self._audit, **self._stream_options()
        )
        source = self._metadata_source

        def register(server: Any) -> None:
            daq_pb2_grpc.add_DAQServicer_to_server(servicer, server)
            if source is not None:
                from pacsys_grpc.devdb_server import ThreadedDevDBServicer

                devdb_pb2_grpc.add_DevDBServicer_to_server(ThreadedDevDBServicer(source), server)

        runner = ThreadedServer(
            "supervised", self._host, self._requested_port, register, self._max_rpcs
        )
        runner.start()
        return runner

    def _start_aio(self) -> tuple[ThreadPoolExecutor, DAQServicer, AioServerThread]:
        executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="pacsys-supervised")
        servicer = DAQServicer(
            self._backend,
            self._policies,
            self._token,
            self._audit,
            executor,
            **self._stream_options(),
        )
        source = self._metadata_source

        def register(server: Any, loop: Any) -> None:
            daq_pb2_grpc.add_DAQServicer_to_server(servicer, server)
            if source is not None:
                from pacsys_grpc.devdb_server import DevDBServicer

                devdb_pb2_grpc.add_DevDBServicer_to_server(DevDBServicer(source, executor), server)

        runner = AioServerThread("supervised", self._host, self._requested_port, register)
        try:
            runner.start()
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return executor, servicer, runner

    def stop(self) -> None:
        """Stop serving, stop workers and close the audit log; idempotent.

        Every stream ends and, by the time this returns, every backend subscription the
        server opened is stopped (the aio servicer stops those its cancelled handlers left).
        """
        with self._lock:
            runner, self._runner = self._runner, None
            executor, self._executor = self._executor, None
            servicer, self._servicer = self._servicer, None
        if runner is not None:
            self._requested_port = runner.port or self._requested_port
            runner.stop()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if servicer is not None:
            servicer.close()
        if self._audit is not None:
            self._audit.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or ``timeout``); True if it has stopped."""
        runner = self._runner
        return True if runner is None else runner.wait(timeout)

    def run(self) -> None:
        """Start if needed and serve until SIGINT/SIGTERM (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("SupervisedServer.run() must be called from the main thread")
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            if self._runner is None:
                self.start()
            while not stop.wait(0.5):
                if self._runner is None or not self._runner.running:
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def __enter__(self) -> SupervisedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
