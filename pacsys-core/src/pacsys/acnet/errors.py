"""Exceptions for ACNET protocol-level failures, each carrying its ACNET status."""

from __future__ import annotations

from pacsys.acnet.status import make_error, parse_error
from pacsys.errors import PacsysError

__all__ = [
    "AcnetError",
    "AcnetNodeError",
    "AcnetRequestRejectedError",
    "AcnetTaskError",
    "AcnetTimeoutError",
    "AcnetUnavailableError",
]


class AcnetError(PacsysError):
    """An ACNET status raised as an exception."""

    def __init__(self, status: int, message: str | None = None) -> None:
        self.status = status
        self.facility, self.error_number = parse_error(status)
        self.message = message
        super().__init__(status, message)

    def __str__(self) -> str:
        prefix = f"ACNET error [{self.facility} {self.error_number}]"
        return f"{prefix}: {self.message}" if self.message else prefix

    def __repr__(self) -> str:
        return f"{type(self).__name__}(facility={self.facility}, error={self.error_number})"


class AcnetUnavailableError(AcnetError):
    def __init__(self) -> None:
        super().__init__(make_error(1, -21), "ACNET daemon unavailable")


class AcnetTimeoutError(AcnetError):
    def __init__(self, timeout_ms: int | None = None) -> None:
        self.timeout_ms = timeout_ms
        text = f"timeout after {timeout_ms}ms" if timeout_ms is not None else "timeout"
        super().__init__(make_error(1, -6), text)


class AcnetNodeError(AcnetError):
    def __init__(self, node: str) -> None:
        self.node = node
        super().__init__(make_error(1, -30), f"node not found: {node}")


class AcnetTaskError(AcnetError):
    def __init__(self, task: str) -> None:
        self.task = task
        super().__init__(make_error(1, -33), f"task not found: {task}")


class AcnetRequestRejectedError(AcnetError):
    def __init__(self, task: str) -> None:
        self.task = task
        super().__init__(
            make_error(1, -25),
            f"request to task '{task}' rejected by acnetd (task is on the TCP reject list, "
            "see acnetd -r flag)",
        )
