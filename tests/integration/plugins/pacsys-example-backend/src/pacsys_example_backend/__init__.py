"""A third-party pacsys backend, as an outside author would write it."""
