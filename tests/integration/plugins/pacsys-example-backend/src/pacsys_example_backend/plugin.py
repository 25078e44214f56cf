"""Entry point: declares the backend; imports nothing heavy."""

from pacsys.hookspecs import BackendSpec, hookimpl
from pacsys.types import BackendCapability


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="example",
            factory="pacsys_example_backend.backend:ConstantBackend",
            description="answers every read with 42.0",
            capabilities=BackendCapability.READ | BackendCapability.BATCH,
            settings={"timeout": "default_timeout"},
        )
    ]
