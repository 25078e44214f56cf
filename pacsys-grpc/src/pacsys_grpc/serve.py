"""The ``pacsys serve`` endpoint: DAQ (supervised) and DevDB over gRPC on one port.

Without a policy file the DAQ side is read-only (no policy approves writes).  Optional
environment: ``PACSYS_SUPERVISED_POLICIES`` (a JSON/TOML policy file, see
:func:`pacsys_grpc.supervised.load_policies`) and ``PACSYS_SUPERVISED_TOKEN`` (bearer
token required for writes).  DevDB is served when the backend is a MetadataSource.
"""

from __future__ import annotations

import os
from typing import Any

from pacsys.metadata import MetadataSource
from pacsys_grpc.supervised.server import SupervisedServer

__all__ = ["GRPCEndpoint"]


class GRPCEndpoint(SupervisedServer):
    """A SupervisedServer configured from the environment, bound to loopback by default."""

    def __init__(self, backend: Any, port: int = 50051, host: str = "127.0.0.1") -> None:
        policy_file = os.environ.get("PACSYS_SUPERVISED_POLICIES") or None
        token = os.environ.get("PACSYS_SUPERVISED_TOKEN") or None
        source = backend if isinstance(backend, MetadataSource) else None
        super().__init__(
            backend,
            port=port,
            host=host,
            policies=policy_file,
            token=token,
            metadata_source=source,
        )
