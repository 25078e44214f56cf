"""Driver layer: what a gRPC status code means to pacsys, and back.

Rules of docs/protocols/grpc.md §5.5, §5.6 and §7.2 (step 8).

Client side: a failed RPC becomes ACNET (1, -6) for DEADLINE_EXCEEDED, else (1, -1), with
the text ``gRPC error (<host>:<port>): <STATUS>: <details>``; UNAVAILABLE and CANCELLED
streams reconnect.  Server side: a backend exception becomes the status the RPC ends with.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import grpc

from pacsys.backends import summarize_drfs
from pacsys.errors import AuthenticationError
from pacsys.types import Reading, WriteResult
from pacsys_grpc.codec.statuses import ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET

__all__ = [
    "RETRYABLE_STREAM_CODES",
    "Abort",
    "exception_to_rpc_status",
    "is_retryable_stream_status",
    "rpc_error_code",
    "rpc_error_message",
    "rpc_failure_reading",
    "rpc_failure_write_result",
    "stream_error_message",
]

RETRYABLE_STREAM_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED})
"""Stream failures after which a subscription reconnects instead of ending."""


class Abort(NamedTuple):
    """Server side: end the RPC with this status (each driver aborts in its own way)."""

    code: grpc.StatusCode
    details: str


def is_retryable_stream_status(code: grpc.StatusCode) -> bool:
    """True when a failed stream should be re-opened after a backoff."""
    return code in RETRYABLE_STREAM_CODES


def rpc_error_code(code: grpc.StatusCode | None) -> int:
    """ACNET error number for a failed RPC: -6 (timeout) for DEADLINE_EXCEEDED, else -1."""
    return ERR_TIMEOUT if code is grpc.StatusCode.DEADLINE_EXCEEDED else ERR_RETRY


def rpc_error_message(target: str, code: grpc.StatusCode, details: str | None) -> str:
    """``gRPC error (<host>:<port>): <STATUS>: <details>``."""
    return f"gRPC error ({target}): {code.name}: {details or ''}"


def stream_error_message(
    target: str, code: grpc.StatusCode, details: str | None, drfs: Iterable[str]
) -> str:
    """``gRPC stream error (<host>:<port>): <STATUS>: <details> (devices: <list>)``."""
    devices = summarize_drfs(drfs)
    return f"gRPC stream error ({target}): {code.name}: {details or ''} (devices: {devices})"


def rpc_failure_reading(
    drf: str, target: str, code: grpc.StatusCode, details: str | None, *, now: datetime
) -> Reading:
    """The error Reading of a slot left unanswered by a failed Read RPC."""
    return Reading(
        drf=drf,
        facility_code=FACILITY_ACNET,
        error_code=rpc_error_code(code),
        message=rpc_error_message(target, code, details),
        timestamp=now,
    )


def rpc_failure_write_result(
    drf: str, target: str, code: grpc.StatusCode, details: str | None
) -> WriteResult:
    """The WriteResult of a setting sent in a failed Set RPC."""
    return WriteResult(
        drf,
        facility_code=FACILITY_ACNET,
        error_code=rpc_error_code(code),
        message=rpc_error_message(target, code, details),
    )


def exception_to_rpc_status(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """Server side: the gRPC status and details a backend exception is reported with."""
    text = str(exc)
    if isinstance(exc, AuthenticationError):
        return grpc.StatusCode.UNAUTHENTICATED, text
    if isinstance(exc, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, text or "Backend does not support this operation"
    if isinstance(exc, ValueError):
        return grpc.StatusCode.INVALID_ARGUMENT, text
    return grpc.StatusCode.INTERNAL, f"Backend error: {text}"
