"""What the daemon engine keeps per client task and per open request, and what it hands
its driver (docs/protocols/acnet.md §12)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, NamedTuple

from pacsys_acnet.codec.rad50 import decode_stripped

__all__ = ["DaemonRequest", "Out", "Task"]


class Out(NamedTuple):
    """Something for the driver: ``kind`` "ack"/"data" (``target`` is the client key,
    ``payload`` the bytes) or "serve"/"cancel" (``target`` is a :class:`DaemonRequest` for
    the service of its task)."""

    kind: str
    target: Any
    payload: bytes = b""


class Task:
    """One attached client: its task name (handle), task id, and its requests both ways."""

    __slots__ = (
        "connected",
        "handle",
        "incoming",
        "key",
        "pid",
        "port",
        "receiving",
        "requests",
        "task_id",
    )

    def __init__(self, key: Hashable, port: int, task_id: int) -> None:
        self.key = key
        self.port = port
        self.task_id = task_id
        self.pid = 0
        self.handle = 0
        self.connected = False
        self.receiving = False
        self.requests: dict[int, DaemonRequest] = {}  # ours, by request id
        self.incoming: set[int] = set()  # reply ids of requests we serve


class DaemonRequest:
    """One open request: who asked (``requester``, ``id``), whom (``node``, ``task``),
    and who answers (a client, or the driver's service for ``task_name``)."""

    __slots__ = (
        "data",
        "deadline",
        "id",
        "multiple",
        "node",
        "open",
        "replier",
        "reply_id",
        "requester",
        "task",
        "timeout",
        "user",
    )

    def __init__(
        self,
        requester: Task,
        request_id: int,
        node: int,
        task: int,
        multiple: bool,
        timeout: int,
        data: bytes,
    ) -> None:
        self.requester = requester
        self.id = request_id
        self.node = node
        self.task = task
        self.multiple = multiple
        self.timeout = timeout
        self.data = data
        self.replier: Task | None = None
        self.reply_id = 0
        self.open = True
        self.deadline: float | None = None
        self.user: Any = None  # for the service answering it

    @property
    def task_name(self) -> str:
        return decode_stripped(self.task)

    def __repr__(self) -> str:
        kind = "multiple" if self.multiple else "single"
        return f"DaemonRequest({self.task_name}@0x{self.node:04x}, id={self.id}, {kind})"
