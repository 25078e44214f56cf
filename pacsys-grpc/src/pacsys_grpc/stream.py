"""The thread keeping one gRPC subscription's ``Read`` stream open (docs/protocols/grpc.md §5.5).

It re-opens the stream under the backend's ReconnectPolicy after UNAVAILABLE/CANCELLED and
reports any other end as a DeviceError on the handle.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import grpc

from pacsys.backends.reconnect import ReconnectPolicy, run_stream
from pacsys.errors import DeviceError
from pacsys_grpc import wire as mapping
from pacsys_grpc._proto.services import daq_pb2, daq_pb2_grpc
from pacsys_grpc.subscription import GRPCSubscriptionHandle

__all__ = ["GRPCStream"]

_stream_ids = itertools.count(1)


class GRPCStream:
    """The thread keeping one subscription's ``Read`` stream open (docs/protocols/grpc.md §5.5)."""

    def __init__(
        self,
        stub: daq_pb2_grpc.DAQStub,
        handle: GRPCSubscriptionHandle,
        target: str,
        metadata: tuple[tuple[str, str], ...],
        reconnect: ReconnectPolicy | None,
    ) -> None:
        self.handle = handle
        self._reconnect = reconnect
        self._stub = stub
        self._target = target
        self._metadata = metadata
        self._request = daq_pb2.ReadingList(drf=handle.drfs)
        self._stopping = threading.Event()
        self._call_lock = threading.Lock()
        self._call: Any = None
        self._thread = threading.Thread(
            target=self._run, name=f"pacsys-grpc-stream-{next(_stream_ids)}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the RPC and join the thread (unless called from it)."""
        self._stopping.set()
        with self._call_lock:
            call = self._call
        if call is not None:
            call.cancel()
        if self._thread is not threading.current_thread() and self._thread.is_alive():
            self._thread.join(timeout)

    def _error(self, code: grpc.StatusCode | None, details: str | None) -> DeviceError:
        drfs = self.handle.drfs
        if code is None:
            message = f"gRPC stream error ({self._target}): {details} (devices: {', '.join(drfs)})"
            return DeviceError(drfs[0], mapping.FACILITY_ACNET, mapping.ERR_RETRY, message)
        message = mapping.stream_error_message(self._target, code, details, drfs)
        return DeviceError(drfs[0], *mapping.rpc_error_status(code), message)

    def _open(self) -> Any:
        with self._call_lock:
            if self._stopping.is_set():
                return None
            self._call = self._stub.Read(self._request, metadata=self._metadata)
            return self._call

    def _run(self) -> None:
        run_stream(
            self.handle,
            self._reconnect,
            self._stopping,
            self._attempt,
            recoverable=lambda exc: (
                isinstance(exc, grpc.RpcError) and mapping.is_retryable_stream_status(exc.code())
            ),
            describe=self._describe,
        )

    def _describe(self, exc: BaseException) -> DeviceError:
        if isinstance(exc, grpc.RpcError):
            return self._error(exc.code(), exc.details())
        return self._error(None, str(exc))  # a bug or a malformed reply: fatal, never silent

    def _attempt(self) -> None:
        """One ``Read`` call: deliver until the server ends it, it fails or we stop."""
        call = self._open()
        if call is None:
            return
        drfs = self.handle.drfs
        count = len(drfs)
        for reply in call:
            index = reply.index
            if index >= count:
                continue
            for reading in mapping.readings_from_reply(drfs[index], reply):
                self.handle.deliver(reading)
