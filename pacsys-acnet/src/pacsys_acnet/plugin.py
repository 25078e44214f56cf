"""Entry point of pacsys-acnet: declares what this distribution offers to pacsys.

Imported during plugin discovery, so it must stay light: factories are named by
import path and loaded only when used.
"""

from __future__ import annotations

from pacsys.hookspecs import BackendSpec, ServerSpec, hookimpl


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "acnet",
            "pacsys_acnet.backend:AcnetBackend",
            "DPM over raw ACNET through acnetd (task DPMD at DPM06): read-only, streams "
            "($PACSYS_ACNET_HOST, $PACSYS_ACNET_PORT)",
            settings={"timeout": "default_timeout"},
            label="ACNET",
        )
    ]


@hookimpl
def pacsys_servers() -> list[ServerSpec]:
    return [
        ServerSpec(
            "acnet",
            "pacsys_acnet.server:AcnetServer",
            "acnetd emulator, TCP bridge and UDP (RETDAT, GETS32, FTPMAN, DPMD, task routing)",
            option="--acnet-port",
            option_kwarg="port",
            option_type=int,
            default=6803,
        )
    ]
