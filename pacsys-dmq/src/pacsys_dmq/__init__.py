"""pacsys-dmq: pacsys transport: DMQ over RabbitMQ (SDD encoding, GSS-API signed)."""
