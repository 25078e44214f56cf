"""The constructor checks every served transport (DPM, DMQ, ...) makes the same way.

A server wraps a pacsys Backend, may verify clients with a Kerberos keytab, bounds its
per-connection stream buffer and takes a few positive durations; each bad argument raises
an exception naming it and the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["check_server_args"]


def check_server_args(
    backend: Any, keytab: str | Path | None, stream_buffer: Any, **durations: float
) -> Path | None:
    """Check a server's common arguments; the keytab as a Path (None: no keytab).

    ``backend`` must be a pacsys Backend (TypeError), ``stream_buffer`` a positive int of
    bytes and every one of ``durations`` (by name) positive (ValueError), ``keytab`` an
    existing file (FileNotFoundError).
    """
    from pacsys.backends import Backend

    if not isinstance(backend, Backend):
        raise TypeError(f"backend must be a pacsys Backend, got {type(backend).__name__}")
    for name, value in durations.items():
        if not value > 0:  # NaN too
            raise ValueError(f"{name} must be positive, got {value!r}")
    if isinstance(stream_buffer, bool) or not isinstance(stream_buffer, int) or stream_buffer < 1:
        raise ValueError(f"stream_buffer must be a positive int (bytes), got {stream_buffer!r}")
    if keytab is not None and not Path(keytab).is_file():
        raise FileNotFoundError(f"Kerberos keytab not found: {keytab}")
    return None if keytab is None else Path(keytab)
