"""The GSS acceptor behind each list's :class:`~pacsys_dpm.protocol.ListAuth` (from a keytab)."""

from __future__ import annotations

from pathlib import Path

from pacsys_dpm.protocol.access import AcceptorContext, ContextFactory

__all__ = ["gss_context_factory"]


def gss_context_factory(keytab: str | Path, principal: str) -> ContextFactory:
    """Factory of ``pacsys.gss.ServerContext`` acceptors for ``principal`` in ``keytab``."""

    def make() -> AcceptorContext:
        from pacsys.gss import ServerContext  # gssapi is imported only when someone writes

        return ServerContext(keytab, principal)

    return make
