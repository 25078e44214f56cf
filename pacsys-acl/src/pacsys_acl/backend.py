"""ACLBackend: read-only pacsys Backend over the ACL CGI (HTTP GET), docs/protocols/acl.md §1-§9.

One deadline covers a whole ``get_many``: the batch request, per-device fallbacks and the
five sub-requests of each basic status.  Parsing is in :mod:`pacsys_acl.parse`, command
building in :mod:`pacsys_acl.request`; this module only does HTTP and bookkeeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import ClassVar

import httpx

from pacsys.acnet.status import ERR_RETRY, ERR_TIMEOUT
from pacsys.backends import Backend, drf_list
from pacsys.backends.params import env_str
from pacsys.deadline import Deadline, checked_timeout
from pacsys.errors import DeviceError, ReadError
from pacsys.types import (
    BackendCapability,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    Value,
    ValueType,
    WriteResult,
)
from pacsys_acl.defaults import DEFAULT_TIMEOUT, DEFAULT_URL, URL_ENV
from pacsys_acl.parse import (
    STATUS_ATTRIBUTES,
    ACLParseError,
    error_message,
    is_error_line,
    parse_raw,
    parse_status_line,
    parse_value,
    split_body,
)
from pacsys_acl.request import COMMAND_SEPARATOR, PlanKind, ReadPlan, build_url, plan_read

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_URL", "URL_ENV", "ACLBackend"]

log = logging.getLogger("pacsys_acl.backend")


ERR_FAILED = ERR_RETRY  # ACL's generic failure, facility 0 (docs/protocols/acl.md)
READ_ONLY_MESSAGE = "ACL backend is read-only: writes are not supported"
NO_STREAM_MESSAGE = "ACL backend cannot stream: subscriptions are not supported"
BUDGET_MESSAGE = "ACL request timeout: budget exhausted"


class _Failure(Exception):
    """An HTTP-level failure of one request, carried as an ACNET-style error number."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _error(drf: str, error_code: int, message: str) -> Reading:
    return Reading(
        drf=drf, facility_code=0, error_code=error_code, message=message, timestamp=_now()
    )


def _value(drf: str, value_type: ValueType, value: Value) -> Reading:
    return Reading(drf=drf, value_type=value_type, value=value, timestamp=_now())


def reading_from_line(plan: ReadPlan, line: str) -> Reading:
    """One response line -> the Reading for ``plan`` (error lines become error readings)."""
    if is_error_line(line):
        return _error(plan.drf, ERR_FAILED, error_message(line))
    try:
        if plan.raw:
            return _value(plan.drf, ValueType.RAW, parse_raw(line))
        if plan.status_field is not None:
            return _value(plan.drf, ValueType.SCALAR, parse_status_line(line, plan.status_field))
        value_type, value = parse_value(line, description=plan.description)
    except ACLParseError as exc:
        return _error(plan.drf, ERR_FAILED, str(exc))
    return _value(plan.drf, value_type, value)  # type: ignore[arg-type]


class ACLBackend(Backend):
    """Read-only backend on the ACL CGI: ``read``/``get``/``get_many`` and raw ``execute``.

    ``base_url`` defaults to ``$PACSYS_ACL_URL``, then the Fermilab CGI; ``timeout``
    (default 5 s) bounds each call as a whole.  No auth, no writes, no streaming.
    """

    CAPABILITIES: ClassVar[BackendCapability] = BackendCapability.READ | BackendCapability.BATCH

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float | None = None,
        verify_ssl: bool = True,
    ) -> None:
        if base_url is None:
            base_url = env_str(URL_ENV, DEFAULT_URL)
        if not isinstance(base_url, str):
            raise TypeError(f"base_url must be a string, got {type(base_url).__name__}")
        if not base_url.strip():
            raise ValueError("base_url cannot be empty")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http:// or https:// URL, got {base_url!r}")
        self._base_url = base_url
        self._timeout = checked_timeout(timeout, DEFAULT_TIMEOUT)
        self._client = httpx.Client(verify=verify_ssl, follow_redirects=False)
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"ACLBackend({self._base_url!r}, timeout={self._timeout}, {state})"

    # --- properties ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def timeout(self) -> float:
        return self._timeout

    # --- HTTP ------------------------------------------------------------------------

    def _fetch(self, script: str, deadline: Deadline, budget: float) -> str:
        """GET ``?acl=<script>`` within the deadline; body text or :class:`_Failure`."""
        if deadline.expired:
            raise _Failure(ERR_TIMEOUT, BUDGET_MESSAGE)
        remaining = deadline.remaining()
        url = build_url(self._base_url, script)
        log.debug("GET %s (%.3fs left)", url, remaining)
        try:
            response = self._client.get(url, timeout=httpx.Timeout(remaining))
        except httpx.TimeoutException:
            raise _Failure(
                ERR_TIMEOUT, f"ACL request timed out after {budget:g}s ({self._base_url})"
            ) from None
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise _Failure(ERR_FAILED, f"ACL request failed ({self._base_url}): {detail}") from None
        if not 200 <= response.status_code < 300:
            raise _Failure(ERR_FAILED, f"ACL request failed ({url}): HTTP {response.status_code}")
        return response.text

    # --- reads -----------------------------------------------------------------------

    def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Reading]:
        self._check_open()
        budget = checked_timeout(timeout, self._timeout)
        plans = [plan_read(drf) for drf in drf_list(drfs)]
        deadline = Deadline.after(budget)
        results: list[Reading | None] = [None] * len(plans)
        batch: list[int] = []
        for index, plan in enumerate(plans):
            if plan.kind is PlanKind.REFUSED:
                results[index] = _error(plan.drf, ERR_FAILED, plan.refusal or "unsupported DRF")
            elif plan.kind is PlanKind.READ:
                batch.append(index)
        if batch:
            self._read_batch(plans, batch, results, deadline, budget)
        for index, plan in enumerate(plans):
            if plan.kind is PlanKind.STATUS:
                results[index] = self._read_status(plan, deadline, budget)
        readings = [r for r in results if r is not None]
        timed_out = [r for r in readings if r.error_code == ERR_TIMEOUT]
        if timed_out:
            first = timed_out[0]
            cause = DeviceError(first.drf, 0, ERR_TIMEOUT, first.message)
            raise ReadError(readings, "ACL request timeout") from cause
        return readings

    def _read_batch(
        self,
        plans: list[ReadPlan],
        batch: list[int],
        results: list[Reading | None],
        deadline: Deadline,
        budget: float,
    ) -> None:
        if len(batch) == 1:
            index = batch[0]
            results[index] = self._read_single(plans[index], deadline, budget)
            return
        script = COMMAND_SEPARATOR.join(plans[i].commands[0] for i in batch)
        try:
            lines = split_body(self._fetch(script, deadline, budget))
        except _Failure as failure:
            if failure.error_code == ERR_TIMEOUT:
                for i in batch:
                    results[i] = _error(plans[i].drf, ERR_TIMEOUT, failure.message)
                return
            log.debug("ACL batch failed (%s); reading each device alone", failure.message)
            lines = None
        if lines is not None and len(lines) == len(batch) and not any(map(is_error_line, lines)):
            for i, line in zip(batch, lines, strict=True):
                results[i] = reading_from_line(plans[i], line)
            return
        for i in batch:
            results[i] = self._read_single(plans[i], deadline, budget)

    def _read_single(self, plan: ReadPlan, deadline: Deadline, budget: float) -> Reading:
        try:
            lines = split_body(self._fetch(plan.commands[0], deadline, budget))
        except _Failure as failure:
            return _error(plan.drf, failure.error_code, failure.message)
        if not lines:
            return _error(plan.drf, ERR_FAILED, "Empty response from ACL")
        return reading_from_line(plan, lines[0])

    def _read_status(self, plan: ReadPlan, deadline: Deadline, budget: float) -> Reading:
        status: dict[str, bool] = {}
        for command, (word, key) in zip(plan.commands, STATUS_ATTRIBUTES, strict=True):
            try:
                lines = split_body(self._fetch(command, deadline, budget))
            except _Failure as failure:
                return _error(plan.drf, failure.error_code, failure.message)
            if not lines:
                return _error(plan.drf, ERR_FAILED, "Empty response from ACL")
            line = lines[0]
            if "DIO_NOATT" in line:
                continue
            if is_error_line(line):
                return _error(plan.drf, ERR_FAILED, error_message(line))
            try:
                status[key] = parse_status_line(line, word)
            except ACLParseError as exc:
                return _error(plan.drf, ERR_FAILED, str(exc))
        return _value(plan.drf, ValueType.BASIC_STATUS, status)

    def execute(self, acl_command: str, timeout: float | None = None) -> str:
        """Run an ACL script verbatim (``+`` for spaces, ``\\;`` between commands); body text."""
        self._check_open()
        if not isinstance(acl_command, str) or not acl_command.strip():
            raise ValueError("acl_command must be a non-empty string")
        budget = checked_timeout(timeout, self._timeout)
        try:
            return self._fetch(acl_command, Deadline.after(budget), budget)
        except _Failure as failure:
            error = DeviceError("", 0, failure.error_code, failure.message)
            if failure.error_code == ERR_TIMEOUT:
                reading = _error("", ERR_TIMEOUT, failure.message)
                raise ReadError([reading], failure.message) from error
            raise error from None

    # --- unsupported -----------------------------------------------------------------

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        raise NotImplementedError(READ_ONLY_MESSAGE)

    def write_many(
        self, settings: list[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        raise NotImplementedError(READ_ONLY_MESSAGE)

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        raise NotImplementedError(NO_STREAM_MESSAGE)

    def remove(self, handle: SubscriptionHandle) -> None:
        raise NotImplementedError(NO_STREAM_MESSAGE)

    def stop_streaming(self) -> None:
        raise NotImplementedError(NO_STREAM_MESSAGE)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._client.close()
