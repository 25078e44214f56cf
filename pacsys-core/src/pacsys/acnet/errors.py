"""Exceptions for ACNET protocol-level failures, each carrying its ACNET status."""

from __future__ import annotations

from pacsys.acnet.status import (
    ACNET_NO_NODE,
    ACNET_NO_TASK,
    ACNET_NOT_CONNECTED,
    ACNET_REQREJ,
    ACNET_REQTMO,
    parse_error,
)
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
    """An ACNET status raised as an exception.

    ``status`` is kept as given (composite or 16-bit form); ``facility`` and
    ``error_number`` are its decoded parts.
    """

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(status, message)
        self.status = status
        self.facility, self.error_number = parse_error(status)
        self.message = message

    def __str__(self) -> str:
        prefix = f"ACNET error [{self.facility} {self.error_number}]"
        return f"{prefix}: {self.message}" if self.message else prefix

    def __repr__(self) -> str:
        return f"{type(self).__name__}(facility={self.facility}, error={self.error_number})"


# The subclasses reset ``args`` to their own constructor arguments so they pickle.


class AcnetUnavailableError(AcnetError):
    """The local ACNET daemon cannot be reached."""

    def __init__(self) -> None:
        super().__init__(ACNET_NOT_CONNECTED, "ACNET daemon unavailable")
        self.args = ()


class AcnetTimeoutError(AcnetError):
    """An ACNET request got no reply in time."""

    def __init__(self, timeout_ms: int | None = None) -> None:
        text = "timeout" if timeout_ms is None else f"timeout after {timeout_ms}ms"
        super().__init__(ACNET_REQTMO, text)
        self.args = (timeout_ms,)
        self.timeout_ms = timeout_ms


class AcnetNodeError(AcnetError):
    """The named ACNET node does not exist."""

    def __init__(self, node: str) -> None:
        super().__init__(ACNET_NO_NODE, f"node not found: {node}")
        self.args = (node,)
        self.node = node


class AcnetTaskError(AcnetError):
    """The destination task is not connected on the node."""

    def __init__(self, task: str) -> None:
        super().__init__(ACNET_NO_TASK, f"task not found: {task}")
        self.args = (task,)
        self.task = task


class AcnetRequestRejectedError(AcnetError):
    """acnetd refused a request to a task on its TCP reject list."""

    def __init__(self, task: str) -> None:
        super().__init__(
            ACNET_REQREJ,
            f"request to task '{task}' rejected by acnetd "
            "(task is on the TCP reject list, see acnetd -r flag)",
        )
        self.args = (task,)
        self.task = task
