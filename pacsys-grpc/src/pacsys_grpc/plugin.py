"""Entry point of pacsys-grpc: declares what this distribution offers to pacsys.

Imported during plugin discovery, so it must stay light: factories are named by
import path and loaded only when used.
"""

from __future__ import annotations

from pacsys.hookspecs import BackendSpec, MetadataSourceSpec, ServerSpec, hookimpl


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "grpc",
            "pacsys_grpc.backend:GRPCBackend",
            "DAQ gRPC service: reads, streams; writes with a JWT",
            settings={"timeout": "default_timeout", "auth": "auth"},
            auth_kinds=("jwt",),
            label="gRPC",
            distribution="pacsys-grpc",
        )
    ]


@hookimpl
def pacsys_servers() -> list[ServerSpec]:
    return [
        ServerSpec(
            "grpc",
            "pacsys_grpc.serve:GRPCEndpoint",
            "DAQ (supervised; read-only unless PACSYS_SUPERVISED_POLICIES allows writes) "
            "and DevDB over gRPC on one port",
            option="--grpc-port",
            option_kwarg="port",
            option_type=int,
            default=50051,
            distribution="pacsys-grpc",
        )
    ]


@hookimpl
def pacsys_metadata_sources() -> list[MetadataSourceSpec]:
    return [
        MetadataSourceSpec(
            "devdb",
            "pacsys_grpc.devdb:DevDBClient",
            "DevDB over gRPC: scaling, limits, status bits, control commands, alarms",
            settings={"host": "devdb_host", "port": "devdb_port"},
            distribution="pacsys-grpc",
        )
    ]
