"""Core's own plugin: registered through the same hooks as any third-party plugin."""

from __future__ import annotations

from pacsys.hookspecs import AuthSpec, BackendSpec, MetadataSourceSpec, PolicySpec, hookimpl


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "sim",
            "pacsys.sim:SimBackend",
            "Simulated ACNET devices from a catalogue (offline; see docs/simulator.md)",
            aliases=("simulator",),
            auth_kinds=("kerberos", "jwt"),
            label="Simulator",
        )
    ]


@hookimpl
def pacsys_auth_methods() -> list[AuthSpec]:
    return [
        AuthSpec(
            "kerberos",
            "pacsys.auth:KerberosAuth",
            "Kerberos (GSS-API) credentials from the ticket cache; run kinit first",
            aliases=("krb",),
        ),
        AuthSpec(
            "jwt",
            "pacsys.auth:jwt_from_environment",
            "JSON Web Token bearer authentication (token from PACSYS_JWT_TOKEN)",
            auth_class="JWTAuth",
        ),
    ]


@hookimpl
def pacsys_policies() -> list[PolicySpec]:
    from pacsys.policies import BUILTIN_POLICY_SPECS

    return list(BUILTIN_POLICY_SPECS)


@hookimpl
def pacsys_metadata_sources() -> list[MetadataSourceSpec]:
    return [
        MetadataSourceSpec(
            "sim",
            "pacsys.metadata_sources:own_metadata",
            "The simulator's catalogue (a backend that is a MetadataSource answers for itself)",
            per_backend=True,
        )
    ]
