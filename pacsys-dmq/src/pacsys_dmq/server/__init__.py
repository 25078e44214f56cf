"""The DMQ server adapter: serve any pacsys Backend to DMQ clients through RabbitMQ."""

from __future__ import annotations

from pacsys_dmq.server.server import DEFAULT_AMQP_URL, DEFAULT_PRINCIPAL, DMQServer

__all__ = ["DEFAULT_AMQP_URL", "DEFAULT_PRINCIPAL", "DMQServer"]
