"""ACNET status codes and protocol errors."""

from pacsys.acnet.errors import (
    AcnetError,
    AcnetNodeError,
    AcnetRequestRejectedError,
    AcnetTaskError,
    AcnetTimeoutError,
    AcnetUnavailableError,
)
from pacsys.acnet.status import *  # noqa: F403  (the named status constants)
from pacsys.acnet.status import __all__ as _status_all

__all__ = [
    "AcnetError",
    "AcnetNodeError",
    "AcnetRequestRejectedError",
    "AcnetTaskError",
    "AcnetTimeoutError",
    "AcnetUnavailableError",
]
__all__ += list(_status_all)
