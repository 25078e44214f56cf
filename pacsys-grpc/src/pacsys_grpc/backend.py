"""GRPCBackend: reads, streams and writes over the DAQ gRPC service (docs/protocols/grpc.md §5).

Two lazily created plaintext channels per backend are shared by every call.  One-shot reads
send canonical ``@I`` DRFs in one ``Read`` RPC with the timeout as deadline.  Reads the
server ends by itself (immediate and historical ones) run on a channel that polls them on the
calling thread (half the client CPU) and are read to their end, never cancelled: grpcio leaks
the connection of a cancelled call on such a channel.  Other reads, cancelled once every slot
has a result, streams and writes use the ordinary channel.  Each subscription is one
``Read`` stream consumed by a named thread that re-opens the stream with backoff after
UNAVAILABLE/CANCELLED.  Writes need a JWT, sent as ``authorization: Bearer <token>`` on every RPC.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any, ClassVar

import grpc

from pacsys.auth import JWTAuth
from pacsys.backends import drf_list, setting_pairs, subscription_drfs
from pacsys.backends.params import check_host, check_port, env_int, env_str
from pacsys.backends.reconnect import ReconnectPolicy, check_reconnect
from pacsys.backends.streams import NetworkBackend, StreamTable
from pacsys.deadline import checked_timeout
from pacsys.drf3 import parse_request
from pacsys.drf3.extras import HISTORICAL_EXTRAS
from pacsys.drf_utils import ensure_immediate_event, prepare_for_write
from pacsys.errors import AuthenticationError, ReadError
from pacsys.types import (
    BackendCapability,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    Value,
    WriteResult,
)
from pacsys_grpc import wire as mapping
from pacsys_grpc._proto.services import daq_pb2, daq_pb2_grpc
from pacsys_grpc.oneshot import OneShotCollector
from pacsys_grpc.stream import GRPCStream
from pacsys_grpc.subscription import GRPCSubscriptionHandle

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_TIMEOUT", "GRPCBackend"]

log = logging.getLogger("pacsys_grpc.backend")

DEFAULT_HOST = "dce08.fnal.gov"
DEFAULT_PORT = 50051
DEFAULT_TIMEOUT = 5.0

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", 300_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    # Let the channel retry a lost server about as fast as subscriptions re-send.
    ("grpc.initial_reconnect_backoff_ms", 1_000),
    ("grpc.min_reconnect_backoff_ms", 1_000),
    ("grpc.max_reconnect_backoff_ms", 30_000),
    # Connections belong to this channel alone (not grpc's process-wide subchannel pool),
    # so close() really closes them.
    ("grpc.use_local_subchannel_pool", 1),
)

FAST_CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    *CHANNEL_OPTIONS,
    # Unary-stream calls poll their own completion queue on the calling thread instead of
    # hopping through the channel spin thread: about half the client CPU per Read.  A call
    # cancelled on such a channel keeps its connection open for good, so none is.
    ("SingleThreadedUnaryStream", 1),
)


_DRF_CACHE_SIZE = 4096

# A pure function of the DRF string; one-shot reads repeat the same few DRFs.
_immediate = functools.lru_cache(maxsize=_DRF_CACHE_SIZE)(ensure_immediate_event)


def _prepare_read(drf: Any) -> str:
    """The DRF a one-shot read sends (cached; non-strings get the uncached error)."""
    return _immediate(drf) if type(drf) is str else ensure_immediate_event(drf)


@functools.lru_cache(maxsize=_DRF_CACHE_SIZE)
def _server_ends(prepared: str) -> bool:
    """Whether the server ends a one-shot ``Read`` of ``prepared`` by itself."""
    request = parse_request(prepared)
    return request.event.mode == "I" or request.extra in HISTORICAL_EXTRAS


def _list_directive(drf: str) -> bool:
    """A DRF DPM would take as a list directive (``#...`` but not ``#:``...)."""
    return len(drf) > 4 and drf.startswith("#") and drf[1] != ":"


# gRPC streams resubscribe by default, as scripts written for the reference client expect.
DEFAULT_RECONNECT = ReconnectPolicy()


class GRPCBackend(NetworkBackend):
    """A Backend speaking the DAQ gRPC service.

    ``host``/``port`` default to ``PACSYS_GRPC_HOST``/``PACSYS_GRPC_PORT`` (else
    dce08.fnal.gov:50051); ``auth`` must be a JWTAuth or None (then ``PACSYS_JWT_TOKEN``).
    ``reconnect``: what a stream does on UNAVAILABLE or CANCELLED (the connection dropped):
    resubscribe under the ReconnectPolicy (the default: 1 s doubling to 30 s, as the reference
    client does) or stop (None) (docs/protocols/semantics.md §6.4).
    """

    _streams: StreamTable[GRPCStream]

    CAPABILITIES: ClassVar[BackendCapability] = (
        BackendCapability.READ
        | BackendCapability.WRITE
        | BackendCapability.STREAM
        | BackendCapability.BATCH
        | BackendCapability.AUTH_JWT
    )

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        auth: JWTAuth | None = None,
        timeout: float | None = None,
        dispatch_mode: DispatchMode = DispatchMode.WORKER,
        *,
        reconnect: ReconnectPolicy | None = DEFAULT_RECONNECT,
    ) -> None:
        if host is None:
            host = env_str("PACSYS_GRPC_HOST", DEFAULT_HOST)
        self._host = check_host(host)
        if port is None:
            port = env_int("PACSYS_GRPC_PORT", DEFAULT_PORT)
        self._port = check_port(port)
        self._timeout = checked_timeout(timeout, DEFAULT_TIMEOUT)
        if auth is not None and not isinstance(auth, JWTAuth):
            raise ValueError(
                f"gRPC backend auth must be JWTAuth or None, got {type(auth).__name__}"
            )
        self._auth = auth if auth is not None else JWTAuth.from_env()
        self._metadata = mapping.bearer_metadata(self._auth.token if self._auth else None)
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._stub: daq_pb2_grpc.DAQStub | None = None
        self._fast_channel: grpc.Channel | None = None
        self._fast_stub: daq_pb2_grpc.DAQStub | None = None
        self._init_streaming(dispatch_mode)
        self._reconnect = check_reconnect(reconnect)
        self._closed = False

    # --- properties ----------------------------------------------------------------------

    @property
    def target(self) -> str:
        return f"{self._host}:{self._port}"

    @property
    def capabilities(self) -> BackendCapability:
        if self._auth is None:  # no JWT: no writes
            return self.CAPABILITIES & ~(BackendCapability.WRITE | BackendCapability.AUTH_JWT)
        return self.CAPABILITIES

    @property
    def authenticated(self) -> bool:
        return self._auth is not None

    @property
    def principal(self) -> str | None:
        return self._auth.principal if self._auth is not None else None

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        auth = "jwt" if self._auth is not None else "none"
        return f"<GRPCBackend {self.target} auth={auth} {state}>"

    # --- channel -------------------------------------------------------------------------

    def _get_stub(self) -> daq_pb2_grpc.DAQStub:
        with self._lock:
            self._check_open()
            if self._stub is None:
                self._channel = grpc.insecure_channel(self.target, options=CHANNEL_OPTIONS)
                self._stub = daq_pb2_grpc.DAQStub(self._channel)
            return self._stub

    def _get_fast_stub(self) -> daq_pb2_grpc.DAQStub:
        """The stub for reads the server ends by itself: never cancel a call made on it."""
        with self._lock:
            self._check_open()
            if self._fast_stub is None:
                self._fast_channel = grpc.insecure_channel(
                    self.target, options=FAST_CHANNEL_OPTIONS
                )
                self._fast_stub = daq_pb2_grpc.DAQStub(self._fast_channel)
            return self._fast_stub

    # --- reads ---------------------------------------------------------------------------

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        """One ``Read`` RPC for all DRFs; ReadError when the RPC fails or leaves a slot empty."""
        drfs = drf_list(drfs)
        self._check_open()
        if not drfs:
            return []
        budget = checked_timeout(timeout, self._timeout)
        prepared = [_prepare_read(drf) for drf in drfs]
        server_ends = all(_server_ends(p) for p in prepared)
        stub = self._get_fast_stub() if server_ends else self._get_stub()
        collector = OneShotCollector(drfs, prepared)
        call = stub.Read(daq_pb2.ReadingList(drf=prepared), timeout=budget, metadata=self._metadata)
        try:
            for reply in call:
                if collector.add(reply) and not server_ends:
                    call.cancel()
                    break
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details()
            readings = collector.fail(
                lambda drf: mapping.rpc_failure_reading(drf, self.target, code, details)
            )
            raise ReadError(
                readings, mapping.rpc_error_message(self.target, code, details)
            ) from exc
        except Exception as exc:
            call.cancel()
            message = f"gRPC read failed ({self.target}): {exc}"
            readings = collector.fail(lambda drf: mapping.failure_reading(drf, message))
            raise ReadError(readings, message) from exc
        if collector.done:
            return collector.results()
        missing = collector.missing()
        readings = collector.fail(mapping.missing_reply_reading)
        raise ReadError(readings, f"{mapping.NO_RESPONSE_MESSAGE} for {', '.join(missing)}")

    # --- writes --------------------------------------------------------------------------

    def write_many(
        self, settings: list[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        """One ``Set`` RPC for every valid item; failures come back as WriteResults."""
        self._check_open()
        pairs = setting_pairs(settings)
        if not pairs:
            return []
        if self._auth is None:
            raise AuthenticationError(
                "gRPC writes need a JWT: pass auth=JWTAuth(token=...) or set PACSYS_JWT_TOKEN"
            )
        budget = checked_timeout(timeout, self._timeout)
        results: list[WriteResult | None] = [None] * len(pairs)
        sent: list[tuple[int, str, daq_pb2.Setting]] = []
        for position, (drf, value) in enumerate(pairs):
            outcome = self._prepare_setting(drf, value)
            if isinstance(outcome, WriteResult):
                results[position] = outcome
            else:
                sent.append((position, outcome.device, outcome))
        if sent:
            request = daq_pb2.SettingList(setting=[setting for _, _, setting in sent])
            drfs = [drf for _, drf, _ in sent]
            try:
                reply = self._get_stub().Set(request, timeout=budget, metadata=self._metadata)
            except grpc.RpcError as exc:
                code, details = exc.code(), exc.details()
                replies = [
                    mapping.rpc_failure_write_result(drf, self.target, code, details)
                    for drf in drfs
                ]
            else:
                replies = mapping.write_results_from_reply(drfs, reply)
            for (position, _, _), result in zip(sent, replies, strict=True):
                results[position] = result
        return [result for result in results if result is not None]

    @staticmethod
    def _prepare_setting(drf: Any, value: Any) -> daq_pb2.Setting | WriteResult:
        """The Setting for one item, or the per-item error WriteResult."""
        failed = mapping.failure_write_result
        if not isinstance(drf, str):
            return failed(str(drf), f"DRF must be a string, got {type(drf).__name__}")
        try:
            prepared = prepare_for_write(drf)
        except (ValueError, TypeError) as exc:
            return failed(drf, f"Invalid DRF for write: {exc}")
        if _list_directive(prepared):
            return failed(prepared, f"Refusing to send DPM list directive {prepared!r}")
        try:
            return mapping.setting_to_proto(prepared, value)
        except (TypeError, ValueError, NotImplementedError, OverflowError) as exc:
            return failed(prepared, f"Cannot send value: {exc}")

    # --- streaming -----------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        """One ``Read`` stream carrying ``drfs`` exactly as given, with no deadline."""
        drfs = subscription_drfs(drfs, callback, on_error)
        self._check_open()
        for drf in drfs:
            if not drf:
                raise ValueError(f"Invalid DRF {drf!r}: must be a non-empty string")
        stub = self._get_stub()
        handle = GRPCSubscriptionHandle(
            drfs,
            range(len(drfs)),
            dispatcher=self._dispatcher,
            callback=callback,
            on_error=on_error,
            on_stop=self._streams.on_stop,
        )
        stream = GRPCStream(stub, handle, self.target, self._metadata, self._reconnect)
        self._streams.add(handle, stream)
        stream.start()
        return handle

    def close(self) -> None:
        """Stop every stream, close the channel and the dispatcher; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            channels = (self._channel, self._fast_channel)
            self._channel = self._stub = self._fast_channel = self._fast_stub = None
        self._streams.close()
        for channel in channels:
            if channel is not None:
                channel.close()
        self._dispatcher.close()
