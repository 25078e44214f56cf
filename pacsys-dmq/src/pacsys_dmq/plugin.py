"""Entry point of pacsys-dmq: declares what this distribution offers to pacsys.

Imported during plugin discovery, so it must stay light: factories are named by
import path and loaded only when used (pika and gssapi load with the backend).
"""

from __future__ import annotations

from pacsys.hookspecs import BackendSpec, ServerSpec, hookimpl

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "dmq",
            "pacsys_dmq.client:DMQBackend",
            "DMQ over RabbitMQ/AMQP (SDD messages, Kerberos-signed)",
            settings={"timeout": "default_timeout", "auth": "auth"},
            auth_kinds=("kerberos",),
            auth_required=True,
            label="DMQ",
            distribution="pacsys-dmq",
        )
    ]


@hookimpl
def pacsys_servers() -> list[ServerSpec]:
    return [
        ServerSpec(
            "dmq",
            "pacsys_dmq.server:DMQServer",
            "DMQ service through a RabbitMQ broker (consumes INITs on amq.topic 'I')",
            option="--dmq-url",
            option_kwarg="amqp_url",
            option_type=str,
            default=LOCAL_AMQP_URL,
            distribution="pacsys-dmq",
        )
    ]
