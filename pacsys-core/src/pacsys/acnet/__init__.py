"""ACNET status codes, their messages, and the protocol-level exceptions.

Every named status code (``ACNET_REQTMO``, ``DPM_NO_SUCH_DEVICE``, ...) is a module constant
holding its composite value; see :mod:`pacsys.acnet.status`.
"""

from pacsys.acnet import status
from pacsys.acnet.errors import (
    AcnetError,
    AcnetNodeError,
    AcnetRequestRejectedError,
    AcnetTaskError,
    AcnetTimeoutError,
    AcnetUnavailableError,
)
from pacsys.acnet.status import *  # noqa: F403  (facilities, helpers and the named codes)

__all__ = [
    "AcnetError",
    "AcnetNodeError",
    "AcnetRequestRejectedError",
    "AcnetTaskError",
    "AcnetTimeoutError",
    "AcnetUnavailableError",
    "status",
]
__all__.extend(status.__all__)


def __getattr__(name: str) -> int:
    """Only for static type checkers: the star-imported named codes are ``int``."""
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
