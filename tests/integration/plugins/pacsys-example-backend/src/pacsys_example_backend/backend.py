"""A minimal read-only Backend: every device reads 42.0."""

from __future__ import annotations

from pacsys.backends import Backend
from pacsys.errors import DeviceError
from pacsys.types import BackendCapability, Reading, ValueType


class ConstantBackend(Backend):
    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.closed = False

    @property
    def capabilities(self) -> BackendCapability:
        return BackendCapability.READ | BackendCapability.BATCH

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        return self.get_many([drf], timeout)[0]

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        return [Reading(drf=d, value_type=ValueType.SCALAR, value=42.0) for d in drfs]

    def read(self, drf: str, timeout: float | None = None) -> float:
        reading = self.get(drf, timeout)
        if not reading.ok:
            raise DeviceError(drf, reading.facility_code, reading.error_code, reading.message)
        return reading.value

    def close(self) -> None:
        self.closed = True
