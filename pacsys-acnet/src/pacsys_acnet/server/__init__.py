"""An acnetd emulator in front of any Backend (``docs/protocols/acnet.md`` §12)."""

from pacsys_acnet.server.server import AcnetServer

__all__ = ["AcnetServer"]
