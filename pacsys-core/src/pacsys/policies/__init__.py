"""Write-safety policies for the supervised DAQ server (docs/protocols/grpc.md §7.5).

A server evaluates its policies for every RPC with :func:`evaluate_policies` (or the whole
decision, DRF gate and unapproved slots included, with :func:`authorize`).  Devices are
matched by their parsed canonical name, and anything that cannot be parsed is denied.
"""

from __future__ import annotations

from pacsys.hookspecs import PolicySpec
from pacsys.policies._drf import acceptable_drf
from pacsys.policies.access import DeviceAccessPolicy, ReadOnlyPolicy
from pacsys.policies.base import Policy, PolicyDecision, RequestContext, evaluate_policies
from pacsys.policies.rate import RateLimitPolicy
from pacsys.policies.slew import SlewLimit, SlewRatePolicy
from pacsys.policies.values import ValueRangePolicy
from pacsys.policies.verdict import authorize

BUILTIN_POLICY_SPECS: list[PolicySpec] = [
    PolicySpec("read_only", "pacsys.policies:ReadOnlyPolicy", "Deny every write (Set) request"),
    PolicySpec(
        "device_access",
        "pacsys.policies:DeviceAccessPolicy",
        "Allow or deny reads/writes by device-name glob or regex",
    ),
    PolicySpec(
        "rate_limit",
        "pacsys.policies:RateLimitPolicy",
        "Limit requests per client address in a sliding time window",
    ),
    PolicySpec(
        "value_range",
        "pacsys.policies:ValueRangePolicy",
        "Deny written values outside per-device (min, max) limits",
    ),
    PolicySpec(
        "slew_rate",
        "pacsys.policies:SlewRatePolicy",
        "Deny writes that change a device by too much or too fast",
    ),
]

__all__ = [
    "BUILTIN_POLICY_SPECS",
    "DeviceAccessPolicy",
    "Policy",
    "PolicyDecision",
    "RateLimitPolicy",
    "ReadOnlyPolicy",
    "RequestContext",
    "SlewLimit",
    "SlewRatePolicy",
    "ValueRangePolicy",
    "acceptable_drf",
    "authorize",
    "evaluate_policies",
]
