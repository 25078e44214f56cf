"""Fixtures for the core tests: a scripted backend that replays the operator-tool vectors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from pacsys.backends import Backend
from pacsys.errors import DeviceError
from pacsys.types import BackendCapability, Reading, ValueType, WriteResult


def vector_value(value: Any) -> Any:
    """A vector-file value as Python: ``{"bytes_hex"}`` -> bytes, ``{"float": "nan"}`` -> float."""
    if isinstance(value, dict):
        if set(value) == {"bytes_hex"}:
            return bytes.fromhex(value["bytes_hex"])
        if "float" in value and set(value) <= {"float", "hex"}:
            return float(value["float"])
        return {key: vector_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [vector_value(item) for item in value]
    return value


def call_value(value: Any) -> Any:
    """A written value in the vector file's notation."""
    if isinstance(value, bytes | bytearray):
        return {"bytes_hex": bytes(value).hex()}
    return value


class ScriptedBackend(Backend):
    """Answers reads from a table, fails the listed writes, and records every call.

    ``server`` is a vector's ``input.server``: ``table`` (DRF -> {value, value_type} or
    {error: [facility, code, message]}), ``reread`` (what ``read`` returns) and ``write_fail``.
    Unknown DRFs answer facility 16, error -13.
    """

    def __init__(self, server: dict[str, Any]) -> None:
        self.table: dict[str, Any] = server.get("table", {})
        self.reread: dict[str, Any] = server.get("reread", {})
        self.write_fail: set[str] = set(server.get("write_fail", []))
        self.calls: list[dict[str, Any]] = []

    @property
    def capabilities(self) -> BackendCapability:
        return BackendCapability.READ | BackendCapability.WRITE | BackendCapability.BATCH

    def _reading(self, drf: str) -> Reading:
        entry = self.table.get(drf)
        if entry is None:
            return Reading(drf=drf, facility_code=16, error_code=-13, message="DBM_NOPROP")
        if "error" in entry:
            facility, code, message = entry["error"]
            return Reading(drf=drf, facility_code=facility, error_code=code, message=message)
        value_type = ValueType(entry.get("value_type", "raw"))
        return Reading(drf=drf, value_type=value_type, value=vector_value(entry["value"]))

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        self.calls.append({"op": "get", "drf": drf})
        return self._reading(drf)

    def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Reading]:
        drfs = list(drfs)
        self.calls.append({"op": "get_many", "drfs": drfs})
        return [self._reading(drf) for drf in drfs]

    def read(self, drf: str, timeout: float | None = None) -> Any:
        self.calls.append({"op": "read", "drf": drf})
        entry = self.reread.get(drf) or self.table.get(drf)
        if entry is None or "error" in entry:
            raise DeviceError(drf, 16, -13, "DBM_NOPROP")
        return vector_value(entry["value"])

    def _result(self, drf: str, value: Any) -> WriteResult:
        if drf in self.write_fail:
            return WriteResult(drf=drf, facility_code=17, error_code=-1, message="scripted failure")
        return WriteResult(drf=drf)

    def write(self, drf: str, value: Any, timeout: float | None = None) -> WriteResult:
        self.calls.append({"op": "write", "drf": drf, "value": call_value(value)})
        return self._result(drf, value)

    def write_many(
        self, settings: Iterable[tuple[str, Any]], timeout: float | None = None
    ) -> list[WriteResult]:
        settings = list(settings)
        self.calls.append(
            {"op": "write_many", "settings": [[d, call_value(v)] for d, v in settings]}
        )
        return [self._result(drf, value) for drf, value in settings]

    def close(self) -> None:
        self._closed = True


@pytest.fixture
def scripted_backend() -> Callable[[dict[str, Any]], ScriptedBackend]:
    return ScriptedBackend


@pytest.fixture
def vector_values() -> Callable[[Any], Any]:
    return vector_value
