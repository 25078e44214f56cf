"""Entry point of pacsys-dpm: declares what this distribution offers to pacsys.

Imported during plugin discovery, so it must stay light: factories are named by
import path and loaded only when used.
"""

from __future__ import annotations

from pacsys.hookspecs import BackendSpec, ServerSpec, hookimpl


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "dpm_http",
            "pacsys_dpm.client:DPMHTTPBackend",
            "DPM over TCP via acsys-proxy (PC protocol); Kerberos for writes",
            aliases=("dpm",),
            settings={
                "host": "dpm_host",
                "port": "dpm_port",
                "pool_size": "pool_size",
                "timeout": "default_timeout",
                "auth": "auth",
                "role": "role",
            },
            auth_kinds=("kerberos",),
            uses_role=True,
            label="DPM",
        )
    ]


@hookimpl
def pacsys_servers() -> list[ServerSpec]:
    return [
        ServerSpec(
            "dpm",
            "pacsys_dpm.server:DPMServer",
            "DPM over TCP (PC protocol)",
            option="--dpm-port",
            option_kwarg="port",
            option_type=int,
            default=6802,
        )
    ]
