"""Entry point: declares the ``site_freeze`` policy by import path."""

from pacsys.hookspecs import PolicySpec, hookimpl


@hookimpl
def pacsys_policies() -> list[PolicySpec]:
    return [
        PolicySpec(
            name="site_freeze",
            factory="pacsys_site_policy.freeze:FreezePolicy",
            description="deny every write to the listed devices",
        )
    ]
