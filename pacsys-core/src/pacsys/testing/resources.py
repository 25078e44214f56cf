"""Check that code leaves no thread or socket behind: the ``close()`` contract of backends.

``with leaves_nothing(): ...`` records this process's threads and sockets, runs the block,
then waits (bounded) until every thread started inside it has ended and every socket opened
inside it is closed; AssertionError naming what is left otherwise.  Linux only (sockets are
read from ``/proc/self/fd``); elsewhere only threads are checked.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pacsys.deadline import Deadline

__all__ = ["PROCESS_WIDE_THREADS", "leaves_nothing", "open_sockets"]

#: Threads some libraries start once per process and never stop (grpc's poller).
PROCESS_WIDE_THREADS: tuple[str, ...] = (r"_poll_wrapper", r"Thread-\d+ \(_poll_wrapper\)")

_FD_DIR = Path("/proc/self/fd")
_SOCKET = re.compile(r"socket:\[(\d+)\]")


def open_sockets() -> set[int]:
    """Inodes of the sockets this process has open (empty where /proc is missing)."""
    inodes: set[int] = set()
    try:
        names = os.listdir(_FD_DIR)
    except OSError:
        return inodes
    for name in names:
        try:
            match = _SOCKET.fullmatch(os.readlink(_FD_DIR / name))
        except OSError:  # closed while we looked
            continue
        if match:
            inodes.add(int(match.group(1)))
    return inodes


def _new_threads(before: set[int], allowed: list[re.Pattern[str]]) -> list[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if thread.ident not in before
        and thread.is_alive()
        and not any(pattern.fullmatch(thread.name) for pattern in allowed)
    ]


@contextmanager
def leaves_nothing(
    timeout: float = 5.0, allow_threads: Iterable[str] = PROCESS_WIDE_THREADS
) -> Iterator[None]:
    """Fail unless the block's threads end and its sockets close within ``timeout`` s.

    ``allow_threads`` are regular expressions of thread names that may outlive the block.
    """
    allowed = [re.compile(pattern) for pattern in allow_threads]
    threads_before = {thread.ident for thread in threading.enumerate() if thread.ident}
    sockets_before = open_sockets()
    yield
    deadline = Deadline.after(timeout)
    for thread in _new_threads(threads_before, allowed):
        thread.join(deadline.remaining())
    left = _new_threads(threads_before, allowed)
    sockets = open_sockets() - sockets_before
    while sockets and not deadline.expired:
        time.sleep(0.01)  # a socket's close has no event to wait on
        sockets = open_sockets() - sockets_before
    problems = []
    if left:
        problems.append("threads still running: " + ", ".join(t.name for t in left))
    if sockets:
        problems.append(f"{len(sockets)} socket(s) still open")
    if problems:
        raise AssertionError(f"left behind after {timeout} s: " + "; ".join(problems))
