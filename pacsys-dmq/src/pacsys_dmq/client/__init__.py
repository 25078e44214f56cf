"""The DMQ client: :class:`DMQBackend` over a RabbitMQ broker (pika, GSS-API)."""

from __future__ import annotations

from pacsys_dmq.client.backend import DEFAULT_HOST, DEFAULT_PORT, DMQBackend

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DMQBackend"]
